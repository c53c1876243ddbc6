"""Activities: create, edit, open, cancel, close (and close the overdue ones); who leads one.

Public functions (keyword-only `session`; they only flush; errors are ActivityError with stable codes):

    create_activity(*, session, team_id, actor_id, theme_id, title, place, starts_at, ends_at,
                    capacity=None, members_only=True, qr_mode="rotating",
                    lat=None, lng=None, radius_m=None, now=None, open_now=False, **recruitment) -> Activity
    update_activity(*, session, activity_id, actor_id, now=None, **same fields as create) -> Activity
    open_activity(*, session, activity_id, actor_id, at=None) -> Activity
    cancel_activity(*, session, activity_id, actor_id, reason, at=None) -> Activity
    close_activity(*, session, activity_id, actor_id, at=None, credit_until="now") -> CloseSummary
    close_overdue(*, session, at=None, limit=1000) -> list[CloseSummary]   (open activities past their end + 1 h)
    regenerate_secret(*, session, activity_id, actor_id) -> Activity

Corrections after close (adjust, void, add a missed volunteer) are in corrections.py, the retro log of a
past activity in retro.py; both build on this module and raise its ActivityError. Reading (a viewer's look-up,
a team's list, attendances, the live count, themes) is in reading.py.

Codes: not_starting_now, bad_window, too_long, too_far_ahead, bad_theme, bad_fence, bad_headcount, not_editable,
not_open, closed, cancelled, ended, not_closed, reason_required, too_late_for_leader, not_allowed, bad_minutes,
bad_credit, already_recorded, already_voided, no_attendance, no_attendees, minutes_required, not_past, those of
publishing.PublishError (recruitment settings) and of who may take part (checkin/participation.py):
team_suspended, not_participant, not_member, members_by_name.

A suspended team cannot create, open or log activities, nor add a missed volunteer (nothing new is counted
for it); what it already counted stays, and cancelling, closing and the corrections still work.
The activity's attendee_count and total_minutes are recomputed from the attendances on close and cancel,
so they always equal the sum of the non-voided attendances.
"""
from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlmodel import Session, select

from .. import audit
from ..checkin import participation
from ..checkin.service import EARLY_MARGIN_SECONDS, LATE_MARGIN_SECONDS, credited_minutes
from ..errors import DomainError
from ..models import QR_MODES, Activity, Attendance, Team, Theme, Unit, Volunteer, utcnow
from ..teams.rules import is_active_leader
from . import publishing, signups

MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)
MAX_RADIUS_M = 50_000
MAX_HEADCOUNT = 100_000
REASON_MAX = 500
RECRUITMENT_KEYS = ("audience", "audience_unit_id", "signup_deadline", "admission", "admitted_only", "meeting_point",
                    "meeting_lat", "meeting_lng", "requirements")
OVERDUE_AFTER = timedelta(seconds=LATE_MARGIN_SECONDS)  # check-ins stop then: nothing can change any more
OPENS_BEFORE = timedelta(seconds=EARLY_MARGIN_SECONDS)  # check-ins are taken from this long before the start
CREDIT_UNTIL = ("now", "end")  # closing credits those still in until the moment of closing, or the planned end


class ActivityError(DomainError):
    """An activity rule said no; `code` is stable."""

    status = 409
    messages = {
        "not_starting_now": _l("Only an activity that starts within the hour can be opened at once. "
                               "Open it from its page when it starts."),
        "bad_window": _l("The end must be after the start."),
        "too_long": _l("An activity can last at most 24 hours. Create one activity per day."),
        "too_far_ahead": _l("An activity can be planned at most a year ahead."),
        "bad_theme": _l("Choose a service theme."),
        "bad_fence": _l("Give both the map point and a radius between 10 m and 50 km, or neither."),
        "bad_headcount": _l("The expected headcount must be between 1 and 100000."),
        "not_editable": _l("Only an activity that has not opened yet can be changed."),
        "not_open": _l("This activity is not open."),
        "closed": _l("This activity is closed."),
        "cancelled": _l("This activity was cancelled."),
        "ended": _l("This activity has already ended."),
        "not_closed": _l("Corrections are made after the activity is closed."),
        "reason_required": _l("Give a reason for this correction."),
        "too_late_for_leader": _l(
            "The 10-working-day recording period is over; only the Civilization Office can correct this record now."
        ),
        "not_allowed": _l("You are not allowed to do this."),
        "bad_minutes": _l("Minutes must be between 0 and the length of the activity (%(max)d)."),
        "not_member": _l("This volunteer is not an active member of the team."),
        "already_recorded": _l("This volunteer already has an attendance for this activity."),
        "already_voided": _l("This attendance is already voided."),
        "no_attendance": _l("This attendance does not exist."),
        "no_attendees": _l("Pick at least one attendee."),
        "minutes_required": _l("Give the minutes of every picked attendee, or the same minutes for all."),
        "not_past": _l("A past activity must have ended already."),
        "bad_credit": _l("Choose until when those still checked in are credited."),
        **participation.MESSAGES,
    }


