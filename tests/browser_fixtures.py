"""Browser tests: Debian's headless Chromium driven by Playwright, against a live server on loopback.

Never downloads a browser. Locally a missing /usr/bin/chromium skips these tests with the reason;
with CI=true it fails them.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions",
]
PHONE = {"width": 360, "height": 640}


@pytest.fixture(scope="session")
def browser():
    from .conftest import require

    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        require(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app served on a free loopback port in a thread, with CSRF on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield url
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone_page(browser, live_server):
    """A page in a fresh browser context at 360×640, with touch, base URL set to the live server."""
    context = browser.new_context(viewport=PHONE, base_url=live_server, has_touch=True, is_mobile=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def new_phone(browser, live_server):
    """Open more phones (e.g. a leader and a volunteer side by side)."""
    contexts = []

    def _open():
        context = browser.new_context(viewport=PHONE, base_url=live_server, has_touch=True, is_mobile=True,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def browser_login(page, phone: str, password: str) -> None:
    """Log in through the real form."""
    page.goto("/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def wait_for_htmx(page) -> None:
    """Wait until htmx has no request in flight and has finished swapping and settling new content.

    New elements answer to their hx-* attributes only once settled; acting on them earlier races htmx.
    The page must also have loaded: htmx is a deferred script and wires hx-* up once the document is ready,
    so a change made right after a click-through navigation would otherwise go unheard.
    """
    page.wait_for_function(
        "() => document.readyState === 'complete' && window.htmx"
        " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def first_load(page, path: str) -> dict[str, dict]:
    """Every response of a first visit to path (the browser cache off), by URL: bytes on the wire (headers and body,
    as Chromium's network layer counts them: CDP's encodedDataLength), type and Content-Encoding.

    Waits for the load event and a quiet network, so images and deferred scripts count; polling that starts later
    (htmx's every-N-seconds refreshes) does not. Used by tests/browser/test_page_weight.py and
    benchmarks/page_weight.py.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    seen: dict[str, dict] = {}
    cdp.on("Network.responseReceived", lambda e: seen.setdefault(e["requestId"], {}).update(
        url=e["response"]["url"], type=e["type"],
        encoding={k.lower(): v for k, v in e["response"]["headers"].items()}.get("content-encoding", "")))
    cdp.on("Network.loadingFinished", lambda e: seen.setdefault(e["requestId"], {}).update(
        bytes=int(e["encodedDataLength"])))
    page.goto(path, wait_until="load")
    try:
        page.wait_for_load_state("networkidle", timeout=3000)
    except Exception:  # noqa: BLE001 - a page that polls quickly never idles; what loaded by then is the first load
        pass
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.detach()
    return {entry["url"]: entry for entry in seen.values() if "url" in entry and "bytes" in entry}
