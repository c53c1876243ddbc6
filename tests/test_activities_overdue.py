"""Open activities whose leaders forgot to close them are closed an hour after their end (cron: close-overdue),
so that their attendances count in the office's tallies; nothing else is touched."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from volunteer_app.activities.service import close_overdue
from volunteer_app.models import Activity, Attendance, AuditEvent, utcnow

from . import factories


def test_an_activity_open_past_its_end_is_closed_and_counted(session, world):
    now = utcnow().replace(microsecond=0)
    forgotten = factories.make_activity(session, world.team_a, status="open", starts_at=now - timedelta(hours=5),
                                        hours=2)  # ended 3 h ago
    left_out = factories.make_attendance(session, forgotten, world.member_a, minutes=45)
    still_in = factories.make_attendance(session, forgotten, world.leader_a)
    still_in.checked_out_at, still_in.credited_minutes = None, 0
    session.commit()

    summaries = close_overdue(session=session, at=now)
    session.commit()
    session.expire_all()

    assert [s.activity_id for s in summaries] == [forgotten.id]
    closed = session.get(Activity, forgotten.id)
    assert closed.status == "closed" and closed.closed_at == now
    leader = session.get(Attendance, still_in.id)
    assert leader.checkout_auto and leader.checked_out_at == closed.ends_at and leader.credited_minutes == 120
    assert session.get(Attendance, left_out.id).credited_minutes == 45  # a real check-out is kept
    assert (closed.attendee_count, closed.total_minutes) == (2, 165)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "activity.auto_close")).one()
    assert event.object_id == forgotten.id and event.actor_id is None


def test_only_open_activities_an_hour_past_their_end_are_closed(session, world):
    now = utcnow().replace(microsecond=0)
    just_ended = factories.make_activity(session, world.team_a, status="open", starts_at=now - timedelta(hours=2, minutes=30),
                                         hours=2)  # ended 30 min ago: check-ins still allowed
    running = factories.make_activity(session, world.team_a, status="open")
    never_opened = factories.make_activity(session, world.team_a, status="scheduled", starts_at=now - timedelta(days=2))
    cancelled = factories.make_activity(session, world.team_b, status="cancelled", starts_at=now - timedelta(days=3))
    session.commit()
    assert close_overdue(session=session, at=now) == []
    session.commit()
    session.expire_all()
    statuses = {a.id: a.status for a in session.exec(select(Activity))}
    assert statuses == {just_ended.id: "open", running.id: "open", never_opened.id: "scheduled",
                        cancelled.id: "cancelled"}


def test_the_cron_command_closes_them_in_batches(runner, session, world):
    now = utcnow().replace(microsecond=0)
    for days in (1, 2, 3):
        factories.make_activity(session, world.team_b, status="open", starts_at=now - timedelta(days=days))
    session.commit()
    result = runner.invoke(args=["close-overdue"])
    assert result.exit_code == 0, result.output
    assert "3 overdue activities closed" in result.output
    again = runner.invoke(args=["close-overdue"])
    assert "0 overdue activities closed" in again.output
    session.commit()
    assert set(session.exec(select(Activity.status))) == {"closed"}
