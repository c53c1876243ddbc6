"""A certificate on a phone (Chromium, 360×640, CSRF on): a volunteer issues one and downloads the PDF; a
stranger scans the QR code printed in it and sees it verified, without logging in."""
from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlmodel import Session

from volunteer_app.models import utcnow

from tests import factories
from tests.browser_fixtures import browser_login

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


def test_issue_download_and_a_stranger_verifies_from_the_qr(app, phone_page, new_phone, live_server):
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        world = factories.make_world(session)
        activity = factories.make_activity(session, world.team_a, status="closed", title="周末清扫",
                                           starts_at=utcnow().replace(microsecond=0) - timedelta(days=2),
                                           created_by=world.leader_a)
        factories.make_attendance(session, activity, world.member_a, minutes=150)
        session.commit()
    page = phone_page
    browser_login(page, world.member_a.phone, factories.PASSWORD)
    page.click("#home-certificates")
    page.wait_for_url("**/me/certificates")
    page.locator("label", has_text="近三年").click()
    page.click("#issue")
    page.wait_for_url("**/me/certificates?new=*")
    assert "已开具" in page.locator(".flash").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "certificates-mine.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for target in page.locator("#certificates [role=button], #issue, .presets label").all():
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    with page.expect_download() as download:
        page.locator("#certificates a", has_text="下载 PDF").click()
    data = Path(download.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert "赵小红" in reader.pages[0].extract_text() and "2.5小时" in reader.pages[0].extract_text()
    image = next(iter(reader.pages[-1].images))
    url = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)).convert("L"))[0].text

    stranger = new_phone()
    stranger.goto(url)
    assert stranger.locator("#verdict").get_attribute("data-state") == "valid"
    assert stranger.locator("#holder").inner_text() == "赵*红"
    assert "2.5\xa0小时" in stranger.locator("#hours").inner_text()
    assert "13800000003" not in stranger.content()
    stranger.screenshot(path=str(SHOTS / "certificates-verify.png"), full_page=True)
    assert stranger.evaluate("document.documentElement.scrollWidth") <= 360
