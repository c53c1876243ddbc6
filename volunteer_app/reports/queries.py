"""Tallies for the office: 场次 (activities), 人次 (attendances), 时长 (hours).

Counted activities are closed ones: their attendee_count and total_minutes are final and
equal the sum of their (non-voided) attendances, so tallies read 40k activity rows instead
of a million attendance rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import Activity, Team, Volunteer

COUNTED_STATUSES = ("closed",)


@dataclass(frozen=True)
class Totals:
    teams: int
    volunteers: int
    activities: int
    attendances: int
    minutes: int


def city_totals(*, session: Session, start: datetime, end: datetime) -> Totals:
    """City-wide totals for activities starting in [start, end)."""
    activities, attendances, minutes = session.exec(
        select(
            func.count(Activity.id),
            func.coalesce(func.sum(Activity.attendee_count), 0),
            func.coalesce(func.sum(Activity.total_minutes), 0),
        ).where(Activity.starts_at >= start, Activity.starts_at < end, Activity.status.in_(COUNTED_STATUSES))
    ).one()
    teams = session.exec(select(func.count(Team.id)).where(Team.status == "active")).one()
    volunteers = session.exec(
        select(func.count(Volunteer.id)).where(Volunteer.role == "volunteer", Volunteer.deleted_at.is_(None))
    ).one()
    return Totals(teams, volunteers, activities, int(attendances), int(minutes))