@dataclass(frozen=True)
class CloseSummary:
    """What closing an activity produced: 人数 and 时长."""

    activity_id: int
    attendee_count: int
    total_minutes: int
    auto_checked_out: int


def create_activity(
    *,
    session: Session,
    team_id: int,
    actor_id: int,
    theme_id: int,
    title: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int | None = None,
    members_only: bool = True,
    qr_mode: str = "rotating",
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    now: datetime | None = None,
    open_now: bool = False,
    **recruitment,
) -> Activity:
    """A scheduled activity of the team; the caller checked that actor_id leads it. `recruitment`: the
    keyword arguments of publishing.recruitment_fields (audience, signup_deadline, admission...).

    open_now opens it for check-in at once (open_activity, same rules), if it starts now: its start lies
    within the hour in which check-ins are taken before it (else not_starting_now, and nothing is created).
    """
    now = now or utcnow()
    team = _running_team(session, team_id, actor_id)
    fields = _validated(session, theme_id, title, place, starts_at, ends_at, capacity, members_only,
                        qr_mode, lat, lng, radius_m, now)
    fields.update(publishing.recruitment_fields(session=session, team=team, starts_at=starts_at,
                                                members_only=members_only, **recruitment))
    if open_now and not starts_now(starts_at=starts_at, ends_at=ends_at, at=now):
        raise ActivityError("not_starting_now")
    activity = Activity(team_id=team_id, unit_id=team.unit_id, secret=pysecrets.token_hex(16),
                        created_by_id=actor_id, status="scheduled", **fields)
    session.add(activity)
    session.flush()
    if open_now:
        open_activity(session=session, activity_id=activity.id, actor_id=actor_id, at=now)
    return activity


def starts_now(*, starts_at: datetime, ends_at: datetime, at: datetime) -> bool:
    """Whether an activity with this window may be opened at once: check-ins are taken from now on."""
    return starts_at - OPENS_BEFORE <= at <= ends_at


def update_activity(*, session: Session, activity_id: int, actor_id: int, now: datetime | None = None,
                    **fields) -> Activity:
    """Change a scheduled activity (same fields as create_activity; recruitment settings not given are kept).

    Those signed up are told when something they care about changed; a larger headcount moves people up
    from the waiting list, a smaller one may not drop below those admitted already."""
    activity = _leader_activity(session, activity_id, actor_id)
    if activity.status != "scheduled":
        raise ActivityError("not_editable")
    values = _validated(session, fields["theme_id"], fields["title"], fields["place"], fields["starts_at"],
                        fields["ends_at"], fields.get("capacity"), fields.get("members_only", True),
                        fields.get("qr_mode", "rotating"), fields.get("lat"), fields.get("lng"),
                        fields.get("radius_m"), now or utcnow())
    given = {key: fields.get(key, getattr(activity, key)) for key in RECRUITMENT_KEYS}
    if "audience" not in fields and "members_only" in fields:
        given["audience"] = None  # an older caller: members_only decides, as before recruitment
    values.update(publishing.recruitment_fields(session=session, team=session.get(Team, activity.team_id),
                                                starts_at=values["starts_at"], members_only=values["members_only"],
                                                **given))
    if values["capacity"] is not None and values["capacity"] < activity.admitted_count:
        raise publishing.PublishError("capacity_below_admitted", count=activity.admitted_count)
    changed = [key for key in publishing.CHANGE_FIELDS if getattr(activity, key) != values[key]]
    for key, value in values.items():
        setattr(activity, key, value)
    session.flush()
    signups.promote(session=session, activity_id=activity.id, now=now)
    if changed:
        signups.notify_changed(session=session, activity=activity, changed=changed)
    return activity


def open_activity(*, session: Session, activity_id: int, actor_id: int, at: datetime | None = None) -> Activity:
    """Open a scheduled activity for check-in."""
    at = at or utcnow()
    activity = _leader_activity(session, activity_id, actor_id)
    if activity.status != "scheduled":
        raise ActivityError({"open": "not_editable"}.get(activity.status, activity.status))
    _running_team(session, activity.team_id, actor_id)
    if at > activity.ends_at:
        raise ActivityError("ended")
    done = session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status == "scheduled")
        .values(status="open", opened_at=at).execution_options(synchronize_session=False)
    ).rowcount
    session.expire(activity)
    if not done:
        raise ActivityError("not_editable")
    audit.record(session=session, action="activity.open", object_type="activity", object_id=activity_id,
                 actor_id=actor_id, team_id=activity.team_id, data={"opened_at": at})
    return activity


