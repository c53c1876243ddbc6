"""Fixtures in the Flask tutorial's style: app, client, runner, session, login.

Every test that uses `app` runs twice: on SQLite (a fresh file per test) and on the real
PostgreSQL server (a database of this test run, emptied before each test). With CI=true a
missing PostgreSQL server or Chromium fails the run; locally those tests skip with the reason.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from volunteer_app import create_app
from volunteer_app.db import make_engine
from volunteer_app.i18n import TRANSLATIONS, compile_catalogs
from volunteer_app.schema import ensure_reference_data
from volunteer_app.scratch import scratch_database

from . import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]

pytest_plugins = ["tests.browser_fixtures"]


def require(condition_reason: str | None) -> None:
    """Skip locally, fail in CI, when a real part is missing."""
    if condition_reason is None:
        return
    if IN_CI:
        pytest.fail(f"{condition_reason} (mandatory with CI=true)", pytrace=False)
    pytest.skip(condition_reason)


# The catalogs compiled once for the whole run (every app compiles what is missing or stale, as in production).
COMPILED_TRANSLATIONS = Path(__file__).resolve().parent.parent / ".pytest_cache" / "compiled-translations"


def pytest_sessionstart(session):
    compile_catalogs(TRANSLATIONS, COMPILED_TRANSLATIONS)


# --- databases ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file with the schema, copied for each test (faster than creating tables)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        ensure_reference_data(session)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database of this test run (created from the `test` database, dropped at the end)."""
    try:
        url, drop = scratch_database(PG_ADMIN_URL, f"rv_test_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    except Exception as exc:  # the server is absent or refuses us
        yield f"unavailable: PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__})"
        return
    engine = create_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, sqlite_template):
    """A fresh, empty database with the themes, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    require(url[len("unavailable: "):] if url.startswith("unavailable: ") else None)
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with Session(engine) as session:
        ensure_reference_data(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


# --- the app ------------------------------------------------------------------------------


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Settings for the test app; a test may change them before asking for `app`."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "DB_POOL_SIZE": 5,
        "COMPILED_TRANSLATIONS": str(COMPILED_TRANSLATIONS),
    }


@pytest.fixture
def limited_config(app_config):
    """app_config with the rate limits on (counted in memory); ask for it before `app` or `client`."""
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_STORAGE_URI"] = "memory://"
    return app_config


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    app = create_app(app_config)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def make_app(app_config, tmp_path, monkeypatch):
    """Build further apps with settings changed from app_config: make_app(WTF_CSRF_ENABLED=True) (disposed at
    the end; they share an instance folder of their own)."""
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "made-instance"))
    built = []

    def _make(**overrides):
        application = create_app({**app_config, **overrides})
        built.append(application)
        return application

    yield _make
    for application in built:
        application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session for calling services directly and checking what was stored.

    No app context is pushed here on purpose: one that stayed pushed would be shared by the
    test client's requests, and with it the request's database session. A test that needs an
    app context takes `app_context`.
    """
    with Session(app.extensions["db_engine"], expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app_context(app):
    """An app context for service calls that read the app's configuration; make no requests inside it."""
    with app.app_context():
        yield


@pytest.fixture
def world(session):
    """A small city: units, two active teams (A and B) with leaders and members, and an office account."""
    return factories.make_world(session)


class AuthActions:
    """Log in and out through the real forms."""

    def __init__(self, client):
        self._client = client

    def login(self, phone: str, password: str = factories.PASSWORD):
        return self._client.post("/login", data={"phone": phone, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
