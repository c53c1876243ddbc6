"""Login and logout through the real forms, and the home page each role sees."""
from __future__ import annotations

import pytest

from volunteer_app.models import Activity

from . import factories


def test_login_page_speaks_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)


def test_login_page_in_english_after_the_switch(client):
    response = client.get("/lang/en?next=/login", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Log in" in page and "登录" not in page.replace('lang="zh-CN">中文', "")


def test_language_switch_refuses_foreign_redirects(client):
    response = client.get("/lang/en?next=//evil.example/x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "phone, password",
    [
        ("13900000000", factories.PASSWORD),  # unknown phone
        ("13800000003", "wrong password"),  # wrong password
        ("138 0000 0003", "x" * 10_000),  # a 10 kB field
    ],
)
def test_bad_credentials_get_one_translated_message(client, world, phone, password):
    response = client.post("/login", data={"phone": phone, "password": password})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "手机号或密码错误" in page or "内容过长" in page


def test_empty_fields_are_named(client, world):
    response = client.post("/login", data={"phone": "", "password": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请输入手机号" in page and "请输入密码" in page


def test_ten_kilobyte_phone_is_refused_without_a_500(client, world):
    response = client.post("/login", data={"phone": "1" * 10_000, "password": "x"})
    assert response.status_code == 400
    assert "内容过长" in response.get_data(as_text=True)


def test_phone_is_normalised_at_login(client, world):
    response = client.post("/login", data={"phone": "+86 138-0000-0003", "password": factories.PASSWORD})
    assert response.status_code == 302


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_volunteer_home_shows_own_hours(client, auth, world, session):
    activity = factories.make_activity(session, world.team_a, status="closed", title="清扫楼道")
    factories.make_attendance(session, activity, world.member_a, minutes=150)
    session.commit()
    auth.login("13800000003")
    page = client.get("/").get_data(as_text=True)
    assert "2.5" in page and "清扫楼道" in page and "环境卫生" not in page
    assert "文明交通" in page


def test_leader_home_lists_teams_and_member_counts(client, auth, world):
    auth.login("13800000001")
    page = client.get("/").get_data(as_text=True)
    assert "清和社区志愿服务队" in page
    assert "2\u00a0名成员" in page
    assert "永安社区志愿服务队" not in page


def test_office_home_shows_city_totals(client, auth, world, session):
    activity = factories.make_activity(session, world.team_a, status="closed", attendee_count=2, total_minutes=240)
    factories.make_activity(session, world.team_b, status="cancelled", attendee_count=5, total_minutes=500)
    session.commit()
    auth.login("13800000009")
    page = client.get("/").get_data(as_text=True)
    assert "2026" in page or "年全市概况" in page
    assert "4.0" in page  # 240 minutes; the cancelled activity does not count
    assert session.get(Activity, activity.id).attendee_count == 2


def test_logout_ends_the_session(client, auth, world):
    auth.login("13800000003")
    assert client.get("/").status_code == 200
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_session_version_bump_logs_out_everywhere(client, auth, world, session):
    auth.login("13800000003")
    volunteer = session.get(type(world.member_a), world.member_a.id)
    volunteer.session_version += 1
    session.commit()
    assert client.get("/").status_code == 302


def test_district_office_home_counts_only_its_district(client, auth, world, session):
    factories.make_activity(session, world.team_a, status="closed", attendee_count=2, total_minutes=240)
    factories.make_activity(session, world.team_b, status="closed", attendee_count=3, total_minutes=90)
    session.commit()
    auth.login("13800000008")  # office limited to district 2, where team B works
    page = client.get("/").get_data(as_text=True)
    assert "河西区" in page
    assert "1.5" in page and "4.0" not in page and "5.5" not in page
