"""A leader's day: the activities to run now, for the top of the leader's home page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, or_
from sqlmodel import Session, select

from ..models import Activity, Team
from .service import starts_now

AGENDA_LIMIT = 20


def leader_agenda(*, session: Session, team_ids: list[int], day_start: datetime, day_end: datetime,
                  at: datetime) -> list[tuple[Activity, Team, bool]]:
    """The open activities of these teams, then their scheduled ones starting today, soonest first.

    Each comes with whether it may be opened now (a scheduled one whose check-in hour has come).
    """
    if not team_ids:
        return []
    rows = session.exec(
        select(Activity, Team).join(Team, Team.id == Activity.team_id)
        .where(Activity.team_id.in_(team_ids),
               or_(Activity.status == "open",
                   (Activity.status == "scheduled") & (Activity.starts_at >= day_start)
                   & (Activity.starts_at < day_end) & (Activity.ends_at >= at)))
        .order_by(case((Activity.status == "open", 0), else_=1), Activity.starts_at, Activity.id)
        .limit(AGENDA_LIMIT)
    ).all()
    return [(activity, team, activity.status == "scheduled"
             and starts_now(starts_at=activity.starts_at, ends_at=activity.ends_at, at=at))
            for activity, team in rows]
