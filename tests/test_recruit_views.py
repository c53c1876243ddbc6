"""Recruitment through HTTP: publishing with the new fields, one-tap sign-up and cancel, the leader's list."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from volunteer_app.models import Activity, AuditEvent, Notice, Signup, utcnow

from . import factories

LOCAL = ZoneInfo("Asia/Shanghai")
HX = {"HX-Request": "true"}


def local(dt):
    return dt.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def form(session, **overrides):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    data = {"theme": str(factories.theme(session).id), "title": "文明交通劝导", "place": "人民路口",
            "starts_at": local(start), "ends_at": local(start + timedelta(hours=2)), "capacity": "10",
            "qr_mode": "rotating", "audience": "city", "admission": "auto", "signup_deadline": "",
            "meeting_point": "地铁站B口", "meeting_lat": "", "meeting_lng": "", "requirements": "穿红马甲",
            "lat": "", "lng": "", "radius_m": ""}
    data.update(overrides)
    session.rollback()  # end this read, so that later reads see what the requests write
    return data


def fresh(session, model, id_):
    session.rollback()
    return session.get(model, id_)


def test_leader_publishes_with_recruitment_settings_and_bad_ones_are_named(client, auth, session, world):
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}/activities/new").get_data(as_text=True)
    assert f'value="unit:{world.street.id}"' in page and f'value="unit:{world.district2.id}"' not in page
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    bad = form(session, audience=f"unit:{world.district2.id}", signup_deadline=local(start + timedelta(hours=1)),
               meeting_lat="39.1", capacity="0")
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=bad)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "报名截止时间须早于" in text and "经纬度须同时填写" in text and "不是有效的选择" in text
    assert session.exec(select(Activity)).all() == []
    good = form(session, audience=f"unit:{world.street.id}", signup_deadline=local(start - timedelta(hours=2)),
                admission="leader", admitted_only="y", meeting_lat="39.12", meeting_lng="117.2")
    assert client.post(f"/teams/{world.team_a.id}/activities/new", data=good).status_code == 303
    session.rollback()
    activity = session.exec(select(Activity)).one()
    assert (activity.audience, activity.audience_unit_id, activity.members_only, activity.admission,
            activity.admitted_only, activity.meeting_point, activity.requirements) == \
        ("unit", world.street.id, False, "leader", True, "地铁站B口", "穿红马甲")
    assert activity.signup_deadline == start - timedelta(hours=2)
    edit = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert f'value="unit:{world.street.id}" selected' in edit or f'selected value="unit:{world.street.id}"' in edit


def test_editing_tells_those_signed_up_and_cancelling_releases_them(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, audience="city", capacity=3,
                                       starts_at=utcnow().replace(second=0, microsecond=0) + timedelta(days=2))
    session.add(Signup(activity_id=activity.id, volunteer_id=world.volunteer.id, status="admitted"))
    activity.admitted_count = 1
    session.commit()
    auth.login(world.leader_a.phone)
    response = client.post(f"/activities/{activity.id}/edit",
                           data=form(session, starts_at=local(activity.starts_at + timedelta(hours=1)),
                                     ends_at=local(activity.ends_at + timedelta(hours=1))))
    assert response.status_code == 303
    assert session.exec(select(Notice.kind).where(Notice.volunteer_id == world.volunteer.id)).all() == \
        ["activity_changed"]
    assert client.post(f"/activities/{activity.id}/cancel", data={"reason": "暴雨"}).status_code == 303
    session.rollback()
    assert session.exec(select(Signup.status)).all() == ["cancelled"]
    assert fresh(session, Activity, activity.id).admitted_count == 0


def test_one_tap_sign_up_with_htmx_then_repeat_then_cancel(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, audience="city", capacity=1,
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(days=1))
    session.commit()
    auth.login(world.member_b.phone)  # a member of another team: the city is welcome
    response = client.post(f"/activities/{activity.id}/signup", headers=HX)
    assert response.status_code == 200
    box = response.get_data(as_text=True)
    assert 'id="signup-box"' in box and "<html" not in box and "已录用" in box and "取消报名" in box
    again = client.post(f"/activities/{activity.id}/signup", headers=HX)
    assert again.status_code == 409 and "已经报名" in again.get_data(as_text=True)
    assert client.post(f"/activities/{activity.id}/signup").status_code == 409  # without htmx: the error page
    assert len(session.exec(select(Signup)).all()) == 1
    response = client.post(f"/activities/{activity.id}/signup/cancel")
    assert response.status_code == 303
    session.rollback()
    assert session.exec(select(Signup.status)).one() == "cancelled"
    assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "signup.cancel")).one()
    assert client.post(f"/activities/{activity.id}/signup/cancel", headers=HX).status_code == 409


def test_refusals_are_translated_and_write_nothing(client, auth, session, world):
    now = utcnow().replace(microsecond=0)
    team_only = factories.make_activity(session, world.team_a, starts_at=now + timedelta(days=1))
    cancelled = factories.make_activity(session, world.team_a, audience="city", status="cancelled",
                                        starts_at=now + timedelta(days=1))
    late = factories.make_activity(session, world.team_a, audience="city", starts_at=now + timedelta(days=1),
                                   signup_deadline=now - timedelta(hours=1))
    session.commit()
    auth.login(world.member_b.phone)
    for activity, status, words in [(team_only, 403, "仅限本队队员"), (cancelled, 409, "已取消"),
                                    (late, 409, "报名已于")]:
        response = client.post(f"/activities/{activity.id}/signup", headers=HX)
        assert response.status_code == status, activity.title
        assert words in response.get_data(as_text=True)
    assert client.post("/activities/999999/signup").status_code == 404
    assert session.exec(select(Signup)).all() == []
    auth.login(world.office.phone)
    assert client.post(f"/activities/{late.id}/signup").status_code == 409  # the deadline is checked first


def test_leader_lists_filters_and_decides_in_bulk(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, audience="city", capacity=1, admission="leader",
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(days=1))
    past = factories.make_activity(session, world.team_a, status="closed",
                                   starts_at=utcnow().replace(microsecond=0) - timedelta(days=3))
    factories.make_attendance(session, past, world.member_a, minutes=90)
    session.add(Signup(activity_id=past.id, volunteer_id=world.member_b.id, status="no_show"))
    first = Signup(activity_id=activity.id, volunteer_id=world.member_a.id, status="pending")
    second = Signup(activity_id=activity.id, volunteer_id=world.member_b.id, status="pending")
    session.add_all([first, second])
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}/signups").get_data(as_text=True)
    assert "赵小红" in page and "138****0003" in page and "13800000003" not in page
    assert "1.5" in page and "未到场 1 次" in page
    assert client.get(f"/activities/{activity.id}/signups?status=admitted").get_data(as_text=True).count(
        'name="signup"') == 0
    response = client.post(f"/activities/{activity.id}/signups/decide", headers=HX,
                           data={"decision": "admit", "signup": [str(first.id), str(second.id)]})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and 'id="signup-tally"' in fragment
    session.expire_all()
    assert [s.status for s in session.exec(select(Signup).where(Signup.activity_id == activity.id)
                                           .order_by(Signup.id))] == ["admitted", "waitlisted"]
    no_reason = client.post(f"/activities/{activity.id}/signups/decide", data={"decision": "decline",
                                                                              "signup": str(second.id)})
    assert no_reason.status_code == 409 and "不录用时请填写理由" in no_reason.get_data(as_text=True)
    forged = client.post(f"/activities/{activity.id}/signups/decide",
                         data={"decision": "decline", "reason": "名额已满", "signup": ["abc", "999999"]})
    assert forged.status_code == 303  # nothing of this activity was named: nothing changes
    assert session.exec(select(Signup.status).where(Signup.id == second.id)).one() == "waitlisted"
    bad = client.post(f"/activities/{activity.id}/signups/decide", data={"decision": "banish",
                                                                        "signup": str(second.id)})
    assert bad.status_code == 400


def test_the_box_renders_for_each_state(app, session, world):
    from flask import render_template

    activity = factories.make_activity(session, world.team_a, audience="city", capacity=2,
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(days=1))
    activity.admitted_count = 2
    activity.waitlist_count = 3
    session.commit()
    with app.test_request_context("/"):
        empty = render_template("activities/_signup_box.html", activity=activity, signup=None)
        waiting = render_template("activities/_signup_box.html", activity=activity,
                                  signup=Signup(activity_id=activity.id, volunteer_id=1, status="waitlisted"))
    assert "候补" in empty and 'id="signup-button"' in empty
    assert 'id="signup-cancel"' in waiting and 'id="signup-button"' not in waiting


def test_an_admitted_only_activity_refuses_a_self_scan_and_says_to_ask_the_leader(client, auth, session, world):
    from volunteer_app import tokens

    activity = factories.make_activity(session, world.team_a, status="open", admitted_only=True)
    session.commit()
    token = tokens.rotating_token(secret_key="test-secret-key-not-for-production", activity_id=activity.id,
                                  activity_secret=activity.secret)
    auth.login(world.member_a.phone)
    page = client.get(f"/c/{token}")
    assert "请联系队长为你签到" in page.get_data(as_text=True)
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 403 and "请联系队长为你签到" in response.get_data(as_text=True)
    session.add(Signup(activity_id=activity.id, volunteer_id=world.member_a.id, status="admitted"))
    session.commit()
    assert client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}).status_code == 303


def test_the_leader_finds_and_checks_in_an_admitted_outsider_by_hand(client, auth, session, world):
    from volunteer_app.models import Attendance

    activity = factories.make_activity(session, world.team_a, status="open", audience="city")
    outsider = factories.make_volunteer(session, "外来志愿者")
    stranger = factories.make_volunteer(session, "外来路人")
    session.add(Signup(activity_id=activity.id, volunteer_id=outsider.id, status="admitted"))
    session.commit()
    auth.login(world.leader_a.phone)
    found = client.get(f"/activities/{activity.id}/roster?q=外来", headers=HX).get_data(as_text=True)
    assert "外来志愿者" in found and "外来路人" not in found
    assert client.post(f"/activities/{activity.id}/manual", data={"volunteer": str(stranger.id)}).status_code == 404
    assert client.post(f"/activities/{activity.id}/manual", data={"volunteer": str(outsider.id)}).status_code == 303
    session.rollback()
    assert session.exec(select(Attendance.method).where(Attendance.volunteer_id == outsider.id)).one() == \
        "leader_manual"


def test_the_live_list_marks_who_came_without_a_place(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", audience="city", capacity=5)
    session.add(Signup(activity_id=activity.id, volunteer_id=world.member_a.id, status="admitted"))
    activity.admitted_count = 1
    session.add(activity)
    factories.make_attendance(session, activity, world.member_a)
    factories.make_attendance(session, activity, world.member_b, method="leader_manual")  # a walk-in member
    plain = factories.make_activity(session, world.team_a, status="open", title="不招募的活动")
    factories.make_attendance(session, plain, world.member_b)
    session.commit()
    auth.login(world.leader_a.phone)
    rows = client.get(f"/activities/{activity.id}/live", headers=HX).get_data(as_text=True).split("<li>")[1:]
    marked = {row.split("</strong>")[0].split("<strong>")[1]: "现场加入" in row for row in rows}
    assert marked == {world.member_a.name: False, world.member_b.name: True}
    # an activity that took no sign-ups marks nobody
    assert "现场加入" not in client.get(f"/activities/{plain.id}/live", headers=HX).get_data(as_text=True)


def test_a_headcount_below_those_admitted_is_named_beside_the_field(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, audience="city", capacity=3, admitted_count=2,
                                       starts_at=utcnow().replace(second=0, microsecond=0) + timedelta(days=2))
    session.commit()
    auth.login(world.leader_a.phone)
    response = client.post(f"/activities/{activity.id}/edit",
                           data=form(session, capacity="1", starts_at=local(activity.starts_at),
                                     ends_at=local(activity.ends_at)))
    assert response.status_code == 400
    assert 'id="capacity-error"' in response.get_data(as_text=True)
    assert "已录用 2 人" in response.get_data(as_text=True)
    assert fresh(session, Activity, activity.id).capacity == 3
