"""Teams and membership: who leads what, looked up through what the user may see."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import Membership, Team


def team_for_leader(*, session: Session, volunteer_id: int, team_id: int) -> Team | None:
    """The team if volunteer_id is an active leader of it, else None (callers answer 404)."""
    return session.exec(
        select(Team)
        .join(Membership, Membership.team_id == Team.id)
        .where(
            Team.id == team_id,
            Membership.volunteer_id == volunteer_id,
            Membership.role == "leader",
            Membership.status == "active",
        )
    ).first()


def teams_led_by(*, session: Session, volunteer_id: int) -> list[Team]:
    """Active teams this volunteer leads, by name."""
    return list(
        session.exec(
            select(Team)
            .join(Membership, Membership.team_id == Team.id)
            .where(
                Membership.volunteer_id == volunteer_id,
                Membership.role == "leader",
                Membership.status == "active",
                Team.status == "active",
            )
            .order_by(Team.name)
        )
    )


def active_member_counts(*, session: Session, team_ids: list[int]) -> dict[int, int]:
    """Active members (leaders included) per team."""
    if not team_ids:
        return {}
    rows = session.exec(
        select(Membership.team_id, func.count())
        .where(Membership.team_id.in_(team_ids), Membership.status == "active")
        .group_by(Membership.team_id)
    )
    return {team_id: count for team_id, count in rows}
