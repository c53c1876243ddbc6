"""Every page of every role in Chromium: tap targets, axe-core, no sideways overflow (issue 17, points 5 and 7).

The pages come from the app's url_map through the permission matrix (tests/test_permissions_matrix.py): every GET
route has a row there with a sample URL built from its `scene`, and says who may open it. So a page another module
adds later is crawled too, and a GET route without a row fails here as well as there. Fragments (rows sent with an
HX-Request header) are crawled inside the pages that include them; files (PNG, CSV, XLSX, JPEG) are skipped by their
content type.

Each page is opened at 360×640 (office pages also at 1280×800), in Chinese and in English, as anonymous, a volunteer
(a member of team A), team A's leader and the city office, and must pass:

(a) Tap targets. Every visible a, button, input, select, textarea and summary has a box of at least 44×44 CSS px
    (a checkbox or radio is measured by its label, which is what a finger hits). One exemption, WCAG 2.5.8's
    "inline" case: a link whose computed display is `inline` inside a block that has other text as well — a link
    in a sentence, whose height is set by the line it sits on. A link alone in a table cell or list item is not
    in a sentence and must be a full target.
(b) axe-core 4.14.1 (vendored in tests/browser/vendor/) finds no serious or critical violation.
(c) Nothing sideways: document.scrollingElement.scrollWidth is at most the viewport width, every table either
    fits its container or sits in a `.table-wrap` (the scrollable wrapper with its shadow cue, static/app.css), and
    the main menu shows every entry without scrolling it, and "Log out" is in sight at the top of the page.

One browser, one context per person, one page reused for every URL. Runs on SQLite only: what is drawn does not
depend on the backend. CRAWL_SCREENSHOTS=<dir> saves a screenshot of every page visited.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests import test_permissions_matrix as matrix
from tests.test_permissions_matrix import MATRIX, NOT_IN_MATRIX, OK

scene = matrix.scene  # the matrix's sample objects (team A's activities, tokens, people), as a fixture here
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
# The crawl's people, by the matrix's role names.
PEOPLE = {"anonymous": "anon", "volunteer": "member", "leader": "leader_a", "office": "office"}
MIN_TARGET = 44

CHECKS = """(minTarget) => {
  const visible = (el) => {
    if (el.closest('details:not([open]) > :not(summary)')) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim();
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text.slice(0, 30)}"`;
  };
  const blockOf = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith('inline')) node = node.parentElement;
    return node;
  };
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const block = blockOf(el);
    const own = el.innerText.trim().length;
    return block && block.innerText.replace(/\\s+/g, '').length > el.innerText.replace(/\\s+/g, '').length && own > 0;
  };
  const small = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    let target = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      target = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    if (seen.has(target) || !visible(target) || inSentence(target)) continue;
    seen.add(target);
    const box = target.getBoundingClientRect();
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5) {
      small.push(`${name(target)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  const clipped = [];
  for (const table of document.querySelectorAll('table')) {
    if (!visible(table) || table.closest('.table-wrap')) continue;
    const room = table.parentElement.clientWidth;
    if (table.scrollWidth > room + 1) clipped.push(`table ${table.scrollWidth}px in ${room}px`);
  }
  const nav = document.querySelector('.mainnav');
  const logout = document.querySelector('form[action$="/logout"] button');
  const box = logout && logout.getBoundingClientRect();
  const navHidden = (nav && nav.scrollWidth > nav.clientWidth + 1)
    || (logout && (box.right > window.innerWidth || box.bottom > window.innerHeight || !visible(logout)));
  return {small, clipped, navHidden, width: document.scrollingElement.scrollWidth, viewport: window.innerWidth};
}"""


def crawl_urls(role: str, sample: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of every page this role may open, from the permission matrix."""
    urls = []
    for (endpoint, method), attempt in sorted(MATRIX.items()):
        if method != "GET" or attempt.headers or attempt.outcomes[role] != OK:
            continue
        urls.append((endpoint, attempt.path(sample)))
    return urls


def test_every_get_route_has_a_sample_url(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and rule.endpoint not in NOT_IN_MATRIX}
    missing = sorted(routes - {endpoint for endpoint, method in MATRIX if method == "GET"})
    assert not missing, ("GET routes the crawl cannot visit: give each a row with a sample URL in "
                         f"tests/test_permissions_matrix.py MATRIX: {missing}")


def test_every_page_of_every_role(browser, live_server, scene):
    shots = os.environ.get("CRAWL_SCREENSHOTS")
    failures: list[str] = []
    visited = 0
    for person, role in PEOPLE.items():
        viewports = [("phone", PHONE)] + ([("desktop", DESKTOP)] if person == "office" else [])
        for label, viewport in viewports:
            context = browser.new_context(viewport=viewport, base_url=live_server, bypass_csp=True,
                                          has_touch=label == "phone", is_mobile=label == "phone",
                                          locale="zh-CN", timezone_id="Asia/Shanghai")
            context.add_init_script(path=str(AXE))  # in every page before its own scripts, sent to Chromium once
            page = context.new_page()
            page.set_default_timeout(15_000)
            if role != "anon":
                log_in(page, scene["people"][role].phone)
            pages = html_pages(page, crawl_urls(role, scene))
            for language in ("zh_CN", "en"):
                context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
                for endpoint, url in pages:
                    where = f"{person} {label} {language} {url} ({endpoint})"
                    page.goto(url)
                    visited += 1
                    failures += [f"{where}: {problem}" for problem in check_page(page)]
                    if shots:
                        Path(shots).mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(Path(shots) / f"{person}-{label}-{language}-{endpoint}.png"),
                                        full_page=True)
            context.close()
    assert visited > 40, f"only {visited} pages crawled"
    assert not failures, f"{len(failures)} problems on {visited} page visits:\n" + "\n".join(failures)


def log_in(page, phone: str) -> None:
    page.goto("/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{phone} could not log in"


def html_pages(page, urls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The URLs that answer with an HTML page for this person (files are not pages)."""
    pages = []
    for endpoint, url in urls:
        response = page.request.get(url)
        html = response.ok and response.headers.get("content-type", "").startswith("text/html")
        if html and response.text().lstrip()[:15].lower() == "<!doctype html>":  # a fragment alone is no page
            pages.append((endpoint, url))
    return pages


def check_page(page) -> list[str]:
    """The problems of the page now shown."""
    problems = []
    found = page.evaluate(CHECKS, MIN_TARGET)
    if found["width"] > found["viewport"]:
        problems.append(f"page is {found['width']}px wide in a {found['viewport']}px viewport")
    if found["navHidden"]:
        problems.append("the main menu is cut off, or Log out is not in sight at the top of the page")
    problems += [f"table clipped: {item}" for item in found["clipped"]]
    problems += [f"tap target under {MIN_TARGET}px: {item}" for item in found["small"]]
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            problems.append(f"axe {violation['impact']} {violation['id']}: {violation['help']} ({targets})")
    return problems
