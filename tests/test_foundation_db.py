"""The database layer: migrations equal the models, SQLite runs safely with concurrent writers."""
from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from volunteer_app import create_app, schema
from volunteer_app.db import make_engine
from volunteer_app.models import Theme, Unit
from volunteer_app.scratch import scratch_database

from .conftest import PG_ADMIN_URL, require


def _fresh_database(kind: str, tmp_path):
    """An empty database of the kind, with its drop function."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}", lambda: None
    try:
        return scratch_database(PG_ADMIN_URL, f"rv_migrate_{tmp_path.name[-12:].lower().replace('-', '_')}")
    except Exception as exc:
        require(f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__})")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrated_schema_equals_the_models(kind, tmp_path):
    url, drop = _fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        schema.upgrade(engine)  # a second upgrade is harmless
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
        assert diff == [], f"the migrations and models.py differ; run `make migration`: {diff}"
        with Session(engine) as session:
            codes = set(session.exec(select(Theme.code)))
        assert {"civilized_traffic", "sanitation", "culture"} <= codes
    finally:
        engine.dispose()
        drop()


def test_cli_db_upgrade_builds_an_empty_database(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SECRET_KEY": "k"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = set(inspect(app.extensions["db_engine"]).get_table_names())
    assert {"unit", "team", "volunteer", "membership", "activity", "attendance", "audit_event"} <= tables
    app.extensions["db_engine"].dispose()


def test_sqlite_pragmas(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas only")
    with app.extensions["db_engine"].connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_writers_never_see_database_is_locked(app):
    """Twenty threads each read then write in one transaction; none fails, none is lost."""
    engine = app.extensions["db_engine"]
    write_engine = engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
    errors = []

    def worker(n):
        try:
            for i in range(5):
                with Session(write_engine) as session:
                    count = len(session.exec(select(Unit.id)).all())  # read first, then write: the risky pattern
                    session.add(Unit(name=f"u{n}-{i}-{count}", level="district", code=f"C{n}-{i}", path="/"))
                    session.commit()
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as session:
        assert len(session.exec(select(Unit.id)).all()) == 100


def test_a_failed_request_leaves_nothing_behind(app, session):
    """A handler that wrote and then failed is rolled back: a request is one unit of work."""
    from volunteer_app.db import get_session

    @app.post("/_test/fail-after-write")
    def fail_after_write():
        get_session().add(Unit(name="half", level="district", code="HALF", path="/"))
        get_session().flush()
        raise RuntimeError("boom")

    response = app.test_client().post("/_test/fail-after-write")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert session.exec(select(Unit).where(Unit.code == "HALF")).first() is None


def test_missing_secret_is_refused_outside_debug(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "change-me")
    from volunteer_app.cli import create_app as factory

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        factory()


def test_secret_is_generated_once_with_private_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("idle", [0.0, 3600.0])
def test_a_connection_the_server_dropped_is_replaced(pg_url, idle):
    """PostgreSQL: a pooled connection idle longer than DB_PING_AFTER_IDLE_SECONDS is pinged and replaced if gone;
    one used a moment ago is not pinged, fails once, and the pool then replaces every older connection."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    require(pg_url[len("unavailable: "):] if pg_url.startswith("unavailable: ") else None)
    engine = make_engine(pg_url, {"DB_POOL_SIZE": 2, "DB_PING_AFTER_IDLE_SECONDS": idle})
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = make_engine(pg_url)
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        if idle:
            with pytest.raises(DBAPIError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
