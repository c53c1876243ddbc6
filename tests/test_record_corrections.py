"""Issue 15: volunteer numbers everywhere, the record and its rows, who may open whose record, correction
requests (ask, accept through the corrections service, decline, notices, overdue), and privacy."""
from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from volunteer_app.accounts import numbers
from volunteer_app.accounts.codes import request_code
from volunteer_app.accounts.record import attendance_for_viewer, record_access
from volunteer_app.accounts.service import create_volunteer, register_volunteer
from volunteer_app.activities import correction_requests as cr
from volunteer_app.activities.service import ActivityError
from volunteer_app.models import Activity, Attendance, AuditEvent, CorrectionRequest, Notice, Volunteer, utcnow
from volunteer_app.privacy.service import delete_account, personal_data

from . import factories


def _closed(session, team, *, days_ago: float = 1, hours: float = 2, title: str = "昨日活动") -> Activity:
    starts = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    return factories.make_activity(session, team, status="closed", starts_at=starts, hours=hours, title=title)


# --- volunteer numbers ------------------------------------------------------------------------------------


def test_every_path_gives_a_valid_unique_number(app, session, world):
    with app.app_context():
        made = create_volunteer(session=session, name="新人", phone="13900000111", password="long enough pw")
        sent = []  # the text message the new volunteer reads: its first parameter is the code
        sender = SimpleNamespace(send=lambda *, session, phone, template, params: sent.append(params[0]))
        secret = app.config["SECRET_KEY"]
        request_code(session=session, purpose="register", phone="13900000112", secret_key=secret, sender=sender)
        registered = register_volunteer(session=session, name="注册", phone="13900000112", code=sent[0],
                                        secret_key=secret, password="long enough pw",
                                        community_id=world.community.id, consent=True)
    people = session.exec(select(Volunteer)).all()
    assert all(p.volunteer_no and numbers.is_valid(p.volunteer_no) for p in people)
    assert len({p.volunteer_no for p in people}) == len(people)
    assert made.volunteer_no == numbers.volunteer_number(app.config["CITY_CODE"], made.id)
    assert registered.volunteer_no.startswith(app.config["CITY_CODE"])


def test_a_roster_import_numbers_everyone(app, session, world):
    from volunteer_app.teams.roster_import.apply import _write_volunteers, ImportResult

    result = ImportResult(kind="volunteers")
    with app.app_context():
        _write_volunteers(session, [("导入一", "13900000201", world.community.id, world.team_a.id, "member"),
                                    ("导入二", "13900000202", world.community.id, None, "member")],
                          world.office.id, result)
    imported = session.exec(select(Volunteer).where(Volunteer.phone.in_(["13900000201", "13900000202"]))).all()
    assert len(imported) == 2
    assert all(v.volunteer_no == numbers.volunteer_number("330100", v.id) for v in imported)


