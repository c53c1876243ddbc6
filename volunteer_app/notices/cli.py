"""`volunteer-app notices remind`: send the reminders that are due (run it from cron every 10 minutes)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import get_engine, session_scope
from ..models import utcnow
from .reminders import send_reminders

BATCH = 500


@click.group("notices")
def notices_group() -> None:
    """Notices to volunteers."""


@notices_group.command("remind")
@with_appcontext
def remind_command() -> None:
    """Remind everyone admitted to an activity the day before and within the hour before it starts.

    Safe to run twice at once: each reminder's unique key lets only one run send it.
    """
    total = 0
    while True:  # in batches, each its own transaction
        with session_scope(get_engine()) as session:
            sent = send_reminders(session=session, now=utcnow(), limit=BATCH)
        total += sent
        if sent < BATCH:
            break
    click.echo(f"{total} reminders sent")
