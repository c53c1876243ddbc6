"""Database layer: one engine per app, one Session per request.

SQLite is run the way a multi-writer web app needs it: WAL, foreign keys, a busy timeout,
and write transactions that begin IMMEDIATE, so that two writers queue up instead of one
failing with "database is locked" when it upgrades a read lock. Requests with a safe
method (GET, HEAD, OPTIONS) never write and begin DEFERRED, so reads never wait for writers.
The same code runs unchanged on PostgreSQL (postgresql+psycopg://...).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def init_app(app: Flask) -> None:
    """Create the app's engine and bind per-request session handling."""
    app.extensions["db_engine"] = make_engine(app.config["DATABASE_URL"], app.config)
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close_session)


def make_engine(url: str, config: dict | None = None) -> Engine:
    """Build an engine for url; SQLite gets its pragmas and IMMEDIATE write transactions."""
    config = config or {}
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": config.get("SQLITE_BUSY_TIMEOUT_MS", 10_000) / 1000},
            # one file, many threads: a pool of thread-bound connections avoids reopening the file per request
            pool_size=config.get("DB_POOL_SIZE", 10),
            max_overflow=20,
        ) if ":memory:" not in url and url != "sqlite://" else create_engine(url, poolclass=NullPool)
        _configure_sqlite(engine, config.get("SQLITE_BUSY_TIMEOUT_MS", 10_000))
        return engine
    return create_engine(
        url,
        pool_size=config.get("DB_POOL_SIZE", 10),
        max_overflow=20,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Take transaction control away from pysqlite so that BEGIN IMMEDIATE can be issued."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def get_engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db_engine"]


def get_session() -> Session:
    """The request's session, opened on first use.

    Unsafe requests (POST, ...) get a session whose transactions begin IMMEDIATE on SQLite.
    """
    if "db_session" not in g:
        write = not has_request_context() or request.method not in SAFE_METHODS
        g.db_session = Session(bind=_bind(get_engine(), write), expire_on_commit=False)
    return g.db_session


def _bind(engine: Engine, write: bool):
    if write and engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session outside a request (CLI, background jobs): commit on success, roll back on error."""
    engine = engine or get_engine()
    with Session(bind=_bind(engine, write), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def commit() -> None:
    """Commit the request's session if one was opened."""
    session = g.get("db_session")
    if session is not None:
        session.commit()


def _commit_on_success(response):
    """A request's work is one unit: committed when the handler succeeded, rolled back otherwise.

    Services only flush; a handler that answers with an error status (a form with errors,
    a refused scan) leaves nothing half-written behind.
    """
    session = g.get("db_session")
    if session is not None:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is not None:
            session.rollback()
    finally:
        session.close()