def test_create_admin_numbers_the_office_account(app, session):
    result = app.test_cli_runner().invoke(args=["create-admin", "--phone", "13900000301", "--name", "管理员",
                                                "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    admin = session.exec(select(Volunteer).where(Volunteer.phone == "13900000301")).one()
    assert admin.role == "office" and numbers.is_valid(admin.volunteer_no)


def test_the_fast_numberer_matches_the_rule():
    make = numbers.numberer("330100")
    for sequence in (1, 9, 10, 9999, 10_000, 12345, 99_999_999):
        assert make(sequence) == numbers.volunteer_number("330100", sequence)
    number = make(12345)
    assert numbers.is_valid(number)
    assert not numbers.is_valid(number[:-1] + ("1" if number[-1] == "0" else "0"))


def test_the_office_finds_a_person_by_volunteer_number(client, auth, world):
    auth.login(world.office.phone)
    page = client.post("/office/people", data={"q": world.member_a.volunteer_no}).get_data(as_text=True)
    assert "赵小红" in page and "钱小明" not in page and f"/people/{world.member_a.id}" in page
    assert "13800000003" not in page  # masked
    typo = world.member_a.volunteer_no[:-1] + ("0" if world.member_a.volunteer_no[-1] != "0" else "1")
    assert "赵小红" not in client.post("/office/people", data={"q": typo}).get_data(as_text=True)


# --- the record ---------------------------------------------------------------------------------------------


def test_my_record_rows_say_everything_and_open_their_details(client, auth, world, session):
    activity = _closed(session, world.team_a, title="清扫河道")
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=90, method="leader_manual")
    attendance.recorded_by_id = world.leader_a.id
    session.commit()
    auth.login(world.member_a.phone)
    page = client.get("/me").get_data(as_text=True)
    assert world.member_a.volunteer_no in page
    history = page[page.index('id="history"'):]
    for part in ("清扫河道", "人民路与解放路口", "1.5\u00a0小时", "队长手工登记"):
        assert part in history, part
    assert "清和社区志愿服务队" in page and f"/record/{attendance.id}" in page
    detail = client.get(f"/record/{attendance.id}").get_data(as_text=True)
    assert "李队长" in detail and "138****0001" in detail and "13800000001" not in detail
    assert f"/record/{attendance.id}/correction" in detail


def test_the_detail_lists_corrections_with_reasons(client, auth, world, session):
    activity = _closed(session, world.team_a)
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=60)
    session.commit()
    from volunteer_app.activities.corrections import adjust_minutes
    adjust_minutes(session=session, attendance_id=attendance.id, minutes=90, reason="签退漏扫", actor_id=world.leader_a.id)
    session.commit()
    auth.login(world.member_a.phone)
    detail = client.get(f"/record/{attendance.id}").get_data(as_text=True)
    assert "签退漏扫" in detail and "1.0" in detail and "1.5" in detail


@pytest.mark.parametrize("viewer, sees", [
    ("member_a", True), ("leader_a", True), ("leader_b", False), ("member_b", False), ("volunteer", False),
    ("office", True), ("office_district2", False),
])
def test_who_may_open_member_a_record(client, auth, world, session, viewer, sees):
    activity = _closed(session, world.team_a, title="甲队活动")
    attendance = factories.make_attendance(session, activity, world.member_a)
    session.commit()
    person = getattr(world, viewer)
    assert (record_access(session=session, viewer=person, person_id=world.member_a.id) is not None) == sees
    assert (attendance_for_viewer(session=session, volunteer_id=person.id, attendance_id=attendance.id)
            is not None) == sees
    auth.login(person.phone)
    expected = (200,) if sees and viewer != "member_a" else (302,) if sees else (404,)
    assert client.get(f"/people/{world.member_a.id}").status_code in expected
    assert client.get(f"/record/{attendance.id}").status_code == (200 if sees else 404)


def test_a_leader_sees_only_their_team_rows_of_a_member(client, auth, world, session):
    factories.add_member(session, world.team_b, world.member_a)
    mine = factories.make_attendance(session, _closed(session, world.team_a, title="甲队活动"), world.member_a)
    theirs = factories.make_attendance(session, _closed(session, world.team_b, title="乙队活动", days_ago=2),
                                       world.member_a)
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/people/{world.member_a.id}").get_data(as_text=True)
    assert "甲队活动" in page and "乙队活动" not in page and "138****0003" in page
    assert client.get(f"/record/{mine.id}").status_code == 200
    assert client.get(f"/record/{theirs.id}").status_code == 404
    members = client.get(f"/teams/{world.team_a.id}/members").get_data(as_text=True)
    assert f"/people/{world.member_a.id}" in members


# --- correction requests ------------------------------------------------------------------------------------


def test_ask_accept_changes_the_record_through_the_corrections_service(app, session, world):
    activity = _closed(session, world.team_a)
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=60)
    session.commit()
    with app.test_request_context():
        request = cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=activity.id,
                         attendance_id=attendance.id, minutes=90, reason="我一直到结束")
        with pytest.raises(cr.RequestError) as again:
            cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=activity.id,
                   attendance_id=attendance.id, reason="再问一次")
        assert again.value.code == "already_open"
        cr.accept(session=session, request_id=request.id, actor_id=world.leader_a.id, minutes=90, answer="核实无误")
        session.commit()
    session.refresh(attendance)
    session.refresh(activity)
    assert attendance.credited_minutes == 90 and activity.total_minutes == 30  # relative bump: 0 + (90 - 60)
    row = session.get(CorrectionRequest, request.id)
    assert (row.status, row.resolved_minutes, row.answer) == ("accepted", 90, "核实无误")
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == ["correction_request.create", "attendance.adjust", "correction_request.accept"]
    notice = session.exec(select(Notice).where(Notice.volunteer_id == world.member_a.id)).one()
    assert notice.kind == "correction_accepted" and notice.params == {"reason": "核实无误"}
    with app.test_request_context(), pytest.raises(cr.RequestError) as twice:
        cr.decline(session=session, request_id=request.id, actor_id=world.leader_a.id, answer="晚了")
    assert twice.value.code == "not_open"


