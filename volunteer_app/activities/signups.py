"""Sign-ups (报名) for upcoming activities: sign up, cancel, the leader's decisions, no-shows, and the roster.

Public functions (keyword-only `session`; they only flush; errors are SignupError with stable codes):

    signup(*, session, activity_id, volunteer_id, now=None) -> Signup
    cancel(*, session, activity_id, volunteer_id, now=None) -> Signup
    decide(*, session, activity_id, actor_id, signup_ids, decision, reason=None, now=None) -> Decided
    promote(*, session, activity_id, now=None) -> int          (waitlisted -> admitted while places are free)
    notify_changed(*, session, activity) / release_all(*, session, activity, now=None)   (edit / cancel)
    mark_no_shows(*, session, activity_id) -> int / refresh_no_show(*, session, activity_id, volunteer_id)
    signup_of(*, session, activity_id, volunteer_id) -> Signup | None;  deadline(activity) -> datetime

The leader's roster of sign-ups (with each person's past) is read in signup_roster.py.

Never overbooked: a place is taken by one conditional UPDATE of the activity's admitted_count
(`... WHERE capacity IS NULL OR admitted_count < capacity`); on PostgreSQL a concurrent UPDATE waits for the
row and re-checks the condition, on SQLite writers are serial. Nothing else is locked on the sign-up path.
The leader's decisions and cancellations lock the activity row first (the same order everywhere: no deadlock).
The waitlist is served in id order. Codes: no_activity, activity_cancelled, activity_past, not_upcoming,
deadline_passed, already_signed_up, declined, full, not_in_audience, not_member, not_participant,
team_suspended, not_signed_up, too_late_to_cancel, not_allowed, bad_decision, reason_required.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from .. import audit, notify
from ..errors import DomainError
from ..models import Activity, Attendance, Signup, Team, Unit, Volunteer, utcnow
from ..teams.rules import is_active_leader, is_active_member
from .forms import LOCAL_TZ

WAITLIST_LIMIT = 1000  # beyond this many in line, a sign-up is refused as full
LIVE = ("pending", "admitted", "waitlisted")  # a sign-up that still counts
NOT_OVER = ("scheduled", "open")  # an activity whose tallies may still move
REASON_MAX = 500


class SignupError(DomainError):
    """A sign-up rule said no; `code` is stable. Not being allowed at all answers 403, the rest 409."""

    FORBIDDEN = ("not_member", "not_in_audience", "not_participant", "not_allowed")
    messages = {
        "no_activity": _l("This activity does not exist."),
        "activity_cancelled": _l("This activity was cancelled."),
        "activity_past": _l("This activity is over."),
        "not_upcoming": _l("This activity has already started; sign-ups are closed."),
        "deadline_passed": _l("Sign-ups for this activity closed at %(time)s."),
        "already_signed_up": _l("You have already signed up for this activity."),
        "declined": _l("The leader declined your sign-up for this activity."),
        "full": _l("This activity is full and its waiting list too."),
        "not_in_audience": _l("This activity takes volunteers from %(area)s only."),
        "not_member": _l("This activity is for members of the team only. Join the team first."),
        "not_participant": _l("This account cannot sign up for activities: it is closed, disabled or an office "
                              "account."),
        "team_suspended": _l("This team is suspended and takes no sign-ups."),
        "not_signed_up": _l("You have not signed up for this activity."),
        "too_late_to_cancel": _l("Sign-ups closed at %(time)s; ask the leader if you cannot come."),
        "not_allowed": _l("You are not allowed to do this."),
        "bad_decision": _l("Choose whether to admit or decline."),
        "reason_required": _l("Give a reason for declining."),
        "nothing_chosen": _l("Choose at least one sign-up."),
    }

    @property
    def status(self) -> int:  # noqa: D102 (DomainError.status, by code)
        return 403 if self.code in self.FORBIDDEN else 409


@dataclass
class Decided:
    """What a bulk decision did, by sign-up id."""

    admitted: list[int] = field(default_factory=list)
    waitlisted: list[int] = field(default_factory=list)
    declined: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def signup(*, session: Session, activity_id: int, volunteer_id: int, now: datetime | None = None) -> Signup:
    """Sign a volunteer up: admitted (auto, while places last), waitlisted (auto, full) or pending (leader)."""
    now = now or utcnow()
    activity = session.get(Activity, activity_id, populate_existing=True)
    _require_upcoming(activity, now)
    _require_audience(session, activity, volunteer_id)
    row, is_new = _claim_row(session, activity_id, volunteer_id, now)
    # Each UPDATE below also requires the activity not to be over: one cancelled meanwhile takes no one.
    if activity.admission == "leader":
        status = "pending" if _bump(session, activity_id) else None
    elif _take_place(session, activity_id):
        status = "admitted"
    elif _join_waitlist(session, activity_id):
        status = "waitlisted"
    else:
        status = None
    if status is None:
        _unclaim(session, row, is_new)
        session.refresh(activity)
        _require_upcoming(activity, now)
        raise SignupError("full")
    session.execute(update(Signup).where(Signup.id == row).values(status=status, updated_at=now)
                    .execution_options(synchronize_session=False))
    session.expire(activity)
    found = session.get(Signup, row, populate_existing=True)
    if status != "pending":
        _notify(session, activity, volunteer_id, f"signup_{status}")
    return found


def cancel(*, session: Session, activity_id: int, volunteer_id: int, now: datetime | None = None) -> Signup:
    """The volunteer withdraws before the deadline; a freed place goes to the first in line."""
    now = now or utcnow()
    activity = _locked(session, activity_id)
    _require_upcoming(activity, now, code="too_late_to_cancel")
    found = signup_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    if found is None or found.status not in LIVE:
        raise SignupError("not_signed_up")
    old = found.status
    _set_status(session, found, "cancelled", now)
    _release(session, activity_id, old)
    audit.record(session=session, action="signup.cancel", object_type="signup", object_id=found.id,
                 actor_id=volunteer_id, team_id=activity.team_id,
                 data={"activity_id": activity_id, "old": {"status": old}, "new": {"status": "cancelled"}})
    promote(session=session, activity_id=activity_id, now=now)
    return found


def decide(*, session: Session, activity_id: int, actor_id: int, signup_ids: list[int], decision: str,
           reason: str | None = None, now: datetime | None = None) -> Decided:
    """The leader admits or declines sign-ups in bulk (one reason). Admitting respects the capacity: those
    beyond it are waitlisted. Declining an admitted person frees the place for the first in line."""
    now = now or utcnow()
    if decision not in ("admit", "decline"):
        raise SignupError("bad_decision")
    reason = (reason or "").strip()[:REASON_MAX] or None
    if decision == "decline" and reason is None:
        raise SignupError("reason_required")
    if not signup_ids:
        raise SignupError("nothing_chosen")
    activity = _locked(session, activity_id)
    if activity is None or not is_active_leader(session, activity.team_id, actor_id):
        raise SignupError("not_allowed")
    if activity.status not in ("scheduled", "open"):
        raise SignupError({"cancelled": "activity_cancelled"}.get(activity.status, "activity_past"))
    rows = session.exec(select(Signup).where(Signup.activity_id == activity_id, Signup.id.in_(signup_ids))
                        .order_by(Signup.id)).all()
    done, events = Decided(), []
    for row in rows:
        old = row.status
        new = _admit(session, activity_id, old) if decision == "admit" else _decline(session, activity_id, old)
        if new is None:
            done.unchanged.append(row.id)
            continue
        _set_status(session, row, new, now, decided_by_id=actor_id, reason=reason if new == "declined" else None)
        getattr(done, new).append(row.id)
        events.append({"action": f"signup.{decision}", "object_type": "signup", "object_id": row.id,
                       "actor_id": actor_id, "team_id": activity.team_id, "reason": reason,
                       "data": {"activity_id": activity_id, "old": {"status": old}, "new": {"status": new}}})
        _notify(session, activity, row.volunteer_id, f"signup_{new}", reason=reason if new == "declined" else None)
    done.unchanged.extend(sorted(set(signup_ids) - {row.id for row in rows}))
    if events:
        audit.record_many(session=session, events=events)
    if done.declined:
        promote(session=session, activity_id=activity_id, now=now)
    session.expire(activity)
    return done


def promote(*, session: Session, activity_id: int, now: datetime | None = None) -> int:
    """Move the first in line up while places are free (after a cancel, a decline, a larger capacity)."""
    now = now or utcnow()
    activity = session.get(Activity, activity_id)
    moved = 0
    while True:
        first = session.exec(select(Signup).where(Signup.activity_id == activity_id, Signup.status == "waitlisted")
                             .order_by(Signup.id).limit(1)).first()
        if first is None or not _take_place(session, activity_id):
            break
        _bump(session, activity_id, waitlist_count=-1)
        _set_status(session, first, "admitted", now)
        _notify(session, activity, first.volunteer_id, "signup_promoted")
        moved += 1
    session.expire(activity)
    return moved


def withdraw_person(*, session: Session, volunteer_id: int, now: datetime | None = None) -> list[int]:
    """Cancel every live sign-up of a person for an activity not yet over (their account is closing), whatever
    the deadline, and offer each freed place to the first in line. The ids of those activities."""
    now = now or utcnow()
    rows = session.exec(select(Signup).join(Activity, Activity.id == Signup.activity_id).where(
        Signup.volunteer_id == volunteer_id, Signup.status.in_(LIVE), Activity.status.in_(NOT_OVER),
        Activity.ends_at > now).order_by(Signup.activity_id)).all()
    for row in rows:
        _locked(session, row.activity_id)
        old = row.status
        _set_status(session, row, "cancelled", now)
        _release(session, row.activity_id, old)
        promote(session=session, activity_id=row.activity_id, now=now)
    return [row.activity_id for row in rows]


# What a changed column is called in a notice (notices/render.py CHANGED).
CHANGED_AS = {"starts_at": "time", "ends_at": "time", "place": "place", "meeting_point": "meeting_point",
              "meeting_lat": "meeting_point", "meeting_lng": "meeting_point", "title": "title"}


def notify_changed(*, session: Session, activity: Activity, changed: list[str] = ()) -> int:
    """Tell everyone still signed up that the activity changed (and what); how many were told."""
    people = _live_volunteers(session, activity.id)
    what = sorted({CHANGED_AS[key] for key in changed if key in CHANGED_AS})
    for volunteer_id in people:
        _notify(session, activity, volunteer_id, "activity_changed", changed=what)
    return len(people)


def release_all(*, session: Session, activity: Activity, now: datetime | None = None,
                reason: str | None = None) -> int:
    """The activity is cancelled: every live sign-up is cancelled, the tallies zeroed, everyone told."""
    people = _live_volunteers(session, activity.id)
    session.execute(update(Signup).where(Signup.activity_id == activity.id, Signup.status.in_(LIVE))
                    .values(status="cancelled", updated_at=now or utcnow())
                    .execution_options(synchronize_session=False))
    session.execute(update(Activity).where(Activity.id == activity.id).values(admitted_count=0, waitlist_count=0)
                    .execution_options(synchronize_session=False))
    for volunteer_id in people:
        _notify(session, activity, volunteer_id, "activity_cancelled", reason=reason)
    session.expire(activity)
    return len(people)


def mark_no_shows(*, session: Session, activity_id: int) -> int:
    """On close: everyone admitted without a non-voided attendance is a no-show; how many."""
    return session.execute(
        update(Signup).where(Signup.activity_id == activity_id, Signup.status == "admitted", ~_attended())
        .values(status="no_show", updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def refresh_no_show(*, session: Session, activity_id: int, volunteer_id: int) -> None:
    """After a correction of a closed activity: a no-show who now has an attendance is admitted again, and an
    admitted person whose attendance was voided is a no-show."""
    base = update(Signup).where(Signup.activity_id == activity_id, Signup.volunteer_id == volunteer_id)
    session.execute(base.where(Signup.status == "no_show", _attended()).values(status="admitted")
                    .execution_options(synchronize_session=False))
    session.execute(base.where(Signup.status == "admitted", ~_attended()).values(status="no_show")
                    .execution_options(synchronize_session=False))


# --- reading ------------------------------------------------------------------------------


def signup_of(*, session: Session, activity_id: int, volunteer_id: int) -> Signup | None:
    """This volunteer's sign-up for the activity, whatever its status."""
    return session.exec(select(Signup).where(Signup.activity_id == activity_id,
                                             Signup.volunteer_id == volunteer_id)).first()


