"""The office imports rosters in Chromium at 360×640: a file with one bad row writes nothing; a good file does."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.models import Volunteer

from tests.browser_fixtures import browser_login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))
HEADER = ["姓名", "手机号", "社区编码", "队伍名称", "角色"]


def workbook(path: Path, rows) -> Path:
    book = Workbook()
    for row in [HEADER, *rows]:
        book.active.append(row)
    book.save(path)
    return path


def imported(session) -> int:
    session.rollback()
    return session.exec(select(func.count()).select_from(Volunteer).where(Volunteer.name.like("导入%"))).one()


def test_office_imports_a_bad_file_then_a_good_one(world, session, phone_page, tmp_path):
    page = phone_page
    good_rows = [["导入一", "13911110001", "D01-S01-C01", world.team_a.name, "队员"],
                 ["导入二", "13911110002", "D02-S01-C01", world.team_b.name, "队长"],
                 ["导入三", "13911110003", "清和社区", "", ""]]
    bad = workbook(tmp_path / "名册-有错.xlsx", good_rows + [["导入四", "1391111000", "D01-S01-C01", "", ""]])
    good = workbook(tmp_path / "名册.xlsx", good_rows)

    browser_login(page, world.office.phone, PASSWORD)
    page.goto("/office/import")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "teams-import.png"), full_page=True)
    page.select_option("select[name=kind]", "volunteers")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#import-form button[type=submit]")
    page.locator("#import-report").wait_for(timeout=60_000)
    report = page.locator("#import-report").inner_text()
    assert "5" in report and "1391111000" in report and "不是11位中国大陆手机号" in report
    assert "未写入任何数据" in page.locator("#import-result").inner_text()
    assert page.locator("#report-download").is_visible()
    page.screenshot(path=str(SHOTS / "teams-import-report.png"), full_page=True)
    assert imported(session) == 0

    page.goto("/office/import")
    page.select_option("select[name=kind]", "volunteers")
    page.set_input_files("input[name=file]", str(good))
    page.click("#import-form button[type=submit]")
    page.locator("#import-job[data-status=done]").wait_for(timeout=60_000)
    assert "已导入3名志愿者，其中2人已加入队伍" in page.locator("#import-result").inner_text()
    page.screenshot(path=str(SHOTS / "teams-import-done.png"), full_page=True)
    assert imported(session) == 3
