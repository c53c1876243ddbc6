"""Membership: joining a team, a leader managing its members (requests, leaders, removal, reset links), rosters.

Every change keeps the two invariants of teams/service.py: a person's membership changes are audited, and an
active team never loses its last leader. The team-level rules and the shared helpers are in service.py
(imports point from here to there).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import notify
from ..accounts.service import issue_password_reset
from ..models import Activity, Attendance, Membership, Team, Volunteer, utcnow
from .rules import active_leader, active_member, leaders_among
from .service import (TeamError, _audit_membership, _leader_count, _lock_team, _membership, _reason, _set,
                      _state)


def join_team(*, session: Session, team: Team, volunteer_id: int, now: datetime | None = None) -> Membership:
    """Join through an invite: active at once if the team auto-accepts, else pending the leader's approval."""
    _lock_team(session, team.id)
    now = now or utcnow()
    membership = _membership(session, team.id, volunteer_id)
    if membership is not None and membership.status == "active":
        raise TeamError("already_member")
    if membership is not None and membership.status == "pending":
        raise TeamError("already_requested")
    old = _state(membership)
    membership = membership or Membership(team_id=team.id, volunteer_id=volunteer_id)
    _set(membership, role="member", status="active" if team.join_policy == "auto" else "pending", now=now)
    session.add(membership)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same person's second tab won the race
        raise TeamError("already_requested") from None
    _audit_membership(session, membership, "membership.join" if membership.status == "active"
                      else "membership.request", volunteer_id, old)
    return membership


# --- a leader manages members ---------------------------------------------------------------------


def membership_in_team(*, session: Session, team: Team, membership_id: int) -> Membership | None:
    """A membership of this team, or None (callers answer 404)."""
    membership = session.get(Membership, membership_id)
    return membership if membership is not None and membership.team_id == team.id else None


def decide_request(*, session: Session, membership: Membership, approve: bool, actor_id: int) -> Membership:
    """Approve or reject a pending request to join; an approved person is told (notice join_approved)."""
    _lock_membership(session, membership, status="pending", error="request_handled")
    old = _state(membership)
    _set(membership, role="member", status="active" if approve else "rejected")
    session.add(membership)
    session.flush()
    _audit_membership(session, membership, "membership.approve" if approve else "membership.reject", actor_id, old)
    if approve:
        notify.send(session=session, volunteer_id=membership.volunteer_id, kind="join_approved",
                    team_id=membership.team_id)
    return membership


def remove_member(*, session: Session, membership: Membership, actor_id: int, reason: str = "") -> Membership:
    """A leader removes a member (never the team's last leader, never themself: one leaves with leave_team)."""
    return _end_membership(session, membership, actor_id, "membership.remove", reason, not_self=True)


def leave_team(*, session: Session, membership: Membership) -> Membership:
    """A volunteer leaves a team (or withdraws a pending request); the last leader cannot leave."""
    if membership.status == "pending":
        old = _state(membership)
        _set(membership, role="member", status="left")
        session.add(membership)
        session.flush()
        _audit_membership(session, membership, "membership.withdraw", membership.volunteer_id, old)
        return membership
    return _end_membership(session, membership, membership.volunteer_id, "membership.leave", "")


def set_leader(*, session: Session, membership: Membership, leader: bool, actor_id: int) -> Membership:
    """Promote an active member to (co-)leader, or demote a leader; a team never loses its last leader."""
    _lock_membership(session, membership, status="active", error="not_member")
    if leader and membership.role == "leader":
        raise TeamError("already_leader")
    if not leader and membership.role != "leader":
        raise TeamError("not_leader")
    if not leader and _leader_count(session, membership.team_id) <= 1:
        raise TeamError("last_leader")
    old = _state(membership)
    _set(membership, role="leader" if leader else "member", status="active")
    session.add(membership)
    session.flush()
    _audit_membership(session, membership, "membership.promote" if leader else "membership.demote", actor_id, old)
    return membership


def reset_refusal(*, membership: Membership, person: Volunteer, leads_a_team: bool) -> str | None:
    """Why a leader may not issue a password reset link for this membership's person, or None if they may.

    A leader resets only a plain member: an active member of the leader's team who leads no team anywhere
    (a co-leader's account would open their other teams' rosters) and is no office account. Those are
    the office's to reset. leads_a_team comes from rules.leaders_among.
    """
    if membership.status != "active" or person.deleted_at is not None:
        return "not_member"
    if membership.role == "leader" or leads_a_team or person.role != "volunteer":
        return "reset_office_only"
    return None


def resettable_by_leader(*, session: Session, rows: list[tuple[Membership, Volunteer]]) -> set[int]:
    """The ids of the memberships among rows (a roster page) whose person a leader may send a reset link."""
    leading = leaders_among(session, [person.id for _membership, person in rows])
    return {membership.id for membership, person in rows
            if reset_refusal(membership=membership, person=person, leads_a_team=person.id in leading) is None}


