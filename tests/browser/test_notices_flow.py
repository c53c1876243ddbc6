"""The notice centre in Chromium at 360×640, CSRF on: the bell on every page, marking read in place (htmx),
"Open" going to what a notice is about, 44×44 targets, nothing wider than the phone."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session

from volunteer_app import notify

from tests import factories
from tests.browser_fixtures import browser_login, wait_for_htmx

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


def test_the_bell_and_the_list_on_a_phone(app, phone_page, live_server):
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        world = factories.make_world(session)
        activity = factories.make_activity(session, world.team_a, title="周末清扫")
        notify.send(session=session, volunteer_id=world.member_a.id, kind="join_approved", team_id=world.team_a.id)
        notify.send(session=session, volunteer_id=world.member_a.id, kind="activity_cancelled",
                    activity_id=activity.id, params={"reason": "大风"})
        session.commit()
    page = phone_page
    browser_login(page, world.member_a.phone, factories.PASSWORD)
    bell = page.locator("#notice-bell")
    assert page.locator("#notice-bell .bell-count").inner_text() == "2" and "通知，2 条未读" in bell.text_content()
    box = bell.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    bell.click()
    page.wait_for_url("**/notices")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "notices-list.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for target in page.locator(".notice-actions button, .notice-actions a, #read-all").all():
        size = target.bounding_box()
        assert size["width"] >= 44 and size["height"] >= 44
    assert "理由：大风" in page.locator("#notices").inner_text()
    wait_for_htmx(page)
    page.locator(".notice.unread form[hx-post] button").first.click()
    wait_for_htmx(page)
    assert "通知，1 条未读" in page.locator("#notice-bell").text_content()
    assert page.locator("#notice-status").inner_text() == "1 条未读"
    assert page.locator(".notice.unread").count() == 1
    page.locator(".notice.unread button", has_text="查看").click()  # the team notice: read, then "My teams"
    page.wait_for_url("**/teams")
    assert "通知，没有未读" in page.locator("#notice-bell").text_content()
