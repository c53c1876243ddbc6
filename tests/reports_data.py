"""Hand-made records for the reports tests: a few closed activities in March and April 2026.

The expected figures are written out in EXPECTED so that a test states what it checks.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session, select

from volunteer_app.models import Activity, Attendance, utcnow

from .factories import World, make_activity, make_attendance

RANGE = {"from": "2026-03-01", "to": "2026-04-30"}
EXPECTED = {
    "activities": 4, "attendances": 7, "minutes": 540, "volunteers": 5, "registered": 5, "teams": 2, "live": 5,
    "traffic": {"activities": 3, "attendances": 6, "minutes": 450},
    "district2": {"activities": 1, "attendances": 3, "minutes": 150, "volunteers": 3, "registered": 2},
}


def at(day: str, hour: int = 9) -> datetime:
    """A local (Asia/Shanghai) time as UTC."""
    local = datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")
    return local.astimezone(timezone.utc)


def sync_counts(session: Session, activity: Activity) -> None:
    """Set the activity's denormalised counts from its non-voided attendances, as the check-in service does."""
    rows = session.exec(select(Attendance).where(Attendance.activity_id == activity.id,
                                                 Attendance.voided_at.is_(None))).all()
    activity.attendee_count = len(rows)
    activity.total_minutes = sum(row.credited_minutes for row in rows)
    session.add(activity)
    session.flush()


def build(session: Session, w: World) -> dict:
    """Four counted activities (two teams, two themes, two months), one scheduled, one voided record."""
    a1 = make_activity(session, w.team_a, starts_at=at("2026-03-07"), status="closed", title="路口劝导（三月）")
    make_attendance(session, a1, w.member_a, minutes=120, method="self_scan")
    make_attendance(session, a1, w.leader_a, minutes=120, method="leader_manual")
    a2 = make_activity(session, w.team_a, theme_code="sanitation", starts_at=at("2026-04-11"), status="closed",
                       title="清扫楼道", is_retro=True)
    make_attendance(session, a2, w.member_a, minutes=90, method="retro_log")
    a3 = make_activity(session, w.team_b, starts_at=at("2026-03-14"), status="closed", title="=HYPERLINK(\"x\")")
    make_attendance(session, a3, w.member_b, minutes=60, method="self_scan")
    make_attendance(session, a3, w.leader_b, minutes=60, method="leader_scan")
    make_attendance(session, a3, w.volunteer, minutes=30, method="self_scan")
    a5 = make_activity(session, w.team_a, starts_at=at("2026-03-20"), status="closed", title="路口劝导（周五）")
    make_attendance(session, a5, w.member_a, minutes=60, method="self_scan")
    voided = make_attendance(session, a5, w.volunteer, minutes=60, method="leader_manual")
    voided.voided_at = utcnow()
    voided.void_reason = "录错人"
    scheduled = make_activity(session, w.team_b, starts_at=at("2026-03-28"), status="scheduled", title="未开始")
    for activity in (a1, a2, a3, a5, scheduled):
        sync_counts(session, activity)
    session.commit()
    return {"a1": a1, "a2": a2, "a3": a3, "a5": a5, "scheduled": scheduled}
