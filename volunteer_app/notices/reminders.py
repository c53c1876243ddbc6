"""Reminders (提醒): the day before and within the hour before an activity, to everyone admitted to it.

`send_reminders(session=..., now=...)` is run by cron (`volunteer-app notices remind`, every 10 minutes). Each
reminder goes out once per person, activity and start time: its dedupe_key (notify.reminder_key) is unique, so
two runs at once, or a run repeated, send nothing twice; an activity moved to another time reminds again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from .. import notify
from ..models import Activity, Notice, Signup, Volunteer

# (kind, sent when the activity starts within (now + after, now + until]). An activity admitted to less than an
# hour before it starts gets the hour's reminder only.
WINDOWS = (
    ("reminder_hour", timedelta(0), timedelta(hours=1)),
    ("reminder_day", timedelta(hours=1), timedelta(hours=24)),
)
HORIZON = max(until for _kind, _after, until in WINDOWS)


def send_reminders(*, session: Session, now: datetime, limit: int = 500) -> int:
    """Send the reminders that are due and not sent yet, at most `limit`; how many went out (only flushes)."""
    due = due_reminders(session=session, now=now)
    sent = 0
    for kind, activity_id, volunteer_id, team_id, key in due[:limit]:
        if notify.send(session=session, volunteer_id=volunteer_id, kind=kind, activity_id=activity_id,
                       team_id=team_id, dedupe_key=key):
            sent += 1
    return sent


def due_reminders(*, session: Session, now: datetime) -> list[tuple[str, int, int, int, str]]:
    """(kind, activity id, volunteer id, team id, dedupe key) of each reminder due at `now` and not yet sent."""
    rows = session.exec(
        select(Activity.id, Activity.team_id, Activity.starts_at, Signup.volunteer_id)
        .join(Signup, Signup.activity_id == Activity.id)
        .join(Volunteer, Volunteer.id == Signup.volunteer_id)
        .where(Activity.starts_at > now, Activity.starts_at <= now + HORIZON,
               Activity.status.in_(("scheduled", "open")), Signup.status == "admitted",
               Volunteer.deleted_at.is_(None))
        .order_by(Activity.starts_at, Activity.id, Signup.id)
    ).all()
    due = []
    for activity_id, team_id, starts_at, volunteer_id in rows:
        kind = next(kind for kind, after, until in WINDOWS if now + after < starts_at <= now + until)
        key = notify.reminder_key(kind, activity_id=activity_id, volunteer_id=volunteer_id, starts_at=starts_at)
        due.append((kind, activity_id, volunteer_id, team_id, key))
    sent = _sent_keys(session, [row[-1] for row in due])
    return [row for row in due if row[-1] not in sent]


def _sent_keys(session: Session, keys: list[str]) -> set[str]:
    sent: set[str] = set()
    for start in range(0, len(keys), 500):
        sent.update(session.exec(select(Notice.dedupe_key).where(Notice.dedupe_key.in_(keys[start:start + 500]))))
    return sent
