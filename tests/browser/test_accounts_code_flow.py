"""Registering with an SMS code and claiming an imported account in Chromium at 360×640 (CSRF on): the code
field offers the SMS code (one-time-code, digit pad), the resend button counts down, 44×44 targets, nothing
wider than the phone; screenshots of every page in Chinese and English."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session

from volunteer_app.accounts.service import NO_PASSWORD

from tests import factories
from tests.browser_fixtures import browser_login, wait_for_htmx
from tests.helpers import sms_code

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))


def check_phone_layout(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    for target in page.locator("main button, main input:not([type=hidden]):not([type=checkbox])").all():
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (name, target.evaluate("e => e.outerHTML"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_register_with_a_code_on_a_phone(app, phone_page, live_server, lang):
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        world = factories.make_world(session)
        district, street, community = world.district.id, world.street.id, world.community.id
        page = phone_page
        if lang == "en":
            page.goto("/lang/en?next=/register")
        page.goto("/register")
        check_phone_layout(page, f"register-number-{lang}")
        page.fill("#phone", "13912345678")
        page.get_by_role("button", name="获取验证码" if lang == "zh" else "Send code").click()
        page.wait_for_url("**/register")
        code_input = page.locator("#code")
        assert code_input.get_attribute("autocomplete") == "one-time-code"
        assert code_input.get_attribute("inputmode") == "numeric"
        resend = page.locator("button.resend")
        assert resend.is_disabled() and ("秒" in resend.inner_text() or " s)" in resend.inner_text())
        check_phone_layout(page, f"register-code-{lang}")
        page.fill("#code", sms_code(session, "13912345678"))
        page.fill("#name", "周新人")
        page.fill("#password", "good password 1")
        page.fill("#password2", "good password 1")
        wait_for_htmx(page)
        page.select_option("#district", str(district))
        page.locator(f"#unit-picker[data-district='{district}']").wait_for()
        wait_for_htmx(page)
        page.select_option("#street", str(street))
        page.locator(f"#unit-picker[data-street='{street}']").wait_for()
        wait_for_htmx(page)
        page.select_option("#community", str(community))
        page.check("#consent")
        page.get_by_role("button", name="注册" if lang == "zh" else "Register", exact=True).click()
        assert not page.locator(".field-error").all(), [e.inner_text() for e in page.locator(".field-error").all()]
        page.wait_for_url(f"{live_server}/")
        assert ("欢迎" if lang == "zh" else "Welcome") in page.content()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forgot_and_claim_pages_on_a_phone(app, phone_page, lang):
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        world = factories.make_world(session)
        person = factories.make_volunteer(session, "导入队员", phone="13900000044", home_unit=world.community)
        person.password_hash, person.consent_at = NO_PASSWORD, None
        session.commit()
        page = phone_page
        if lang == "en":
            page.goto("/lang/en?next=/forgot")
        page.goto("/forgot")
        check_phone_layout(page, f"forgot-number-{lang}")
        page.fill("#phone", world.member_a.phone)
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/forgot/verify")
        check_phone_layout(page, f"forgot-code-{lang}")
        page.goto("/claim")
        check_phone_layout(page, f"claim-number-{lang}")
        page.fill("#phone", "13900000044")
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/claim/verify")
        page.fill("#code", "000000")
        page.fill("#password", "my own password")
        page.fill("#password2", "my own password")
        page.check("#consent")
        page.locator("main button.big").click()
        assert ("验证码错误" if lang == "zh" else "The code is wrong") in page.content()
        check_phone_layout(page, f"claim-code-error-{lang}")
        page.fill("#code", sms_code(session, "13900000044"))
        page.fill("#password", "my own password")
        page.fill("#password2", "my own password")
        page.locator("main button.big").click()
        page.wait_for_url("**/")
        assert ("导入队员") in page.content()


def test_the_office_reads_the_demo_outbox_on_a_phone(app, phone_page):
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        world = factories.make_world(session)
    page = phone_page
    page.goto("/forgot")
    page.fill("#phone", world.member_a.phone)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/forgot/verify")
    page.context.clear_cookies()
    browser_login(page, world.office.phone, factories.PASSWORD)
    page.goto("/office/sms-outbox")
    assert "未实际发送" in page.content() and "138****0003" in page.content()
    check_phone_layout(page, "sms-outbox-zh")
