"""Import jobs: the web upload runs in a background thread, its progress and report live in ImportJob.

Checking the rows reads through a session of its own (no write lock is held, so progress can be
committed meanwhile and any app server can show it); writing is one transaction. If the database
changed between the two (someone registered one of the numbers), the unique index refuses the write
and the job fails with nothing written.

A job lives in a thread of the server that received the upload: if that server stops, the job stops
with it and would stay "checking" forever. While it runs, the job records when it last reported progress
(`progress_at` in its report); a job silent for STALE_AFTER is stale. Pages show a stale job as failed
(GET requests never write); the next upload and `volunteer-app import sweep` mark it failed for good,
and a thread that was only slow stops at its next progress report.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ...db import get_engine, session_scope
from ...models import ImportJob, Volunteer, utcnow
from .apply import REPORT_LIMIT, ImportResult, row_message, validate_and_write
from .parse import ImportFileError, column_label, read_table

RUNNING = ("queued", "validating", "writing")
# Far longer than any phase runs without a progress report (progress every 5,000 rows; writing a
# 166,000-row roster takes about a minute in one transaction).
STALE_AFTER = timedelta(minutes=15)
_INTERRUPTED = json.dumps({"errors": [], "ignored_columns": [], "file_error": {"code": "interrupted", "params": {}}})


class _Swept(Exception):
    """The job was marked failed as stale while its thread was still going: the thread stops."""


def create_job(*, session: Session, kind: str, filename: str, actor_id: int | None) -> int:
    """A queued job; the caller commits before starting it, so that the progress page can find it."""
    job = ImportJob(kind=kind, filename=filename[:200], status="queued", created_by_id=actor_id)
    session.add(job)
    session.flush()
    return job.id


def start_job(app: Flask, *, job_id: int, kind: str, filename: str, data: bytes, actor_id: int | None,
              scope: str | None) -> threading.Thread:
    """Run the import in a daemon thread; the request answers at once."""
    thread = threading.Thread(target=_run_in_app, args=(app, job_id, kind, filename, data, actor_id, scope),
                              name=f"import-job-{job_id}", daemon=True)
    thread.start()
    return thread


def run_job(*, job_id: int, kind: str, filename: str, data: bytes, actor_id: int | None, scope: str | None,
            progress=None) -> ImportResult | None:
    """Read, check and (if every row is right) write; the job row records each phase and the outcome."""

    def update(phase: str, done: int, total: int) -> None:
        with session_scope(write=True) as session:
            job = session.get(ImportJob, job_id)
            if job.status not in RUNNING:
                raise _Swept
            job.status, job.processed_rows, job.total_rows = phase, done, total
            job.report = json.dumps({"progress_at": utcnow().isoformat()})
        if progress:
            progress(phase, done, total)

    try:
        update("validating", 0, 0)
        table = read_table(kind, filename, data, progress=update)
        update("validating", 0, len(table.rows))
        with session_scope(write=False) as reader:
            with session_scope(write=True) as writer:
                result = validate_and_write(session=writer, read_session=reader, kind=kind, table=table,
                                            actor_id=actor_id, scope=scope, progress=update)
        _finish(job_id, result=result)
        if progress:
            progress("done", result.total_rows, result.total_rows)
        return result
    except _Swept:
        current_app.logger.warning("Import job %s was marked stale while it ran; stopped", job_id)
    except ImportFileError as exc:
        _finish(job_id, file_error=exc)
    except IntegrityError:
        _finish(job_id, file_error=ImportFileError("conflict"))
    except Exception:
        current_app.logger.exception("Import job %s failed", job_id)
        _finish(job_id, file_error=ImportFileError("unreadable"), crashed=True)
    return None


def job_report(job: ImportJob) -> dict:
    """The stored report: {"errors": [...], "ignored_columns": [...], "file_error": {...} | None}."""
    try:
        report = json.loads(job.report or "{}")
    except ValueError:
        report = {}
    if isinstance(report, list):
        report = {"errors": report}
    report.setdefault("errors", [])
    report.setdefault("ignored_columns", [])
    report.setdefault("file_error", None)
    report.setdefault("memberships", 0)
    return report


def last_progress(job: ImportJob) -> datetime:
    """When a running job last reported progress; when it was created if it never did."""
    try:
        report = json.loads(job.report or "{}")
        return datetime.fromisoformat(report["progress_at"])
    except (ValueError, TypeError, KeyError):  # no heartbeat yet (the default "[]"), or a finished report
        return job.created_at


def is_stale(job: ImportJob, *, now: datetime | None = None, after: timedelta = STALE_AFTER) -> bool:
    """A job that should be running but has not reported progress for `after`: its server stopped."""
    return job.status in RUNNING and last_progress(job) < (now or utcnow()) - after


def as_shown(job: ImportJob, *, now: datetime | None = None) -> ImportJob:
    """The job as pages show it: a stale job as failed with its reason, in a copy (GET requests never write)."""
    if not is_stale(job, now=now):
        return job
    shown = ImportJob(**job.model_dump())
    shown.status, shown.report = "failed", _INTERRUPTED
    return shown


def sweep_stale_jobs(*, session: Session, now: datetime | None = None,
                     after: timedelta = STALE_AFTER) -> list[int]:
    """Mark stale jobs failed (reason: interrupted); returns their ids.

    Compare-and-set on the report (which holds the heartbeat): a job that reported progress meanwhile is
    left alone. The caller commits."""
    now = now or utcnow()
    swept = []
    for job in session.exec(select(ImportJob).where(ImportJob.status.in_(RUNNING)).order_by(ImportJob.id)).all():
        if not is_stale(job, now=now, after=after):
            continue
        changed = session.execute(
            update_rows(ImportJob)
            .where(ImportJob.id == job.id, ImportJob.status == job.status, ImportJob.report == job.report)
            .values(status="failed", finished_at=now, report=_INTERRUPTED)
        ).rowcount
        session.expire(job)
        if changed:
            swept.append(job.id)
    return swept


def _finish(job_id: int, *, result: ImportResult | None = None, file_error: ImportFileError | None = None,
            crashed: bool = False) -> None:
    with session_scope(write=True) as session:
        job = session.get(ImportJob, job_id)
        job.finished_at = utcnow()
        if result is not None:
            job.total_rows = result.total_rows
            job.processed_rows = result.total_rows
            job.error_count = len(result.errors)
            job.created_count = result.created
            job.status = "done" if result.ok else "failed"
            job.report = json.dumps({
                "errors": [e.as_dict() for e in result.errors[:REPORT_LIMIT]],
                "ignored_columns": result.ignored_columns,
                "file_error": None,
                "memberships": result.memberships,
            }, ensure_ascii=False)
        else:
            job.status = "failed"
            job.report = json.dumps({"errors": [], "ignored_columns": [], "crashed": crashed,
                                     "file_error": {"code": file_error.code, "params": file_error.params}},
                                    ensure_ascii=False)


def _run_in_app(app: Flask, *args) -> None:
    with app.app_context():
        run_job(job_id=args[0], kind=args[1], filename=args[2], data=args[3], actor_id=args[4], scope=args[5])


# --- the command line --------------------------------------------------------------------------------


@click.group("import")
def import_group() -> None:
    """Onboard rosters from XLSX or CSV files (all rows or none)."""


def _import_command(kind: str):
    @import_group.command(kind)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--as", "actor_phone", default=None, help="Phone of the office account recorded as importer.")
    @with_appcontext
    def command(path: str, actor_phone: str | None) -> None:
        from ...accounts.phone import normalise_phone

        actor_id = None
        if actor_phone:
            with session_scope(get_engine(), write=False) as session:
                actor_id = session.exec(select(Volunteer.id).where(
                    Volunteer.phone == normalise_phone(actor_phone), Volunteer.role == "office")).first()
            if actor_id is None:
                raise click.UsageError(f"No office account with phone {actor_phone!r}.")
        with open(path, "rb") as fh:
            data = fh.read()
        with session_scope(get_engine()) as session:
            job_id = create_job(session=session, kind=kind, filename=path.rsplit("/", 1)[-1], actor_id=actor_id)
        with click.progressbar(length=1, label=f"Importing {kind}", show_percent=True) as bar:
            state = {"done": 0}

            def progress(phase: str, done: int, total: int) -> None:
                if total and bar.length != total:
                    bar.length = total
                if done > state["done"]:
                    bar.update(done - state["done"])
                    state["done"] = done
                bar.label = f"{kind}: {phase}"

            result = run_job(job_id=job_id, kind=kind, filename=path, data=data, actor_id=actor_id, scope=None,
                             progress=progress)
        # Messages are translated for a request's locale; the terminal gets the default language.
        with current_app.test_request_context():
            _echo_outcome(job_id, result)

    return command


def _echo_outcome(job_id: int, result: ImportResult | None) -> None:
    with session_scope(write=False) as session:
        job = session.get(ImportJob, job_id)
        report = job_report(job)
    if result is None:
        error = report["file_error"] or {}
        message = ImportFileError(error.get("code", "unreadable"), **(error.get("params") or {})).message
        raise click.ClickException(f"Nothing imported: {message}")
    if not result.ok:
        for error in report["errors"]:
            click.echo(f"row {error['row']}, {column_label(job.kind, error['column'])}: "
                       f"{error['value']!r}: {row_message(error)}", err=True)
        raise click.ClickException(f"Nothing imported: {job.error_count} problem(s) in {result.total_rows} rows.")
    extra = f", {result.memberships} memberships" if result.memberships else ""
    click.echo(f"Imported {result.created} {job.kind}{extra} (job {job_id}).")


_import_command("teams")
_import_command("volunteers")


@import_group.command("sweep")
@click.option("--minutes", type=click.IntRange(min=1), default=int(STALE_AFTER.total_seconds() // 60),
              show_default=True, help="A running job silent for this long is marked failed.")
@with_appcontext
def sweep_command(minutes: int) -> None:
    """Mark import jobs failed whose server stopped while they ran (e.g. after a restart)."""
    with session_scope(get_engine()) as session:
        swept = sweep_stale_jobs(session=session, after=timedelta(minutes=minutes))
    listed = f": {', '.join(map(str, swept))}." if swept else "."
    click.echo(f"Marked {len(swept)} stale import job(s) failed{listed}")
