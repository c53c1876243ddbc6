"""Smoke test in Chromium at 360×640: the small demo city, each demo login, the real numbers on the home page."""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from volunteer_app.models import Activity, Attendance, Membership, Team, Volunteer
from volunteer_app.seed import DEMO_PASSWORD, DISTRICT_OFFICE_PHONE, LEADER_PHONE, OFFICE_PHONE, VOLUNTEER_PHONE

from tests.browser_fixtures import browser_login

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


@pytest.fixture
def demo_city(app, live_server):
    """The small demo city in the live server's database, and a session to compute what pages should show."""
    result = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    with Session(app.extensions["db_engine"]) as session:
        yield session


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def figures(page, container: str) -> list[str]:
    """The figures as shown, without their thousands separators."""
    return [text.strip().replace(",", "") for text in page.locator(f"{container} .figure strong").all_inner_texts()]


def check_fits_and_shoot(page, name: str) -> None:
    """Nothing wider than the phone, and a screenshot to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"smoke-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} overflows sideways"


def own_totals(session: Session, phone: str) -> tuple[str, str]:
    """Credited hours and sessions of the person, from the attendance records."""
    volunteer_id = session.execute(select(Volunteer.id).where(Volunteer.phone == phone)).scalar_one()
    minutes, count = session.execute(
        select(func.coalesce(func.sum(Attendance.credited_minutes), 0), func.count(Attendance.id))
        .where(Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None))
    ).one()
    return hours(int(minutes)), str(count)


def test_office_sees_the_citys_real_numbers_this_year(phone_page, demo_city):
    session = demo_city
    zone = ZoneInfo("Asia/Shanghai")
    year_start = datetime(datetime.now(zone).year, 1, 1, tzinfo=zone).astimezone(timezone.utc)
    counted = (Activity.status == "closed", Activity.starts_at >= year_start,
               Activity.starts_at < datetime.now(timezone.utc) + timedelta(days=1))
    activities = session.execute(select(func.count(Activity.id)).where(*counted)).scalar_one()
    attendances, minutes = session.execute(
        select(func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(*counted, Attendance.voided_at.is_(None))
    ).one()
    teams = session.execute(select(func.count(Team.id)).where(Team.status == "active")).scalar_one()
    volunteers = session.execute(select(func.count(Volunteer.id)).where(Volunteer.role == "volunteer")).scalar_one()
    assert activities > 50 and attendances > 500  # a real year, not an empty page

    browser_login(phone_page, OFFICE_PHONE, DEMO_PASSWORD)
    assert "周敏" in phone_page.locator("h1").inner_text()
    assert "," in phone_page.locator("#city-totals").inner_text()  # 166,000 reads better than 166000
    shown = figures(phone_page, "#city-totals")
    assert shown == [str(teams), str(volunteers), str(activities), str(attendances), hours(int(minutes))]
    check_fits_and_shoot(phone_page, "office")


def test_district_office_logs_in(phone_page, demo_city):
    browser_login(phone_page, DISTRICT_OFFICE_PHONE, DEMO_PASSWORD)
    assert "陈静" in phone_page.locator("h1").inner_text()
    assert phone_page.locator("#city-totals .figure").count() == 5
    check_fits_and_shoot(phone_page, "district-office")


def test_leader_sees_their_teams_with_real_member_counts(phone_page, demo_city):
    session = demo_city
    leader_id = session.execute(select(Volunteer.id).where(Volunteer.phone == LEADER_PHONE)).scalar_one()
    led = session.execute(
        select(Team.id, Team.name).join(Membership, Membership.team_id == Team.id)
        .where(Membership.volunteer_id == leader_id, Membership.role == "leader", Membership.status == "active")
        .order_by(Team.name)
    ).all()
    assert len(led) == 2
    members = dict(session.execute(
        select(Membership.team_id, func.count()).where(Membership.status == "active",
                                                       Membership.team_id.in_([t.id for t in led]))
        .group_by(Membership.team_id)
    ).all())

    browser_login(phone_page, LEADER_PHONE, DEMO_PASSWORD)
    cards = phone_page.locator("#led-teams li")
    assert cards.count() == len(led)
    for i, (team_id, name) in enumerate(led):
        card = cards.nth(i)
        assert card.locator("strong").inner_text().strip() == name
        assert re.match(rf"{members[team_id]}\D", card.locator("small").inner_text().strip())
    assert figures(phone_page, "#my-totals") == list(own_totals(session, LEADER_PHONE))
    assert phone_page.locator("#open-now a.show-qr").count() == 1  # the demo activity open right now
    check_fits_and_shoot(phone_page, "leader")


def test_volunteer_sees_their_real_hours(phone_page, demo_city):
    session = demo_city
    expected = own_totals(session, VOLUNTEER_PHONE)
    assert float(expected[0]) > 0

    browser_login(phone_page, VOLUNTEER_PHONE, DEMO_PASSWORD)
    assert "王小红" in phone_page.locator("h1").inner_text()
    assert figures(phone_page, "#my-totals") == list(expected)
    assert phone_page.locator("#recent-attendances li").count() >= 1
    check_fits_and_shoot(phone_page, "volunteer")
