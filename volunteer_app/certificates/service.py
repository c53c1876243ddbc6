"""Certificates of service (志愿服务记录证明): issue, keep, verify, revoke.

A certificate lists a volunteer's counted services over a period (closed activities, attendances not
voided), optionally for one team. It is numbered and kept with a SHA-256 of the rows it lists, so that the
public verification page can tell whether a later correction changed the hours of its period ("superseded").

The verification code is 10 random characters of Crockford's base 32 (50 bits), stored as it is as the
look-up key: the holder can download the same PDF, with the same QR code, as often as they like, and the code
opens only what the holder chose to show (masked name, period, hours, issuer). Guessing is bounded by the
verification page's rate limit (2^50 codes against a few hundred tries an hour).
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from .. import audit
from ..accounts.numbers import volunteer_number
from ..errors import DomainError
from ..models import (LIVE_METHODS, Activity, Attendance, Certificate, Membership, Team, Theme, Volunteer,
                      utcnow)
from ..units import units_in_scope

ZONE = ZoneInfo("Asia/Shanghai")
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 10
PRESETS = ("this_year", "last_year", "last_3_years", "custom")
EARLIEST = date(2000, 1, 1)


class CertificateError(DomainError):
    status = 409
    messages = {
        "bad_period": _l("The period must start on or before its end, and not end in the future."),
        "nothing_to_certify": _l("There is no counted service in this period. Choose another period or team."),
        "not_your_team": _l("Choose one of the teams you served with."),
        "already_revoked": _l("This certificate has already been revoked."),
        "reason_required": _l("Give a reason for revoking the certificate."),
        "revoked_download": _l("This certificate was revoked by the Civilization Office and can no longer be "
                               "downloaded."),
        "changed_since": _l("Your record for this period changed after this certificate was issued. Issue a new "
                            "certificate for the period."),
    }


@dataclass(frozen=True)
class ServiceRow:
    """One counted service, as the certificate lists it."""

    attendance_id: int
    day: date
    title: str
    place: str
    theme: str  # the theme's Chinese name: the certificate is in Chinese
    minutes: int
    method: str
    team: str
    in_charge: str


@dataclass(frozen=True)
class Verification:
    certificate: Certificate
    state: str  # valid / revoked / superseded
    holder: str  # the masked name, or "" when the account was deleted
    holder_deleted: bool
    team_name: str | None
    current_minutes: int  # the hours of the period now (differs from the certificate's when superseded)


# --- periods ----------------------------------------------------------------------------------


def preset_period(preset: str, today: date) -> tuple[date, date] | None:
    """The (start, end) of a preset; None for "custom" or an unknown preset."""
    if preset == "this_year":
        return date(today.year, 1, 1), today
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if preset == "last_3_years":
        return date(today.year - 2, 1, 1), today
    return None


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZONE).date()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds of the local days start..end (end inclusive)."""
    return (datetime.combine(start, time(), ZONE), datetime.combine(end + timedelta(days=1), time(), ZONE))


# --- rows -------------------------------------------------------------------------------------


def service_rows(*, session: Session, volunteer_id: int, start: date, end: date,
                 team_id: int | None = None) -> list[ServiceRow]:
    """The counted services of a volunteer whose activity started in the period, oldest first."""
    low, high = _bounds(start, end)
    statement = (
        select(Attendance.id, Activity.starts_at, Activity.title, Activity.place, Theme.name_zh,
               Attendance.credited_minutes, Attendance.method, Team.name, Team.id, Volunteer.name,
               Volunteer.deleted_at)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .join(Team, Team.id == Activity.team_id)
        .outerjoin(Volunteer, Volunteer.id == Activity.created_by_id)
        .where(Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None),
               Activity.status == "closed", Activity.starts_at >= low, Activity.starts_at < high)
        .order_by(Activity.starts_at, Attendance.id)
    )
    if team_id is not None:
        statement = statement.where(Activity.team_id == team_id)
    raw = session.exec(statement).all()
    leaders = _leaders(session, {r[8] for r in raw if r[9] is None or r[10] is not None})
    return [
        ServiceRow(attendance_id, starts_at.astimezone(ZONE).date(), title, place or "", theme, minutes, method,
                   team_name, creator if creator and deleted is None else leaders.get(team, ""))
        for attendance_id, starts_at, title, place, theme, minutes, method, team_name, team, creator, deleted in raw
    ]


