"""The office in Chromium: filter by theme and month, watch chart and figures change, drill down, download XLSX."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.models import Activity, Theme
from volunteer_app.reports.filters import COUNTED_STATUSES

from tests import reports_data
from tests.browser_fixtures import browser_login
from tests.factories import PASSWORD
from tests.reports_data import at

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 640}}
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))
FIGURE = {"activities": 4, "attendances": 5, "volunteers": 6, "hours": 7}  # positions in #headline


def figure(page, name: str) -> float:
    text = page.locator(f"#headline .figure:nth-child({FIGURE[name]}) strong").inner_text()
    return float(text.replace(",", ""))


def db_totals(session, theme_code: str, start, end) -> tuple[int, int, int]:
    theme = session.exec(select(Theme).where(Theme.code == theme_code)).one()
    row = session.exec(select(func.count(Activity.id), func.sum(Activity.attendee_count),
                              func.sum(Activity.total_minutes))
                       .where(Activity.theme_id == theme.id, Activity.status.in_(COUNTED_STATUSES),
                              Activity.starts_at >= start, Activity.starts_at < end)).one()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_office_filters_drills_down_and_downloads(browser, live_server, session, world, size, tmp_path):
    reports_data.build(session, world)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SIZES[size], base_url=live_server, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True,
                                  is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        browser_login(page, world.office.phone, PASSWORD)
        page.goto("/office?from=2026-03-01&to=2026-04-30")
        assert figure(page, "activities") == 4 and figure(page, "attendances") == 7
        month_values = page.locator("#chart-month").get_attribute("data-values")
        assert month_values == "6,1"
        page.screenshot(path=str(SHOTS / f"reports-dashboard-{size}.png"), full_page=True)

        # filter by theme: htmx swaps the region and pushes the URL
        page.select_option("select[name=theme]", "sanitation")
        page.wait_for_url(re.compile(r"theme=sanitation"))
        page.wait_for_function("document.querySelector('#chart-month').dataset.values === '0,1'")
        assert figure(page, "activities") == 1 and figure(page, "attendances") == 1
        page.select_option("select[name=theme]", "civilized_traffic")
        page.wait_for_url(re.compile(r"theme=civilized_traffic"))
        page.wait_for_function("document.querySelector('#chart-month').dataset.values === '6,0'")

        # then the month: the March row of the monthly table
        page.locator("#table-month tr[data-key='2026-03'] th a").click()
        page.wait_for_url(re.compile(r"to=2026-03-31"))
        page.wait_for_function("document.querySelector('#chart-month').dataset.values === '6'")
        assert figure(page, "activities") == 3 and figure(page, "attendances") == 6 and figure(page, "hours") == 7.5
        assert page.locator("select[name=theme]").input_value() == "civilized_traffic"
        shown = {name: figure(page, name) for name in FIGURE}
        page.screenshot(path=str(SHOTS / f"reports-filtered-{size}.png"), full_page=True)

        # the same view survives a reload from the pushed URL (bookmarkable)
        page.reload()
        assert figure(page, "attendances") == shown["attendances"]

        # download the tallies as Excel and compare with the page and the database
        with page.expect_download() as download_info:
            page.click("#export-xlsx")
        path = tmp_path / "tallies.xlsx"
        download_info.value.save_as(path)
        summary = dict(load_workbook(io.BytesIO(path.read_bytes()), read_only=True)["汇总"].iter_rows(values_only=True))
        activities, attendances, minutes = db_totals(session, "civilized_traffic", at("2026-03-01", 0),
                                                     at("2026-04-01", 0))
        assert summary["场次"] == shown["activities"] == activities
        assert summary["人次"] == shown["attendances"] == attendances
        assert summary["时长（小时）"] == shown["hours"] == minutes / 60
        assert summary["服务主题"] == "文明交通"

        # drill down: the theme row's activities, then one activity's records
        page.locator("#table-theme tr[data-key='civilized_traffic'] a.drill").click()
        page.wait_for_url(re.compile(r"/office/activities\?"))
        assert page.locator("#activities li").count() == 3
        page.screenshot(path=str(SHOTS / f"reports-activities-{size}.png"), full_page=True)
        page.locator("#activities li a", has_text="路口劝导（三月）").click()
        page.wait_for_url(re.compile(r"/office/activities/\d+"))
        rows = page.locator("#records tbody tr")
        assert rows.count() == 2
        assert page.locator("#records").inner_text().count("138****") == 2
        assert "自助扫码" in page.locator("#records").inner_text()
        page.screenshot(path=str(SHOTS / f"reports-activity-{size}.png"), full_page=True)

        page.goto("/office/signals?from=2026-01-01&to=2026-12-31")
        page.locator("#signal-run button[type=submit]").click()  # stored findings: computed on demand here
        page.wait_for_selector("#signal-retro_no_photo")
        assert "from=2026-01-01" in page.url
        assert page.locator("#signal-retro_no_photo").get_attribute("data-count") == "1"
        page.screenshot(path=str(SHOTS / f"reports-signals-{size}.png"), full_page=True)
        if size == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES["phone"]["width"], "the signals page scrolls sideways on a phone"
        assert not errors, errors
    finally:
        context.close()


def test_dashboard_works_without_javascript(browser, live_server, session, world):
    reports_data.build(session, world)
    context = browser.new_context(viewport=SIZES["phone"], base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, world.office.phone, PASSWORD)
        page.goto("/office?from=2026-03-01&to=2026-04-30")
        page.select_option("select[name=theme]", "sanitation")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r"theme=sanitation"))
        assert figure(page, "activities") == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES["phone"]["width"], "the dashboard scrolls sideways on a phone"
    finally:
        context.close()


def test_a_tap_on_a_recruitment_figure_shows_its_definition(browser, live_server, session, world):
    from tests.test_reports_recruitment import add_signups

    add_signups(session, world, reports_data.build(session, world))
    context = browser.new_context(viewport=SIZES["phone"], base_url=live_server, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, world.office.phone, PASSWORD)
        page.goto("/office?from=2026-03-01&to=2026-04-30")
        tip = page.locator("#fig-no-show-rate-def")
        assert not tip.is_visible()
        figure_box = page.locator("#fig-no-show-rate")
        figure_box.scroll_into_view_if_needed()
        box = figure_box.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
        figure_box.tap()
        assert tip.is_visible() and "录用" in tip.inner_text()
        tip_box = tip.bounding_box()
        assert tip_box["x"] >= 0 and tip_box["x"] + tip_box["width"] <= 360  # on the screen
        assert figure_box.locator("strong").inner_text() == "25%"
        page.screenshot(path=str(SHOTS / "office-recruitment-tip-phone.png"))
    finally:
        context.close()
