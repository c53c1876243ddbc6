"""Scratch PostgreSQL databases for the test suite and the benchmarks (not used by the app itself).

Each is created on the server of an admin URL (a database the caller may connect to, such as `test`),
under a name the caller chooses, and dropped again by the function returned with it.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import create_engine, text


def scratch_database(admin_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """Create the database `name` next to admin_url's (replacing one left by an earlier run); returns its URL
    and a function that drops it (closing its connections). Raises SQLAlchemy's OperationalError when the server
    cannot be reached."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        admin.dispose()
        raise

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop
