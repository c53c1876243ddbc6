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
from typing import Any

from sqlalchemy import text
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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    previous = session.exec(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        team_id=team_id,
        reason=reason,
        data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=previous or GENESIS,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


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
    problem: str  # "edited" (content does not match its hash) or "missing" (predecessor deleted or replaced)


def verify(*, session: Session, batch: int = 5000) -> Break | None:
    """Walk the chain in id order; None if intact, else the first broken link."""
    expected_prev = GENESIS
    last_id = 0
    while True:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not events:
            return None
        for event in events:
            if event.prev_hash != expected_prev:
                return Break(event.id, "missing")
            if event_hash(event) != event.hash:
                return Break(event.id, "edited")
            expected_prev = event.hash
            last_id = event.id