def test_missing_attendance_request_adds_it_when_accepted(app, session, world):
    activity = _closed(session, world.team_a)
    other_team = _closed(session, world.team_b, title="乙队活动")
    old = _closed(session, world.team_a, days_ago=40, title="很久以前")
    session.commit()
    choices = cr.missing_choices(session=session, volunteer_id=world.member_a.id)
    assert [a.id for a, _t in choices] == [activity.id]
    with app.test_request_context():
        for target, code in ((other_team, "not_a_member"), (old, "too_late")):
            with pytest.raises(cr.RequestError) as refused:
                cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=target.id, reason="我去了")
            assert refused.value.code == code
        request = cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=activity.id, minutes=120,
                         reason="手机没电没扫上")
        with pytest.raises(cr.RequestError) as bad:
            cr.accept(session=session, request_id=request.id, actor_id=world.leader_a.id, minutes=500)
        assert bad.value.code == "bad_minutes"
        cr.accept(session=session, request_id=request.id, actor_id=world.leader_a.id, minutes=120)
        session.commit()
    added = session.exec(select(Attendance).where(Attendance.activity_id == activity.id,
                                                  Attendance.volunteer_id == world.member_a.id)).one()
    assert (added.credited_minutes, added.method, added.recorded_by_id) == (120, "leader_manual", world.leader_a.id)
    assert session.get(CorrectionRequest, request.id).attendance_id == added.id


def test_the_leaders_deadline_holds_for_requests_too(app, session, world):
    activity = _closed(session, world.team_a, days_ago=30)
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=60)
    session.commit()
    with app.test_request_context():
        request = cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=activity.id,
                         attendance_id=attendance.id, minutes=100, reason="时长少记")
        session.commit()
        with pytest.raises(ActivityError) as late:
            cr.accept(session=session, request_id=request.id, actor_id=world.leader_a.id, minutes=100)
        assert late.value.code == "too_late_for_leader"
        session.rollback()
        cr.accept(session=session, request_id=request.id, actor_id=world.office.id, minutes=100)  # the office may
        session.commit()
    assert session.get(Attendance, attendance.id).credited_minutes == 100


def test_the_http_flow_ask_decline_and_the_notice(client, auth, world, session):
    activity = _closed(session, world.team_a, title="敬老院探访")
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=60)
    session.commit()
    auth.login(world.member_a.phone)
    assert client.post(f"/record/{attendance.id}/correction", data={"hours": "很多", "reason": "x"}).status_code == 400
    assert client.post(f"/record/{attendance.id}/correction", data={"hours": "1.5", "reason": ""}).status_code == 400
    response = client.post(f"/record/{attendance.id}/correction", data={"hours": "1.5", "reason": "一直待到结束"})
    assert response.status_code == 303
    request = session.exec(select(CorrectionRequest)).one()
    assert (request.kind, request.minutes) == ("fix", 90)
    auth.logout()
    auth.login(world.leader_b.phone)
    assert client.get(f"/corrections/{request.id}").status_code == 404
    assert client.post(f"/corrections/{request.id}/decline", data={"answer": "不行"}).status_code == 404
    auth.logout()
    auth.login(world.leader_a.phone)
    listing = client.get(f"/teams/{world.team_a.id}/corrections").get_data(as_text=True)
    assert "赵小红" in listing and "一直待到结束" in listing
    assert client.post(f"/corrections/{request.id}/decline", data={"answer": ""}).status_code == 400
    assert client.post(f"/corrections/{request.id}/decline", data={"answer": "签到记录显示提前离开"}).status_code == 303
    auth.logout()
    auth.login(world.member_a.phone)
    notices = client.get("/notices").get_data(as_text=True)
    assert "敬老院探访" in notices and "未被采纳" in notices and "签到记录显示提前离开" in notices
    mine = client.get("/me/corrections").get_data(as_text=True)
    assert "签到记录显示提前离开" in mine


