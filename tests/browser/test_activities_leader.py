"""The leader's phone in Chromium at 360×640: the full-screen code (wake lock, rotating refresh, a clean exit),
the retro form's search and select-all over a team of 500, the closing dialog, the members list and the team
application; every tap target at least 44×44 CSS px; screenshots in zh and en."""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlmodel import select

from volunteer_app.activities.forms import to_local_naive
from volunteer_app.models import Activity, Attendance, Membership, Team, Volunteer, utcnow

from tests import factories
from tests.browser_fixtures import browser_login, wait_for_htmx
from tests.factories import PASSWORD
from tests.helpers import read_qr

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))

# A stand-in for the Screen Wake Lock API whose calls the test can count (headless Chromium refuses the real
# one); document.visibilityState follows window.__wake.vis so the test can hide and show the page.
WAKE_LOCK_STUB = """
window.__wake = {requests: 0, vis: "visible", last: null};
Object.defineProperty(document, "visibilityState", {configurable: true, get: () => window.__wake.vis});
Object.defineProperty(navigator, "wakeLock", {configurable: true, value: {request: (type) => {
  window.__wake.requests += 1;
  const sentinel = new EventTarget();
  sentinel.type = type;
  sentinel.released = false;
  sentinel.release = () => {
    if (!sentinel.released) {
      sentinel.released = true;
      sessionStorage.setItem("wakeReleases", String(Number(sessionStorage.getItem("wakeReleases") || 0) + 1));
    }
    return Promise.resolve();
  };
  window.__wake.last = sentinel;
  return Promise.resolve(sentinel);
}}});
"""

# What a thumb taps on these pages (the nav and footer belong to the layout pass).
TAP_TARGETS = ("main button, main a[role=button], main summary, main select, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
               " main .pick-list label, main fieldset label:has(input[type=radio]), main .today-card a, main #led-teams a,"
               " main #team-activities a, main .roster-list a")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"leader-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} overflows sideways"