def cancel_activity(*, session: Session, activity_id: int, actor_id: int, reason: str,
                    at: datetime | None = None) -> Activity:
    """Cancel a scheduled or open activity with a reason; attendances of an open one are voided with it."""
    reason = _reason(reason)
    at = at or utcnow()
    activity = _leader_activity(session, activity_id, actor_id)
    if activity.status not in ("scheduled", "open"):
        raise ActivityError(activity.status)
    old_status = activity.status
    done = session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status == old_status)
        .values(status="cancelled", status_reason=reason, closed_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        session.expire(activity)
        raise ActivityError("not_editable")
    voided = session.execute(
        update(Attendance).where(Attendance.activity_id == activity_id, Attendance.voided_at.is_(None))
        .values(voided_at=at, void_reason=reason).execution_options(synchronize_session=False)
    ).rowcount
    _recount(session, activity_id)
    session.expire(activity)
    released = signups.release_all(session=session, activity=activity, now=at, reason=reason)
    audit.record(session=session, action="activity.cancel", object_type="activity", object_id=activity_id,
                 actor_id=actor_id, team_id=activity.team_id, reason=reason,
                 data={"old": {"status": old_status}, "new": {"status": "cancelled"}, "voided": voided,
                       "signups_released": released})
    return activity


def close_activity(*, session: Session, activity_id: int, actor_id: int, at: datetime | None = None,
                   credit_until: str = "now") -> CloseSummary:
    """Close an open activity: check out everyone still in, credit minutes, fix the activity's totals.

    Those still in are checked out, marked automatic, at the moment of closing (credit_until="now"; never
    later than the planned end) or at the planned end (credit_until="end": the leader leaves first and the
    volunteers stay to the end).
    """
    if credit_until not in CREDIT_UNTIL:
        raise ActivityError("bad_credit")
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ActivityError("not_allowed")
    if not (is_active_leader(session, activity.team_id, actor_id) or _office_may(session, activity, actor_id)):
        raise ActivityError("not_allowed")
    return _close(session, activity, at=at or utcnow(), actor_id=actor_id, action="activity.close",
                  credit_until=credit_until)


def close_overdue(*, session: Session, at: datetime | None = None, limit: int = 1000) -> list[CloseSummary]:
    """Close the open activities whose leaders forgot to: those whose end lies more than an hour back.

    Check-ins stop an hour after the end (checkin/service.py LATE_MARGIN_SECONDS), so nothing can change
    any more; closed, they are counted in the office's tallies. Those still in are checked out at the end
    time. Audited as "activity.auto_close" with no actor. Runs from `volunteer-app close-overdue` (cron).
    """
    at = at or utcnow()
    overdue = session.exec(
        select(Activity).where(Activity.status == "open", Activity.ends_at < at - OVERDUE_AFTER)
        .order_by(Activity.ends_at, Activity.id).limit(limit)
    ).all()
    summaries = []
    for activity in overdue:
        try:
            summaries.append(_close(session, activity, at=at, actor_id=None, action="activity.auto_close"))
        except ActivityError:  # closed or cancelled by its leader in the meantime
            continue
    return summaries


def _close(session: Session, activity: Activity, *, at: datetime, actor_id: int | None, action: str,
           credit_until: str = "end") -> CloseSummary:
    activity_id = activity.id
    # Claiming the row first makes concurrent check-ins and check-outs (which hold a share lock on it on
    # PostgreSQL and write only while it is open) wait and then be refused, or be waited for and counted.
    done = session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status == "open")
        .values(status="closed", closed_at=at).execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        session.expire(activity)
        session.refresh(activity)
        raise ActivityError({"scheduled": "not_open"}.get(activity.status, activity.status))
    session.expire(activity)
    checkout_at = activity.ends_at if credit_until == "end" else min(at, activity.ends_at)
    still_in = session.exec(
        select(Attendance).where(
            Attendance.activity_id == activity_id,
            Attendance.checked_out_at.is_(None),
            Attendance.voided_at.is_(None),
        )
    ).all()
    for attendance in still_in:
        out = max(checkout_at, attendance.checked_in_at)
        attendance.checked_out_at = out
        attendance.checkout_auto = True
        attendance.credited_minutes = credited_minutes(attendance.checked_in_at, out, activity.starts_at,
                                                       activity.ends_at)
    session.flush()
    count, minutes = _recount(session, activity_id)
    signups.mark_no_shows(session=session, activity_id=activity_id)
    session.expire(activity)
    audit.record(session=session, action=action, object_type="activity", object_id=activity_id,
                 actor_id=actor_id, team_id=activity.team_id,
                 data={"attendee_count": count, "total_minutes": minutes, "auto_checked_out": len(still_in),
                       "credit_until": credit_until})
    return CloseSummary(activity_id, count, minutes, len(still_in))


