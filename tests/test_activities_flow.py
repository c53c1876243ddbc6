"""The leader's activity pages and the volunteer's scan, through the HTTP client, on both backends."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities.forms import to_local_naive
from volunteer_app import tokens
from volunteer_app.models import Activity, Attendance, AuditEvent, ScanRefusal, Volunteer, utcnow

from . import factories

SECRET = "test-secret-key-not-for-production"


def fresh(session):
    """End the test session's read transaction so it sees what the requests committed."""
    session.commit()
    session.expire_all()


def local(dt):
    return to_local_naive(dt).strftime("%Y-%m-%dT%H:%M")


def activity_form(theme_id, **overrides):
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)
    data = {"theme": str(theme_id), "title": "路口文明劝导", "place": "人民路口", "starts_at": local(start),
            "ends_at": local(start + timedelta(hours=2)), "capacity": "20", "members_only": "y",
            "qr_mode": "rotating", "lat": "", "lng": "", "radius_m": ""}
    data.update(overrides)
    return data


def rotating(activity, at=None):
    return tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret, at=at)


def test_leader_creates_opens_runs_and_closes(client, auth, session, world):
    theme_id = factories.theme(session).id
    session.commit()  # end the read transaction: the test session must see what the requests commit
    auth.login(world.leader_a.phone)
    assert client.get(f"/teams/{world.team_a.id}/activities/new").status_code == 200
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=activity_form(theme_id))
    assert response.status_code == 303, response.get_data(as_text=True)
    session.commit()
    fresh(session)
    activity = session.exec(select(Activity)).one()
    assert activity.status == "scheduled" and activity.capacity == 20
    assert client.get(f"/activities/{activity.id}/edit").status_code == 200
    response = client.post(f"/activities/{activity.id}/edit", data=activity_form(theme_id, title="新标题"))
    assert response.status_code == 303
    assert client.post(f"/activities/{activity.id}/open").status_code == 303
    fresh(session)
    assert session.get(Activity, activity.id).status == "open"
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert 'id="qr"' in page and "新标题" in page
    src = re.search(r'id="qr" src="([^"]+)"', page).group(1)
    png = client.get(src)
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    fragment = client.get(f"/activities/{activity.id}/qr", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="qr-box"') and "<html" not in fragment
    assert client.get(f"/activities/{activity.id}/live").status_code == 200
    assert client.get(f"/teams/{world.team_a.id}/activities").status_code == 200
    assert client.get(f"/activities/{activity.id}/poster").status_code == 200
    assert client.get(f"/activities/{activity.id}/poster.png").data[:4] == b"\x89PNG"

    # a member scans the code on the leader's screen
    token = re.search(r"/qr/([^\"/]+)\.png", src).group(1)
    auth.logout()
    auth.login(world.member_a.phone)
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert 'value="in"' in page
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    again = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}, follow_redirects=True)
    assert "已签到" in again.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 1
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert 'value="out"' in page

    auth.logout()
    auth.login(world.leader_a.phone)
    live = client.get(f"/activities/{activity.id}/live").get_data(as_text=True)
    assert re.search(r'id="live-count">1<', live)
    assert client.post(f"/activities/{activity.id}/close").status_code == 303
    fresh(session)
    closed = session.get(Activity, activity.id)
    assert closed.status == "closed" and closed.attendee_count == 1
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert 'id="summary"' in page


def test_form_errors_are_shown_beside_the_fields(client, auth, session, world):
    theme_id = factories.theme(session).id
    session.commit()  # end the read transaction: the test session must see what the requests commit
    auth.login(world.leader_a.phone)
    start = utcnow().replace(second=0, microsecond=0)
    bad = activity_form(theme_id, title="", ends_at=local(start - timedelta(hours=1)), starts_at=local(start),
                        lat="NaN", lng="", radius_m="5", capacity="-3")
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "field-error" in page and "结束" in page
    long = activity_form(theme_id, ends_at=local(start + timedelta(days=3)), starts_at=local(start))
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=long)
    assert response.status_code == 400 and "24" in response.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(func.count(Activity.id))).one() == 0