def small_targets(page) -> list[str]:
    """Visible tap targets smaller than 44×44 CSS px, described."""
    return page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector)).filter((el) => {
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (!box.width || !box.height || style.visibility === "hidden") { return false; }
        return box.height < 43.5 || box.width < 43.5;
    }).map((el) => el.tagName + "#" + el.id + "." + el.className + " " + (el.textContent || "").trim().slice(0, 20)
                 + " " + Math.round(el.getBoundingClientRect().width) + "x" + Math.round(el.getBoundingClientRect().height))""",
                         TAP_TARGETS)


def in_english(page) -> None:
    page.goto("/lang/en?next=" + page.url.split(page.url.split("/")[2], 1)[1])


def test_full_screen_code_stays_awake_refreshes_and_exits_cleanly(phone_page, live_server, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", title="早高峰文明劝导")
    session.commit()
    page = phone_page
    page.context.add_init_script(WAKE_LOCK_STUB)
    browser_login(page, world.leader_a.phone, PASSWORD)
    assert page.locator("#open-now").bounding_box()["y"] < page.locator("#my-totals").bounding_box()["y"]
    assert small_targets(page) == []
    shoot(page, "home-zh")
    page.click("#open-now a.show-qr")
    page.wait_for_url(re.compile(rf"/activities/{activity.id}/screen$"))
    assert read_qr(page, "qr").startswith(f"{live_server}/c/r")
    box = page.locator("#qr").bounding_box()
    assert box["width"] >= 320 and box["y"] + box["height"] <= 640  # as large as the phone allows, on screen
    page.wait_for_function("window.__wake.requests === 1")
    assert page.locator("#wake-status").inner_text() == "屏幕将保持常亮。"
    assert small_targets(page) == []
    shoot(page, "screen-zh")

    # the phone goes to sleep (the browser drops the lock), then wakes: the lock is asked for again
    page.evaluate("""() => { window.__wake.vis = "hidden"; window.__wake.last.released = true;
                             document.dispatchEvent(new Event("visibilitychange")); }""")
    page.evaluate("""() => { window.__wake.vis = "visible"; document.getElementById("qr-box").dataset.old = "1";
                             document.dispatchEvent(new Event("visibilitychange")); }""")
    page.wait_for_function("window.__wake.requests === 2")
    # ...and the rotating code is fetched at once, in place, still large and readable
    page.locator("#qr-box:not([data-old])").wait_for()
    wait_for_htmx(page)
    assert read_qr(page, "qr").startswith(f"{live_server}/c/r")
    assert page.locator("#qr").bounding_box()["width"] >= 320

    page.click("#exit-screen")
    page.wait_for_url(re.compile(rf"/activities/{activity.id}$"))
    assert page.evaluate("sessionStorage.getItem('wakeReleases')") == "1"
    assert page.locator("#show-screen").is_visible()

    in_english(page)
    page.goto(f"/activities/{activity.id}/screen")
    page.wait_for_function("window.__wake.requests === 1")
    assert page.locator("#exit-screen").inner_text().strip() == "Exit"
    shoot(page, "screen-en")
    page.goto("/")
    shoot(page, "home-en")


def test_without_the_wake_lock_api_the_code_still_shows_and_says_so(phone_page, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    page = phone_page
    page.context.add_init_script("Object.defineProperty(Navigator.prototype, 'wakeLock', {get: undefined});"
                                 "delete Navigator.prototype.wakeLock;")
    browser_login(page, world.leader_a.phone, PASSWORD)
    page.goto(f"/activities/{activity.id}/screen")
    page.locator("#wake-status:not([hidden])").wait_for()
    assert "熄屏" in page.locator("#wake-status").inner_text()
    assert page.locator("#qr").is_visible()


def add_members(session, team: Team, count: int) -> None:
    """count members named 队员000… in one statement each (a team of 500 in a second)."""
    rows = [{"name": f"队员{i:03d}", "phone": f"1371{i:07d}", "phone_tail": f"{i:07d}"[-4:],
             "password_hash": factories.PASSWORD_HASH, "role": "volunteer", "home_unit_id": team.unit_id}
            for i in range(count)]
    session.execute(insert(Volunteer), rows)
    ids = session.exec(select(Volunteer.id).where(Volunteer.name.startswith("队员"))).all()
    session.execute(insert(Membership), [{"team_id": team.id, "volunteer_id": i, "role": "member",
                                          "status": "active", "joined_at": utcnow()} for i in ids])
    session.commit()


def test_retro_form_searches_and_selects_all_shown_in_a_team_of_500(phone_page, session, world):
    team = session.get(Team, world.team_a.id)
    add_members(session, team, 500)
    theme = factories.theme(session)
    session.commit()
    page = phone_page
    browser_login(page, world.leader_a.phone, PASSWORD)
    page.goto(f"/teams/{team.id}/retro")
    rows = page.locator("#pick-list li[data-name]")
    assert rows.count() == 502
    assert page.locator("[data-pick-search]").count() == 0  # filtering as one types replaces the button
    page.fill("#pick-q", "队员01")
    assert page.locator("#pick-list li[data-name]:visible").count() == 10  # 队员010 … 队员019
    page.click("[data-pick-all]")
    assert page.locator("#pick-list input[name=attendee]:checked").count() == 10
    assert "已选 10 人" in page.locator("[data-pick-count]").inner_text()
    page.fill("#pick-q", "0499")  # the last four digits of the phone
    assert page.locator("#pick-list li[data-name]:visible").all_inner_texts()[0].startswith("队员499")
    page.locator("#pick-list li[data-name]:visible input[type=number]").fill("30")  # minutes typed: picked
    page.fill("#pick-q", "")
    assert page.locator("#pick-list li[data-name]:visible").count() == 502
    assert page.locator("#pick-list input[name=attendee]:checked").count() == 11
    page.fill("#same-minutes", "60")
    assert page.locator("#pick-list li[data-name='队员010'] input[type=number]").get_attribute("placeholder") == "60"
    day = to_local_naive(utcnow() - timedelta(days=1)).date()
    page.select_option("#theme", str(theme.id))
    page.fill("#title", "社区清扫")
    page.fill("#place", "清和社区")
    page.fill("#day", day.isoformat())
    page.fill("#start", "09:00")
    page.fill("#end", "11:00")
    page.fill("#pick-q", "队员01")
    assert small_targets(page) == []
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "retro-zh")
    page.press("#pick-q", "Enter")  # Enter in the search box does not send the form
    assert page.url.endswith(f"/teams/{team.id}/retro")
    page.click("#retro-form button.big[type=submit]")
    page.locator("#summary").wait_for()
    session.expire_all()
    activity = session.exec(select(Activity)).one()
    minutes = sorted(session.exec(select(Attendance.credited_minutes).where(Attendance.activity_id == activity.id)))
    assert minutes == [30] + [60] * 10

    in_english(page)
    page.goto(f"/teams/{team.id}/retro")
    page.fill("#pick-q", "队员02")
    page.click("[data-pick-all]")
    shoot(page, "retro-en")


def test_closing_dialog_members_list_and_application_at_360(phone_page, session, world):
    start = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    activity = factories.make_activity(session, world.team_a, status="open", starts_at=start, hours=2)
    session.add(Attendance(activity_id=activity.id, volunteer_id=world.member_a.id, checked_in_at=start,
                           method="self_scan"))
    team = session.get(Team, world.team_a.id)
    second = factories.make_volunteer(session, "周副队长")
    factories.add_member(session, team, second, role="leader")
    closed = factories.make_activity(session, team, status="closed", starts_at=start - timedelta(days=3))
    factories.make_attendance(session, closed, world.member_a, minutes=150)
    session.commit()
    page = phone_page
    browser_login(page, world.leader_a.phone, PASSWORD)

    for lang in ("zh", "en"):
        if lang == "en":
            in_english(page)
        page.goto(f"/activities/{activity.id}")
        assert small_targets(page) == []
        shoot(page, f"detail-{lang}")
        page.click("#close-activity")
        page.locator("#early-warning").wait_for()
        assert small_targets(page) == []
        shoot(page, f"close-{lang}")
        page.goto(f"/teams/{team.id}/members")
        member_row = page.locator(f"#member-{session.exec(select(Membership.id).where(Membership.volunteer_id == world.member_a.id)).one()}")
        assert "2.5" in member_row.locator(".member-hours").inner_text()
        member_row.locator("summary").click()
        assert small_targets(page) == []
        shoot(page, f"members-{lang}")
        page.goto(f"/teams/{team.id}/activities/new")
        assert small_targets(page) == []
        shoot(page, f"create-{lang}")

    page.context.clear_cookies()
    browser_login(page, world.volunteer.phone, PASSWORD)
    page.goto("/teams/apply")
    page.select_option("#district", str(world.district.id))
    wait_for_htmx(page)
    assert page.locator("#street option").count() == 2  # "all streets" and the district's one street
    page.select_option("#street", str(world.street.id))
    wait_for_htmx(page)
    assert page.locator("#community option").all_inner_texts()[1:] == ["清和社区"]
    assert small_targets(page) == []
    shoot(page, "apply-zh")
    in_english(page)
    shoot(page, "apply-en")

    # closing with "until the planned end" credits the member still in to the end
    page.context.clear_cookies()
    browser_login(page, world.leader_a.phone, PASSWORD)
    page.goto(f"/activities/{activity.id}/close")
    page.check("input[name=credit_until][value=end]")
    page.click("#confirm-close")
    page.locator("#summary").wait_for()
    assert "2.0" in page.locator("#summary").inner_text()


def test_adding_a_missed_volunteer_finds_them_among_many(phone_page, session, world):
    team = session.get(Team, world.team_a.id)
    add_members(session, team, 200)
    activity = factories.make_activity(session, team, status="closed", starts_at=utcnow() - timedelta(hours=3))
    session.commit()
    page = phone_page
    browser_login(page, world.leader_a.phone, PASSWORD)
    page.goto(f"/activities/{activity.id}")
    page.click("#add-missed summary")
    everyone = page.locator("#add-volunteer option").all_inner_texts()
    assert len(everyone) == 202
    page.fill("[data-select-filter]", "0123")
    assert page.locator("#add-volunteer option").all_inner_texts() == ["队员123 137****0123"]
    page.fill("[data-select-filter]", "")
    assert page.locator("#add-volunteer option").all_inner_texts() == everyone  # all back, in their order
    page.fill("[data-select-filter]", "队员19")
    page.fill("#add-minutes", "60")
    page.fill("#add-reason", "忘记签到")
    page.click("#add-missed button[type=submit]")
    page.locator("#attendances li", has_text="队员190").wait_for()
