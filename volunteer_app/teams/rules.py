"""Who is an active member and who is an active leader: the one statement of each rule.

Every domain asks these questions (the check-in gate, the activity pages, the team pages, account deletion),
so each is written once, as SQL conditions on the membership table that any statement can use, with the
Python checks built on them. The conditions take a value, a bind parameter or a column for the team and the
volunteer; leave one out to mean "any team" / "anyone".
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from ..models import Membership

_m = Membership.__table__.c


def active_member(*, team=None, volunteer=None) -> tuple:
    """The conditions of an active membership (member or leader) of team by volunteer."""
    conditions = (_m.status == "active",)
    if team is not None:
        conditions += (_m.team_id == team,)
    if volunteer is not None:
        conditions += (_m.volunteer_id == volunteer,)
    return conditions


def active_leader(*, team=None, volunteer=None) -> tuple:
    """The conditions of an active leader (co-leaders included) of team: an active membership with role leader."""
    return active_member(team=team, volunteer=volunteer) + (_m.role == "leader",)


def is_active_member(session: Session, team_id: int, volunteer_id: int) -> bool:
    """An active member (or leader) of the team."""
    params = {"team_id": team_id, "volunteer_id": volunteer_id}
    return session.connection().execute(_ACTIVE_MEMBER, params).first() is not None


def is_active_leader(session: Session, team_id: int, volunteer_id: int) -> bool:
    """An active leader of the team."""
    params = {"team_id": team_id, "volunteer_id": volunteer_id}
    return session.connection().execute(_ACTIVE_LEADER, params).first() is not None


def leaders_among(session: Session, volunteer_ids: list[int]) -> set[int]:
    """Those of volunteer_ids who actively lead at least one team (any team)."""
    if not volunteer_ids:
        return set()
    rows = session.connection().execute(
        select(_m.volunteer_id).where(*active_leader(), _m.volunteer_id.in_(volunteer_ids)).distinct())
    return {volunteer_id for (volunteer_id,) in rows}


_ACTIVE_MEMBER = select(_m.id).where(
    *active_member(team=bindparam("team_id"), volunteer=bindparam("volunteer_id"))).limit(1)
_ACTIVE_LEADER = select(_m.id).where(
    *active_leader(team=bindparam("team_id"), volunteer=bindparam("volunteer_id"))).limit(1)
