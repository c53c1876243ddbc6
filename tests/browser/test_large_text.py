"""Large text for older volunteers and forms that say what is wrong (issue 17 point 7), at 360×640 in Chromium.

Screenshots of each page in large text go to $SCREENSHOT_DIR (default /tmp/rv-screenshots), named large-*.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from volunteer_app import tokens

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/rv-screenshots"))
MIN_TARGET = 44  # CSS px


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"large-{name}.png"), full_page=True)


def check_usable(page, name: str) -> None:
    """Large type, nothing wider than the phone, every control in the page body big enough for a finger."""
    shot(page, name)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 19.5, name
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} scrolls sideways"
    small = page.evaluate("""() => [...document.querySelectorAll(
        'main button, main [role=button], main input:not([type=hidden]):not([type=checkbox]), main select, #text-size-switch')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.id || el.name || el.textContent.trim().slice(0, 20), el.getBoundingClientRect().height])
        .filter(([, h]) => h < %d)""" % MIN_TARGET)
    assert small == [], f"{name}: targets under {MIN_TARGET}px: {small}"


def test_large_text_is_chosen_once_and_every_page_stays_usable(new_phone, app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", created_by=world.leader_a)
    session.commit()
    token = tokens.rotating_token(secret_key=app.config["SECRET_KEY"], activity_id=activity.id,
                                  activity_secret=activity.secret)
    phone = new_phone()
    phone.goto("/login")
    normal_size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    phone.click("#text-size-switch")
    phone.wait_for_url("**/login")
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") > normal_size
    assert phone.locator("#text-size-switch").inner_text() == "标准版"
    check_usable(phone, "login")
    phone.goto("/register")
    check_usable(phone, "register")

    phone.goto("/login")
    phone.fill("input[name=phone]", world.member_a.phone)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/")
    check_usable(phone, "home")
    phone.goto("/me")
    check_usable(phone, "me")
    phone.goto(f"/c/{token}")
    check_usable(phone, "checkin")
    phone.goto(f"/lang/en?next=/c/{token}")  # English words are longer: the same pages again
    check_usable(phone, "checkin-en")
    for path, name in (("/", "home-en"), ("/me", "me-en")):
        phone.goto(path)
        check_usable(phone, name)
    phone.goto("/lang/zh_CN?next=/")

    other = new_phone()  # the same person on another phone: the account remembers
    other.goto("/login")
    other.fill("input[name=phone]", world.member_a.phone)
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url("**/")
    assert other.locator("#text-size-switch").inner_text() == "标准版"


def test_registration_errors_are_announced_focused_and_go_once_fixed(new_phone, world):
    phone = new_phone()
    phone.goto("/register")
    phone.fill("#phone", "13912345678")  # step one: the number gets a code; step two is the form checked here
    phone.locator("form button[type=submit]").first.click()
    phone.wait_for_url("**/register")
    phone.locator("#code").wait_for()
    phone.locator("#register-form button.big").click()
    phone.wait_for_load_state()
    errors = phone.locator(".field-error:visible")
    assert errors.count() >= 4
    for i in range(errors.count()):
        error = errors.nth(i)
        assert error.get_attribute("role") == "alert"
        described = phone.locator(f"[aria-describedby='{error.get_attribute('id')}']")
        assert described.count() == 1 and described.get_attribute("aria-invalid") == "true"
    assert phone.evaluate("document.activeElement.id") == "code"  # the first invalid field (the code comes first)
    shot(phone, "register-errors-normal")

    phone.fill("#name", "王小红")
    phone.fill("#code", "123456")
    assert phone.locator("#name-error").is_hidden() and phone.locator("#code-error").is_hidden()
    assert phone.locator("#name").get_attribute("aria-invalid") is None
    assert phone.locator("#password-error").is_visible()  # not yet changed: its error stays
    phone.check("#consent")
    assert phone.locator("#consent-error").is_hidden()
