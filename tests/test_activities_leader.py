"""The leader's phone (issue 17, points 1–3 for activities): today's activities first on the home page, the
full-screen code, creating an activity open at once, the closing dialog (credit until now or until the planned
end), and the retro form's search and "same minutes for all". Domain through plain calls, pages through the
HTTP client, on both backends."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from volunteer_app.activities import retro, service
from volunteer_app.activities.agenda import leader_agenda
from volunteer_app.activities.closing import close_preview
from volunteer_app.activities.forms import to_local_naive
from volunteer_app.activities.service import ActivityError
from volunteer_app.models import Activity, Attendance, AuditEvent, Team, utcnow

from . import factories


def fresh(session):
    session.commit()
    session.expire_all()


def local(dt):
    return to_local_naive(dt).strftime("%Y-%m-%dT%H:%M")


def form(theme_id, start, **overrides):
    data = {"theme": str(theme_id), "title": "早高峰劝导", "place": "人民路口", "starts_at": local(start),
            "ends_at": local(start + timedelta(hours=2)), "capacity": "", "members_only": "y",
            "qr_mode": "rotating", "lat": "", "lng": "", "radius_m": ""}
    data.update(overrides)
    return data


def running(session, world, *, started_minutes_ago=30, hours=2):
    """An open activity of team A that started a while ago, with member A checked in at its start."""
    start = utcnow().replace(microsecond=0) - timedelta(minutes=started_minutes_ago)
    activity = factories.make_activity(session, world.team_a, status="open", starts_at=start, hours=hours)
    session.add(Attendance(activity_id=activity.id, volunteer_id=world.member_a.id, checked_in_at=start,
                           method="self_scan"))
    session.commit()
    return activity


# --- closing: credit until now or until the planned end ------------------------------------------


@pytest.mark.parametrize("credit_until, expected", [("now", 30), ("end", 120)])
def test_close_credits_those_still_in_until_now_or_the_planned_end(session, world, credit_until, expected):
    activity = running(session, world)
    at = activity.starts_at + timedelta(minutes=30)
    summary = service.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id, at=at,
                                     credit_until=credit_until)
    attendance = session.exec(select(Attendance)).one()
    assert summary.auto_checked_out == 1 and summary.total_minutes == expected
    assert attendance.credited_minutes == expected and attendance.checkout_auto
    assert attendance.checked_out_at == (at if credit_until == "now" else activity.ends_at)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "activity.close")).one()
    assert json.loads(event.data)["credit_until"] == credit_until


def test_close_refuses_an_unknown_credit_choice_and_changes_nothing(session, world):
    activity = running(session, world)
    with pytest.raises(ActivityError) as excinfo:
        service.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                               credit_until="tomorrow")
    assert excinfo.value.code == "bad_credit"
    assert session.get(Activity, activity.id).status == "open"


def test_close_preview_counts_who_is_in_and_warns_only_when_more_than_15_minutes_early(session, world):
    activity = running(session, world)
    early = close_preview(session=session, activity=activity, at=activity.ends_at - timedelta(minutes=16))
    assert (early.total, early.still_in, early.early, early.choice) == (1, 1, True, True)
    late = close_preview(session=session, activity=activity, at=activity.ends_at - timedelta(minutes=15))
    assert (late.early, late.choice) == (False, True)
    after = close_preview(session=session, activity=activity, at=activity.ends_at + timedelta(minutes=5))
    assert (after.early, after.choice) == (False, False)


def test_closing_dialog_over_http(client, auth, session, world):
    activity = running(session, world)
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}/close").get_data(as_text=True)
    assert re.search(r'id="still-in"><strong>1</strong>', page)
    assert 'id="early-warning"' in page and 'value="end"' in page and 'value="now" checked' in page
    response = client.post(f"/activities/{activity.id}/close", data={"credit_until": "end"})
    assert response.status_code == 303
    fresh(session)
    assert session.get(Activity, activity.id).total_minutes == 120
    # closed: the dialog sends back to the activity page
    assert client.get(f"/activities/{activity.id}/close").status_code == 302


def test_closing_dialog_without_anyone_in_offers_no_choice(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open",
                                       starts_at=utcnow() - timedelta(hours=2), hours=2.1)
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}/close").get_data(as_text=True)
    assert re.search(r'id="still-in"><strong>0</strong>', page)
    assert 'name="credit_until"' not in page and 'id="early-warning"' not in page


def test_the_close_button_is_a_link_to_the_dialog_far_from_manual_check_in(client, auth, session, world):
    activity = running(session, world)
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    close = page.index('id="close-activity"')
    assert page.index('id="manual"') < page.index('id="photos"') < close
    assert re.search(r'<a href="/activities/%d/close"[^>]*id="close-activity"' % activity.id, page)


# --- opening: at creation, and from the home page --------------------------------------------------


def test_create_open_now_opens_through_open_activity(session, world):
    now = utcnow()
    activity = service.create_activity(
        session=session, team_id=world.team_a.id, actor_id=world.leader_a.id, theme_id=factories.theme(session).id,
        title="t", place="p", starts_at=now + timedelta(minutes=50), ends_at=now + timedelta(hours=2), now=now,
        open_now=True)
    assert activity.status == "open" and activity.opened_at is not None
    assert session.exec(select(AuditEvent.action)).all() == ["activity.open"]


def test_create_open_now_refuses_an_activity_that_does_not_start_now(session, world):
    now = utcnow()
    with pytest.raises(ActivityError) as excinfo:
        service.create_activity(
            session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
            theme_id=factories.theme(session).id, title="t", place="p", starts_at=now + timedelta(minutes=61),
            ends_at=now + timedelta(hours=3), now=now, open_now=True)
    assert excinfo.value.code == "not_starting_now"
    assert session.exec(select(Activity)).all() == []


def test_create_open_now_keeps_the_suspended_team_rule(session, world):
    team = session.get(Team, world.team_a.id)
    team.status = "suspended"
    session.flush()
    with pytest.raises(ActivityError) as excinfo:
        service.create_activity(session=session, team_id=team.id, actor_id=world.leader_a.id,
                                theme_id=factories.theme(session).id, title="t", place="p", starts_at=utcnow(),
                                ends_at=utcnow() + timedelta(hours=1), open_now=True)
    assert excinfo.value.code == "team_suspended"


def test_create_and_open_over_http(client, auth, session, world):
    theme_id = factories.theme(session).id
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}/activities/new").get_data(as_text=True)
    assert 'name="open_now"' in page
    later = utcnow() + timedelta(hours=5)
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=dict(form(theme_id, later), open_now="1"))
    assert response.status_code == 400 and "一小时内开始" in response.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(Activity)).all() == []
    soon = utcnow() + timedelta(minutes=20)
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=dict(form(theme_id, soon), open_now="1"))
    assert response.status_code == 303
    fresh(session)
    assert session.exec(select(Activity)).one().status == "open"


def test_leader_agenda_lists_open_then_today_and_says_which_may_open(session, world):
    now = utcnow().replace(microsecond=0)
    day_start, day_end = now - timedelta(hours=3), now + timedelta(hours=6)
    open_one = factories.make_activity(session, world.team_a, status="open", title="进行中",
                                       starts_at=now - timedelta(hours=2))
    soon = factories.make_activity(session, world.team_a, title="马上开始", starts_at=now + timedelta(minutes=30))
    later = factories.make_activity(session, world.team_a, title="稍后", starts_at=now + timedelta(hours=3))
    factories.make_activity(session, world.team_a, title="明天", starts_at=now + timedelta(hours=7))
    factories.make_activity(session, world.team_a, title="已结束未开启", starts_at=now - timedelta(hours=2.5), hours=1)
    factories.make_activity(session, world.team_b, status="open", title="别的队")
    agenda = leader_agenda(session=session, team_ids=[world.team_a.id], day_start=day_start, day_end=day_end, at=now)
    assert [(a.id, openable) for a, _team, openable in agenda] == [(open_one.id, False), (soon.id, True),
                                                                   (later.id, False)]


def test_leader_home_puts_todays_activities_and_their_codes_first(client, auth, session, world):
    now = utcnow()
    open_one = factories.make_activity(session, world.team_a, status="open", title="早高峰劝导")
    soon = factories.make_activity(session, world.team_a, title="社区清扫", starts_at=now + timedelta(minutes=20))
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get("/").get_data(as_text=True)
    today = page.index('id="open-now"')
    assert today < page.index('id="led-teams"') < page.index('id="my-totals"')
    assert re.search(r'href="/activities/%d/screen" role="button" class="big show-qr"' % open_one.id, page)
    assert f'action="/activities/{soon.id}/open"' in page and 'name="then" value="screen"' in page
    for path in (f"/teams/{world.team_a.id}/activities/new", f"/teams/{world.team_a.id}/activities"):
        assert re.search(r'<a href="%s" role="button"' % re.escape(path), page)
    response = client.post(f"/activities/{soon.id}/open", data={"then": "screen"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/activities/{soon.id}/screen")


def test_home_without_leading_has_no_leader_part(client, auth, world):
    auth.login(world.member_a.phone)
    page = client.get("/").get_data(as_text=True)
    assert 'id="open-now"' not in page and "leader.css" not in page


def test_full_screen_code_page(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    scheduled = factories.make_activity(session, world.team_a)
    session.commit()
    auth.login(world.leader_a.phone)
    response = client.get(f"/activities/{activity.id}/screen")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-wake-lock' in page and 'id="qr"' in page and f'hx-get="/activities/{activity.id}/qr"' in page
    assert f'href="/activities/{activity.id}"' in page and 'id="exit-screen"' in page
    assert "<script>" not in page and " style=" not in page and "onclick" not in page
    assert client.get(f"/activities/{scheduled.id}/screen").status_code == 302
    auth.logout()
    auth.login(world.leader_b.phone)
    assert client.get(f"/activities/{activity.id}/screen").status_code == 404


# --- the retro form: the same minutes for all, search without script -------------------------------


def test_retro_same_minutes_fill_the_rows_left_empty(session, world):
    second = factories.make_volunteer(session, "周小刚")
    factories.add_member(session, session.get(Team, world.team_a.id), second)
    start = utcnow() - timedelta(days=1)
    activity = retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                               theme_id=factories.theme(session).id, title="t", place="p", starts_at=start,
                               ends_at=start + timedelta(hours=2), attendees=[(world.member_a.id, None),
                                                                             (second.id, 45)], same_minutes=90)
    minutes = dict(session.exec(select(Attendance.volunteer_id, Attendance.credited_minutes)
                                .where(Attendance.activity_id == activity.id)).all())
    assert minutes == {world.member_a.id: 90, second.id: 45}


def test_retro_without_any_minutes_is_refused(session, world):
    start = utcnow() - timedelta(days=1)
    with pytest.raises(ActivityError) as excinfo:
        retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                        theme_id=factories.theme(session).id, title="t", place="p", starts_at=start,
                        ends_at=start + timedelta(hours=2), attendees=[(world.member_a.id, None)])
    assert excinfo.value.code == "minutes_required"


def retro_form(session, world, **overrides):
    day = to_local_naive(utcnow() - timedelta(days=1)).date()
    data = {"theme": str(factories.theme(session).id), "title": "社区清扫", "place": "清和社区",
            "day": day.isoformat(), "start": "09:00", "end": "11:00"}
    data.update(overrides)
    return data


def test_retro_same_minutes_over_http(client, auth, session, world):
    data = retro_form(session, world, attendee=[str(world.member_a.id), str(world.leader_a.id)],
                      same_minutes="100", **{f"minutes_{world.leader_a.id}": "30"})
    session.commit()
    auth.login(world.leader_a.phone)
    assert client.post(f"/teams/{world.team_a.id}/retro", data=data).status_code == 303
    fresh(session)
    minutes = dict(session.exec(select(Attendance.volunteer_id, Attendance.credited_minutes)).all())
    assert minutes == {world.member_a.id: 100, world.leader_a.id: 30}


def test_retro_search_without_script_keeps_what_was_typed(client, auth, session, world):
    team = session.get(Team, world.team_a.id)
    for i in range(30):
        factories.add_member(session, team, factories.make_volunteer(session, f"队员{i:02d}", phone=f"1370000{i:04d}"))
    data = retro_form(session, world, attendee=[str(world.member_a.id)], same_minutes="60", q="队员0",
                      search="1", **{f"minutes_{world.member_a.id}": "45"})
    session.commit()
    auth.login(world.leader_a.phone)
    full = client.get(f"/teams/{world.team_a.id}/retro").get_data(as_text=True)
    assert full.count('name="attendee"') == 32
    response = client.post(f"/teams/{world.team_a.id}/retro", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # a search, not a failed submit
    rows = re.findall(r'<li data-name="([^"]+)"', page)
    assert rows == sorted(rows) and set(rows) == {f"队员{i:02d}" for i in range(10)} | {"赵小红"}  # + the picked
    assert 'value="社区清扫"' in page and re.search(r'name="minutes_%d"[^>]*value="45"' % world.member_a.id, page)
    assert 'id="same-minutes" name="same_minutes"' in page and 'value="60"' in page
    fresh(session)
    assert session.exec(select(Activity)).all() == []
    by_tail = client.get(f"/teams/{world.team_a.id}/retro?q=0007").get_data(as_text=True)
    assert re.findall(r'<li data-name="([^"]+)"', by_tail) == ["队员07"]


def test_a_refused_retro_submit_lists_every_member_again(client, auth, session, world):
    """A search term left in the box must not hide the rest of the roster after a refused submit."""
    team = session.get(Team, world.team_a.id)
    factories.add_member(session, team, factories.make_volunteer(session, "周小刚"))
    data = retro_form(session, world, title="", attendee=[str(world.member_a.id)], same_minutes="60", q="赵")
    session.commit()
    auth.login(world.leader_a.phone)
    response = client.post(f"/teams/{world.team_a.id}/retro", data=data)
    assert response.status_code == 400
    assert set(re.findall(r'<li data-name="([^"]+)"', response.get_data(as_text=True))) == {"李队长", "赵小红", "周小刚"}