def test_the_http_flow_missing_and_accept(client, auth, world, session):
    activity = _closed(session, world.team_a, title="垃圾分类宣传")
    session.commit()
    auth.login(world.member_a.phone)
    form = client.get("/me/corrections/missing").get_data(as_text=True)
    assert "垃圾分类宣传" in form
    assert client.post("/me/corrections/missing", data={"activity": "99999", "hours": "1", "reason": "去了"}
                       ).status_code == 400
    assert client.post("/me/corrections/missing", data={"activity": str(activity.id), "hours": "2",
                                                        "reason": "去了但没扫码"}).status_code == 303
    request = session.exec(select(CorrectionRequest)).one()
    auth.logout()
    auth.login(world.leader_a.phone)
    page = client.get(f"/corrections/{request.id}").get_data(as_text=True)
    assert 'value="2"' in page  # the hours asked for, offered
    assert client.post(f"/corrections/{request.id}/accept", data={"hours": "2", "answer": ""}).status_code == 303
    auth.logout()
    auth.login(world.member_a.phone)
    assert "垃圾分类宣传" in client.get("/me").get_data(as_text=True)
    assert "已采纳" in client.get("/notices").get_data(as_text=True)


def test_overdue_requests_show_on_the_leader_home_and_the_office_dashboard(client, auth, world, session):
    activity = _closed(session, world.team_a, days_ago=40)
    attendance = factories.make_attendance(session, activity, world.member_a)
    fresh = _closed(session, world.team_b)
    late = CorrectionRequest(volunteer_id=world.member_a.id, activity_id=activity.id, team_id=world.team_a.id,
                             attendance_id=attendance.id, kind="fix", reason="少记", created_at=utcnow() - timedelta(days=25))
    recent = CorrectionRequest(volunteer_id=world.member_b.id, activity_id=fresh.id, team_id=world.team_b.id,
                               kind="missing", reason="漏了", created_at=utcnow() - timedelta(days=2))
    session.add_all([late, recent])
    session.commit()
    rows = cr.overdue_by_team(session=session)
    assert [(team.id, count) for team, count, _oldest in rows] == [(world.team_a.id, 1)]
    assert cr.overdue_by_team(session=session, team_ids=[world.team_b.id]) == []
    auth.login(world.leader_a.phone)
    assert 'id="overdue-requests"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(world.leader_b.phone)
    assert 'id="overdue-requests"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(world.office.phone)
    dashboard = client.get("/office").get_data(as_text=True)
    assert 'id="overdue-requests"' in dashboard and "清和社区志愿服务队" in dashboard
    auth.logout()
    auth.login(world.office_district2.phone)
    assert 'id="overdue-requests"' not in client.get("/office").get_data(as_text=True)


# --- privacy ----------------------------------------------------------------------------------------------


def test_export_has_the_requests_and_deletion_erases_their_words(app, session, world):
    activity = _closed(session, world.team_a)
    attendance = factories.make_attendance(session, activity, world.member_a)
    session.commit()
    with app.test_request_context():
        cr.ask(session=session, volunteer_id=world.member_a.id, activity_id=activity.id,
               attendance_id=attendance.id, reason="我叫赵小红，时长不对")
        data = personal_data(session=session, volunteer_id=world.member_a.id)
        assert data["profile"]["volunteer_no"] == world.member_a.volunteer_no
        assert [r["reason"] for r in data["corrections"]] == ["我叫赵小红，时长不对"]
        delete_account(session=session, volunteer_id=world.member_a.id, password=factories.PASSWORD)
        session.commit()
    request = session.exec(select(CorrectionRequest)).one()
    assert (request.status, request.reason, request.answer) == ("declined", "", None)
    assert cr.team_requests(session=session, team_id=world.team_a.id) == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "privacy.delete")).one()
    assert json.loads(event.data)["correction_requests"] == 1
