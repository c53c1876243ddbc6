"""Demo data (being written)."""
from __future__ import annotations

import click


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Fill the database with demo data."""
    raise click.ClickException("seed-demo is not available yet")