def deadline(activity: Activity) -> datetime:
    """When sign-ups close: the deadline the leader set, else the start."""
    return activity.signup_deadline or activity.starts_at


# --- helpers ------------------------------------------------------------------------------


def _require_upcoming(activity: Activity | None, now: datetime, *, code: str = "deadline_passed") -> None:
    if activity is None:
        raise SignupError("no_activity")
    if activity.status == "cancelled":
        raise SignupError("activity_cancelled")
    if activity.status == "closed" or activity.ends_at <= now:
        raise SignupError("activity_past")
    if activity.status != "scheduled":
        raise SignupError("not_upcoming")
    if now >= deadline(activity):
        raise SignupError(code, time=_local(deadline(activity)))


def _require_audience(session: Session, activity: Activity, volunteer_id: int) -> None:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.role != "volunteer" or not volunteer.is_active or volunteer.deleted_at:
        raise SignupError("not_participant")
    team = session.get(Team, activity.team_id)
    if team is None or team.status != "active":
        raise SignupError("team_suspended")
    if activity.audience == "team" and not is_active_member(session, activity.team_id, volunteer_id):
        raise SignupError("not_member")
    if activity.audience == "unit":
        area = session.get(Unit, activity.audience_unit_id)
        home = session.get(Unit, volunteer.home_unit_id) if volunteer.home_unit_id else None
        # Members of the team are always welcome, wherever they live.
        if (home is None or area is None or not home.path.startswith(area.path)) \
                and not is_active_member(session, activity.team_id, volunteer_id):
            raise SignupError("not_in_audience", area=area.name if area else "")


