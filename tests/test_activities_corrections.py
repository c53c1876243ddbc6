"""Corrections after close, the 10-working-day rule, retro logs and photos."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities import photos as photo_service
from volunteer_app.activities import corrections, retro
from volunteer_app.activities.service import ActivityError
from volunteer_app.models import Activity, Attendance, AuditEvent, Photo, utcnow

from . import factories


def counts_true(session, activity_id):
    session.commit()
    session.expire_all()
    activity = session.get(Activity, activity_id)
    count, minutes = session.exec(
        select(func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .where(Attendance.activity_id == activity_id, Attendance.voided_at.is_(None))).one()
    return (activity.attendee_count, activity.total_minutes) == (count, minutes)


@pytest.fixture
def closed(session, world):
    """A closed activity that ended an hour ago, with two attendances of 60 minutes."""
    activity = factories.make_activity(session, world.team_a, status="closed",
                                       starts_at=utcnow().replace(microsecond=0) - timedelta(hours=3))
    first = factories.make_attendance(session, activity, world.member_a, minutes=60)
    factories.make_attendance(session, activity, world.leader_a, minutes=60)
    activity.attendee_count, activity.total_minutes = 2, 120
    session.commit()
    return activity, first


def test_adjust_needs_a_reason_and_keeps_old_and_new(session, world, closed):
    activity, attendance = closed
    with pytest.raises(ActivityError) as excinfo:
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=30, reason="  ",
                               actor_id=world.leader_a.id)
    assert excinfo.value.code == "reason_required"
    corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=30, reason="提前离开",
                           actor_id=world.leader_a.id)
    assert counts_true(session, activity.id)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "attendance.adjust")).one()
    assert event.actor_id == world.leader_a.id and event.reason == "提前离开"
    assert json.loads(event.data)["old"] == {"credited_minutes": 60}
    assert json.loads(event.data)["new"] == {"credited_minutes": 30}
    with pytest.raises(ActivityError) as excinfo:
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=500, reason="x",
                               actor_id=world.leader_a.id)
    assert excinfo.value.code == "bad_minutes"


def test_void_and_add_missed_keep_the_counts(session, world, closed):
    activity, attendance = closed
    corrections.void_attendance(session=session, attendance_id=attendance.id, reason="代签", actor_id=world.leader_a.id)
    assert counts_true(session, activity.id)
    assert session.get(Activity, activity.id).attendee_count == 1
    with pytest.raises(ActivityError) as excinfo:
        corrections.void_attendance(session=session, attendance_id=attendance.id, reason="again",
                                actor_id=world.leader_a.id)
    assert excinfo.value.code == "already_voided"
    with pytest.raises(ActivityError) as excinfo:
        corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=world.member_b.id, minutes=30,
                           reason="漏签", actor_id=world.leader_a.id)
    assert excinfo.value.code == "not_member"
    with pytest.raises(ActivityError) as excinfo:
        corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=world.member_a.id, minutes=30,
                           reason="漏签", actor_id=world.leader_a.id)
    assert excinfo.value.code == "already_recorded"
    volunteer = factories.make_volunteer(session, "周补录")
    factories.add_member(session, world.team_a, volunteer)
    added = corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=volunteer.id, minutes=45,
                               reason="手机没电", actor_id=world.leader_a.id)
    assert added.method == "leader_manual" and added.recorded_by_id == world.leader_a.id
    assert counts_true(session, activity.id)
    actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["attendance.void", "attendance.add"]


def test_corrections_need_a_closed_activity(session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    attendance = factories.make_attendance(session, activity, world.member_a)
    session.commit()
    with pytest.raises(ActivityError) as excinfo:
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=10, reason="x",
                               actor_id=world.leader_a.id)
    assert excinfo.value.code == "not_closed"


def test_after_ten_working_days_only_the_office_corrects(session, world):
    # ended on Monday 2026-03-02: 10 working days later is 2026-03-16; on the 20th only the office may correct
    start = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    activity = factories.make_activity(session, world.team_a, status="closed", starts_at=start)
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=60)
    activity.attendee_count, activity.total_minutes = 1, 60
    session.commit()
    late = datetime(2026, 3, 20, 2, 0, tzinfo=timezone.utc)
    with pytest.raises(ActivityError) as excinfo:
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=30, reason="x",
                               actor_id=world.leader_a.id, at=late)
    assert excinfo.value.code == "too_late_for_leader"
    corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=30, reason="x",
                           actor_id=world.leader_a.id, at=datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc))
    with pytest.raises(ActivityError) as excinfo:  # the office of another district
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=20, reason="x",
                               actor_id=world.office_district2.id, at=late)
    assert excinfo.value.code == "not_allowed"
    corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=20, reason="核实后更正",
                           actor_id=world.office.id, at=late)
    assert counts_true(session, activity.id)
    with pytest.raises(ActivityError) as excinfo:
        corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=20, reason="x",
                               actor_id=world.member_a.id)
    assert excinfo.value.code == "not_allowed"


def test_correction_forms_over_http(client, auth, session, world, closed):
    activity, attendance = closed
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert f"/attendances/{attendance.id}/adjust" in page
    prefix = f"a{attendance.id}-"
    response = client.post(f"/attendances/{attendance.id}/adjust", data={prefix + "minutes": "25", prefix + "reason": ""},
                           follow_redirects=True)
    assert "请填写理由" in response.get_data(as_text=True)
    client.post(f"/attendances/{attendance.id}/adjust", data={prefix + "minutes": "25", prefix + "reason": "早退"})
    session.commit()
    session.expire_all()
    assert session.get(Attendance, attendance.id).credited_minutes == 25
    client.post(f"/attendances/{attendance.id}/void", data={f"v{attendance.id}-reason": "重复"})
    session.commit()
    session.expire_all()
    assert session.get(Attendance, attendance.id).voided_at is not None
    assert counts_true(session, activity.id)
    auth.logout()
    auth.login(world.leader_b.phone)
    assert client.post(f"/attendances/{attendance.id}/adjust", data={prefix + "minutes": "5",
                                                                      prefix + "reason": "x"}).status_code == 404


def test_retro_log_over_http(client, auth, session, world):
    theme_id = factories.theme(session).id
    session.commit()
    auth.login(world.leader_a.phone)
    assert client.get(f"/teams/{world.team_a.id}/retro").status_code == 200
    day = (utcnow() - timedelta(days=1)).astimezone(timezone(timedelta(hours=8))).date()
    data = {"theme": str(theme_id), "title": "社区清扫", "place": "清和社区", "day": day.isoformat(),
            "start": "09:00", "end": "11:00", "attendee": [str(world.member_a.id), str(world.member_b.id)],
            f"minutes_{world.member_a.id}": "90", f"minutes_{world.member_b.id}": "90"}
    response = client.post(f"/teams/{world.team_a.id}/retro", data=data)
    assert response.status_code == 303  # member_b is in another team and is silently not offered
    session.commit()
    activity = session.exec(select(Activity)).one()
    assert activity.is_retro and activity.status == "closed" and activity.attendee_count == 1
    attendance = session.exec(select(Attendance)).one()
    assert attendance.method == "retro_log" and attendance.credited_minutes == 90
    bad = dict(data, **{f"minutes_{world.member_a.id}": "500"})
    response = client.post(f"/teams/{world.team_a.id}/retro", data=bad)
    assert response.status_code == 400 and "120" in response.get_data(as_text=True)
    none = {k: v for k, v in data.items() if k != "attendee"}
    assert client.post(f"/teams/{world.team_a.id}/retro", data=none).status_code == 400


def test_retro_log_too_late_for_a_leader(session, world):
    start = utcnow() - timedelta(days=40)
    with pytest.raises(ActivityError) as excinfo:
        retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                          theme_id=factories.theme(session).id, title="t", place="p", starts_at=start,
                          ends_at=start + timedelta(hours=1), attendees=[(world.member_a.id, 30)])
    assert excinfo.value.code == "too_late_for_leader"


# --- photos -------------------------------------------------------------------------------


def jpeg_with_gps_and_rotation() -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_photo_is_reencoded_without_exif_and_upright():
    data = jpeg_with_gps_and_rotation()
    assert b"Exif" in data
    full, thumb, width, height = photo_service.reencode(data)
    assert (width, height) == (20, 40)  # orientation applied
    with Image.open(io.BytesIO(full)) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert b"Exif" not in full and b"Exif" not in thumb


def test_big_photos_are_scaled_down():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), "blue").save(buffer, format="PNG")
    full, thumb, width, height = photo_service.reencode(buffer.getvalue())
    assert max(width, height) == 1600
    with Image.open(io.BytesIO(thumb)) as image:
        assert max(image.size) <= 320


def bomb() -> bytes:
    """A tiny PNG that claims 30000×30000 pixels."""
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("data, code", [
    (b"", "empty_file"),
    (b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", "not_an_image"),
    (b"GIF89a" + b"\x00" * 100, "not_an_image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "not_an_image"),
    (b"x" * (10 * 1024 * 1024 + 1), "too_large"),
])
def test_bad_uploads_are_refused(data, code):
    with pytest.raises(photo_service.PhotoError) as excinfo:
        photo_service.reencode(data)
    assert excinfo.value.code == code


def test_a_decompression_bomb_is_refused():
    data = bomb()
    assert len(data) < 10 * 1024 * 1024
    with pytest.raises(photo_service.PhotoError) as excinfo:
        photo_service.reencode(data)
    assert excinfo.value.code == "image_too_big"


def test_photo_upload_limits_and_privacy(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.leader_a.phone)
    good = jpeg_with_gps_and_rotation()
    files = [(io.BytesIO(good), f"p{i}.jpg") for i in range(8)] + [(io.BytesIO(b"%PDF-1.4"), "doc.jpg")]
    response = client.post(f"/activities/{activity.id}/photos", data={"photos": files},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "doc.jpg" in response.get_data(as_text=True)
    session.commit()
    assert session.exec(select(func.count(Photo.id))).one() == 8
    client.post(f"/activities/{activity.id}/photos", data={"photos": [(io.BytesIO(good), "a.jpg"),
                                                                       (io.BytesIO(good), "b.jpg")]},
                content_type="multipart/form-data")
    session.commit()
    assert session.exec(select(func.count(Photo.id))).one() == 9
    photo = session.exec(select(Photo)).first()
    served = client.get(f"/photos/{photo.id}.jpg")
    assert served.status_code == 200 and b"Exif" not in served.data
    assert client.get(f"/photos/{photo.id}/thumb.jpg").status_code == 200
    auth.logout()
    auth.login(world.member_a.phone)
    assert client.get(f"/photos/{photo.id}.jpg").status_code == 404
    auth.logout()
    auth.login(world.office.phone)
    assert client.get(f"/photos/{photo.id}.jpg").status_code == 200