def issue_member_reset(*, session: Session, membership: Membership, actor_id: int, now: datetime | None = None) -> str:
    """A leader issues a reset link for a plain member of the team (reset_refusal); audited with who for whom."""
    _lock_membership(session, membership, status="active", error="not_member")
    person = session.get(Volunteer, membership.volunteer_id)
    refused = reset_refusal(membership=membership, person=person,
                            leads_a_team=bool(leaders_among(session, [person.id])))
    if refused is not None:
        raise TeamError(refused)
    return issue_password_reset(session=session, volunteer=person, issued_by_id=actor_id,
                                team_id=membership.team_id, now=now)


def member_actions(*, membership: Membership, actor_id: int, leader_count: int, resettable: bool) -> tuple[str, ...]:
    """What a leader's roster offers on one active member's row, by the rules of the functions above.

    On oneself: only stepping down, and only beside another leader (one leaves the team from My teams, never
    by removing oneself). On another leader: make member or remove, unless they are the last leader. On a
    member: make leader, a reset link (when resettable_by_leader says so), remove.
    """
    if membership.status != "active":
        return ()
    if membership.role == "leader":
        if leader_count <= 1:
            return ()
        return ("demote",) if membership.volunteer_id == actor_id else ("demote", "remove")
    return ("promote", "reset", "remove") if resettable else ("promote", "remove")


def member_minutes(*, session: Session, team_id: int, volunteer_ids: list[int]) -> dict[int, int]:
    """Credited minutes with this team (its activities, voided attendances left out) per volunteer: one
    grouped query for a page of the roster."""
    if not volunteer_ids:
        return {}
    rows = session.exec(
        select(Attendance.volunteer_id, func.sum(Attendance.credited_minutes))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Activity.team_id == team_id, Attendance.volunteer_id.in_(volunteer_ids),
               Attendance.voided_at.is_(None))
        .group_by(Attendance.volunteer_id)
    ).all()
    return {volunteer_id: int(minutes or 0) for volunteer_id, minutes in rows}


def roster(*, team_id: int, query: str = "", status: str = "active"):
    """A statement of (Membership, Volunteer) for a team: leaders first, then by name; search by name or last 4."""
    statement = (
        select(Membership, Volunteer)
        .join(Volunteer, Volunteer.id == Membership.volunteer_id)
        .where(Membership.team_id == team_id, Membership.status == status, Volunteer.deleted_at.is_(None))
    )
    text = (query or "").strip()[:40]
    if text:
        if len(text) == 4 and text.isdigit():
            statement = statement.where(Volunteer.phone_tail == text)
        else:
            statement = statement.where(Volunteer.name.contains(text, autoescape=True))
    leaders_first = case((Membership.role == "leader", 0), else_=1)
    return statement.order_by(leaders_first, Volunteer.name, Volunteer.id)


def memberships_of(*, session: Session, volunteer_id: int) -> list[tuple[Membership, Team]]:
    """A volunteer's teams (active and pending), for "My teams"."""
    return list(session.exec(
        select(Membership, Team).join(Team, Team.id == Membership.team_id)
        .where(Membership.volunteer_id == volunteer_id, Membership.status.in_(("active", "pending")))
        .order_by(Team.name)
    ).all())


def team_for_member(*, session: Session, volunteer_id: int, team_id: int) -> Team | None:
    """The team if volunteer_id is an active member (or leader) of it, else None (callers answer 404)."""
    return session.exec(
        select(Team).join(Membership, Membership.team_id == Team.id)
        .where(Team.id == team_id, *active_member(volunteer=volunteer_id))
    ).first()


def team_leader_names(*, session: Session, team_id: int) -> list[str]:
    """The names of a team's active leaders (nothing else about them: members see names, never phones)."""
    return list(session.exec(
        select(Volunteer.name).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.team_id == team_id, *active_leader(), Volunteer.deleted_at.is_(None))
        .order_by(Volunteer.name)).all())


def own_membership(*, session: Session, volunteer_id: int, team_id: int) -> Membership | None:
    """The volunteer's active or pending membership of a team, or None (callers answer 404)."""
    return _membership(session, team_id, volunteer_id, "active", "pending")


# --- helpers ---------------------------------------------------------------------------------------


def _end_membership(session: Session, membership: Membership, actor_id: int, action: str,
                    reason: str, not_self: bool = False) -> Membership:
    _lock_membership(session, membership, status="active", error="not_member")
    if membership.role == "leader" and _leader_count(session, membership.team_id) <= 1:
        raise TeamError("last_leader")
    if not_self and membership.volunteer_id == actor_id:
        raise TeamError("not_on_self")
    old = _state(membership)
    _set(membership, role="member", status="left")
    session.add(membership)
    session.flush()
    _audit_membership(session, membership, action, actor_id, old, reason=_reason(reason, required=False) or None)
    return membership


def _lock_membership(session: Session, membership: Membership, *, status: str, error: str) -> None:
    """Lock the membership's team, re-read the membership and raise TeamError(error) unless it has status
    (someone else may have changed it between the page and the button)."""
    _lock_team(session, membership.team_id)
    session.refresh(membership)
    if membership.status != status:
        raise TeamError(error)