def _leaders(session: Session, team_ids: set[int]) -> dict[int, str]:
    """The first active leader's name of each team (the person in charge when the creator is unknown)."""
    if not team_ids:
        return {}
    names: dict[int, str] = {}
    for team_id, name in session.exec(
        select(Membership.team_id, Volunteer.name).join(Volunteer, Volunteer.id == Membership.volunteer_id)
        .where(Membership.team_id.in_(team_ids), Membership.role == "leader", Membership.status == "active",
               Volunteer.deleted_at.is_(None))
        .order_by(Membership.team_id, Membership.id)
    ):
        names.setdefault(team_id, name)
    return names


def content_hash(rows: list[ServiceRow]) -> str:
    """SHA-256 of what makes the hours: which attendances, their minutes and how they were recorded."""
    canonical = json.dumps([[r.attendance_id, r.minutes, r.method] for r in rows], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def live_minutes(rows: list[ServiceRow]) -> int:
    return sum(r.minutes for r in rows if r.method in LIVE_METHODS)


def teams_served(*, session: Session, volunteer_id: int) -> list[Team]:
    """Teams whose closed activities count for this volunteer (the choices of a one-team certificate)."""
    served = (select(Activity.team_id).join(Attendance, Attendance.activity_id == Activity.id)
              .where(Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None),
                     Activity.status == "closed"))
    return list(session.exec(select(Team).where(Team.id.in_(served)).order_by(Team.name)))


# --- issue --------------------------------------------------------------------------------------


def issue_certificate(*, session: Session, volunteer: Volunteer, start: date, end: date, team_id: int | None,
                      city_code: str, requested_by_id: int | None = None, now: datetime | None = None) -> Certificate:
    """Number and keep a new certificate for the period; an earlier one of the same period and team whose
    rows no longer match is marked superseded. Assigns the volunteer number if it is missing."""
    now = now or utcnow()
    if start > end or end > local_today(now) or start < EARLIEST:
        raise CertificateError("bad_period")
    if team_id is not None and team_id not in {t.id for t in teams_served(session=session, volunteer_id=volunteer.id)}:
        raise CertificateError("not_your_team")
    rows = service_rows(session=session, volunteer_id=volunteer.id, start=start, end=end, team_id=team_id)
    if not rows:
        raise CertificateError("nothing_to_certify")
    if volunteer.volunteer_no is None:
        volunteer.volunteer_no = volunteer_number(city_code, volunteer.id)
        session.add(volunteer)
    digest = content_hash(rows)
    certificate = Certificate(
        code=_new_code(session), volunteer_id=volunteer.id, team_id=team_id, period_start=start, period_end=end,
        total_minutes=sum(r.minutes for r in rows), live_minutes=live_minutes(rows), row_count=len(rows),
        content_hash=digest, requested_by_id=requested_by_id or volunteer.id, created_at=now)
    session.add(certificate)
    session.flush()
    certificate.number = f"{city_code}-{now.astimezone(ZONE).year}-{certificate.id:06d}"
    earlier = session.exec(select(Certificate).where(
        Certificate.volunteer_id == volunteer.id, Certificate.period_start == start, Certificate.period_end == end,
        Certificate.team_id.is_(None) if team_id is None else Certificate.team_id == team_id,
        Certificate.status == "valid", Certificate.content_hash != digest, Certificate.id != certificate.id))
    for old in earlier:
        old.status = "superseded"
        old.superseded_by_id = certificate.id
        session.add(old)
    session.add(certificate)
    session.flush()
    audit.record(session=session, action="certificate.issue", object_type="certificate", object_id=certificate.id,
                 actor_id=certificate.requested_by_id, team_id=team_id,
                 data={"number": certificate.number, "minutes": certificate.total_minutes, "rows": len(rows)})
    return certificate


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Certificate.id).where(Certificate.code == code)).first() is None:
            return code


def normalise_code(raw: str | None) -> str:
    """A typed or scanned code as stored: case, spaces and dashes forgiven, O read as 0, I and L as 1."""
    text = "".join((raw or "").split()).replace("-", "").upper()
    return text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def display_code(code: str) -> str:
    """The code in two groups of five joined by a dash, easier to read aloud and type."""
    return f"{code[:5]}-{code[5:]}"


# --- look-ups ------------------------------------------------------------------------------------


def certificates_of(*, session: Session, volunteer_id: int) -> list[tuple[Certificate, str | None]]:
    """A volunteer's certificates, newest first, with the team's name when issued for one team."""
    return list(session.exec(
        select(Certificate, Team.name).outerjoin(Team, Team.id == Certificate.team_id)
        .where(Certificate.volunteer_id == volunteer_id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())))


