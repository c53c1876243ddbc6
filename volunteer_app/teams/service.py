"""Teams and membership: who leads what, looked up through what the user may see.

The team's own life (application, the office's decisions, suspension, details, invites) and the helpers that
membership.py (joining, leaders, leaving, reset links, rosters) shares; every rule guards the same two
invariants: a person's membership changes are audited, and an active team never loses its last leader.
The spreadsheet import is in importer.py, its background jobs in jobs.py.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import audit, tokens
from ..accounts.phone import normalise_phone
from ..accounts.service import AccountError, clean_name
from ..units import units_in_scope
from ..errors import DomainError
from ..models import JOIN_POLICIES, Membership, Team, Unit, utcnow
from .rules import active_leader


def team_for_leader(*, session: Session, volunteer_id: int, team_id: int) -> Team | None:
    """The team if volunteer_id is an active leader of it, else None (callers answer 404)."""
    return session.exec(
        select(Team).join(Membership, Membership.team_id == Team.id)
        .where(Team.id == team_id, *active_leader(volunteer=volunteer_id))
    ).first()


def teams_led_by(*, session: Session, volunteer_id: int) -> list[Team]:
    """Active teams this volunteer leads, by name."""
    return list(
        session.exec(
            select(Team)
            .join(Membership, Membership.team_id == Team.id)
            .where(*active_leader(volunteer=volunteer_id), Team.status == "active")
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


def active_leader_count(*, session: Session, team_id: int) -> int:
    """Active leaders of the team (the last one may not step down or be removed)."""
    return _leader_count(session, team_id)


# --- errors ---------------------------------------------------------------------------------------

class TeamError(DomainError):
    messages = {
        "bad_name": _l("Enter a team name of 1 to 40 characters, without invisible or control characters."),
        "bad_unit": _l("Choose the unit the team belongs to."),
        "bad_phone": _l("Enter an 11-digit mainland mobile number."),
        "too_long": _l("The description is too long (at most 2000 characters)."),
        "name_taken": _l("A team with this name already exists in this unit."),
        "not_pending": _l("This application has already been decided."),
        "reason_required": _l("Give a reason (at most 500 characters)."),
        "bad_status": _l("This cannot be done while the team has this status."),
        "invite_invalid": _l("This invite link is not valid. Ask the team leader for a new one."),
        "invite_expired": _l("This invite link has expired. Ask the team leader for a new one."),
        "team_closed": _l("This team is not accepting members right now."),
        "already_member": _l("You are already a member of this team."),
        "already_requested": _l("Your request to join is waiting for the leader's approval."),
        "request_handled": _l("This request has already been handled."),
        "not_member": _l("This person is not an active member of the team."),
        "already_leader": _l("This person is already a leader."),
        "not_leader": _l("This person is not a leader."),
        "last_leader": _l("A team needs at least one leader. Make another member a leader first."),
        "not_on_self": _l("To leave the team yourself, use Leave on the My teams page."),
        "reset_office_only": _l("Only the Civilization Office can issue a reset link for a leader or an office "
                                "account."),
    }


# --- applying for a team and the office's decisions ----------------------------------------------

DESCRIPTION_MAX = 2000
REASON_MAX = 500


def apply_for_team(
    *, session: Session, applicant_id: int, name: str, unit_id: int | None, description: str = "",
    contact_name: str = "", contact_phone: str = "",
) -> Team:
    """A volunteer asks to register a team; it waits for the office (status pending)."""
    clean = _team_name(name)
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise TeamError("bad_unit")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise TeamError("too_long")
    phone = None
    if contact_phone and contact_phone.strip():
        phone = normalise_phone(contact_phone)
        if phone is None:
            raise TeamError("bad_phone")
    contact = _optional_name(contact_name)
    rejected = session.exec(select(Team).where(Team.unit_id == unit.id, Team.name == clean,
                                               Team.status == "rejected")).first()
    if rejected is not None:
        # A rejected name may be applied for again (the unit+name pair is unique, so the row is reused).
        team = rejected
        team.description, team.contact_name, team.contact_phone = description, contact, phone
        team.status, team.status_reason, team.applied_by_id = "pending", None, applicant_id
        team.decided_by_id, team.decided_at, team.invite_nonce = None, None, secrets.token_hex(8)
        team.created_at = utcnow()
        session.add(team)
        session.flush()
    else:
        _name_free(session, unit.id, clean)
        team = Team(name=clean, unit_id=unit.id, description=description, contact_name=contact,
                    contact_phone=phone, status="pending", applied_by_id=applicant_id,
                    invite_nonce=secrets.token_hex(8))
        _add_team(session, team)
    audit.record(session=session, action="team.apply", object_type="team", object_id=team.id, actor_id=applicant_id,
                 team_id=team.id, data={"new": {"status": "pending", "name": clean}})
    return team


def decide_team(*, session: Session, team: Team, approve: bool, office_id: int, reason: str = "",
                now: datetime | None = None) -> Team:
    """Approve (the applicant becomes leader) or reject (a reason is required) a pending team."""
    _lock_team(session, team.id)
    session.refresh(team)
    if team.status != "pending":
        raise TeamError("not_pending")
    reason = _reason(reason, required=not approve)
    now = now or utcnow()
    team.status = "active" if approve else "rejected"
    team.status_reason = reason or None
    team.decided_by_id = office_id
    team.decided_at = now
    session.add(team)
    session.flush()
    audit.record(session=session, action="team.approve" if approve else "team.reject", object_type="team",
                 object_id=team.id, actor_id=office_id, team_id=team.id, reason=reason or None,
                 data={"old": {"status": "pending"}, "new": {"status": team.status}})
    if approve and team.applied_by_id is not None:
        membership = _membership(session, team.id, team.applied_by_id)
        old = _state(membership)
        membership = membership or Membership(team_id=team.id, volunteer_id=team.applied_by_id)
        _set(membership, role="leader", status="active", now=now)
        session.add(membership)
        session.flush()
        _audit_membership(session, membership, "membership.leader_on_approval", office_id, old)
    return team


def set_team_suspended(*, session: Session, team: Team, suspended: bool, office_id: int, reason: str) -> Team:
    """The office suspends an active team (a reason is required) or reactivates a suspended one."""
    _lock_team(session, team.id)
    session.refresh(team)
    if team.status != ("active" if suspended else "suspended"):
        raise TeamError("bad_status")
    reason = _reason(reason, required=suspended)
    old = team.status
    team.status = "suspended" if suspended else "active"
    team.status_reason = reason or None
    team.decided_by_id = office_id
    team.decided_at = utcnow()
    session.add(team)
    session.flush()
    audit.record(session=session, action="team.suspend" if suspended else "team.reactivate", object_type="team",
                 object_id=team.id, actor_id=office_id, team_id=team.id, reason=reason or None,
                 data={"old": {"status": old}, "new": {"status": team.status}})
    return team


def edit_team(*, session: Session, team: Team, actor_id: int, name: str, description: str, contact_name: str,
              contact_phone: str, join_policy: str) -> Team:
    """A leader edits the team's details and how people join."""
    clean = _team_name(name)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise TeamError("too_long")
    phone = None
    if contact_phone and contact_phone.strip():
        phone = normalise_phone(contact_phone)
        if phone is None:
            raise TeamError("bad_phone")
    if join_policy not in JOIN_POLICIES:
        join_policy = team.join_policy
    if clean != team.name:
        _name_free(session, team.unit_id, clean)
    old = {"name": team.name, "join_policy": team.join_policy}
    team.name, team.description = clean, description
    team.contact_name, team.contact_phone = _optional_name(contact_name), phone
    team.join_policy = join_policy
    session.add(team)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise TeamError("name_taken") from None
    audit.record(session=session, action="team.edit", object_type="team", object_id=team.id, actor_id=actor_id,
                 team_id=team.id, data={"old": old, "new": {"name": team.name, "join_policy": join_policy}})
    return team


