"""Two phones in Chromium at 360×640: register → scan a team invite → leader approves → the team is on the home page."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from volunteer_app.models import Membership, Volunteer

from tests.browser_fixtures import browser_login, wait_for_htmx
from tests.helpers import read_qr, sms_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"teams-{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_register_scan_invite_leader_approves_home_shows_team(world, session, new_phone, live_server):
    leader = new_phone()
    browser_login(leader, world.leader_a.phone, PASSWORD)
    leader.goto(f"/teams/{world.team_a.id}/invite")
    shot(leader, "invite")
    assert no_horizontal_scroll(leader)
    url = read_qr(leader, "invite-qr")
    assert url.startswith(live_server + "/join/")
    assert leader.locator("#invite-url").input_value() == url

    volunteer = new_phone()
    volunteer.goto(url)
    assert world.team_a.name in volunteer.locator("h1").inner_text()
    volunteer.click("#join-register")
    volunteer.fill("input[name=phone]", "+86 139-8765-4321")  # first the number gets a code by SMS
    volunteer.click("main button[type=submit]")
    volunteer.wait_for_url("**/register")
    wait_for_htmx(volunteer)  # the register page has loaded and htmx has wired up the unit picker
    volunteer.fill("input[name=code]", sms_code(session, "13987654321"))
    volunteer.fill("input[name=name]", "  吴新人 ")
    volunteer.fill("input[name=password]", "new volunteer 1")
    volunteer.fill("input[name=password2]", "new volunteer 1")
    # htmx narrows district → street → community
    volunteer.select_option("#district", label=world.district.name)
    volunteer.locator(f"#unit-picker[data-district='{world.district.id}']").wait_for()
    wait_for_htmx(volunteer)
    assert "永安社区" not in volunteer.locator("#community").inner_text()
    volunteer.select_option("#street", label=world.street.name)
    volunteer.locator(f"#unit-picker[data-street='{world.street.id}']").wait_for()  # the swap is done
    wait_for_htmx(volunteer)
    volunteer.select_option("#community", label=world.community.name)
    volunteer.check("input[name=consent]")
    shot(volunteer, "register")
    assert no_horizontal_scroll(volunteer)
    volunteer.click("#register-form button.big")
    volunteer.wait_for_url("**/join/**")
    shot(volunteer, "join")
    with volunteer.expect_navigation():
        volunteer.click("#join-button")
    assert "已发送给队长" in volunteer.content()

    session.rollback()  # a fresh read: the world's rows were refreshed after the code was read
    person = session.exec(select(Volunteer).where(Volunteer.phone == "13987654321")).one()
    assert person.name == "吴新人" and person.home_unit_id == world.community.id

    leader.goto(f"/teams/{world.team_a.id}")
    assert "吴新人" in leader.locator("#pending-requests").inner_text()
    assert "13987654321" in leader.locator("#pending-requests").inner_text()
    shot(leader, "team")
    with leader.expect_navigation():
        leader.click("#pending-requests button[data-action=approve]")
    assert "吴新人已成为队员" in leader.content()
    session.expire_all()
    session.rollback()
    assert session.exec(select(Membership.status).where(Membership.volunteer_id == person.id)).one() == "active"

    volunteer.goto("/")
    assert world.team_a.name in volunteer.locator("#my-teams").inner_text()
    shot(volunteer, "home")
    leader.goto(f"/teams/{world.team_a.id}/members")
    shot(leader, "members")
    assert no_horizontal_scroll(leader)
    volunteer.goto("/me")
    shot(volunteer, "me")
    assert no_horizontal_scroll(volunteer)
