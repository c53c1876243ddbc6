"""The Content-Security-Policy forbids inline script and style, so no page may carry any.

Two nets: every template file is read as text, and every page the app serves (each GET route
reachable with the `world` fixture, as each kind of user, full page and htmx fragment) is parsed.
A page that broke the rule would work in the test client and fail silently in a real browser.
"""
from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from volunteer_app import ROOT
from volunteer_app.models import utcnow

from . import factories

TEMPLATES = ROOT / "templates"
INLINE_IN_TEMPLATE = [
    (re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I), "inline <script> block"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S), "style= attribute"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S), "on*= event handler"),
    (re.compile(r"\bhx-on\b|\bdata-hx-on\b", re.I), "hx-on attribute (inline script)"),
    (re.compile(r"(?:href|src|action)\s*=\s*[\"']\s*javascript:", re.I), "javascript: URL"),
]


class InlineFinder(HTMLParser):
    """Collects everything in a page that a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        if tag == "script":
            self._in_inline_script = "src" not in names
        if tag == "style":
            self.problems.append("<style> block")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        for name in names:
            if name.startswith("on") or name.startswith("hx-on") or name.startswith("data-hx-on"):
                self.problems.append(f"{name}= on <{tag}>")
        for name in ("href", "src", "action", "formaction"):
            if (names.get(name) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")


def inline_problems(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.problems


def test_the_finder_finds_what_it_must():
    bad = ('<div style="color:red" onclick="x()"><script>alert(1)</script><a href="javascript:x()">a</a>'
           '<button hx-on:click="x()">b</button><style>p{}</style></div>')
    assert len(inline_problems(bad)) == 6
    assert inline_problems('<script src="/static/app.js" defer></script><p data-confirm="?">ok</p>') == []


def test_no_template_carries_inline_script_or_style():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern, what in INLINE_IN_TEMPLATE:
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "CSP forbids these (use static/*.js with data-* attributes and static/*.css):\n  " + \
        "\n  ".join(problems)


# --- every page the app serves ------------------------------------------------------------


def url_arguments(world, activity, session) -> dict[str, object]:
    """A value for every URL argument name the routes use, taken from the small world."""
    return {
        "team_id": world.team_a.id,
        "activity_id": activity.id,
        "volunteer_id": world.member_a.id,
        "member_id": world.member_a.id,
        "membership_id": _membership_id(session, world),
        "unit_id": world.community.id,
        "district_id": world.district.id,
        "theme": "civilized_traffic",
        "theme_code": "civilized_traffic",
        "code": "en",
        "token": _token(activity),
        "kind": "volunteers",
        "fmt": "csv",
        "job_id": 1,
        "photo_id": 1,
        "attendance_id": 1,
        "year": utcnow().year,
        "month": utcnow().month,
        "page": 1,
    }


def _token(activity) -> str:
    from volunteer_app import tokens

    return tokens.rotating_token(secret_key="test-secret-key-not-for-production", activity_id=activity.id,
                                 activity_secret=activity.secret)


def _membership_id(session, world) -> int:
    from sqlmodel import select

    from volunteer_app.models import Membership

    return session.exec(
        select(Membership.id).where(Membership.volunteer_id == world.member_a.id)
    ).first()


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static" and not rule.rule.startswith("/lang/"):
            yield rule


def build(rule, arguments) -> str | None:
    values = {}
    for name in rule.arguments:
        if name not in arguments:
            return None
        values[name] = arguments[name]
    return rule.build(values, append_unknown=False)[1]


def test_every_page_served_is_free_of_inline_script_and_style(app, client, auth, world, session):
    activity = factories.make_activity(session, world.team_a, status="open",
                                       starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=10),
                                       created_by=world.leader_a)
    factories.make_attendance(session, activity, world.member_a, minutes=30)
    session.commit()
    arguments = url_arguments(world, activity, session)
    scanned, problems = set(), []
    for who in (None, world.member_a, world.leader_a, world.office, world.office_district2):
        if who is not None:
            assert auth.login(who.phone).status_code == 302
        for rule in get_routes(app):
            url = build(rule, arguments)
            if url is None:
                continue
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                body = response.get_data(as_text=response.mimetype == "text/html")  # streams end here
                response.close()
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                scanned.add(rule.rule)
                for problem in inline_problems(body):
                    problems.append(f"{url} ({'fragment' if headers else 'page'}, "
                                    f"{who.name if who else 'anonymous'}): {problem}")
        if who is not None:
            auth.logout()
    assert {"/", "/login", "/c/<token>", "/activities/<int:activity_id>", "/privacy", "/office"} <= scanned
    assert not problems, "inline script or style in served pages:\n  " + "\n  ".join(sorted(set(problems)))


@pytest.mark.parametrize("path", ["/login", "/no-such-page"])
def test_served_pages_include_only_same_origin_scripts(client, path):
    html = client.get(path).get_data(as_text=True)
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assert sources and all(src.startswith("/static/") for src in sources)
