"""`volunteer-app signals refresh`: recompute the stored signals of padding (run it from cron every 10–15 min)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import get_engine
from . import signals


@click.group("signals")
def signals_group() -> None:
    """Signals of padded numbers (the office's signals page)."""


@signals_group.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Run every detector over the whole city and replace the stored findings (atomically)."""
    computed = signals.refresh(get_engine(), zone=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    counts = {kind: 0 for kind in signals.KINDS}
    for row in computed.rows:
        counts[row["kind"]] += 1
    click.echo(f"{len(computed.rows)} findings in {computed.seconds:.1f} s: "
               + ", ".join(f"{kind} {count}" for kind, count in counts.items()))
