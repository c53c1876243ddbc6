"""Database layer: one engine per app, one Session per request (the request commits, services only flush).

SQLite runs as a multi-writer web app needs: WAL, foreign keys, a busy timeout, POSTs begin IMMEDIATE (writers
queue instead of failing), safe methods begin DEFERRED. A POST marked @reads_first reads without a lock and
writes in `with write_transaction():`. `DirectStatement` runs a Core statement on a pooled driver connection
without a Session (the self-scan check-in). The same code runs on PostgreSQL (postgresql+psycopg://...).
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import namedtuple
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import Executable
from sqlalchemy.pool import NullPool
from sqlmodel import Session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# PostgreSQL: a pooled connection idle this long is pinged before use (_ping_after_idle).
PING_AFTER_IDLE_SECONDS = 2.0
F = TypeVar("F", bound=Callable)


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
    engine = create_engine(url, pool_size=config.get("DB_POOL_SIZE", 10), max_overflow=20)
    _ping_after_idle(engine, config.get("DB_PING_AFTER_IDLE_SECONDS", PING_AFTER_IDLE_SECONDS))
    return engine


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """pool_pre_ping for a connection that lay in the pool at least idle_seconds; a busy one goes out unpinged.

    A ping is a round trip to the server on every checkout: under load it was one of five per check-in. A
    connection returned a moment ago is alive unless the server restarted just then; the first statement on
    such a one fails (that request answers 500) and SQLAlchemy then replaces every older connection of the pool.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)  # in autocommit: no transaction is left open
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the pooled connection is gone") from error  # the pool reconnects


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
        write = not has_request_context() or (request.method not in SAFE_METHODS and not _reads_first_view())
        g.db_session = Session(bind=_bind(get_engine(), write), expire_on_commit=False)
    return g.db_session


def reads_first(view: F) -> F:
    """Mark a POST view whose reads need no lock: its session begins DEFERRED; it writes in write_transaction()."""
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def _reads_first_view() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "reads_first", False)


@contextmanager
def write_transaction() -> Iterator[Session]:
    """The request's writes as one short transaction: committed at the end, rolled back on an error.

    The read transaction so far ends first (its objects stay usable: expire_on_commit is off). On SQLite
    the write transaction begins IMMEDIATE (a read snapshot is never upgraded, so no "database is locked"),
    and writers of this process and of other processes on the same file take turns on an OS file lock
    first: SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries, so under a burst most of the
    time would go to sleeping, while a blocking lock hands the turn over at once. The database's lock
    stays the real guard.
    """
    session = get_session()
    session.commit()
    engine = get_engine()
    with _write_turn(engine):
        session.bind = _bind(engine, write=True)
        with _committed(session):
            yield session


@contextmanager
def _committed(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll it back if it raised."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


_turns: dict[str, tuple[threading.Lock, int]] = {}
_turns_guard = threading.Lock()


@contextmanager
def _write_turn(engine: Engine) -> Iterator[None]:
    """Hold this SQLite file's writer turn (a thread lock plus a flock: flock is per process); no-op elsewhere."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with _turns_guard:
        if database not in _turns:
            _turns[database] = (threading.Lock(), os.open(f"{database}-writers.lock", os.O_CREAT | os.O_RDWR, 0o600))
        thread_lock, fd = _turns[database]
    with thread_lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _bind(engine: Engine, write: bool):
    if write and engine.dialect.name == "sqlite":
        return _immediate(engine)
    return engine


@lru_cache(maxsize=64)
def _immediate(engine: Engine) -> Engine:
    """The engine whose transactions begin IMMEDIATE (made once per engine: making one costs ~35 µs)."""
    return engine.execution_options(sqlite_immediate=True)


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session outside a request (CLI, background jobs): commit on success, roll back on error."""
    engine = engine or get_engine()
    with Session(bind=_bind(engine, write), expire_on_commit=False) as session, _committed(session):
        yield session


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
    if session is not None and session.in_transaction():
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


# --- the driver path: one hot route without the Session ----------------------------------------------


class DirectStatement:
    """A Core statement run straight on a DB-API cursor, for the one route where SQLAlchemy's execution
    layer is most of the cost (the check-in POST: ~0.1 ms per statement for the Session and Connection
    against ~0.01 ms for the driver call; measured in docs/PERFORMANCE.md).

    The statement is still written once, in Core. It is compiled once per dialect; its parameters go
    through the same bind processors and its result columns through the same result processors that
    SQLAlchemy applies, so what is written and read here is exactly what the ORM writes and reads.
    """

    def __init__(self, statement: Executable):
        self.statement = statement
        self._plans: dict[str, tuple] = {}  # by dialect name: one driver per backend in this app
        self._readers: dict[str, tuple] = {}

    def first(self, cursor, dialect: Dialect, params: dict[str, Any]):
        """Execute with params on cursor; the first row (a named tuple of the statement's columns) or None.

        For statements of at most a few rows (a row by key, an INSERT ... RETURNING).
        """
        sql, compiled, positions, binders, columns, row_type = self._plan(dialect)
        values = compiled.construct_params(params)
        for name, process in binders:
            values[name] = process(values[name])
        cursor.execute(sql, [values[name] for name in positions] if positions is not None else values)
        rows = cursor.fetchall()  # all of them: a statement left half-read would stay open in the transaction
        if not rows:
            return None
        readers = self._readers.get(dialect.name)
        if readers is None:  # the driver's column types (cursor.description) choose some processors
            readers = self._readers[dialect.name] = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(columns, cursor.description))
        return row_type._make(value if read is None else read(value) for read, value in zip(readers, rows[0]))

    def _plan(self, dialect: Dialect) -> tuple:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            binders = tuple((name, process) for bind, name in compiled.bind_names.items()
                            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None)
            columns = list(self.statement.exported_columns)
            row_type = namedtuple("Row", [column.key for column in columns])
            positions = tuple(compiled.positiontup) if compiled.positional else None
            plan = self._plans[dialect.name] = (str(compiled), compiled, positions, binders, columns, row_type)
        return plan


@contextmanager
def driver_connection(engine: Engine) -> Iterator[Any]:
    """A pooled DB-API connection for DirectStatement, apart from the request's Session, in autocommit mode.

    Every statement is a transaction of its own (SQLite: isolation_level None; PostgreSQL: the connection's
    autocommit, switched back when it returns to the pool): a lone read opens no transaction, and on PostgreSQL
    a check-in costs two round trips (the gate, the insert) instead of four with BEGIN and COMMIT.
    """
    connection = engine.raw_connection()
    postgresql = engine.dialect.name == "postgresql"
    try:
        if postgresql:
            connection.driver_connection.autocommit = True
        yield connection
    finally:
        try:
            if postgresql and not connection.driver_connection.closed:
                connection.driver_connection.autocommit = False
        finally:
            connection.close()


def driver_write(engine: Engine, connection, statement: DirectStatement, params: dict[str, Any]):
    """Run one writing DirectStatement on a driver_connection as a transaction of its own; its first row or None.

    SQLite: in the writer's turn, BEGIN IMMEDIATE ... COMMIT (rolled back if it raises), like write_transaction().
    PostgreSQL: the statement alone, in autocommit mode: it commits when it succeeds and leaves nothing if it fails.
    """
    cursor = connection.cursor()
    if engine.dialect.name != "sqlite":
        return statement.first(cursor, engine.dialect, params)
    with _write_turn(engine):
        cursor.execute("BEGIN IMMEDIATE")
        try:
            row = statement.first(cursor, engine.dialect, params)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    return row
