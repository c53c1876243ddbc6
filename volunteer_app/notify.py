"""Notices (通知): one way to tell a person something, through every configured channel.

    send(*, session, volunteer_id, kind, activity_id=None, team_id=None, params=None, dedupe_key=None) -> bool

The in-app notice centre is the Notice table itself: `send` always writes a row there, then hands the notice
to the other channels (`NOTICE_CHANNELS` in the app config: callables taking the Notice). A channel marked
`after_commit = True` (the SMS channel, sms/notices.py) is held until the caller's transaction commits and
dropped if it rolls back; the others run at once, inside the transaction. A notice with a `dedupe_key` goes
out at most once, even when two senders race (the unique key decides; the loser writes nothing and returns
False). Like the services, `send` only flushes; the caller's transaction commits it.

What a notice is about comes from its row: `activity_id` for every kind but join_approved (`team_id`). The text
is rendered when read (volunteer_app/notices/render.py), in the reader's language, from the activity or team
as they are then, so `params` holds only what the rows do not: `reason` (str, the leader's words) for
signup_declined, activity_cancelled and the correction kinds (correction_accepted / correction_declined, about
a correction request of the activity); `changed` (a list of "time", "place", "meeting_point", "title") for
activity_changed. A reminder's dedupe_key is built by reminder_key() (one per activity, person and start time,
so a moved activity reminds again).
"""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from .models import Notice, utcnow

_QUEUE = "notices_after_commit"
_HOOKED = "notices_after_commit_hooked"

# The kinds of notice; each has its text in volunteer_app/notices/render.py.
KINDS = (
    "signup_admitted", "signup_declined", "signup_waitlisted", "signup_promoted", "activity_changed",
    "activity_cancelled", "reminder_day", "reminder_hour", "join_approved", "correction_accepted",
    "correction_declined",
)


def send(*, session: Session, volunteer_id: int, kind: str, activity_id: int | None = None,
         team_id: int | None = None, params: dict | None = None, dedupe_key: str | None = None) -> bool:
    """Record a notice for one person and pass it to the channels; False if its dedupe_key was sent already."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    values = {"volunteer_id": volunteer_id, "kind": kind, "activity_id": activity_id, "team_id": team_id,
              "params": params or {}, "dedupe_key": dedupe_key, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notice.__table__)
    row = session.execute(insert.values(**values).on_conflict_do_nothing().returning(Notice.__table__.c.id)).first()
    if row is None:
        return False
    notice = Notice(id=row.id, **values)
    for channel in (current_app.config.get("NOTICE_CHANNELS", ()) if has_app_context() else ()):
        if getattr(channel, "after_commit", False):
            _after_commit(session, channel, notice)
        else:
            channel(notice)
    return True


def _after_commit(session: Session, channel, notice: Notice) -> None:
    """Hold the notice for channel until session commits (a rollback drops it): an SMS must not go out for
    something that did not happen. The channel runs outside the transaction and must not raise."""
    queue = session.info.setdefault(_QUEUE, [])
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _run_queue)
        event.listen(session, "after_rollback", _drop_queue)
        session.info[_HOOKED] = True
    queue.append((channel, notice))


def _run_queue(session: Session) -> None:
    queue, session.info[_QUEUE] = session.info.get(_QUEUE, []), []
    for channel, notice in queue:
        try:
            channel(notice)
        except Exception:  # committed already: a channel's failure is logged, never the person's error
            current_app.logger.exception("notice channel %r failed for notice %s", channel, notice.id)


def _drop_queue(session: Session) -> None:
    session.info[_QUEUE] = []


def reminder_key(kind: str, *, activity_id: int, volunteer_id: int, starts_at) -> str:
    """The dedupe_key of a reminder: once per kind, activity, person and start time (at most 80 characters)."""
    return f"{kind}:{activity_id}:{volunteer_id}:{int(starts_at.timestamp())}"
