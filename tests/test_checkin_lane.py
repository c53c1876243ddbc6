"""The check-in lane (checkin/lane.py) answers only a plain new check-in, exactly as Flask would; everything else
reaches Flask with the request intact. On both backends, with CSRF on, as a phone does it: GET the scan page
(the kept scan, the device cookie, the CSRF token), then POST its button.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select
from werkzeug.middleware.proxy_fix import ProxyFix

from volunteer_app.checkin import lane
from volunteer_app.models import Attendance, ScanRefusal, Volunteer, utcnow

from . import factories
from .test_activities_flow import fresh, rotating

HIDDEN = re.compile(r'name="(csrf_token|activity|action)"[^>]*?value="([^"]*)"')


@pytest.fixture
def make_app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    built = []

    def _make(**overrides):
        from volunteer_app import create_app

        application = create_app({**app_config, "WTF_CSRF_ENABLED": True, **overrides})
        built.append(application)
        return application

    yield _make
    for application in built:
        application.extensions["db_engine"].dispose()


class Phone:
    """One browser: logs in, scans, taps the button. `reached_flask` lists the requests the lane handed on."""

    def __init__(self, app, volunteer, *, base_url="http://localhost", **login_extra):
        self.app = app
        self.client = app.test_client()
        self.base_url = base_url
        self.reached_flask = reaching_flask(app) if _lane_of(app) is not None else []
        page = self.client.get("/login", base_url=base_url)
        token = HIDDEN.search(page.get_data(as_text=True)).group(2)
        response = self.client.post("/login", base_url=base_url, headers=self.same_site,
                                    data={"phone": volunteer.phone, "password": factories.PASSWORD,
                                          "csrf_token": token, **login_extra})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        self.reached_flask.clear()

    @property
    def same_site(self) -> dict:
        return {"Referer": f"{self.base_url}/"} if self.base_url.startswith("https") else {}

    def scan(self, token: str) -> dict:
        """GET the scanned code; the button's hidden fields."""
        page = self.client.get(f"/c/{token}", base_url=self.base_url)
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        return dict(HIDDEN.findall(page.get_data(as_text=True)))

    def tap(self, token: str, fields: dict, **kwargs):
        self.reached_flask.clear()
        headers = {**self.same_site, **kwargs.pop("headers", {})}
        return self.client.post(f"/c/{token}", base_url=self.base_url, data=fields, headers=headers, **kwargs)


def reaching_flask(app) -> list[str]:
    """From now on, "METHOD /path" of every request app's check-in lane hands on to Flask (the list returned)."""
    checkin_lane = _lane_of(app)
    assert checkin_lane is not None, "the check-in lane is not installed"
    reached: list[str] = []
    inner = checkin_lane.wsgi_app

    def counted(environ, start_response):
        reached.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return inner(environ, start_response)

    checkin_lane.wsgi_app = counted
    return reached


def _lane_of(app):
    wsgi = app.wsgi_app
    wsgi = wsgi.app if isinstance(wsgi, ProxyFix) else wsgi
    return wsgi if isinstance(wsgi, lane.CheckinLane) else None


def attendances(session, **where) -> list[Attendance]:
    fresh(session)
    return session.exec(select(Attendance).where(*(getattr(Attendance, k) == v for k, v in where.items()))).all()


