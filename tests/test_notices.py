"""The notice centre: sending, the bell, the list, marking read, reminders (once, even run twice at once), the
calendar file, a team's approval, and what privacy does with notices and sign-ups. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import func
from sqlmodel import select

from volunteer_app import notify
from volunteer_app.db import session_scope
from volunteer_app.models import Activity, Notice, Signup, utcnow
from volunteer_app.notices import reminders
from volunteer_app.notices.reminders import due_reminders, send_reminders
from volunteer_app.notices.render import render_notices
from volunteer_app.notices.service import mark_all_read, unread_count

from . import factories

NOON = datetime(2026, 12, 5, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai, a Saturday


def signup(session, activity, volunteer, status="admitted") -> Signup:
    row = Signup(activity_id=activity.id, volunteer_id=volunteer.id, status=status)
    session.add(row)
    if status == "admitted":
        activity.admitted_count += 1
    elif status == "waitlisted":
        activity.waitlist_count += 1
    session.add(activity)
    session.flush()
    return row


def notices_of(session, volunteer) -> list[Notice]:
    session.commit()  # ends the test's read transaction: see what the requests committed
    session.expire_all()
    return list(session.exec(select(Notice).where(Notice.volunteer_id == volunteer.id).order_by(Notice.id)).all())


@pytest.fixture
def upcoming(session, world):
    """Team A's activity tomorrow at 09:00 Shanghai (a day after NOON minus 3 hours), member_a and leader_a admitted,
    the volunteer waitlisted, member_b declined."""
    activity = factories.make_activity(session, world.team_a, title="周末清扫", starts_at=NOON + timedelta(hours=21),
                                       place="清和社区广场", meeting_point="东门花坛", requirements="手套、水杯",
                                       audience="city", members_only=False, capacity=40)
    signup(session, activity, world.member_a)
    signup(session, activity, world.leader_a)
    signup(session, activity, world.volunteer, "waitlisted")
    signup(session, activity, world.member_b, "declined")
    session.commit()
    return activity


# --- sending and rendering ------------------------------------------------------------------------


def test_send_writes_one_row_and_a_repeated_key_writes_none(app, session, world, upcoming):
    seen = []
    app.config["NOTICE_CHANNELS"] = [seen.append]
    with app.app_context():
        assert notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted",
                           activity_id=upcoming.id, dedupe_key="k1")
        assert not notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted",
                               activity_id=upcoming.id, dedupe_key="k1")
    session.commit()
    assert [n.kind for n in notices_of(session, world.member_a)] == ["signup_admitted"]
    assert [n.kind for n in seen] == ["signup_admitted"]  # the other channels see it once too
    with pytest.raises(ValueError):
        notify.send(session=session, volunteer_id=world.member_a.id, kind="spam")


def test_unread_count_stops_at_the_cap(session, world):
    for _ in range(105):
        notify.send(session=session, volunteer_id=world.member_a.id, kind="join_approved", team_id=world.team_a.id)
    session.commit()
    assert unread_count(session=session, volunteer_id=world.member_a.id) == 100  # "99+"
    assert unread_count(session=session, volunteer_id=world.member_b.id) == 0
    assert mark_all_read(session=session, volunteer_id=world.member_a.id) == 105
    assert unread_count(session=session, volunteer_id=world.member_a.id) == 0


@pytest.mark.parametrize("lang, expected", [
    ("zh_CN", ["“周末清扫”有变动，现为12月6日（周日）09:00–11:00，地点：东门花坛。", "变动：时间、集合地点"]),
    ("en", ["“周末清扫” has changed. It is now Sun 6 Dec 09:00–11:00 at 东门花坛.", "Changed: time, meeting point"]),
])
def test_a_notice_is_rendered_when_read_in_the_readers_language(app, session, world, upcoming, lang, expected):
    notify.send(session=session, volunteer_id=world.member_a.id, kind="activity_changed", activity_id=upcoming.id,
                params={"changed": ["time", "meeting_point", "bogus"]})
    notify.send(session=session, volunteer_id=world.member_a.id, kind="activity_cancelled", activity_id=upcoming.id,
                params={"reason": "<b>大风</b>"})
    notify.send(session=session, volunteer_id=world.member_a.id, kind="join_approved", team_id=world.team_a.id)
    session.commit()
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        changed, cancelled, joined = render_notices(session=session, notices=notices_of(session, world.member_a),
                                                    reader_id=world.member_a.id, now=NOON)
    assert [changed.text, changed.detail] == expected
    assert changed.calendar == f"/activities/{upcoming.id}/calendar.ics"  # admitted and still to come
    assert cancelled.calendar is None and cancelled.detail.endswith("<b>大风</b>")  # escaped by the template
    assert joined.text == ("You are now a member of 清和社区志愿服务队." if lang == "en" else "您已加入清和社区志愿服务队。")
    assert joined.link == "/teams"


def test_every_kind_has_its_words_in_both_languages(app, session, world, upcoming):
    from volunteer_app.notices.render import TEXTS

    assert set(TEXTS) == set(notify.KINDS)
    for kind in notify.KINDS:
        notify.send(session=session, volunteer_id=world.member_a.id, kind=kind,
                    **({"team_id": world.team_a.id} if kind == "join_approved" else {"activity_id": upcoming.id}))
    session.commit()
    for lang in ("zh_CN", "en"):
        with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
            texts = [item.text for item in render_notices(session=session, notices=notices_of(session, world.member_a),
                                                          reader_id=world.member_a.id, now=NOON)]
        assert len(set(texts)) == len(notify.KINDS) and all(texts)
        assert all(("周末清扫" in text) != (kind == "join_approved") for kind, text in zip(notify.KINDS, texts))


# --- the bell and the list over HTTP ----------------------------------------------------------------


def test_the_bell_shows_the_unread_count_on_every_page(client, auth, session, world, upcoming):
    auth.login(world.member_a.phone)
    page = client.get("/").get_data(as_text=True)
    assert 'id="notice-bell"' in page and "通知，没有未读" in page and "bell-count" not in page
    for kind in ("signup_admitted", "reminder_day"):
        notify.send(session=session, volunteer_id=world.member_a.id, kind=kind, activity_id=upcoming.id)
    notify.send(session=session, volunteer_id=world.member_b.id, kind="join_approved", team_id=world.team_b.id)
    session.commit()
    for path in ("/", "/me", "/teams", "/privacy"):
        page = client.get(path).get_data(as_text=True)
        assert "通知，2 条未读" in page and '<span class="bell-count" aria-hidden="true">2</span>' in page, path
    client.set_cookie("lang", "en")
    assert "Notices, 2 unread" in client.get("/").get_data(as_text=True)


def test_the_list_is_mine_newest_first_and_paged(client, auth, session, world, upcoming):
    for number in range(23):
        notify.send(session=session, volunteer_id=world.member_a.id, kind="join_approved", team_id=world.team_a.id)
    notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=upcoming.id)
    notify.send(session=session, volunteer_id=world.member_b.id, kind="signup_declined", activity_id=upcoming.id,
                params={"reason": "名额已满"})
    session.commit()
    auth.login(world.member_a.phone)
    page = client.get("/notices").get_data(as_text=True)
    assert page.count('class="notice unread"') == 20 and "24 条未读" in page
    assert page.index("您已被录用") < page.index("您已加入")  # newest first
    assert "名额已满" not in page  # member_b's notice
    assert f'href="/activities/{upcoming.id}/calendar.ics"' in page
    second = client.get("/notices?page=2").get_data(as_text=True)
    assert second.count('class="notice unread"') == 4 and "第 2 / 2 页" in second
    assert client.get("/notices?page=abc").status_code == 200


def test_marking_read_one_and_all(client, auth, session, world, upcoming):
    notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=upcoming.id)
    notify.send(session=session, volunteer_id=world.member_a.id, kind="join_approved", team_id=world.team_a.id)
    session.commit()
    admitted, joined = notices_of(session, world.member_a)
    auth.login(world.member_a.phone)
    # htmx: the notice swaps in place, the bell and the status out of band
    response = client.post(f"/notices/{admitted.id}/read", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="notice-{admitted.id}" class="notice"' in body
    assert 'id="notice-bell" class="bell has-unread" hx-swap-oob="true"' in body and "通知，1 条未读" in body
    assert "<html" not in body
    first_read = notices_of(session, world.member_a)[0].read_at
    assert first_read is not None
    # again: harmless, the first time stays
    assert client.post(f"/notices/{admitted.id}/read").status_code == 303
    assert notices_of(session, world.member_a)[0].read_at == first_read
    # "Open": read, then to the thing it is about
    response = client.post(f"/notices/{joined.id}/read", data={"go": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/teams"
    session.commit()
    notify.send(session=session, volunteer_id=world.member_a.id, kind="reminder_hour", activity_id=upcoming.id)
    session.commit()
    response = client.post("/notices/read-all", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "全部已读" in response.get_data(as_text=True)
    assert all(n.read_at for n in notices_of(session, world.member_a))
    assert client.post("/notices/read-all").status_code == 303


def test_other_peoples_notices_are_not_found(client, auth, session, world):
    notify.send(session=session, volunteer_id=world.member_b.id, kind="join_approved", team_id=world.team_b.id)
    session.commit()
    theirs = notices_of(session, world.member_b)[0]
    for who in (world.member_a, world.leader_b, world.office):
        auth.login(who.phone)
        assert client.post(f"/notices/{theirs.id}/read").status_code == 404
        assert client.post(f"/notices/{theirs.id}/read", data={"go": "1"}).status_code == 404
        assert client.post(f"/notices/{theirs.id + 1000}/read").status_code == 404
        client.post("/notices/read-all")
        auth.logout()
    assert notices_of(session, world.member_b)[0].read_at is None
    assert client.post(f"/notices/{theirs.id}/read").status_code == 302  # not logged in: log in first


def test_a_leader_approving_a_request_tells_the_person(client, auth, session, world):
    pending = factories.add_member(session, world.team_a, world.volunteer, status="pending")
    rejected = factories.add_member(session, world.team_a, world.member_b, status="pending")
    session.commit()
    auth.login(world.leader_a.phone)
    assert client.post(f"/teams/{world.team_a.id}/members/{pending.id}/approve").status_code in (200, 303)
    assert client.post(f"/teams/{world.team_a.id}/members/{rejected.id}/reject").status_code in (200, 303)
    assert [(n.kind, n.team_id) for n in notices_of(session, world.volunteer)] == [("join_approved", world.team_a.id)]
    assert notices_of(session, world.member_b) == []


# --- reminders --------------------------------------------------------------------------------------


def test_reminders_go_once_the_day_before_and_within_the_hour(session, world, upcoming):
    starts = upcoming.starts_at
    assert send_reminders(session=session, now=starts - timedelta(hours=25)) == 0  # too early
    assert send_reminders(session=session, now=starts - timedelta(hours=23)) == 2  # the two admitted
    assert send_reminders(session=session, now=starts - timedelta(hours=22)) == 0  # sent already
    assert send_reminders(session=session, now=starts - timedelta(minutes=50)) == 2
    assert send_reminders(session=session, now=starts - timedelta(minutes=10)) == 0
    assert send_reminders(session=session, now=starts + timedelta(minutes=1)) == 0  # started: no more
    session.commit()
    assert [n.kind for n in notices_of(session, world.member_a)] == ["reminder_day", "reminder_hour"]
    assert notices_of(session, world.volunteer) == [] and notices_of(session, world.member_b) == []
    # moved to another day: it reminds again; cancelled: never
    upcoming.starts_at, upcoming.ends_at = starts + timedelta(days=2), starts + timedelta(days=2, hours=2)
    session.add(upcoming)
    session.commit()
    assert send_reminders(session=session, now=starts + timedelta(days=1, hours=1)) == 2
    upcoming.status = "cancelled"
    session.add(upcoming)
    session.commit()
    assert send_reminders(session=session, now=starts + timedelta(days=2) - timedelta(minutes=30)) == 0


def test_reminders_in_batches_and_late_admissions_get_the_hour_only(session, world, upcoming):
    starts = upcoming.starts_at
    assert len(due_reminders(session=session, now=starts - timedelta(hours=2))) == 2
    assert send_reminders(session=session, now=starts - timedelta(hours=2), limit=1) == 1
    assert send_reminders(session=session, now=starts - timedelta(hours=2), limit=1) == 1
    assert send_reminders(session=session, now=starts - timedelta(hours=2), limit=1) == 0
    late = factories.make_volunteer(session, "周迟到", phone="13800000011")
    signup(session, upcoming, late)
    session.commit()
    assert send_reminders(session=session, now=starts - timedelta(minutes=30)) == 3
    session.commit()
    assert [n.kind for n in notices_of(session, late)] == ["reminder_hour"]


@pytest.mark.parametrize("race", ["natural", "both_read_before_either_writes"])
def test_two_reminder_runs_at_once_send_each_reminder_once(app, session, world, upcoming, monkeypatch, race):
    for number in range(30):
        person = factories.make_volunteer(session, f"志愿者{number}", phone=f"1380000{number + 100:04d}")
        signup(session, upcoming, person)
    session.commit()
    if race != "natural":  # both runs find every reminder due: the unique key alone must decide
        monkeypatch.setattr(reminders, "_sent_keys", lambda _session, _keys: set())
    engine = app.extensions["db_engine"]
    now = upcoming.starts_at - timedelta(hours=20)
    barrier = threading.Barrier(2)

    def run(_):
        barrier.wait(timeout=30)
        with session_scope(engine) as own:
            return send_reminders(session=own, now=now)

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(run, range(2)))
    assert sum(sent) == 32, sent
    session.expire_all()
    assert session.exec(select(func.count(Notice.id)).where(Notice.kind == "reminder_day")).one() == 32
    assert session.exec(select(func.count(func.distinct(Notice.volunteer_id)))).one() == 32


def test_the_cron_command(runner, session, world):
    activity = factories.make_activity(session, world.team_a, starts_at=utcnow() + timedelta(minutes=40))
    signup(session, activity, world.member_a)
    session.commit()
    result = runner.invoke(args=["notices", "remind"])
    assert result.exit_code == 0 and "1 reminders sent" in result.output
    assert "0 reminders sent" in runner.invoke(args=["notices", "remind"]).output
    assert [n.kind for n in notices_of(session, world.member_a)] == ["reminder_hour"]


# --- the calendar file ------------------------------------------------------------------------------


def test_the_calendar_file_of_an_admitted_activity(client, auth, session, world, upcoming):
    upcoming.meeting_lat, upcoming.meeting_lng = 39.12, 117.2
    session.add(upcoming)
    session.commit()
    auth.login(world.member_a.phone)
    response = client.get(f"/activities/{upcoming.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert f'filename="activity-{upcoming.id}.ics"' in response.headers["Content-Disposition"]
    body = response.get_data()
    calendar = Calendar.from_ical(body)
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"activity-{upcoming.id}@red-vest"
    assert str(event["summary"]) == "周末清扫" and str(event["location"]) == "清和社区广场 · 东门花坛"
    assert event.decoded("dtstart").isoformat() == "2026-12-06T09:00:00+08:00"
    assert event.decoded("dtend").isoformat() == "2026-12-06T11:00:00+08:00"
    assert b"DTSTART;TZID=Asia/Shanghai:20261206T090000" in body and b"BEGIN:VTIMEZONE" in body
    assert "集合地点：东门花坛" in str(event["description"]) or "集合地点: 东门花坛" in str(event["description"])
    assert "手套、水杯" in str(event["description"])
    assert (event["geo"].latitude, event["geo"].longitude) == (39.12, 117.2)
    again = Calendar.from_ical(client.get(f"/activities/{upcoming.id}/calendar.ics").get_data())
    assert str(again.walk("VEVENT")[0]["uid"]) == str(event["uid"])  # stable: the same entry, updated


def test_the_calendar_file_is_for_the_admitted_and_the_teams_leaders_only(client, auth, session, world, upcoming):
    path = f"/activities/{upcoming.id}/calendar.ics"
    assert client.get(path).status_code == 302
    for who, status in ((world.volunteer, 404), (world.member_b, 404), (world.leader_b, 404), (world.office, 404),
                        (world.leader_a, 200), (world.member_a, 200)):
        auth.login(who.phone)
        assert client.get(path).status_code == status, who.name
        auth.logout()
    auth.login(world.member_a.phone)
    assert client.get("/activities/999999/calendar.ics").status_code == 404


# --- privacy ----------------------------------------------------------------------------------------


def test_export_holds_my_signups_and_notices(client, auth, session, world, upcoming):
    notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=upcoming.id)
    notify.send(session=session, volunteer_id=world.member_b.id, kind="signup_declined", activity_id=upcoming.id,
                params={"reason": "名额已满"})
    session.commit()
    auth.login(world.member_a.phone)
    page = client.get("/privacy").get_data(as_text=True)
    assert "1 次活动报名" in page and "1 条通知" in page
    data = json.loads(client.post("/privacy/export/json").get_data(as_text=True))
    assert [(s["activity"], s["status"]) for s in data["signups"]] == [("周末清扫", "admitted")]
    assert [(n["kind"], n["activity"], n["read_at"]) for n in data["notices"]] == [
        ("signup_admitted", "周末清扫", None)]
    assert "名额已满" not in json.dumps(data, ensure_ascii=False)
    table = client.post("/privacy/export/notices.csv").get_data(as_text=True)
    assert table.splitlines()[0] == "\ufeff通知,活动,队伍,详情,发送时间,阅读时间"  # a zh reader's words (privacy/labels.py)
    assert table.splitlines()[1].startswith("已录用,周末清扫,")
    assert client.post("/privacy/export/signups.csv").get_data(as_text=True).count("\r\n") == 2


def test_deleting_an_account_deletes_notices_and_frees_places(client, auth, session, world, upcoming):
    past = factories.make_activity(session, world.team_a, status="closed", starts_at=utcnow() - timedelta(days=3))
    old = signup(session, past, world.volunteer, "no_show")
    old.reason = "上次没来"
    notify.send(session=session, volunteer_id=world.volunteer.id, kind="signup_waitlisted", activity_id=upcoming.id)
    notify.send(session=session, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=upcoming.id)
    session.commit()
    auth.login(world.volunteer.phone)
    response = client.post("/privacy/delete", data={"password": factories.PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    session.expire_all()
    assert notices_of(session, world.volunteer) == [] and len(notices_of(session, world.member_a)) == 1
    statuses = dict(session.exec(select(Signup.activity_id, Signup.status)
                                 .where(Signup.volunteer_id == world.volunteer.id)).all())
    assert statuses == {upcoming.id: "cancelled", past.id: "no_show"}  # the past stays a nameless count
    assert session.exec(select(Signup.reason).where(Signup.volunteer_id == world.volunteer.id)).all() == [None, None]
    activity = session.get(Activity, upcoming.id)
    assert (activity.admitted_count, activity.waitlist_count) == (2, 0)


def test_deleting_an_admitted_person_gives_the_place_to_the_first_in_line(session, world, upcoming, app):
    from volunteer_app.privacy.service import delete_account

    upcoming.capacity = 2  # full: member_a and leader_a admitted, the volunteer first in line
    session.add(upcoming)
    session.commit()
    with app.test_request_context("/"):
        delete_account(session=session, volunteer_id=world.member_a.id, password=factories.PASSWORD)
    session.commit()
    session.expire_all()
    activity = session.get(Activity, upcoming.id)
    assert (activity.admitted_count, activity.waitlist_count) == (2, 0)
    assert session.exec(select(Signup.status).where(Signup.volunteer_id == world.member_a.id)).one() == "cancelled"
    assert session.exec(select(Signup.status).where(Signup.volunteer_id == world.volunteer.id)).one() == "admitted"
    assert [n.kind for n in notices_of(session, world.volunteer)] == ["signup_promoted"]