def own_certificate(*, session: Session, volunteer_id: int, certificate_id: int) -> Certificate | None:
    """The certificate if it is the logged-in volunteer's own (anyone else's is None: 404)."""
    certificate = session.get(Certificate, certificate_id)
    return certificate if certificate is not None and certificate.volunteer_id == volunteer_id else None


def find_by_code(*, session: Session, code: str) -> Certificate | None:
    code = normalise_code(code)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return session.exec(select(Certificate).where(Certificate.code == code)).first()


def verify(*, session: Session, certificate: Certificate) -> Verification:
    """What the public verification page shows; recomputes the period to see whether a correction changed it."""
    holder = session.get(Volunteer, certificate.volunteer_id)
    team = session.get(Team, certificate.team_id) if certificate.team_id else None
    rows = service_rows(session=session, volunteer_id=certificate.volunteer_id, start=certificate.period_start,
                        end=certificate.period_end, team_id=certificate.team_id)
    current = sum(r.minutes for r in rows)
    if certificate.status == "revoked":
        state = "revoked"
    elif certificate.status == "superseded" or content_hash(rows) != certificate.content_hash:
        state = "superseded"
    else:
        state = "valid"
    deleted = holder is None or holder.deleted_at is not None
    return Verification(certificate, state, "" if deleted else mask_name(holder.name), deleted,
                        team.name if team else None, current)


def mask_name(name: str) -> str:
    """王小红 -> 王*红, 王红 -> 王*, 欧阳小红 -> 欧**红: enough to match a person, not to find one."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- the office -------------------------------------------------------------------------------------


def find_for_office(*, session: Session, number: str, scope: str | None,
                    limit: int = 20) -> list[tuple[Certificate, Volunteer, str | None]]:
    """Certificates whose number contains the text, within the office's area (newest first)."""
    text = "".join((number or "").split())
    if not text:
        return []
    statement = _in_area(_with_holder().where(Certificate.number.contains(text, autoescape=True)), scope)
    return list(session.exec(statement.order_by(Certificate.id.desc()).limit(limit)))


def certificate_in_scope(*, session: Session, certificate_id: int, scope: str | None) -> Certificate | None:
    """The certificate if it lies in the office's area, else None (callers answer 404)."""
    found = session.exec(_in_area(_with_holder().where(Certificate.id == certificate_id), scope)).first()
    return found[0] if found else None


def _with_holder():
    return (select(Certificate, Volunteer, Team.name)
            .join(Volunteer, Volunteer.id == Certificate.volunteer_id)
            .outerjoin(Team, Team.id == Certificate.team_id))


def _in_area(statement, scope: str | None):
    """A certificate is in an area when its holder lives there, its team is there, or the holder is (or was) in
    a team there: the office that knows the person or the team can act on it."""
    if scope is None:
        return statement
    area = units_in_scope(scope)
    member_team = aliased(Team)  # not the certificate's team of the outer query (no correlation)
    teams_there = select(Membership.volunteer_id).join(member_team, member_team.id == Membership.team_id).where(
        member_team.unit_id.in_(area))
    return statement.where(Volunteer.home_unit_id.in_(area) | Team.unit_id.in_(area) | Volunteer.id.in_(teams_there))


def revoke(*, session: Session, certificate: Certificate, office: Volunteer, reason: str,
           now: datetime | None = None) -> Certificate:
    """The office withdraws a certificate; the verification page then says so, with the date."""
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("reason_required")
    if certificate.status == "revoked":
        raise CertificateError("already_revoked")
    certificate.status = "revoked"
    certificate.revoked_at = now or utcnow()
    certificate.revoked_by_id = office.id
    certificate.revoke_reason = reason[:500]
    session.add(certificate)
    session.flush()
    audit.record(session=session, action="certificate.revoke", object_type="certificate", object_id=certificate.id,
                 actor_id=office.id, team_id=certificate.team_id, reason=certificate.revoke_reason,
                 data={"number": certificate.number})
    return certificate


# --- personal data ----------------------------------------------------------------------------------


def export_rows(*, session: Session, volunteer_id: int) -> list[tuple[Certificate, str | None]]:
    """The person's certificates for their data export (oldest first)."""
    return list(reversed(certificates_of(session=session, volunteer_id=volunteer_id)))