def _claim_row(session: Session, activity_id: int, volunteer_id: int, now: datetime) -> tuple[int, bool]:
    """This person's sign-up row (id, whether new): new, or a cancelled one revived; the unique key settles
    races between two sign-ups of the same person."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Signup.__table__)
    new = session.execute(insert.values(activity_id=activity_id, volunteer_id=volunteer_id, status="pending",
                                        created_at=now, updated_at=now)
                          .on_conflict_do_nothing().returning(Signup.__table__.c.id)).first()
    if new is not None:
        return new.id, True
    existing = signup_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    if existing is not None and existing.status == "cancelled":
        revived = session.execute(
            update(Signup).where(Signup.id == existing.id, Signup.status == "cancelled")
            .values(status="pending", created_at=now, decided_by_id=None, decided_at=None, reason=None)
            .execution_options(synchronize_session=False)).rowcount
        if revived:
            return existing.id, False
    raise SignupError("declined" if existing is not None and existing.status == "declined" else "already_signed_up")


def _unclaim(session: Session, row: int, is_new: bool) -> None:
    """Undo _claim_row when no place and no spot in line is left: nothing half-written."""
    if is_new:
        session.execute(delete(Signup).where(Signup.id == row).execution_options(synchronize_session=False))
    else:
        session.execute(update(Signup).where(Signup.id == row).values(status="cancelled")
                        .execution_options(synchronize_session=False))


def _take_place(session: Session, activity_id: int) -> bool:
    """Take one admitted place if one is free: the one conditional UPDATE that keeps the capacity."""
    return session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status.in_(NOT_OVER),
                               or_(Activity.capacity.is_(None), Activity.admitted_count < Activity.capacity))
        .values(admitted_count=Activity.admitted_count + 1).execution_options(synchronize_session=False)
    ).rowcount == 1


def _join_waitlist(session: Session, activity_id: int) -> bool:
    return session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status.in_(NOT_OVER),
                               Activity.waitlist_count < WAITLIST_LIMIT)
        .values(waitlist_count=Activity.waitlist_count + 1).execution_options(synchronize_session=False)
    ).rowcount == 1


def _bump(session: Session, activity_id: int, *, admitted_count: int = 0, waitlist_count: int = 0) -> bool:
    """Move the tallies of an activity that is not over (with nothing to move: whether it still is)."""
    return session.execute(update(Activity).where(Activity.id == activity_id,
                                                  Activity.status.in_(NOT_OVER)).values(
        admitted_count=Activity.admitted_count + admitted_count,
        waitlist_count=Activity.waitlist_count + waitlist_count).execution_options(synchronize_session=False)
    ).rowcount == 1


def _release(session: Session, activity_id: int, old_status: str) -> None:
    """Give back what a sign-up held: its place, or its spot in line."""
    if old_status == "admitted":
        _bump(session, activity_id, admitted_count=-1)
    elif old_status == "waitlisted":
        _bump(session, activity_id, waitlist_count=-1)


def _admit(session: Session, activity_id: int, old: str) -> str | None:
    if old not in ("pending", "waitlisted", "declined"):
        return None
    if _take_place(session, activity_id):
        if old == "waitlisted":
            _bump(session, activity_id, waitlist_count=-1)
        return "admitted"
    if old != "waitlisted" and _join_waitlist(session, activity_id):
        return "waitlisted"
    return None


def _decline(session: Session, activity_id: int, old: str) -> str | None:
    if old not in LIVE:
        return None
    _release(session, activity_id, old)
    return "declined"


def _set_status(session: Session, row: Signup, status: str, now: datetime, *, decided_by_id: int | None = None,
                reason: str | None = None) -> None:
    row.status, row.updated_at = status, now
    if decided_by_id is not None:
        row.decided_by_id, row.decided_at, row.reason = decided_by_id, now, reason
    session.flush()


def _locked(session: Session, activity_id: int) -> Activity | None:
    """The activity row, locked for update on PostgreSQL (decisions and cancels are serialised on it)."""
    return session.get(Activity, activity_id, with_for_update=True, populate_existing=True)


def _live_volunteers(session: Session, activity_id: int) -> list[int]:
    return list(session.exec(select(Signup.volunteer_id).where(Signup.activity_id == activity_id,
                                                               Signup.status.in_(LIVE)).order_by(Signup.id)).all())


def _attended():
    return select(Attendance.id).where(
        and_(Attendance.activity_id == Signup.activity_id, Attendance.volunteer_id == Signup.volunteer_id,
             Attendance.voided_at.is_(None))).exists()


def _notify(session: Session, activity: Activity, volunteer_id: int, kind: str, reason: str | None = None,
            changed: list[str] | None = None) -> None:
    params = {"title": activity.title, "starts_at": activity.starts_at.isoformat()}
    if reason:
        params["reason"] = reason
    if changed:
        params["changed"] = changed
    notify.send(session=session, volunteer_id=volunteer_id, kind=kind, activity_id=activity.id,
                team_id=activity.team_id, params=params)


def _local(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
