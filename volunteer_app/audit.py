"""The audit log: append-only events chained by hash, so that an edited or deleted row shows.

Each event's hash covers its content and the previous event's hash. Appending takes a lock
so that two concurrent writers cannot both chain onto the same predecessor: on SQLite every
write transaction already holds the database's write lock (BEGIN IMMEDIATE); on PostgreSQL a
transaction-scoped advisory lock serialises appenders.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterable

from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from .models import AuditEvent, utcnow

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x52564155  # "RVAU": the advisory lock id of the audit chain


def record(
    *,
    session: Session,
    action: str,
    object_type: str,
    object_id: int | None,
    actor_id: int | None = None,
    team_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (e.g. action="attendance.adjust", data={"old": {...}, "new": {...}})."""
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        team_id=team_id,
        reason=reason,
        data=_data_json(data),
        prev_hash=_lock_chain(session),
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


def record_many(*, session: Session, events: Iterable[dict[str, Any]]) -> int:
    """Append a batch of events in order, one link after the other; returns how many.

    Each item has the keyword arguments of record(): action, object_type, object_id and optionally actor_id,
    team_id, reason, data. The chain is locked and hashed as by record(), but the rows go in with one Core
    executemany (for imports of many thousand events); they all get the same `at`.
    """
    events = list(events)
    if not events:
        return 0
    previous = _lock_chain(session)
    at = utcnow().replace(microsecond=0)
    rows = []
    for spec in events:
        # A plain namespace, not an AuditEvent: event_hash reads the same attributes, ten times faster.
        event = SimpleNamespace(
            at=at,
            actor_id=spec.get("actor_id"),
            action=spec["action"],
            object_type=spec["object_type"],
            object_id=spec["object_id"],
            team_id=spec.get("team_id"),
            reason=spec.get("reason"),
            data=_data_json(spec.get("data")),
            prev_hash=previous,
        )
        event.hash = previous = event_hash(event)
        rows.append(vars(event))
    session.execute(insert(AuditEvent.__table__), rows)
    return len(rows)


def _lock_chain(session: Session) -> str:
    """Take the chain's append lock for this transaction; the newest event's hash (GENESIS if none).

    SQLite: the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    PostgreSQL: a transaction-scoped advisory lock, so that two appenders cannot chain onto one predecessor.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    return session.exec(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first() or GENESIS


def _data_json(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and its predecessor's hash."""
    content = json.dumps(
        [
            event.prev_hash,
            event.at.isoformat() if event.at else None,
            event.actor_id,
            event.action,
            event.object_type,
            event.object_id,
            event.team_id,
            event.reason,
            event.data,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    event_id: int
    # "edited": the content does not match its hash; "missing": its predecessor was deleted or replaced;
    # "rewritten": the anchored event's hash changed (the chain was recomputed after an edit);
    # "truncated": the anchored event is gone (the newest events were deleted).
    problem: str

    def describe(self) -> str:
        """One line for operators."""
        return {
            "edited": f"event {self.event_id} was edited: its content no longer matches its hash",
            "missing": f"event {self.event_id} does not follow its predecessor: an earlier event was deleted or replaced",
            "rewritten": f"event {self.event_id} has a different hash than the anchor: the chain was recomputed",
            "truncated": f"event {self.event_id} (the anchor) is missing: the newest events were deleted",
        }[self.problem]


@dataclass(frozen=True)
class Head:
    """The end of the chain: write it down outside the database to detect truncation and rewriting later."""

    count: int
    event_id: int | None
    hash: str

    @property
    def anchor(self) -> str:
        return f"{self.event_id or 0}:{self.hash}"


def head(*, session: Session) -> Head:
    """How many events there are, and the newest one's id and hash."""
    count = session.exec(select(func.count()).select_from(AuditEvent)).one()
    last = session.exec(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return Head(count=count, event_id=last[0] if last else None, hash=last[1] if last else GENESIS)


def parse_anchor(text_value: str) -> tuple[int, str]:
    """'<id>:<hash>' as printed by `volunteer-app audit head`; ValueError if malformed."""
    raw_id, _, digest = text_value.strip().partition(":")
    if not raw_id.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("an anchor looks like 1234:<64 hex digits>")
    return int(raw_id), digest


def verify(*, session: Session, batch: int = 5000, anchor: tuple[int, str] | None = None) -> Break | None:
    """Walk the chain in id order; None if intact, else the first broken link.

    With an anchor (an event id and hash recorded earlier, outside the database) the walk also
    proves that the chain still reaches that event unchanged.
    """
    expected_prev = GENESIS
    last_id = 0
    anchor_seen = anchor is None or anchor[0] == 0
    while True:
        # populate_existing: check what the database holds now, not objects this session remembers.
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
            .execution_options(populate_existing=True)
        ).all()
        if not events:
            break
        for event in events:
            if event.prev_hash != expected_prev:
                return Break(event.id, "missing")
            if event_hash(event) != event.hash:
                return Break(event.id, "edited")
            if anchor is not None and event.id == anchor[0]:
                if event.hash != anchor[1]:
                    return Break(event.id, "rewritten")
                anchor_seen = True
            expected_prev = event.hash
            last_id = event.id
    if not anchor_seen:
        return Break(anchor[0], "truncated")
    return None
