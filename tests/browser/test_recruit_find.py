"""A volunteer on a phone (360×640) finds an activity and reads how to get there; a member opens their team's page."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from volunteer_app.models import Activity, Membership, Signup, Team, Theme, Volunteer, utcnow
from volunteer_app.seed import DEMO_PASSWORD, VOLUNTEER_PHONE

from tests.browser.test_smoke import check_fits_and_shoot
from tests.browser_fixtures import browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def recruiting(app, live_server):
    """The small demo city with two upcoming activities of the demo volunteer's team; admitted to the first."""
    assert app.test_cli_runner().invoke(args=["seed-demo", "--scale", "small"]).exit_code == 0
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        volunteer = session.exec(select(Volunteer).where(Volunteer.phone == VOLUNTEER_PHONE)).scalar_one()
        team = session.exec(select(Team).join(Membership, Membership.team_id == Team.id)
                            .where(Membership.volunteer_id == volunteer.id)).scalars().first()
        theme = session.exec(select(Theme).where(Theme.code == "sanitation")).scalar_one()
        start = utcnow().replace(microsecond=0) + timedelta(days=2)
        rows = []
        way = {"meeting_point": "滨河公园东门", "meeting_lat": 39.1, "meeting_lng": 117.2, "capacity": 20,
               "admitted_count": 12}
        for title, extra in [("滨河公园捡拾垃圾", way),
                             ("社区图书角整理", {"audience": "city", "members_only": False})]:
            activity = Activity(team_id=team.id, theme_id=theme.id, unit_id=team.unit_id, title=title, place="滨河公园",
                                starts_at=start, ends_at=start + timedelta(hours=2), status="scheduled",
                                secret=secrets.token_hex(16), **extra)
            session.add(activity)
            session.flush()
            rows.append(activity)
            start += timedelta(hours=3)
        session.add(Signup(activity_id=rows[0].id, volunteer_id=volunteer.id, status="admitted"))
        session.commit()
        yield {"team": team, "admitted": rows[0], "public": rows[1]}


def test_volunteer_finds_an_activity_and_the_way_there(phone_page, recruiting):
    page = phone_page
    browser_login(page, VOLUNTEER_PHONE, DEMO_PASSWORD)
    mine = page.locator("#my-upcoming li", has_text="滨河公园捡拾垃圾")  # the seed's own sign-up may come first
    text = mine.inner_text()
    assert "已录用" in text and "滨河公园东门" in text
    check_fits_and_shoot(page, "recruit-home")
    page.locator("#find-activities").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "找活动"
    assert page.locator("#found li").count() >= 2
    check_fits_and_shoot(page, "recruit-find")
    page.locator("#found li a", has_text="社区图书角整理").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "社区图书角整理"
    assert "全市志愿者" in page.locator("#activity-facts").inner_text()
    check_fits_and_shoot(page, "recruit-info")


def test_member_opens_the_team_page(phone_page, recruiting):
    page = phone_page
    browser_login(page, VOLUNTEER_PHONE, DEMO_PASSWORD)
    page.locator("#my-teams a", has_text=recruiting["team"].name).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == recruiting["team"].name
    assert page.locator("#team-leaders").inner_text().strip()
    assert "滨河公园捡拾垃圾" in page.locator("#team-upcoming").inner_text()
    check_fits_and_shoot(page, "recruit-team-member")
