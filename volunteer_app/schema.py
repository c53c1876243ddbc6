"""Schema management: Alembic migrations plus reference data (the theme list)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlmodel import Session, select

from .models import THEMES, Theme

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs on the given engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to revision and make sure the reference data is there."""
    command.upgrade(alembic_config(engine), revision)
    with Session(engine) as session:
        ensure_reference_data(session)
        session.commit()


def ensure_reference_data(session: Session) -> None:
    """Insert the standard themes that are missing (the office may add more)."""
    existing = set(session.exec(select(Theme.code)))
    for order, (code, name_zh, name_en) in enumerate(THEMES):
        if code not in existing:
            session.add(Theme(code=code, name_zh=name_zh, name_en=name_en, sort_order=order))
    session.flush()
