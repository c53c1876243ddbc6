"""Privacy rights: a volunteer downloads their own data (JSON, CSV) and deletes their account;
deletion anonymises the person but keeps the attendances, so the city's tallies do not change."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app import audit
from volunteer_app.accounts.service import create_volunteer
from volunteer_app.models import Activity, Attendance, AuditEvent, Membership, PasswordReset, Team, Volunteer, utcnow
from volunteer_app.privacy.service import DELETED_NAME
from volunteer_app.reports.queries import city_totals

from . import factories


@pytest.fixture
def history(session, world):
    """Two closed activities with attendances of member_a and others, counts kept as the check-in service keeps them."""
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    first = factories.make_activity(session, world.team_a, status="closed", title="=HYPERLINK(\"http://x\")",
                                    starts_at=start, created_by=world.leader_a)
    second = factories.make_activity(session, world.team_b, status="closed", title="河边捡拾垃圾",
                                     theme_code="ecology", starts_at=start + timedelta(days=1))
    for activity, people in ((first, [world.member_a, world.leader_a, world.volunteer]),
                             (second, [world.member_a, world.member_b])):
        for minutes, person in zip((90, 60, 45), people):
            factories.make_attendance(session, activity, person, minutes=minutes)
        activity.attendee_count = len(people)
        activity.total_minutes = sum(m for m, _ in zip((90, 60, 45), people))
    session.commit()
    return first, second


def export(client, kind: str):
    return client.post(f"/privacy/export/{kind}")


def test_the_page_needs_a_login(client):
    response = client.get("/privacy")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_says_what_is_held_in_both_languages(client, auth, world, history):
    auth.login(world.member_a.phone)
    page = client.get("/privacy").get_data(as_text=True)
    assert "我的数据" in page and "138****0003" in page and "13800000003" not in page
    assert "2\u00a0条签到记录" in page
    client.set_cookie("lang", "en")
    page = client.get("/privacy").get_data(as_text=True)
    assert "My data" in page and "2 attendance records" in page


def test_json_export_holds_my_profile_memberships_and_attendances_only(client, auth, world, history, session):
    auth.login(world.member_a.phone)
    response = export(client, "json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["name"] == "赵小红" and data["profile"]["phone"] == "13800000003"
    assert [m["team"] for m in data["memberships"]] == ["清和社区志愿服务队"]
    assert sorted(a["credited_minutes"] for a in data["attendances"]) == [90, 90]
    assert {a["team"] for a in data["attendances"]} == {"清和社区志愿服务队", "永安社区志愿服务队"}
    assert data["attendances"][0]["checked_in_at"].endswith("+08:00")
    text = json.dumps(data, ensure_ascii=False)
    for other in (world.leader_a, world.member_b, world.volunteer):
        assert other.phone not in text and other.name not in text
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "privacy.export")).all()
    assert [(e.actor_id, e.object_id, json.loads(e.data)) for e in events] == [
        (world.member_a.id, world.member_a.id, {"format": "json"})
    ]


@pytest.mark.parametrize("kind, header, rows", [
    ("profile.csv", "姓名", 1),
    ("memberships.csv", "队伍", 1),
    ("attendances.csv", "活动", 2),
])
def test_csv_exports_open_in_a_spreadsheet_and_stay_inert(client, auth, world, history, kind, header, rows):
    auth.login(world.member_a.phone)
    response = export(client, kind)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body[1:])))
    assert table[0][0] == header and len(table) == rows + 1
    if kind == "attendances.csv":
        titles = [row[0] for row in table[1:]]
        assert "'=HYPERLINK(\"http://x\")" in titles  # a formula stays text in Excel


def test_an_export_with_nothing_in_it_still_has_its_columns(client, auth, world):
    auth.login(world.volunteer.phone)
    table = list(csv.reader(io.StringIO(export(client, "attendances.csv").get_data(as_text=True)[1:])))
    assert table == [["活动", "队伍", "服务主题", "地点", "活动开始时间", "活动结束时间", "签到时间", "签退时间", "计入分钟数",
                      "记录方式", "已作废", "作废理由"]]


@pytest.mark.parametrize("language, headers, words", [
    ("zh_CN", ["活动", "队伍", "服务主题", "记录方式", "已作废"], {"生态环保", "自助扫码", "否"}),
    ("en", ["Activity", "Team", "Service theme", "How recorded", "Voided"], {"Ecology", "self scan", "no"}),
])
def test_csv_exports_speak_the_readers_language_not_codes(client, auth, world, history, language, headers, words):
    client.set_cookie("lang", language)
    auth.login(world.member_a.phone)
    table = list(csv.reader(io.StringIO(export(client, "attendances.csv").get_data(as_text=True)[1:])))
    columns = {name: i for i, name in enumerate(table[0])}
    assert all(name in columns for name in headers), table[0]
    cells = {cell for row in table[1:] for cell in row}
    assert words <= cells, cells
    assert not cells & {"ecology", "self_scan", "civilized_traffic", "False", "True"}
    membership = list(csv.reader(io.StringIO(export(client, "memberships.csv").get_data(as_text=True)[1:])))
    assert membership[1][1:3] == (["队员", "在队"] if language == "zh_CN" else ["member", "in the team"])


def test_the_json_export_keeps_codes_and_names_them(client, auth, world, history):
    auth.login(world.member_a.phone)
    rows = json.loads(export(client, "json").get_data(as_text=True))["attendances"]
    ecology = next(row for row in rows if row["theme"] == "ecology")
    assert ecology["theme_name"] == "生态环保" and ecology["method"] == "self_scan" and ecology["how_recorded"] == "自助扫码"


@pytest.mark.parametrize("who", ["leader_a", "office"])
def test_a_leader_or_the_office_gets_only_their_own_data(client, auth, world, history, who):
    person = getattr(world, who)
    auth.login(person.phone)
    for query in ("", f"?volunteer_id={world.member_a.id}", f"?id={world.member_a.id}&phone=13800000003"):
        data = json.loads(client.post(f"/privacy/export/json{query}",
                                      data={"volunteer_id": world.member_a.id}).get_data(as_text=True))
        assert data["profile"]["phone"] == person.phone
        assert "13800000003" not in json.dumps(data) and "赵小红" not in json.dumps(data, ensure_ascii=False)


def test_no_privacy_route_takes_a_person_from_the_url(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("privacy.")]
    assert len(rules) == 3
    assert all(set(r.arguments) <= {"kind"} for r in rules)


def test_odd_export_requests(client, auth, world):
    auth.login(world.member_a.phone)
    assert export(client, "xml").status_code == 404
    assert export(client, "..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/privacy/export/json").status_code == 405  # a download is written to the audit log: POST only


def test_an_export_without_csrf_token_is_refused(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = f"{world.member_a.id}:1"
        http_session["_fresh"] = True
    assert client.get("/privacy").status_code == 200
    assert export(client, "json").status_code == 400


# --- deletion -----------------------------------------------------------------------------


def tallies(session) -> dict:
    far = utcnow() + timedelta(days=1)
    totals = city_totals(session=session, start=far - timedelta(days=400), end=far)
    per_activity = {a.id: (a.attendee_count, a.total_minutes) for a in session.exec(select(Activity))}
    recomputed = {
        activity_id: (count, minutes)
        for activity_id, count, minutes in session.exec(
            select(Attendance.activity_id, func.count(Attendance.id), func.sum(Attendance.credited_minutes))
            .where(Attendance.voided_at.is_(None))
            .group_by(Attendance.activity_id)
        )
    }
    people = session.exec(select(func.count(func.distinct(Attendance.volunteer_id)))).one()
    return {"activities": totals.activities, "attendances": totals.attendances, "minutes": totals.minutes,
            "per_activity": per_activity, "recomputed": recomputed, "people": people,
            "registered": totals.volunteers}


def delete(client, password=factories.PASSWORD, confirm=True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return client.post("/privacy/delete", data=data)


def test_deleting_anonymises_the_person_and_keeps_every_tally(app, client, auth, world, history, session):
    before = tallies(session)
    other_phone = app.test_client()  # the same person logged in on a second phone
    assert other_phone.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD}
                            ).status_code == 302
    auth.login(world.member_a.phone)
    assert client.get("/privacy/delete").status_code == 200

    response = delete(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert "您的账号已注销" in client.get("/login").get_data(as_text=True)

    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    person = session.get(Volunteer, world.member_a.id)
    assert person.name == DELETED_NAME and person.phone is None and person.phone_tail is None
    assert person.deleted_at is not None and person.session_version == 2
    assert factories.PASSWORD not in person.password_hash and "$" not in person.password_hash
    statuses = session.exec(select(Membership.status).where(Membership.volunteer_id == person.id)).all()
    assert statuses == ["left"]
    assert len(session.exec(select(Attendance).where(Attendance.volunteer_id == person.id)).all()) == 2

    after = tallies(session)
    assert after["registered"] == before["registered"] - 1  # one fewer registered volunteer...
    for key in ("activities", "attendances", "minutes", "per_activity", "recomputed", "people"):
        assert after[key] == before[key], key  # ...and not one attendance, hour or 人数 less
    assert after["per_activity"] == after["recomputed"]

    # Logged out everywhere, the old password opens nothing, and the number is free to register again.
    assert client.get("/").status_code == 302 and other_phone.get("/").status_code == 302
    assert auth.login("13800000003").status_code == 400
    again = create_volunteer(session=session, name="赵小红", phone="138 0000 0003", password="new password 1")
    assert again.id != person.id
    session.rollback()

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "privacy.delete")).one()
    assert event.actor_id == person.id and json.loads(event.data)["memberships_left"] == [world.team_a.id]
    assert "13800000003" not in event.data and "赵小红" not in event.data
    assert audit.verify(session=session) is None


@pytest.mark.parametrize("password, confirm, message", [
    ("wrong password", True, "密码错误"),
    ("", True, "请输入密码"),
    (factories.PASSWORD, False, "请勾选"),
    ("x" * 10_000, True, "内容过长"),
])
def test_deletion_needs_the_password_and_the_tick(client, auth, world, session, password, confirm, message):
    auth.login(world.member_a.phone)
    response = delete(client, password, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Volunteer, world.member_a.id).deleted_at is None
    assert client.get("/").status_code == 200


def test_the_only_leader_of_a_team_must_hand_over_first(client, auth, world, session):
    auth.login(world.leader_a.phone)
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert "清和社区志愿服务队" in page and 'id="sole-leader"' in page
    response = delete(client)
    assert response.status_code == 400
    assert "唯一的队长" in response.get_data(as_text=True)
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Volunteer, world.leader_a.id).deleted_at is None

    membership = session.exec(select(Membership).where(Membership.volunteer_id == world.member_a.id)).one()
    membership.role = "leader"
    session.commit()
    assert delete(client).status_code == 303


def test_an_office_account_is_not_deleted_here(client, auth, world, session):
    auth.login(world.office.phone)
    response = delete(client)
    assert response.status_code == 400
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Volunteer, world.office.id).deleted_at is None


def test_deletion_clears_the_person_as_team_contact_and_their_reset_links(client, auth, world, session):
    team = session.get(Team, world.team_a.id)
    team.contact_name, team.contact_phone = "赵小红", "13800000003"
    reset = PasswordReset(volunteer_id=world.member_a.id, token_hash="a" * 64,
                          expires_at=utcnow() + timedelta(hours=1))
    session.add(reset)
    session.commit()
    auth.login(world.member_a.phone)
    assert delete(client).status_code == 303
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    team = session.get(Team, world.team_a.id)
    assert team.contact_phone is None and team.contact_name == ""
    assert session.get(PasswordReset, reset.id).used_at is not None
