"""Two phones in Chromium: a leader runs an activity, a volunteer scans the QR from the leader's screen."""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities.forms import to_local_naive
from volunteer_app import tokens
from volunteer_app.models import Activity, Attendance, ScanRefusal, utcnow

from tests import factories
from tests.browser_fixtures import browser_login
from tests.helpers import read_qr
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


def office_attendances(page) -> int:
    page.goto("/")
    label = page.locator("#city-totals .figure", has_text="人次").locator("strong")
    return int(label.inner_text().replace(",", ""))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"checkin-{name}.png"), full_page=True)


def test_leader_runs_an_activity_and_a_volunteer_checks_in_and_out(new_phone, live_server, app, session, world):
    theme = factories.theme(session)
    session.commit()
    office = new_phone()
    browser_login(office, world.office.phone, PASSWORD)
    before = office_attendances(office)

    leader = new_phone()
    leader.on("dialog", lambda dialog: dialog.accept())
    browser_login(leader, world.leader_a.phone, PASSWORD)
    leader.goto(f"/teams/{world.team_a.id}/activities/new")
    start = to_local_naive(utcnow() - timedelta(hours=2))
    leader.select_option("#theme", str(theme.id))
    leader.fill("#title", "路口文明劝导")
    leader.fill("#place", "人民路与解放路口")
    leader.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    leader.fill("#ends_at", (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    leader.fill("#capacity", "12")
    shot(leader, "create")
    leader.click("#save-activity")
    leader.click("#open-activity")
    leader.locator("#qr").wait_for()
    shot(leader, "live")
    url = read_qr(leader, "qr")
    assert re.match(rf"{re.escape(live_server)}/c/r[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{{16}}$", url), url

    volunteer = new_phone()
    volunteer.goto(url)  # not logged in yet: the scan is kept while logging in
    shot(volunteer, "scan-anonymous")
    volunteer.click("#login-to-scan")
    volunteer.fill("input[name=phone]", world.member_a.phone)
    volunteer.fill("input[name=password]", PASSWORD)
    volunteer.click("button[type=submit]")
    volunteer.locator("#scan-button").wait_for()
    shot(volunteer, "scan-button")
    volunteer.click("#scan-button")
    volunteer.locator("#scan-result").wait_for()
    shot(volunteer, "checked-in")

    # the leader's live count follows without a reload
    leader.locator("#live-count", has_text="1").wait_for(timeout=15_000)
    assert leader.locator("#live-list").inner_text().count("赵小红") == 1

    # ninety minutes pass (moved in the database, not waited for)
    session.commit()
    attendance = session.exec(select(Attendance)).one()
    attendance.checked_in_at -= timedelta(minutes=90)
    session.commit()

    url = read_qr(leader, "qr")  # the code on the leader's screen right now
    volunteer.goto(url)
    assert volunteer.locator("#scan-button").inner_text().strip() == "签退"
    volunteer.click("#scan-button")
    volunteer.locator("#scan-result").wait_for()
    shot(volunteer, "checked-out")

    leader.click("#close-activity")  # the closing dialog: nobody is still in, so there is nothing to choose
    leader.click("#confirm-close")
    leader.locator("#summary").wait_for()
    shot(leader, "closed")
    assert "1.5" in leader.locator("#summary").inner_text()

    volunteer.goto("/")
    assert "1.5" in volunteer.locator("#my-totals").inner_text()
    shot(volunteer, "home")
    assert office_attendances(office) == before + 1


def test_a_code_older_than_a_minute_is_refused(new_phone, live_server, app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    old = tokens.rotating_token(secret_key=app.config["SECRET_KEY"], activity_id=activity.id,
                                activity_secret=activity.secret, at=utcnow() - timedelta(seconds=90))
    volunteer = new_phone()
    browser_login(volunteer, world.member_a.phone, PASSWORD)
    volunteer.goto(f"/c/{old}")
    assert "过期" in volunteer.locator("#refusal").inner_text()
    assert volunteer.locator("#scan-button").count() == 0
    shot(volunteer, "expired")
    # the page reports its refusal (the GET itself wrote nothing)
    for _ in range(50):
        session.commit()
        if session.exec(select(func.count(ScanRefusal.id))).one():
            break
        volunteer.wait_for_timeout(100)
    assert session.exec(select(ScanRefusal.code)).all() == ["token_expired"]
    session.commit()
    assert session.exec(select(func.count(Attendance.id))).one() == 0
    assert session.get(Activity, activity.id).attendee_count == 0