def office_teams(*, status: str | None, scope: str | None, query: str = ""):
    """A statement of (Team, Unit) for the office's lists, limited to its scope; the view paginates."""
    statement = select(Team, Unit).join(Unit, Unit.id == Team.unit_id)
    if status:
        statement = statement.where(Team.status == status)
    if scope is not None:
        statement = statement.where(Team.unit_id.in_(units_in_scope(scope)))
    if query.strip():
        statement = statement.where(Team.name.contains(query.strip()[:40], autoescape=True))
    return statement.order_by(Team.created_at, Team.id)


def pending_team_count(*, session: Session, scope: str | None) -> int:
    """How many team applications wait for this office's decision (the count on its 队伍 menu entry)."""
    statement = select(func.count(Team.id)).where(Team.status == "pending")
    if scope is not None:
        statement = statement.where(Team.unit_id.in_(units_in_scope(scope)))
    return session.exec(statement).one()


def team_for_office(*, session: Session, team_id: int, scope: str | None) -> Team | None:
    """A team inside the office's scope, or None (callers answer 404)."""
    team = session.get(Team, team_id)
    if team is None:
        return None
    if scope is not None and session.exec(units_in_scope(scope).where(Unit.id == team.unit_id)).first() is None:
        return None
    return team


# --- invites ---------------------------------------------------------------------------------------


