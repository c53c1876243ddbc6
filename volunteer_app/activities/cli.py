"""`volunteer-app close-overdue`: close the open activities whose leaders forgot to (run it from cron)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import get_engine, session_scope
from .service import close_overdue


@click.command("close-overdue")
@with_appcontext
def close_overdue_command() -> None:
    """Close open activities that ended more than an hour ago, so that they count in the tallies."""
    total = 0
    while True:  # in batches, each its own transaction
        with session_scope(get_engine()) as session:
            closed = close_overdue(session=session, limit=500)
        for summary in closed:
            click.echo(f"closed activity {summary.activity_id}: {summary.attendee_count} people, "
                       f"{summary.total_minutes} min, {summary.auto_checked_out} checked out at the end")
        total += len(closed)
        if len(closed) < 500:
            break
    click.echo(f"{total} overdue activities closed")
