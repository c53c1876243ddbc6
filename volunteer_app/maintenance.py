"""Operator commands: `volunteer-app backup DEST`, `volunteer-app restore SRC`, `volunteer-app audit verify|head`.

SQLite is copied with its online backup API, which reads one consistent snapshot while the app
keeps writing (WAL lets writers go on during the read) — copying the file instead could catch a
half-written page or miss the WAL. PostgreSQL has its own tools; the commands say which to use.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from . import audit
from .db import get_engine

# Tables a file must have to be taken for a Red Vest database.
REQUIRED_TABLES = ("volunteer", "team", "membership", "activity", "attendance", "audit_event", "unit", "theme")


class MaintenanceError(Exception):
    """A backup or restore that must not go ahead; the message says why and what to do."""


# --- the work (plain functions, tested directly and through the commands) ----------------------


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine, None for another backend (or an in-memory database)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def backup_sqlite(source: Path, dest: Path, *, force: bool = False) -> Path:
    """Copy a live SQLite database to dest (a file, or a directory to put a dated file in).

    The copy is written next to its final name and renamed only once it passed integrity_check,
    so a failed backup never leaves a half-written file under the final name.
    """
    if dest.is_dir():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        dest = dest / f"volunteer-{stamp}.db"
    if dest.exists() and not force:
        raise MaintenanceError(f"{dest} exists; choose another name or add --force to replace it.")
    if dest.resolve() == source.resolve():
        raise MaintenanceError("The backup cannot be the database itself.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        out = sqlite3.connect(partial)
        try:
            # pages=-1: one step, one read snapshot; a stepwise copy would restart on every concurrent write.
            src.backup(out, pages=-1)
            out.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
            problem = integrity_problem(out)
        finally:
            out.close()
    finally:
        src.close()
    if problem:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"The copy failed its integrity check: {problem}")
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, dest)
    return dest


def restore_sqlite(source: Path, target: Path, *, force: bool = False) -> None:
    """Replace the database at target with the backup at source, after checking the backup.

    Uses the backup API in the other direction, so the target's WAL and locks are respected;
    still, stop the app servers first so that nobody works on data that is about to vanish.
    """
    check_backup_file(source)
    if target.exists() and target.stat().st_size > 0 and has_tables(target) and not force:
        raise MaintenanceError(
            f"{target} already holds a database. Stop the app, then run again with --force to replace it."
        )
    src = read_only(source)
    try:
        out = sqlite3.connect(target, timeout=30)
        try:
            src.backup(out, pages=-1)
            problem = integrity_problem(out)
        finally:
            out.close()
    finally:
        src.close()
    if problem:
        raise MaintenanceError(f"The restored database failed its integrity check: {problem}")


def check_backup_file(path: Path) -> None:
    """MaintenanceError unless path is an intact SQLite file with the Red Vest tables."""
    if not path.is_file():
        raise MaintenanceError(f"{path} does not exist or is not a file.")
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise MaintenanceError(f"{path} is not a SQLite database.")
    conn = read_only(path)
    try:
        problem = integrity_problem(conn)
        if problem:
            raise MaintenanceError(f"{path} is damaged: {problem}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"{path} cannot be read as a database: {exc}") from exc
    finally:
        conn.close()
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise MaintenanceError(f"{path} is not a Red Vest database (tables missing: {', '.join(missing)}).")


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    """None if PRAGMA integrity_check says ok, else its first complaint."""
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return None if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])


def read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (a backup is evidence; it stays as it was)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def has_tables(path: Path) -> bool:
    try:
        conn = read_only(path)
    except sqlite3.Error:
        return True
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return True  # something is there that is not an empty database: do not overwrite it silently
    finally:
        conn.close()


def postgres_advice(engine: Engine, action: str, path: str) -> str:
    """The pg_dump / pg_restore commands for this database (password left out)."""
    url = make_url(engine.url.render_as_string(hide_password=True)).set(drivername="postgresql")
    dsn = url.set(password=None).render_as_string(hide_password=False)
    if action == "backup":
        return (
            "This database is PostgreSQL; back it up with its own tool (a consistent snapshot, safe while the app runs):\n"
            f"  pg_dump --format=custom --no-owner --file={path} '{dsn}'"
        )
    return (
        "This database is PostgreSQL; restore a pg_dump file with pg_restore (stop the app servers first):\n"
        f"  pg_restore --clean --if-exists --no-owner --single-transaction --dbname='{dsn}' {path}"
    )


# --- the commands ------------------------------------------------------------------------------


def _sqlite_database(action: str, path: Path) -> tuple[Engine, Path]:
    """The app's engine and its SQLite file; on PostgreSQL print the pg_dump / pg_restore advice and exit 2."""
    engine = get_engine()
    database = sqlite_path(engine)
    if database is None:
        click.echo(postgres_advice(engine, action, str(path)), err=True)
        sys.exit(2)
    return engine, database


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@with_appcontext
def backup_command(dest: Path, force: bool) -> None:
    """Copy the SQLite database to DEST (a file or a directory), safely while the app is running."""
    _engine, source = _sqlite_database("backup", dest)
    try:
        written = backup_sqlite(source, dest, force=force)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {written} ({written.stat().st_size} bytes, integrity ok).")


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace the current database, which must not be in use.")
@with_appcontext
def restore_command(src: Path, force: bool) -> None:
    """Replace the SQLite database with the backup SRC (checked first; refuses to overwrite without --force)."""
    engine, target = _sqlite_database("restore", src)
    engine.dispose()  # this process holds no connection to the file while it is replaced
    try:
        restore_sqlite(src, target, force=force)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    with Session(engine) as session:
        broken = audit.verify(session=session)
        events = audit.head(session=session)
    click.echo(f"Restored {src} into {target}: integrity ok, {events.count} audit events.")
    if broken is not None:
        click.echo(f"Warning: the restored audit chain is broken: {broken.describe()}", err=True)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@click.option("--anchor", default=None, help="ID:HASH printed earlier by `audit head`: also detects truncation and rewriting.")
@with_appcontext
def audit_verify_command(anchor: str | None) -> None:
    """Walk the hash chain; name the first broken link and exit 1 if there is one."""
    try:
        parsed = audit.parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from exc
    with Session(get_engine()) as session:
        broken = audit.verify(session=session, anchor=parsed)
        end = audit.head(session=session)
    if broken is not None:
        click.echo(f"Audit chain BROKEN at event {broken.event_id} ({broken.problem}): {broken.describe()}", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact: {end.count} events, head {end.anchor}")


@audit_group.command("head")
@with_appcontext
def audit_head_command() -> None:
    """Print the newest event as ID:HASH; keep it outside the database (e.g. with each backup)."""
    with Session(get_engine()) as session:
        end = audit.head(session=session)
    click.echo(end.anchor)


COMMANDS = [backup_command, restore_command, audit_group]