@pytest.mark.parametrize("path, method", [
    ("/teams/{team}/activities", "get"), ("/teams/{team}/activities/new", "get"), ("/activities/{act}", "get"),
    ("/activities/{act}/edit", "get"), ("/activities/{act}/open", "post"), ("/activities/{act}/close", "post"),
    ("/activities/{act}/cancel", "post"), ("/activities/{act}/qr", "get"), ("/activities/{act}/live", "get"),
    ("/activities/{act}/poster", "get"), ("/activities/{act}/poster.png", "get"), ("/activities/{act}/roster?q=赵", "get"),
    ("/activities/{act}/manual", "post"), ("/activities/{act}/regenerate", "post"), ("/teams/{team}/retro", "get"),
    ("/activities/{act}/photos", "post"), ("/activities/{act}/add-missed", "post"),
])
@pytest.mark.parametrize("who", ["leader_b", "member_a", "volunteer"])
def test_strangers_get_404(client, auth, session, world, path, method, who):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(getattr(world, who).phone)
    url = path.format(team=world.team_a.id, act=activity.id)
    response = getattr(client, method)(url, data={"reason": "x", "volunteer": str(world.member_a.id)})
    # A member sees the team's coming activities (issue 14; the member's list, with no leader's controls).
    expected = 200 if (who, path) == ("member_a", "/teams/{team}/activities") else 404
    assert response.status_code == expected
    if expected == 200:
        assert "/activities/new" not in response.get_data(as_text=True)


def test_office_sees_an_activity_but_a_district_office_elsewhere_does_not(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="closed")
    session.commit()
    auth.login(world.office.phone)
    assert client.get(f"/activities/{activity.id}").status_code == 200
    auth.logout()
    auth.login(world.office_district2.phone)
    assert client.get(f"/activities/{activity.id}").status_code == 404


def test_anonymous_scan_keeps_the_original_time_through_login(client, session, world, auth):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    token = rotating(activity)
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and "login" in page.get_data(as_text=True)
    with client.session_transaction() as http:
        pending = http["pending_scan"]
        assert pending["token"] == token
        # pretend the login took 3 minutes: the token is judged by the scan time, not now
        pending["scanned_at"] -= 0
        http["pending_scan"] = pending
    response = auth.login(world.member_a.phone)
    assert response.headers["Location"].endswith(f"/c/{token}")
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 303
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 1


def kept_scan(client, session, world, auth, minutes_ago: int):
    """A member logged in whose session keeps a scan of an open activity's code made minutes_ago (with the
    token shown then): (activity, token)."""
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    scanned = utcnow() - timedelta(minutes=minutes_ago)
    token = rotating(activity, at=scanned)
    auth.login(world.member_a.phone)
    with client.session_transaction() as http:
        http["pending_scan"] = {"token": token, "scanned_at": scanned.timestamp()}
    return activity, token


def test_a_scan_kept_longer_than_ten_minutes_is_judged_now(client, session, world, auth):
    activity, token = kept_scan(client, session, world, auth, minutes_ago=11)
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 410
    assert "过期" in response.get_data(as_text=True)


def test_a_recent_pending_scan_lets_an_older_token_through(client, session, world, auth):
    activity, token = kept_scan(client, session, world, auth, minutes_ago=4)
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 303


def test_a_check_in_after_a_kept_scan_answers_without_a_new_cookie(client, session, world, auth):
    """The kept scan is not dropped from the session (that would re-sign and resend the cookie on every
    check-in of a day of action); the attendance marks it used."""
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    token = rotating(activity)
    assert client.get(f"/c/{token}").status_code == 200
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    with client.session_transaction() as http:
        assert http["pending_scan"]["token"] == token


def test_a_used_kept_scan_does_not_serve_a_later_check_out(client, session, world, auth):
    """Checked in with a scan kept 4 minutes ago: the same page's check-out is judged now, when its token has
    expired (as before the check-in used it), and so is a new look at the same code."""
    activity, token = kept_scan(client, session, world, auth, minutes_ago=4)
    assert client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}).status_code == 303
    again = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}, follow_redirects=True)
    assert "已签到" in again.get_data(as_text=True)  # a repeat is told it is in, by the kept scan's time
    out = client.post(f"/c/{token}", data={"action": "out", "activity": str(activity.id)})
    assert out.status_code == 410 and "过期" in out.get_data(as_text=True)
    assert "<h1>未签退</h1>" in out.get_data(as_text=True)  # the page says what was refused
    page = client.get(f"/c/{token}")
    assert page.status_code == 410 and "<h1>扫码未成功</h1>" in page.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(Attendance)).one().checked_out_at is None


@pytest.mark.parametrize("kind, status, code", [
    ("expired", 410, "token_expired"), ("garbled", 400, "bad_token"), ("other", 409, "wrong_activity"),
    ("scheduled", 409, "not_open"), ("closed", 409, "closed"), ("cancelled", 409, "cancelled"),
    ("stranger", 403, "not_member"),
])
def test_refused_posts_are_translated_and_counted(client, auth, session, world, kind, status, code):
    activity = factories.make_activity(session, world.team_a, status="open")
    other = factories.make_activity(session, world.team_a, status="open", title="另一场")
    if kind in ("scheduled", "closed", "cancelled"):
        activity.status = kind
    session.commit()
    token = rotating(activity)
    expected = activity.id
    phone = world.member_a.phone
    if kind == "expired":
        token = rotating(activity, at=utcnow() - timedelta(minutes=5))
    elif kind == "garbled":
        token = token[:-1] + ("B" if token[-1] != "B" else "C")
    elif kind == "other":
        expected = other.id
    elif kind == "stranger":
        phone = world.volunteer.phone
    auth.login(phone)
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(expected)})
    assert response.status_code == status
    assert 'id="refusal"' in response.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(ScanRefusal.code)).all() == [code]
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 0


