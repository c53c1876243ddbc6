"""The tamper-evident audit log: an edited, deleted, truncated or recomputed chain is caught,
by audit.verify() and by `volunteer-app audit verify`, on both backends; concurrent writers
keep one unbroken chain."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from volunteer_app import audit
from volunteer_app.db import _bind
from volunteer_app.models import AuditEvent


def append_events(session, count: int, start: int = 0) -> list[AuditEvent]:
    events = [
        audit.record(session=session, action="attendance.adjust", object_type="attendance", object_id=start + i,
                     actor_id=None, team_id=7, reason="扫码失败，补录" if i % 2 else None,
                     data={"old": {"minutes": 60 + i}, "new": {"minutes": 90 + i}})
        for i in range(count)
    ]
    session.commit()
    return events


def run_verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def test_an_untouched_chain_verifies(session, runner):
    events = append_events(session, 5)
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert audit.verify(session=session) is None
    result = run_verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 5 events" in result.output


def test_an_empty_chain_verifies(runner):
    result = run_verify(runner)
    assert result.exit_code == 0 and "intact: 0 events" in result.output


@pytest.mark.parametrize("column, value", [
    ("reason", "'改过的理由'"),
    ("data", "'{\"new\": {\"minutes\": 600}}'"),
    ("team_id", "8"),
    ("at", "'2020-01-01 00:00:00'"),
    ("object_id", "999"),
])
def test_an_edited_row_is_named(session, runner, column, value):
    events = append_events(session, 6)
    target = events[3].id
    session.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE id = :id"), {"id": target})
    session.commit()
    assert audit.verify(session=session) == audit.Break(target, "edited")
    result = run_verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at event {target} (edited)" in result.output


def test_a_deleted_row_is_caught_at_its_successor(session, runner):
    events = append_events(session, 6)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[2].id})
    session.commit()
    assert audit.verify(session=session) == audit.Break(events[3].id, "missing")
    result = run_verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at event {events[3].id} (missing)" in result.output


def test_the_first_of_several_breaks_is_named(session, runner):
    events = append_events(session, 8)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[5].id})
    session.execute(text("UPDATE audit_event SET reason = 'x' WHERE id = :id"), {"id": events[1].id})
    session.commit()
    assert audit.verify(session=session) == audit.Break(events[1].id, "edited")


def test_a_row_edited_with_its_own_hash_recomputed_still_breaks_the_next_link(session):
    events = append_events(session, 4)
    row = session.get(AuditEvent, events[1].id)
    row.reason = "伪造"
    row.hash = audit.event_hash(row)
    session.commit()
    assert audit.verify(session=session) == audit.Break(events[2].id, "missing")


def test_the_anchor_catches_a_deleted_tail_and_a_recomputed_chain(session, runner):
    events = append_events(session, 5)
    anchor = runner.invoke(args=["audit", "head"]).output.strip()
    assert anchor == f"{events[-1].id}:{events[-1].hash}"
    assert run_verify(runner, "--anchor", anchor).exit_code == 0
    append_events(session, 2, start=100)  # the chain may grow after the anchor
    assert run_verify(runner, "--anchor", anchor).exit_code == 0

    # Someone rewrites an old row and recomputes every hash after it: the links hold, the anchor does not.
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    rows[1].reason = "伪造"
    previous = rows[0].hash
    for row in rows[1:]:
        row.prev_hash = previous
        row.hash = audit.event_hash(row)
        previous = row.hash
    session.commit()
    assert audit.verify(session=session) is None  # undetectable without an anchor kept elsewhere
    result = run_verify(runner, "--anchor", anchor)
    assert result.exit_code == 1 and f"event {events[-1].id} (rewritten)" in result.output

    # Deleting the newest events leaves a consistent chain; the anchor notices.
    session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": events[-1].id})
    session.commit()
    result = run_verify(runner, "--anchor", f"{events[-1].id}:{events[-1].hash}")
    assert result.exit_code == 1 and "(truncated)" in result.output


@pytest.mark.parametrize("anchor", ["", "12", "x:abc", "5:" + "g" * 64])
def test_a_malformed_anchor_is_a_usage_error(runner, anchor):
    result = run_verify(runner, "--anchor", anchor)
    assert result.exit_code == 2


@pytest.mark.parametrize("batches", [False, True], ids=["record", "with_record_many"])
def test_concurrent_writers_keep_one_unbroken_chain(app, session, batches):
    """Eight threads, each appending in its own transactions (with batches, every other thread appends three
    events at a time through record_many, which takes the same lock): no two events chain onto the same
    predecessor."""
    engine = app.extensions["db_engine"]
    per_thread, threads = 6, 8
    errors = []
    start = threading.Barrier(threads)

    def size(n: int) -> int:
        return 3 if batches and n % 2 else 1

    def writer(n: int):
        try:
            start.wait()
            for i in range(per_thread):
                with Session(bind=_bind(engine, True)) as s:
                    if size(n) > 1:
                        audit.record_many(session=s, events=[
                            {"action": "membership.import", "object_type": "membership",
                             "object_id": n * 1000 + i * 10 + k, "data": {"thread": n, "i": i}}
                            for k in range(size(n))])
                    else:
                        audit.record(session=s, action="membership.approve", object_type="membership",
                                     object_id=n * 100 + i, actor_id=None, data={"thread": n, "i": i})
                    s.commit()
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(repr(exc))

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    expected = sum(per_thread * size(n) for n in range(threads))
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == expected
    prev_hashes = session.exec(select(AuditEvent.prev_hash)).all()
    assert len(set(prev_hashes)) == len(prev_hashes)  # no fork
    assert audit.verify(session=session) is None


def test_verify_walks_in_batches(session):
    events = append_events(session, 7)
    assert audit.verify(session=session, batch=2) is None
    session.execute(text("UPDATE audit_event SET action = 'x' WHERE id = :id"), {"id": events[6].id})
    session.commit()
    assert audit.verify(session=session, batch=2) == audit.Break(events[6].id, "edited")


def test_a_chain_written_by_record_many_verifies_and_continues(session, runner):
    """A batch links onto the existing chain and single events link onto the batch; one edit in it is named."""
    append_events(session, 2)
    written = audit.record_many(session=session, events=[
        {"action": "membership.import", "object_type": "membership", "object_id": i, "team_id": 3,
         "actor_id": None, "data": {"old": None, "new": {"role": "member", "status": "active"}, "note": "名单"}}
        for i in range(5)
    ] + [{"action": "team.import", "object_type": "team", "object_id": 9}])
    assert audit.record_many(session=session, events=[]) == 0
    session.commit()
    after = append_events(session, 1, start=100)
    assert written == 6
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) == 9
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert events[-1].id == after[0].id
    assert events[7].data == "{}" and events[7].reason is None  # defaults as in record()
    assert audit.verify(session=session) is None
    result = run_verify(runner)
    assert result.exit_code == 0 and "intact: 9 events" in result.output, result.output
    session.execute(text("UPDATE audit_event SET object_id = 42 WHERE id = :id"), {"id": events[4].id})
    session.commit()
    assert audit.verify(session=session) == audit.Break(events[4].id, "edited")


def test_record_many_on_an_empty_chain_starts_at_genesis(session):
    audit.record_many(session=session, events=[{"action": "team.import", "object_type": "team", "object_id": 1}])
    session.commit()
    first = session.exec(select(AuditEvent)).one()
    assert first.prev_hash == audit.GENESIS
    assert audit.verify(session=session) is None