def invite_token(team: Team, *, secret_key: str) -> str:
    """A signed token naming the team and its current nonce; a new nonce revokes every older token."""
    return tokens.invite_token(secret_key=secret_key, team_id=team.id, nonce=team.invite_nonce)


def team_for_invite(*, session: Session, token: str, secret_key: str, now: datetime | None = None) -> Team:
    """The team an invite token opens, or TeamError(invite_invalid / invite_expired / team_closed)."""
    try:
        team_id, nonce = tokens.read_invite_token(token, secret_key=secret_key)
    except tokens.TokenError:
        raise TeamError("invite_invalid") from None
    team = session.get(Team, team_id)
    if team is None or not hmac.compare_digest(team.invite_nonce, nonce):
        raise TeamError("invite_invalid")
    if team.invite_expires_at is not None and team.invite_expires_at <= (now or utcnow()):
        raise TeamError("invite_expired")
    if team.status != "active":
        raise TeamError("team_closed")
    return team


def renew_invite(*, session: Session, team: Team, actor_id: int, valid_days: int | None) -> Team:
    """A new invite (new nonce: every older link and QR stops working), valid for some days or without end."""
    team.invite_nonce = secrets.token_hex(8)
    team.invite_expires_at = utcnow() + timedelta(days=valid_days) if valid_days else None
    session.add(team)
    session.flush()
    audit.record(session=session, action="team.invite_renew", object_type="team", object_id=team.id,
                 actor_id=actor_id, team_id=team.id, data={"new": {"valid_days": valid_days}})
    return team


def applications_of(*, session: Session, volunteer_id: int) -> list[Team]:
    """Teams this volunteer applied for that are still pending or were rejected."""
    return list(session.exec(select(Team).where(
        Team.applied_by_id == volunteer_id, Team.status.in_(("pending", "rejected"))).order_by(Team.created_at)))


# --- helpers ---------------------------------------------------------------------------------------


def _leader_count(session: Session, team_id: int) -> int:
    return session.exec(select(func.count(Membership.id)).where(*active_leader(team=team_id))).one()


def _lock_team(session: Session, team_id: int) -> None:
    """Serialise membership changes of one team (PostgreSQL row lock; SQLite writers already queue)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Team.id).where(Team.id == team_id).with_for_update())


def _membership(session: Session, team_id: int, volunteer_id: int, *statuses: str) -> Membership | None:
    """The volunteer's membership row of the team (one per pair), if any; with statuses, only in one of them."""
    statement = select(Membership).where(Membership.team_id == team_id, Membership.volunteer_id == volunteer_id)
    if statuses:
        statement = statement.where(Membership.status.in_(statuses))
    return session.exec(statement).first()


def _set(membership: Membership, *, role: str, status: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    if status == "active" and membership.status != "active":
        membership.joined_at = now
    membership.role, membership.status, membership.updated_at = role, status, now


def _state(membership: Membership | None) -> dict | None:
    return None if membership is None else {"role": membership.role, "status": membership.status}


def _audit_membership(session: Session, membership: Membership, action: str, actor_id: int | None,
                      old: dict | None, reason: str | None = None) -> None:
    audit.record(session=session, action=action, object_type="membership", object_id=membership.id,
                 actor_id=actor_id, team_id=membership.team_id, reason=reason,
                 data={"old": old, "new": _state(membership), "volunteer_id": membership.volunteer_id})


def _team_name(raw: str | None) -> str:
    try:
        return clean_name(raw)
    except AccountError:
        raise TeamError("bad_name") from None


def _optional_name(raw: str | None) -> str:
    if not raw or not raw.strip():
        return ""
    try:
        return clean_name(raw)
    except AccountError:
        raise TeamError("bad_name") from None


def _reason(raw: str | None, *, required: bool) -> str:
    reason = (raw or "").strip()
    if (required and not reason) or len(reason) > REASON_MAX:
        raise TeamError("reason_required")
    return reason


def _name_free(session: Session, unit_id: int, name: str) -> None:
    if session.exec(select(Team.id).where(Team.unit_id == unit_id, Team.name == name)).first() is not None:
        raise TeamError("name_taken")


def _add_team(session: Session, team: Team) -> None:
    session.add(team)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise TeamError("name_taken") from None
