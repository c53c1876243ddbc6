"""The `volunteer-app` command (also `flask --app volunteer_app ...`).

Each domain keeps its commands in its own module; `init_app` gathers them here.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from . import create_app, schema
from .db import get_engine, session_scope


def main() -> None:
    """Console-script entry point."""
    cli = FlaskGroup(create_app=create_app, add_default_commands=True)
    cli(prog_name="volunteer-app")


def init_app(app: Flask) -> None:
    """Register every command group."""
    app.cli.add_command(db_group)
    app.cli.add_command(create_admin)
    for command in _domain_commands():
        app.cli.add_command(command)


def _domain_commands() -> list[click.Command]:
    """Commands that live with their domain."""
    from .activities.cli import close_overdue_command
    from .maintenance import COMMANDS as maintenance_commands
    from .notices.cli import notices_group
    from .reports.cli import signals_group
    from .seed import seed_demo_command
    from .seed.refresh import demo_group
    from .teams.roster_import.jobs import import_group

    return [seed_demo_command, demo_group, import_group, close_overdue_command, signals_group,
            notices_group] + maintenance_commands


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (SQLite or PostgreSQL) and the reference data."""
    schema.upgrade(get_engine(), revision)
    click.echo(f"Database at {revision}: {get_engine().url.render_as_string(hide_password=True)}")


@click.command("create-admin")
@click.option("--phone", prompt="Mobile number")
@click.option("--name", prompt="Name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--unit", "unit_code", default=None, help="Limit the account to this unit code (e.g. a district).")
@with_appcontext
def create_admin(phone: str, name: str, password: str, unit_code: str | None) -> None:
    """Create an office account."""
    from sqlmodel import select

    from .accounts.service import AccountError, create_volunteer
    from .models import Unit

    if len(password) < 8:
        raise click.UsageError("The password needs at least 8 characters.")
    with session_scope() as session:
        unit_id = None
        if unit_code:
            unit = session.exec(select(Unit).where(Unit.code == unit_code)).first()
            if unit is None:
                raise click.UsageError(f"No unit with code {unit_code!r}.")
            unit_id = unit.id
        try:
            volunteer = create_volunteer(
                session=session, name=name, phone=phone, password=password, role="office", office_unit_id=unit_id
            )
        except AccountError as exc:
            raise click.UsageError(exc.code) from exc
        click.echo(f"Office account {volunteer.id} created for {volunteer.phone}.")
