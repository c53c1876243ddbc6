"""My record: credited hours, sessions and hours by theme, star level, paginated history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from volunteer_app.accounts.service import my_record, star_level

from . import factories

STARS = (100, 300, 600, 1000, 1500)


@pytest.mark.parametrize("hours, stars, next_hours", [
    (0, 0, 100), (99.99, 0, 100), (100, 1, 300), (299, 1, 300), (300, 2, 600), (1000, 4, 1500), (1500, 5, None),
    (9999, 5, None),
])
def test_star_levels(hours, stars, next_hours):
    assert star_level(int(hours * 60), STARS) == (stars, next_hours)


def test_star_levels_are_configurable():
    assert star_level(60 * 10, (5, 10, 20)) == (2, 20)


def test_record_counts_credited_time_by_theme_and_skips_voided(world, session):
    traffic = factories.make_activity(session, world.team_a, status="closed")
    sanitation = factories.make_activity(session, world.team_a, theme_code="sanitation", status="closed",
                                         starts_at=traffic.starts_at - timedelta(days=1))
    voided = factories.make_activity(session, world.team_a, status="closed", starts_at=traffic.starts_at - timedelta(days=2))
    factories.make_attendance(session, traffic, world.member_a, minutes=90)
    factories.make_attendance(session, sanitation, world.member_a, minutes=30)
    gone = factories.make_attendance(session, voided, world.member_a, minutes=600)
    gone.voided_at = factories.utcnow()
    factories.make_attendance(session, traffic, world.member_b, minutes=45)  # someone else's
    session.commit()
    record = my_record(session=session, volunteer_id=world.member_a.id, star_hours=STARS)
    assert (record.minutes, record.sessions) == (120, 2)
    assert {(row.theme.code, row.sessions, row.minutes) for row in record.by_theme} == {
        ("civilized_traffic", 1, 90), ("sanitation", 1, 30)}
    assert record.stars == 0 and record.next_star_hours == 100


def test_my_record_page(client, auth, world, session):
    base = factories.utcnow().replace(microsecond=0) - timedelta(days=60)
    for i in range(25):
        activity = factories.make_activity(session, world.team_a, title=f"活动{i:02d}", status="closed",
                                           starts_at=base + timedelta(days=i), hours=5)
        factories.make_attendance(session, activity, world.member_a, minutes=300)
    session.commit()
    auth.login(world.member_a.phone)
    page = client.get("/me").get_data(as_text=True)
    assert "125.0" in page and "1星志愿者" in page and "300" in page  # 125 h: one star, next at 300 h
    assert "13800000003" in page  # the person sees their own full number
    assert "活动24" in page and "活动04" not in page  # newest first, 20 per page
    second = client.get("/me?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "活动04" in second and "<html" not in second
    assert client.get("/me?page=abc").status_code == 200
    assert client.get("/me?page=%EF%BC%92").status_code == 200  # a full-width digit


def test_my_record_is_mine_only(client, auth, world, session):
    activity = factories.make_activity(session, world.team_b, title="别人的活动", status="closed")
    factories.make_attendance(session, activity, world.member_b, minutes=60)
    session.commit()
    auth.login(world.member_a.phone)
    page = client.get("/me").get_data(as_text=True)
    assert "别人的活动" not in page and "还没有服务记录" in page


def test_personal_qr_appears_once_check_in_provides_it(client, auth, world, app):
    auth.login(world.member_a.phone)
    page = client.get("/me").get_data(as_text=True)
    assert ('id="personal-qr"' in page) == ("checkin.my_qr" in app.view_functions)


def test_anonymous_is_sent_to_login(client):
    assert client.get("/me").status_code == 302


def test_an_attendance_still_open_reads_in_progress_not_zero_hours(client, auth, world, session):
    """Checked in to an open activity and not out yet: the home page and my record say so, instead of 0.0 h."""
    activity = factories.make_activity(session, world.team_a, title="正在进行", status="open")
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=0)
    attendance.checked_out_at = None
    done = factories.make_activity(session, world.team_a, title="已经结束", status="closed",
                                   starts_at=activity.starts_at - timedelta(days=1))
    factories.make_attendance(session, done, world.member_a, minutes=90)
    session.commit()
    auth.login(world.member_a.phone)
    for page in (client.get("/").get_data(as_text=True), client.get("/me").get_data(as_text=True)):
        assert page.count("已签到，进行中") == 1 and "0.0\u00a0小时" not in page
        assert "1.5\u00a0小时" in page  # the closed one keeps its credited time