@pytest.fixture
def scene(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", lat=31.2, lng=121.4, radius_m=300)
    other = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    return activity, other


# --- it is there, and only while it knows the app ------------------------------------------------


def test_the_lane_stands_in_front_of_flask_behind_the_proxy_fix(make_app):
    app = make_app()
    assert lane.unreviewed_hooks(app) == {}
    assert isinstance(app.wsgi_app, lane.CheckinLane)
    proxied = make_app(TRUSTED_PROXIES=1)
    assert isinstance(proxied.wsgi_app, ProxyFix) and isinstance(proxied.wsgi_app.app, lane.CheckinLane)
    assert _lane_of(make_app(CHECKIN_LANE=False)) is None


def test_a_request_hook_the_lane_was_not_checked_against_keeps_it_out(make_app, caplog):
    app = make_app(CHECKIN_LANE=False)

    @app.before_request
    def new_rule():
        return None

    app.config["CHECKIN_LANE"] = True
    with caplog.at_level(logging.WARNING, logger="volunteer_app.checkin.lane"):
        lane.install(app)
    assert _lane_of(app) is None
    assert "new_rule" in caplog.text
    assert "new_rule" in lane.unreviewed_hooks(app)["before_request"][-1]
    blueprint_app = make_app(CHECKIN_LANE=False)
    blueprint_app.after_request_funcs.setdefault("checkin", []).append(lambda response: response)
    assert "after_request" in lane.unreviewed_hooks(blueprint_app)
    routed = make_app(CHECKIN_LANE=False, SERVER_NAME="rv.example")
    assert "routing" in lane.unreviewed_hooks(routed)


# --- a new check-in: the lane's answer is Flask's --------------------------------------------------


def test_a_new_check_in_is_answered_by_the_lane_as_flask_answers_it(make_app, session, world, scene):
    activity, other = scene
    fast = Phone(make_app(), world.member_a)
    slow = Phone(make_app(CHECKIN_LANE=False), world.leader_a)
    fields = fast.scan(rotating(activity))
    scanned = utcnow()
    by_lane = fast.tap(rotating(activity), {**fields, "lat": "31.2001", "lng": "121.4001", "acc": "12"})
    assert fast.reached_flask == []
    by_flask = slow.tap(rotating(activity), {**slow.scan(rotating(activity)), "lat": "31.2001", "lng": "121.4001",
                                             "acc": "12"})
    assert by_lane.status_code == by_flask.status_code == 303
    assert by_lane.headers["Location"] == by_flask.headers["Location"] == f"/c/result/{activity.id}"
    assert _comparable(by_lane.headers) == _comparable(by_flask.headers)
    assert "Set-Cookie" not in by_lane.headers
    mine, theirs = (attendances(session, activity_id=activity.id, volunteer_id=v.id)[0]
                    for v in (world.member_a, world.leader_a))
    for column in ("method", "geo_status", "geo_accuracy_m", "checked_out_at", "voided_at", "credited_minutes"):
        assert getattr(mine, column) == getattr(theirs, column), column
    assert (mine.recorded_by_id, theirs.recorded_by_id) == (world.member_a.id, world.leader_a.id)
    assert mine.geo_status == "inside" and mine.method == "self_scan"
    assert mine.device_hash and len(mine.device_hash) == 32 and mine.device_hash != theirs.device_hash
    assert abs(mine.checked_in_at - scanned) < timedelta(seconds=5)
    page = fast.client.get(by_lane.headers["Location"])
    assert page.status_code == 200 and "已签到" in page.get_data(as_text=True)


def _comparable(headers) -> dict:
    return {name: value for name, value in headers.items() if name not in {"Content-Length"}}


def test_over_https_the_lane_wants_a_same_site_referrer_as_flask_wtf_does(make_app, session, world, scene):
    activity, _other = scene
    phone = Phone(make_app(), world.member_a, base_url="https://localhost")
    fields = phone.scan(rotating(activity))
    refused = phone.tap(rotating(activity), fields, headers={"Referer": "https://evil.example/"})
    assert refused.status_code == 400 and phone.reached_flask == [f"POST /c/{rotating(activity)}"]
    accepted = phone.tap(rotating(activity), fields)
    assert accepted.status_code == 303 and phone.reached_flask == []
    assert accepted.headers["Strict-Transport-Security"].startswith("max-age=")
    assert len(attendances(session, activity_id=activity.id)) == 1


def test_the_kept_scan_judges_the_code_in_the_lane_too(make_app, session, world, scene):
    """Scanned 90 s ago (the code was 10 s old then), tapped now: judged by the scan's time, as Flask judges."""
    activity, _other = scene
    phone = Phone(make_app(), world.member_a)
    now = utcnow()
    token = rotating(activity, at=now - timedelta(seconds=100))
    fields = phone.scan(rotating(activity))
    with phone.client.session_transaction() as cookie:
        cookie["pending_scan"] = {"token": token, "scanned_at": (now - timedelta(seconds=90)).timestamp()}
    response = phone.tap(token, fields)
    assert response.status_code == 303 and phone.reached_flask == []
    assert len(attendances(session, activity_id=activity.id)) == 1


def test_under_a_path_prefix_the_answer_leads_to_the_same_page(make_app, world, scene):
    activity, _other = scene
    fast = Phone(make_app(), world.member_a, base_url="http://localhost/rv")
    slow = Phone(make_app(CHECKIN_LANE=False), world.leader_a, base_url="http://localhost/rv")
    by_lane = fast.tap(rotating(activity), fast.scan(rotating(activity)))
    by_flask = slow.tap(rotating(activity), slow.scan(rotating(activity)))
    assert fast.reached_flask == []
    assert by_lane.headers["Location"] == by_flask.headers["Location"] == f"/rv/c/result/{activity.id}"


# --- everything else reaches Flask, whose answer stands ----------------------------------------


def test_refusals_and_repeats_reach_flask_and_are_counted(make_app, session, world, scene):
    activity, other = scene
    stranger = factories.make_volunteer(session, name="路人")
    session.commit()
    phone = Phone(make_app(), world.member_a)
    token = rotating(activity)
    fields = phone.scan(token)
    assert phone.tap(token, fields).status_code == 303 and phone.reached_flask == []
    again = phone.tap(token, fields)  # "already checked in at 09:02"
    assert again.status_code == 303 and phone.reached_flask == [f"POST /c/{token}"]
    expired = rotating(activity, at=utcnow() - timedelta(minutes=5))
    refused = phone.tap(expired, {**fields, "action": "in"})
    assert refused.status_code == 410 and phone.reached_flask and "未签到" in refused.get_data(as_text=True)
    wrong = phone.tap(rotating(other), {**phone.scan(rotating(other)), "activity": str(activity.id)})
    assert wrong.status_code == 409 and phone.reached_flask
    outsider = Phone(phone.app, stranger)
    assert outsider.tap(token, {**fields, "csrf_token": _csrf_of(outsider)}).status_code == 403
    assert outsider.reached_flask
    assert len(attendances(session)) == 1
    fresh(session)
    codes = set(session.exec(select(ScanRefusal.code)).all())
    assert {"token_expired", "wrong_activity", "not_member"} <= codes


def _csrf_of(phone: Phone) -> str:
    """The CSRF token of phone's session, as any page with a form carries it (the logout button)."""
    return HIDDEN.search(phone.client.get("/", base_url=phone.base_url).get_data(as_text=True)).group(2)


@pytest.mark.parametrize("case", ["no token", "forged token", "another session's token", "another site"])
def test_a_request_flask_wtf_or_the_origin_check_refuses_is_refused(make_app, session, world, scene, case):
    activity, _other = scene
    app = make_app()
    phone = Phone(app, world.member_a)
    fields = phone.scan(rotating(activity))
    headers = {}
    if case == "no token":
        fields.pop("csrf_token")
    elif case == "forged token":
        fields["csrf_token"] = fields["csrf_token"][:-4] + "AAAA"
    elif case == "another session's token":
        fields["csrf_token"] = _csrf_of(Phone(app, world.leader_a))
    else:
        headers = {"Origin": "https://evil.example"}
    response = phone.tap(rotating(activity), fields, headers=headers)
    assert response.status_code == 400 and phone.reached_flask
    assert "表单已过期或来源不明" in response.get_data(as_text=True)
    assert attendances(session) == []


def test_an_untrusted_host_is_refused(make_app, session, world, scene):
    activity, _other = scene
    app = make_app(TRUSTED_HOSTS=["localhost"])
    phone = Phone(app, world.member_a)
    fields = phone.scan(rotating(activity))
    cookies = "; ".join(f"{name}={phone.client.get_cookie(name).value}" for name in ("session", "rv_device"))
    response = app.test_client(use_cookies=False).post(f"/c/{rotating(activity)}", data=fields,
                                                       base_url="http://evil.example", headers={"Cookie": cookies})
    assert response.status_code == 400
    assert attendances(session) == []


def test_check_out_and_odd_requests_reach_flask_with_their_body(make_app, session, world, scene):
    activity, _other = scene
    phone = Phone(make_app(), world.member_a)
    token = rotating(activity)
    fields = phone.scan(token)
    with_query = phone.tap(token + "?x=1", fields)  # Flask's rules for query strings: still a check-in
    assert with_query.status_code == 303 and phone.reached_flask
    out = phone.tap(token, {**phone.scan(token), "action": "out"})  # the body was put back for Flask
    assert out.status_code == 303 and phone.reached_flask == [f"POST /c/{token}"]
    assert attendances(session)[0].checked_out_at is not None
    big = phone.tap(token, {**fields, "padding": "x" * 5000})
    assert phone.reached_flask and big.status_code == 303  # "already checked out", told by Flask
    multipart = phone.tap(token, {**fields, "photo": (__import__("io").BytesIO(b"x"), "a.jpg")})
    assert phone.reached_flask and multipart.status_code == 303
    garbled = phone.client.post(f"/c/{token}", data=b"csrf_token=\xff\xfe",
                                content_type="application/x-www-form-urlencoded")
    assert garbled.status_code == 400
    assert phone.client.post("/c/%00abc", data=fields).status_code in (400, 404)
    assert len(attendances(session)) == 1


def test_logins_the_lane_cannot_confirm_go_through_flask(make_app, session, world, scene):
    activity, other = scene
    app = make_app()
    ended = Phone(app, world.member_a)
    fields = ended.scan(rotating(activity))
    volunteer = session.get(Volunteer, world.member_a.id)
    volunteer.session_version += 1  # logged out everywhere from another phone
    session.commit()
    response = ended.tap(rotating(activity), fields)
    assert response.status_code == 302 and "/login" in response.headers["Location"] and ended.reached_flask
    remembered = Phone(app, world.leader_a, remember="y")
    fields = remembered.scan(rotating(other))
    remembered.client.delete_cookie("session")  # the browser restarted; the remember-me cookie stays
    with remembered.client.session_transaction() as cookie:  # a new session holding only the CSRF secret
        cookie["csrf_token"] = "x"
    response = remembered.tap(rotating(other), fields)
    assert remembered.reached_flask
    assert response.status_code == 400  # the page's CSRF token belonged to the forgotten session
    assert [a.volunteer_id for a in attendances(session)] == []


@pytest.mark.parametrize("case", ["remember to set", "permanent session", "remember refresh"])
def test_a_check_in_whose_answer_sets_a_cookie_goes_through_flask(make_app, session, world, scene, case):
    activity, _other = scene
    app = make_app(REMEMBER_COOKIE_REFRESH_EACH_REQUEST=case == "remember refresh")
    phone = Phone(app, world.member_a, remember="y")
    fields = phone.scan(rotating(activity))
    with phone.client.session_transaction() as cookie:
        if case == "remember to set":
            cookie["_remember"] = "set"
        elif case == "permanent session":
            cookie.permanent = True
    response = phone.tap(rotating(activity), fields)
    assert response.status_code == 303 and phone.reached_flask
    assert "Set-Cookie" in response.headers
    assert len(attendances(session, activity_id=activity.id)) == 1


def test_with_the_lane_switched_off_every_check_in_goes_through_flask(make_app, session, world, scene):
    activity, _other = scene
    phone = Phone(make_app(CHECKIN_LANE=False), world.member_a)
    assert phone.tap(rotating(activity), phone.scan(rotating(activity))).status_code == 303
    assert len(attendances(session, activity_id=activity.id)) == 1