def regenerate_secret(*, session: Session, activity_id: int, actor_id: int) -> Activity:
    """A new per-activity secret: every QR code and poster printed so far stops working."""
    activity = _leader_activity(session, activity_id, actor_id)
    activity.secret = pysecrets.token_hex(16)
    session.flush()
    audit.record(session=session, action="activity.regenerate_secret", object_type="activity",
                 object_id=activity_id, actor_id=actor_id, team_id=activity.team_id)
    return activity


# --- helpers ------------------------------------------------------------------------------


def _validated(session, theme_id, title, place, starts_at, ends_at, capacity, members_only, qr_mode,
               lat, lng, radius_m, now, past_allowed: bool = False) -> dict:
    theme = session.get(Theme, theme_id) if theme_id else None
    if theme is None or not theme.is_active:
        raise ActivityError("bad_theme")
    if ends_at <= starts_at:
        raise ActivityError("bad_window")
    if ends_at - starts_at > MAX_DURATION:
        raise ActivityError("too_long")
    if not past_allowed and starts_at - now > MAX_AHEAD:
        raise ActivityError("too_far_ahead")
    if capacity is not None and not (1 <= capacity <= MAX_HEADCOUNT):
        raise ActivityError("bad_headcount")
    fence = (lat, lng, radius_m)
    if any(v is not None for v in fence):
        if any(v is None for v in fence) or not (-90 <= lat <= 90 and -180 <= lng <= 180) \
                or not (10 <= radius_m <= MAX_RADIUS_M):
            raise ActivityError("bad_fence")
    return {
        "theme_id": theme.id, "title": title.strip()[:120], "place": (place or "").strip()[:200],
        "starts_at": starts_at, "ends_at": ends_at, "capacity": capacity,
        "members_only": bool(members_only), "qr_mode": qr_mode if qr_mode in QR_MODES else "rotating",
        "lat": lat, "lng": lng, "radius_m": radius_m,
    }


def _running_team(session: Session, team_id: int, actor_id: int) -> Team:
    """The team, if actor_id actively leads it and it is active (a suspended team starts nothing new)."""
    team = session.get(Team, team_id)
    if team is None or not is_active_leader(session, team_id, actor_id):
        raise ActivityError("not_allowed")
    if team.status != "active":
        raise ActivityError("team_suspended")
    return team


def activity_for_leader(*, session: Session, volunteer_id: int, activity_id: int) -> Activity | None:
    """The activity if volunteer_id actively leads its team (else None → 404)."""
    activity = session.get(Activity, activity_id)
    if activity is None or not is_active_leader(session, activity.team_id, volunteer_id):
        return None
    return activity


def _leader_activity(session: Session, activity_id: int, actor_id: int) -> Activity:
    activity = activity_for_leader(session=session, volunteer_id=actor_id, activity_id=activity_id)
    if activity is None:
        raise ActivityError("not_allowed")
    return activity


def _office_may(session: Session, activity: Activity, actor_id: int) -> bool:
    """Office staff may act on activities inside their unit (all of them when not limited)."""
    actor = session.get(Volunteer, actor_id)
    if actor is None or actor.role != "office" or not actor.is_active or actor.deleted_at is not None:
        return False
    if actor.office_unit_id is None:
        return True
    office_unit = session.get(Unit, actor.office_unit_id)
    unit = session.get(Unit, activity.unit_id)
    return office_unit is not None and unit is not None and unit.path.startswith(office_unit.path)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ActivityError("reason_required")
    return text[:REASON_MAX]


def _recount(session: Session, activity_id: int) -> tuple[int, int]:
    count, minutes = session.exec(
        select(func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .where(Attendance.activity_id == activity_id, Attendance.voided_at.is_(None))
    ).one()
    session.execute(
        update(Activity).where(Activity.id == activity_id)
        .values(attendee_count=int(count), total_minutes=int(minutes))
        .execution_options(synchronize_session=False)
    )
    return int(count), int(minutes)
