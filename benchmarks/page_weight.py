"""Bytes on the wire for a phone's first visit (issue 17 point 6): the check-in page and the leader's live QR page.

    .venv/bin/python benchmarks/page_weight.py            # the small demo city, Granian, headless Chromium

Seeds the small demo city into a SQLite file in a temporary directory, runs `demo refresh` (the demo leader gets an
activity open now), serves it with Granian on 127.0.0.1 as `make run` does, logs in through the real form in
headless Chromium (/usr/bin/chromium) at 360x640, then loads each page with the browser cache off and counts what
Chromium's network layer received for it and everything it pulled in (CDP Network.loadingFinished
encodedDataLength: headers and compressed body). Target: <= 50 KB for each. Figures: docs/PERFORMANCE.md.
The same measure is a test: tests/browser/test_page_weight.py. Runs in about 20 s; no network.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._server import start_server, stop_server  # noqa: E402
from tests.browser_fixtures import CHROMIUM, CHROMIUM_ARGS, PHONE, first_load  # noqa: E402

BUDGET = 50_000
LEADER, VOLUNTEER, PASSWORD = "19900000003", "19900000004", "redvest2026"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rv-weight-"))
    url = f"sqlite:///{workdir / 'demo.db'}"
    secret_key = secrets.token_urlsafe(48)
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret_key, VOLUNTEER_APP_INSTANCE=str(workdir / "instance"))
    cli = str(ROOT / ".venv/bin/volunteer-app")
    for step in (["db", "upgrade"], ["seed-demo", "--scale", "small"], ["demo", "refresh"]):
        subprocess.run([cli, *step], env=env, check=True, stdout=subprocess.DEVNULL)
    activity_id, token = open_activity_and_token(url, secret_key)
    port = free_port()
    server = start_server("granian-4", url=url, secret_key=secret_key, workdir=workdir, port=port,
                          ratelimit_storage="memory://", workers=1)
    try:
        measure(f"http://127.0.0.1:{port}", [
            ("check-in page, volunteer logged in: GET /c/<token>", VOLUNTEER, f"/c/{token}"),
            ("leader's live QR page: GET /activities/<id>", LEADER, f"/activities/{activity_id}"),
            ("login page, anonymous: GET /login", None, "/login"),
        ])
    finally:
        stop_server(server)


def open_activity_and_token(url: str, secret_key: str) -> tuple[int, str]:
    """The demo leader's activity open now, and a fresh rotating token of its QR code."""
    from sqlalchemy import create_engine, text

    from volunteer_app import tokens

    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT a.id, a.secret FROM activity a JOIN membership m ON m.team_id = a.team_id "
            "JOIN volunteer v ON v.id = m.volunteer_id WHERE a.status = 'open' AND v.phone = :phone "
            "AND m.role = 'leader' ORDER BY a.id LIMIT 1"), {"phone": LEADER}).one()
    engine.dispose()
    return row.id, tokens.rotating_token(secret_key=secret_key, activity_id=row.id, activity_secret=row.secret)


def measure(base_url: str, pages: list[tuple[str, str | None, str]]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for title, phone, path in pages:
            context = browser.new_context(viewport=PHONE, base_url=base_url, is_mobile=True, has_touch=True,
                                          locale="zh-CN")
            page = context.new_page()
            if phone:
                page.goto("/login")
                page.fill("input[name=phone]", phone)
                page.fill("input[name=password]", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_load_state()
            loads = first_load(page, path)
            total = sum(entry["bytes"] for entry in loads.values())
            print(f"\n{title}: {total:,} bytes in {len(loads)} responses "
                  f"({'within' if total <= BUDGET else 'OVER'} the {BUDGET:,}-byte budget)")
            for entry in sorted(loads.values(), key=lambda e: -e["bytes"]):
                name = entry["url"].removeprefix(base_url).split("?")[0]
                name = name if len(name) < 60 else name[:57] + "..."
                print(f"  {entry['bytes']:>7,}  {entry['encoding'] or '-':<5} {entry['type']:<11} {name}")
            context.close()
        browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
