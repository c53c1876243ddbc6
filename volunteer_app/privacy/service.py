"""Personal data: what is held about one person, and deleting the person while keeping the counts.

Deleting an account anonymises the volunteer row instead of removing it: the attendances stay,
attached to a nameless row, so every tally the office reported (场次, 人次, 人数, hours) stays true.
What identifies the person goes: name, phone, password, sessions, open reset links, memberships,
their phone as a team's contact, their notices, and the SMS codes and demo texts sent to their number. Issued
certificates stay verifiable (the verification page then names the holder as deleted). Their correction requests
stay as nameless counts without their words or the leader's answer (an open one is closed, so no leader is asked
about a deleted person). Their sign-ups for
activities still to come are cancelled (the places are freed); past sign-ups stay as nameless counts (no-shows), without the leader's reason.
"""
from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlmodel import Session, select
from werkzeug.security import check_password_hash

from .. import audit
from ..certificates.service import export_rows as certificate_rows
from . import labels
from ..activities import signups
from ..errors import DomainError
from ..labels import METHOD_LABELS
from ..models import (Activity, Attendance, CorrectionRequest, Membership, PasswordReset, Signup, SmsCode, SmsOutbox,
                      Team, Theme, Unit, Volunteer, utcnow)
from ..notices.service import delete_notices_of, export_rows
from ..teams.rules import active_leader

DELETED_NAME = "已注销志愿者"
EXPORT_KINDS = ("json", "profile.csv", "memberships.csv", "attendances.csv", "signups.csv", "notices.csv",
                "certificates.csv", "corrections.csv")
REMOVED_TEXT = ""  # what a deleted person's correction request keeps of their words (and the leader's answer)
# Statuses of a team that still needs a leader.
LIVE_TEAM_STATUSES = ("pending", "active", "suspended")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class PrivacyError(DomainError):
    messages = {
        "bad_password": _l("The password is wrong."),
        "sole_leader": _l("You are the only leader of %(teams)s. Make another member a leader first, then delete your account."),
        "office_account": _l("Office accounts are closed by the system administrator, not here."),
        "already_deleted": _l("This account has already been deleted."),
    }


