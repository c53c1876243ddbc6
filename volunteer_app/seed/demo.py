"""`volunteer-app seed-demo`: fill an empty database with the demo city and print the demo logins."""
from __future__ import annotations

import time
from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlmodel import Session

from ..db import get_engine
from ..models import Team, Unit, Volunteer
from .database import seed_database
from .plan import CHINA, SCALES
from .refresh import echo_logins


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(sorted(SCALES)), default="small", show_default=True,
              help="city: the real city (166,000 volunteers, 1.2M attendances); small: a few teams, for tests.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; the same seed gives the same data.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has volunteers.")
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="Pin the clock (e.g. 2026-11-26T10:00+08:00) for reproducible data; default: the current time.")
@with_appcontext
def seed_demo_command(scale: str, seed: int, if_empty: bool, now_text: str | None) -> None:
    """Fill an empty database with the demo city and print the demo logins."""
    now = _parse_now(now_text)
    engine = get_engine()
    with Session(engine) as session:
        counts = {
            name: session.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in (("volunteers", Volunteer), ("units", Unit), ("teams", Team))
        }
    if if_empty and counts["volunteers"]:
        click.echo(f"The database already has {counts['volunteers']:,} volunteers; not seeding.")
        return
    if any(counts.values()):
        raise click.ClickException(
            "The database is not empty (" + ", ".join(f"{n:,} {name}" for name, n in counts.items())
            + "); seed-demo only fills an empty database. Use a fresh database, or --if-empty to skip."
        )
    started = time.perf_counter()
    report = seed_database(engine, scale=SCALES[scale], seed=seed, now=now)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded the {scale} demo in {elapsed:.1f} s: {report['districts']} districts, {report['streets']} streets, "
        f"{report['communities']} communities, {report['teams']:,} teams, {report['volunteers']:,} volunteers, "
        f"{report['memberships']:,} memberships, {report['activities']:,} activities, "
        f"{report['attendances']:,} attendances, {report['signups']:,} sign-ups, {report['photos']:,} photos."
    )
    click.echo("The signals of padding are computed by `volunteer-app signals refresh` (cron; `make run` runs it).")
    echo_logins(report["logins"])


def _parse_now(text: str | None) -> int:
    """The clock as UTC epoch seconds; a time without offset is China time."""
    if not text:
        return int(time.time())
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO date-time such as 2026-11-26T10:00+08:00",
                                 param_hint="--now") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    return int(value.timestamp())
