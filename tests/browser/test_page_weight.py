"""Light pages on a weak signal (issue 17 point 6): the check-in page and the leader's live QR page, first load,
at most 50 KB on the wire with their CSS, JS and images; text compressed; only the scripts a page uses.

Figures of the same measure on the small demo city: benchmarks/page_weight.py, docs/PERFORMANCE.md.
"""
from __future__ import annotations

import pytest

from volunteer_app import tokens

from tests import factories
from tests.browser_fixtures import browser_login, first_load
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

BUDGET = 50_000  # bytes


def open_activity(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", created_by=world.leader_a)
    session.commit()
    return activity


def check_light(loads: dict[str, dict]) -> int:
    total = sum(entry["bytes"] for entry in loads.values())
    text = [e for e in loads.values() if e["type"] in ("Document", "Stylesheet", "Script")]
    uncompressed = [e["url"] for e in text if e["bytes"] > 1500 and e["encoding"] not in ("br", "gzip")]
    assert not uncompressed, uncompressed
    assert not [url for url in loads if "chart" in url], "no chart library on a page without charts"
    assert total <= BUDGET, {url: e["bytes"] for url, e in loads.items()}
    return total


def test_check_in_page_first_load_is_light(new_phone, app, session, world):
    activity = open_activity(session, world)
    token = tokens.rotating_token(secret_key=app.config["SECRET_KEY"], activity_id=activity.id,
                                  activity_secret=activity.secret)
    phone = new_phone()
    browser_login(phone, world.member_a.phone, PASSWORD)
    loads = first_load(phone, f"/c/{token}")
    assert phone.locator("#scan-button").is_visible()
    check_light(loads)
    assert not [url for url in loads if "htmx" in url], "the check-in page does not use htmx"


def test_leaders_live_qr_page_first_load_is_light(new_phone, app, session, world):
    activity = open_activity(session, world)
    phone = new_phone()
    browser_login(phone, world.leader_a.phone, PASSWORD)
    loads = first_load(phone, f"/activities/{activity.id}")
    assert phone.locator("#qr-box img").first.is_visible()
    check_light(loads)
    assert [url for url in loads if "htmx" in url], "the live QR refreshes through htmx"