def personal_data(*, session: Session, volunteer_id: int, zone: str = "Asia/Shanghai", language: str = "zh_CN") -> dict:
    """Everything held about one person that is theirs to take away: profile, memberships, attendances,
    sign-ups, notices and certificates.

    Times are ISO 8601 in the display time zone (with its offset, so they are exact). Codes stay (theme, method)
    with their names in `language` beside them (theme_name, how_recorded).
    """
    tz = ZoneInfo(zone)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise PrivacyError("already_deleted")
    home = session.get(Unit, volunteer.home_unit_id) if volunteer.home_unit_id else None
    profile = {
        "name": volunteer.name,
        "phone": volunteer.phone,
        "volunteer_no": volunteer.volunteer_no,
        "role": volunteer.role,
        "home_unit": home.name if home else None,
        "registered_at": _time(volunteer.created_at, tz),
        "consent_at": _time(volunteer.consent_at, tz),
    }
    memberships = [
        {
            "team": team.name,
            "role": membership.role,
            "status": membership.status,
            "applied_at": _time(membership.created_at, tz),
            "joined_at": _time(membership.joined_at, tz),
        }
        for membership, team in session.exec(
            select(Membership, Team)
            .join(Team, Team.id == Membership.team_id)
            .where(Membership.volunteer_id == volunteer_id)
            .order_by(Membership.created_at, Membership.id)
        )
    ]
    attendances = [
        {
            "activity": activity.title,
            "team": team.name,
            "theme": theme.code,
            "theme_name": theme.name_en if language == "en" else theme.name_zh,
            "place": activity.place,
            "activity_starts_at": _time(activity.starts_at, tz),
            "activity_ends_at": _time(activity.ends_at, tz),
            "checked_in_at": _time(attendance.checked_in_at, tz),
            "checked_out_at": _time(attendance.checked_out_at, tz),
            "credited_minutes": attendance.credited_minutes,
            "method": attendance.method,
            "how_recorded": str(METHOD_LABELS.get(attendance.method, attendance.method)),
            "voided": attendance.voided_at is not None,
            "void_reason": attendance.void_reason,
        }
        for attendance, activity, team, theme in session.exec(
            select(Attendance, Activity, Team, Theme)
            .join(Activity, Activity.id == Attendance.activity_id)
            .join(Team, Team.id == Activity.team_id)
            .join(Theme, Theme.id == Activity.theme_id)
            .where(Attendance.volunteer_id == volunteer_id)
            .order_by(Attendance.checked_in_at, Attendance.id)
        )
    ]
    signups = [
        {
            "activity": activity.title,
            "team": team.name,
            "activity_starts_at": _time(activity.starts_at, tz),
            "status": signup.status,
            "signed_up_at": _time(signup.created_at, tz),
            "decided_at": _time(signup.decided_at, tz),
            "reason": signup.reason,
        }
        for signup, activity, team in session.exec(
            select(Signup, Activity, Team)
            .join(Activity, Activity.id == Signup.activity_id)
            .join(Team, Team.id == Activity.team_id)
            .where(Signup.volunteer_id == volunteer_id)
            .order_by(Signup.created_at, Signup.id)
        )
    ]
    notices = [
        {
            "kind": notice.kind,
            "activity": activity.title if activity else None,
            "team": team.name if team else None,
            "details": json.dumps(notice.params, ensure_ascii=False) if notice.params else None,
            "sent_at": _time(notice.created_at, tz),
            "read_at": _time(notice.read_at, tz),
        }
        for notice, activity, team in export_rows(session=session, volunteer_id=volunteer_id)
    ]
    corrections = [
        {
            "activity": activity.title,
            "team": team.name,
            "activity_starts_at": _time(activity.starts_at, tz),
            "kind": request.kind,
            "minutes_asked": request.minutes,
            "reason": request.reason,
            "asked_at": _time(request.created_at, tz),
            "status": request.status,
            "answered_at": _time(request.resolved_at, tz),
            "minutes_credited": request.resolved_minutes,
            "answer": request.answer,
        }
        for request, activity, team in session.exec(
            select(CorrectionRequest, Activity, Team)
            .join(Activity, Activity.id == CorrectionRequest.activity_id)
            .join(Team, Team.id == CorrectionRequest.team_id)
            .where(CorrectionRequest.volunteer_id == volunteer_id)
            .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
        )
    ]
    certificates = [
        {
            "number": certificate.number,
            "verification_code": certificate.code,
            "team": team_name,
            "period_start": certificate.period_start.isoformat(),
            "period_end": certificate.period_end.isoformat(),
            "total_minutes": certificate.total_minutes,
            "live_minutes": certificate.live_minutes,
            "services": certificate.row_count,
            "status": certificate.status,
            "issued_at": _time(certificate.created_at, tz),
            "revoked_at": _time(certificate.revoked_at, tz),
            "revoke_reason": certificate.revoke_reason,
        }
        for certificate, team_name in certificate_rows(session=session, volunteer_id=volunteer_id)
    ]
    return {"profile": profile, "memberships": memberships, "attendances": attendances, "signups": signups,
            "notices": notices, "certificates": certificates, "corrections": corrections}


def export_csv(data: dict, part: str) -> str:
    """One part of personal_data() as CSV (with a BOM, so that Excel reads the Chinese right), for a person: headers
    and codes in words of the current language (privacy/labels.py), the theme by its name.

    Text that starts like a formula is prefixed with an apostrophe so a spreadsheet shows it as text.
    """
    rows = [data["profile"]] if part == "profile" else data[part]
    out = io.StringIO()
    out.write("\ufeff")
    if part == "profile":
        fields = list(data["profile"])
    else:
        fields = list(rows[0]) if rows else list(_EMPTY_FIELDS[part])
    fields = [field for field in fields if field not in _SHOWN_AS_WORDS]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([labels.header(field) for field in fields])
    for row in rows:
        words = {**row, "theme": row.get("theme_name", row.get("theme"))}
        writer.writerow([_inert(labels.value(field, words[field])) for field in fields])
    return out.getvalue()


_SHOWN_AS_WORDS = ("theme_name", "how_recorded")  # the CSV shows theme and method in words in their own columns
_EMPTY_FIELDS = {
    "memberships": ("team", "role", "status", "applied_at", "joined_at"),
    "attendances": ("activity", "team", "theme", "place", "activity_starts_at", "activity_ends_at", "checked_in_at",
                    "checked_out_at", "credited_minutes", "method", "voided", "void_reason"),
    "signups": ("activity", "team", "activity_starts_at", "status", "signed_up_at", "decided_at", "reason"),
    "notices": ("kind", "activity", "team", "details", "sent_at", "read_at"),
    "certificates": ("number", "verification_code", "team", "period_start", "period_end", "total_minutes",
                     "live_minutes", "services", "status", "issued_at", "revoked_at", "revoke_reason"),
    "corrections": ("activity", "team", "activity_starts_at", "kind", "minutes_asked", "reason", "asked_at", "status",
                    "answered_at", "minutes_credited", "answer"),
}