def test_get_never_writes_and_the_page_reports_its_refusal(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    token = rotating(activity, at=utcnow() - timedelta(minutes=5))
    auth.login(world.member_a.phone)
    page = client.get(f"/c/{token}")
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "data-report-url" in html
    fresh(session)
    assert session.exec(select(func.count(ScanRefusal.id))).one() == 0
    report = re.search(r'data-report-url="([^"]+)"', html).group(1)
    assert client.post(report).status_code == 204
    fresh(session)
    assert session.exec(select(ScanRefusal.code)).all() == ["token_expired"]
    # a valid token reported as "refused" is not counted: the server derives the code itself
    good = rotating(activity)
    assert client.post(f"/c/{good}/refusal").status_code == 204
    fresh(session)
    assert session.exec(select(func.count(ScanRefusal.id))).one() == 1


@pytest.mark.parametrize("token", ["", "%00", "x" * 3000, "😀", "r1.1.\u200b", "12", "r1.1.AAAAAAAAAAAAAAAA=="])
def test_garbage_urls_get_a_page_not_a_500(client, world, token):
    response = client.get(f"/c/{token}")
    assert response.status_code in (400, 404)


def test_personal_code_for_a_leader_and_for_anyone_else(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", title="敬老院探访")
    session.commit()
    auth.login(world.member_a.phone)
    png = client.get("/me/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    token = tokens.personal_token(secret_key=SECRET, volunteer_id=world.member_a.id, session_version=1)
    page = client.get(f"/v/{token}").get_data(as_text=True)  # the volunteer (not a leader) sees nothing personal
    assert "赵小红" not in page and "13800000003" not in page
    auth.logout()
    # The code names the session version, which the logout renewed: the code shown before it names nobody now.
    stale = token
    fresh(session)
    version = session.get(Volunteer, world.member_a.id).session_version
    token = tokens.personal_token(secret_key=SECRET, volunteer_id=world.member_a.id, session_version=version)
    assert "赵小红" not in client.get(f"/v/{token}").get_data(as_text=True)
    auth.login(world.leader_b.phone)  # a leader of another team
    assert "赵小红" not in client.get(f"/v/{token}").get_data(as_text=True)
    auth.logout()
    auth.login(world.leader_a.phone)
    assert "赵小红" not in client.get(f"/v/{stale}").get_data(as_text=True)
    page = client.get(f"/v/{token}").get_data(as_text=True)
    assert "赵小红" in page and "敬老院探访" in page and "138****0003" in page and "13800000003" not in page
    response = client.post(f"/v/{token}", data={"activity": str(activity.id), "action": "in"})
    assert response.status_code == 303
    fresh(session)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.method == "leader_scan" and attendance.recorded_by_id == world.leader_a.id
    # another leader's activity id in the hidden field: 404
    other = factories.make_activity(session, world.team_b, status="open")
    session.commit()
    assert client.post(f"/v/{token}", data={"activity": str(other.id)}).status_code == 404


def test_bumping_the_session_version_revokes_the_personal_code(client, auth, session, world):
    factories.make_activity(session, world.team_a, status="open")
    token = tokens.personal_token(secret_key=SECRET, volunteer_id=world.member_a.id, session_version=1)
    world.member_a.session_version = 2
    session.add(world.member_a)
    session.commit()
    auth.login(world.leader_a.phone)
    response = client.get(f"/v/{token}")
    assert response.status_code == 404 and "赵小红" not in response.get_data(as_text=True)


def test_manual_check_in_by_name_or_phone_tail(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.leader_a.phone)
    found = client.get(f"/activities/{activity.id}/roster?q=0003", headers={"HX-Request": "true"})
    assert "赵小红" in found.get_data(as_text=True) and "138****0003" in found.get_data(as_text=True)
    assert "赵小红" in client.get(f"/activities/{activity.id}/roster?q=小红").get_data(as_text=True)
    assert "孙志愿" not in client.get(f"/activities/{activity.id}/roster?q=0005").get_data(as_text=True)
    assert "钱小明" not in client.get(f"/activities/{activity.id}/roster?q=%").get_data(as_text=True)
    response = client.post(f"/activities/{activity.id}/manual", data={"volunteer": str(world.member_a.id)})
    assert response.status_code == 303
    fresh(session)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.method == "leader_manual"
    # someone outside the team cannot be checked in to a members-only activity
    response = client.post(f"/activities/{activity.id}/manual", data={"volunteer": str(world.member_b.id)})
    assert response.status_code == 404


def test_cancel_needs_a_reason(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a)
    session.commit()
    auth.login(world.leader_a.phone)
    client.post(f"/activities/{activity.id}/cancel", data={"reason": "   "})
    fresh(session)
    assert session.get(Activity, activity.id).status == "scheduled"
    client.post(f"/activities/{activity.id}/cancel", data={"reason": "暴雨"})
    fresh(session)
    cancelled = session.get(Activity, activity.id)
    assert cancelled.status == "cancelled" and cancelled.status_reason == "暴雨"
    fresh(session)
    assert session.exec(select(AuditEvent.action)).all() == ["activity.cancel"]


def test_leader_home_links_to_the_team_activities_and_the_open_one(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", title="早高峰劝导")
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get("/").get_data(as_text=True)
    assert f"/teams/{world.team_a.id}/activities" in page
    assert 'id="open-now"' in page and f"/activities/{activity.id}" in page


def test_too_many_attempts_is_refused_and_counted(limited_config, client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    good = rotating(activity)
    token = good[:-1] + ("B" if good[-1] != "B" else "C")  # a garbled code, tried again and again
    codes = [client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}).status_code
             for _ in range(30)]
    refused = client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert codes == [400] * 30 and refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60  # asked of the limiter only on a refusal
    assert "X-RateLimit-Remaining" not in refused.headers
    fresh(session)
    assert session.exec(select(func.count(ScanRefusal.id)).where(ScanRefusal.code == "too_many_attempts")).one() == 1
    assert session.exec(select(func.count(ScanRefusal.id)).where(ScanRefusal.code == "bad_token")).one() == 30


def test_poster_of_a_future_activity_can_be_printed_ahead(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, starts_at=utcnow() + timedelta(days=2), qr_mode="poster")
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}/poster").get_data(as_text=True)
    src = re.search(r'id="qr" src="([^"]+)"', page).group(1)
    assert client.get(src).data[:4] == b"\x89PNG"
    old = rotating(activity, at=utcnow() - timedelta(minutes=5))
    assert client.get(f"/activities/{activity.id}/qr/{old}.png").status_code == 404
    assert client.get(f"/activities/{activity.id}/qr/garbage.png").status_code == 404


@pytest.mark.parametrize("lat, lng, acc, expected", [
    ("39.9", "116.4", "20", "inside"), ("39.95", "116.4", "20", "outside"), ("NaN", "116.4", "20", "unknown"),
    ("Infinity", "116.4", "20", "unknown"), ("-inf", "1", "1", "unknown"), ("北纬", "116.4", "20", "unknown"),
    ("0", "0", "10", "outside"), ("39.9", "116.4", "0", "unknown"), ("39.9", "116.4", "-5", "unknown"),
    ("39.9", "116.4", "100000", "unknown"), ("", "", "", "unknown"), ("1" * 5000, "116.4", "20", "unknown"),
])
def test_position_sent_with_the_button_is_kept_as_a_verdict(client, auth, session, world, lat, lng, acc, expected):
    activity = factories.make_activity(session, world.team_a, status="open", lat=39.9, lng=116.4, radius_m=300)
    session.commit()
    auth.login(world.member_a.phone)
    response = client.post(f"/c/{rotating(activity)}", data={"action": "in", "activity": str(activity.id),
                                                              "lat": lat, "lng": lng, "acc": acc})
    assert response.status_code == 303
    fresh(session)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.geo_status == expected


@pytest.mark.parametrize("field, value", [
    ("starts_at", "not a date"), ("starts_at", "2026-13-45T99:99"), ("ends_at", ""), ("theme", "999999"),
    ("theme", "abc"), ("capacity", "1e9"), ("radius_m", "-1"), ("lat", "Infinity"), ("qr_mode", "laser"),
    ("title", "x" * 10_000),
])
def test_bad_activity_fields_are_named_not_a_500(client, auth, session, world, field, value):
    theme_id = factories.theme(session).id
    session.commit()
    auth.login(world.leader_a.phone)
    data = activity_form(theme_id, **{field: value})
    if field in ("lat", "radius_m"):
        data.update({"lat": data["lat"] or "39.9", "lng": "116.4", "radius_m": data["radius_m"] or "100"})
    response = client.post(f"/teams/{world.team_a.id}/activities/new", data=data)
    assert response.status_code == 400
    assert "field-error" in response.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(func.count(Activity.id))).one() == 0