def record_export(*, session: Session, volunteer_id: int, kind: str) -> None:
    """Note in the audit log that a person took their data (not what it contained)."""
    audit.record(session=session, action="privacy.export", object_type="volunteer", object_id=volunteer_id,
                 actor_id=volunteer_id, data={"format": kind})


def sole_leader_of(*, session: Session, volunteer_id: int) -> list[Team]:
    """Teams (not closed) that this volunteer leads alone."""
    led = session.exec(
        select(Team)
        .join(Membership, Membership.team_id == Team.id)
        .where(*active_leader(volunteer=volunteer_id), Team.status.in_(LIVE_TEAM_STATUSES))
        .order_by(Team.name)
    ).all()
    alone = []
    for team in led:
        others = session.exec(
            select(Membership.id).where(*active_leader(team=team.id), Membership.volunteer_id != volunteer_id)
        ).first()
        if others is None:
            alone.append(team)
    return alone


def delete_account(*, session: Session, volunteer_id: int, password: str) -> Volunteer:
    """Anonymise the volunteer after checking the password; attendances stay, so the tallies do not change."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.deleted_at is not None:
        raise PrivacyError("already_deleted")
    if not check_password_hash(volunteer.password_hash, password or ""):
        raise PrivacyError("bad_password")
    if volunteer.role == "office":
        raise PrivacyError("office_account")
    alone = sole_leader_of(session=session, volunteer_id=volunteer_id)
    if alone:
        raise PrivacyError("sole_leader", teams="、".join(team.name for team in alone))

    now = utcnow()
    old_phone = volunteer.phone
    left = []
    for membership in session.exec(
        select(Membership).where(Membership.volunteer_id == volunteer_id, Membership.status != "left")
    ):
        left.append(membership.team_id)
        membership.status = "left"
        membership.updated_at = now
    contacts = []
    if old_phone:
        for team in session.exec(select(Team).where(Team.contact_phone == old_phone)):
            contacts.append(team.id)
            team.contact_phone = None
            team.contact_name = ""
    for reset in session.exec(
        select(PasswordReset).where(PasswordReset.volunteer_id == volunteer_id, PasswordReset.used_at.is_(None))
    ):
        reset.used_at = now
    if old_phone:  # codes and demo texts sent to the number name it too
        session.execute(delete(SmsCode).where(SmsCode.phone == old_phone))
        session.execute(delete(SmsOutbox).where(SmsOutbox.phone == old_phone))
    released = _release_signups(session, volunteer_id, now)
    notices = delete_notices_of(session=session, volunteer_id=volunteer_id)
    requests = _anonymise_requests(session, volunteer_id, now)

    volunteer.name = DELETED_NAME
    volunteer.phone = None
    volunteer.phone_tail = None
    volunteer.password_hash = "!deleted!" + secrets.token_hex(16)  # matches no password: no "$" method part
    volunteer.session_version += 1
    volunteer.deleted_at = now
    session.add(volunteer)
    session.flush()
    audit.record(session=session, action="privacy.delete", object_type="volunteer", object_id=volunteer_id,
                 actor_id=volunteer_id,
                 data={"memberships_left": sorted(set(left)), "team_contacts_cleared": sorted(contacts),
                       "signups_cancelled": released, "notices_deleted": notices,
                       "correction_requests": requests})
    return volunteer


def _anonymise_requests(session: Session, volunteer_id: int, now: datetime) -> int:
    """Erase the words of the person's correction requests (theirs and the leader's answers); close the open
    ones as declined by nobody. The rows stay, so the teams' counts of requests stay true. How many."""
    table = CorrectionRequest.__table__
    mine = table.c.volunteer_id == volunteer_id
    session.execute(update(table).where(mine, table.c.status == "open")
                    .values(status="declined", resolved_at=now, resolved_by_id=None))
    return session.execute(update(table).where(mine).values(reason=REMOVED_TEXT, answer=None)).rowcount


def _release_signups(session: Session, volunteer_id: int, now: datetime) -> list[int]:
    """Withdraw the person's sign-ups for activities still to come through the sign-up rules (tallies kept,
    freed places offered to the waiting list); clear the leaders' reasons on all of them. The activity ids."""
    released = signups.withdraw_person(session=session, volunteer_id=volunteer_id, now=now)
    session.execute(update(Signup).where(Signup.volunteer_id == volunteer_id).values(reason=None, updated_at=now)
                    .execution_options(synchronize_session=False))
    return released


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def _inert(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
