"""Light pages (issue 17 point 6): fingerprinted static files cached for a year, compressed answers, and only the
scripts a page uses. The byte budget itself is measured in a browser: tests/browser/test_page_weight.py."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from volunteer_app import ROOT
from volunteer_app.assets import IMMUTABLE, Manifest, choose_encoding

from . import factories

STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
FINGERPRINTED = re.compile(r"^/static/(?:[\w.-]+/)*[\w.-]+\.[0-9a-f]{12}\.\w+$")


def static_urls(page: str) -> list[str]:
    return STATIC_URL.findall(page)


def test_pages_name_static_files_by_their_content(client):
    urls = static_urls(client.get("/login").get_data(as_text=True))
    assert any("/static/app." in url for url in urls) and any("/vendor/pico-" in url for url in urls)
    assert all(FINGERPRINTED.match(url) for url in urls), urls


def test_a_fingerprinted_file_is_cached_for_a_year_and_compressed(client):
    url = next(u for u in static_urls(client.get("/login").get_data(as_text=True)) if "/vendor/pico-" in u)
    plain = (ROOT / "static/vendor/pico-2.1.1.min.css").read_bytes()

    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200 and br.headers["Cache-Control"] == IMMUTABLE
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.get_data()) == plain
    assert "Accept-Encoding" in br.headers["Vary"] and "Cookie" not in br.headers["Vary"]
    assert "Set-Cookie" not in br.headers
    assert len(br.get_data()) < len(plain) / 5

    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.get_data()) == plain

    identity = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in identity.headers and identity.get_data() == plain
    assert len({br.headers["ETag"], gz.headers["ETag"], identity.headers["ETag"]}) == 3

    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]})
    assert again.status_code == 304


def test_images_and_small_files_are_sent_as_they_are(client):
    favicon = next(u for u in static_urls(client.get("/login").get_data(as_text=True)) if "favicon" in u)
    response = client.get(favicon, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_a_plain_static_address_still_works_but_is_revalidated(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != IMMUTABLE
    assert client.get("/static/app.0123456789ab.css").status_code == 404


def test_fingerprints_depend_on_content_alone(tmp_path):
    """Two app servers (two processes, two clones) name every file the same; a changed file gets a new name,
    and so does a stylesheet whose referenced image changed."""
    (tmp_path / "icon.svg").write_text("<svg/>")
    (tmp_path / "a.css").write_text('.x { background: url("icon.svg") } .y { background: url(data:x) }')
    first, second = Manifest(tmp_path), Manifest(tmp_path)
    assert {n: a.hashed for n, a in first.by_name.items()} == {n: a.hashed for n, a in second.by_name.items()}
    icon = first.by_name["icon.svg"].hashed
    assert f'url("{icon}")' in first.by_name["a.css"].body.decode() and "url(data:x)" in first.by_name["a.css"].body.decode()
    (tmp_path / "icon.svg").write_text("<svg></svg>")
    third = Manifest(tmp_path)
    assert third.by_name["icon.svg"].hashed != icon
    assert third.by_name["a.css"].hashed != first.by_name["a.css"].hashed


@pytest.mark.parametrize("header, chosen", [
    ("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("", None),
    ("identity", None), ("*", "br"), ("deflate", None),
])
def test_encoding_choice(header, chosen):
    assert choose_encoding(header) == chosen


def test_pages_are_compressed_and_vary_by_encoding(client):
    response = client.get("/register", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "<form" in brotli.decompress(response.get_data()).decode()
    assert {"accept-encoding", "hx-request"} <= {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert "Content-Security-Policy" in response.headers

    gz = client.get("/register", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and "<form" in gzip.decompress(gz.get_data()).decode()


def test_htmx_fragments_are_compressed_too(client, world):
    response = client.get("/register/units", query_string={"district": world.district.id},
                          headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert 'id="unit-picker"' in gzip.decompress(response.get_data()).decode()


def test_tiny_bodies_images_and_streams_are_not_compressed(app, client, auth, session, world):
    assert "Content-Encoding" not in client.get("/healthz", headers={"Accept-Encoding": "gzip"}).headers
    auth.login(world.office.phone)
    export = client.get("/office/export.csv", query_string={"kind": "records"}, headers={"Accept-Encoding": "br"})
    assert export.status_code == 200 and export.is_streamed and "Content-Encoding" not in export.headers
    client.post("/logout")
    activity = factories.make_activity(session, world.team_a, status="open", created_by=world.leader_a)
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    qr = re.search(r'<img id="qr" src="([^"]+)"', page).group(1)
    image = client.get(qr, headers={"Accept-Encoding": "gzip, br"})
    assert image.status_code == 200 and image.mimetype == "image/png" and "Content-Encoding" not in image.headers


def test_no_template_writes_a_static_address_by_hand():
    """Every static address goes through url_for('static', ...), which fingerprints it."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
                 if re.search(r'(?:href|src)="/static/', p.read_text())]
    assert offenders == []


# --- only what a page uses ----------------------------------------------------------------------

_REFERENCE = re.compile(r"""{%-?\s*(?:include|import|from|extends)\s+["']([^"']+)["']""")


def _templates() -> dict[str, str]:
    root = ROOT / "templates"
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.html")}


def _used(name: str, texts: dict[str, str], seen: set[str]) -> set[str]:
    if name in seen or name not in texts or name == "base.html":
        return seen
    seen.add(name)
    for other in _REFERENCE.findall(texts[name]):
        _used(other, texts, seen)
    return seen


def test_every_page_with_htmx_attributes_loads_htmx_and_says_so():
    """base.html loads htmx only for pages that set uses_htmx; a page (or a fragment it includes) with hx-*
    attributes must say whether it needs it (false is allowed when only uncalled macros carry hx-*)."""
    texts = _templates()
    missing = []
    for name, text in texts.items():
        if Path(name).name.startswith("_") or name == "base.html" or "{% extends" not in text:
            continue
        if any("hx-" in texts[used] for used in _used(name, texts, set())) and "set uses_htmx" not in text:
            missing.append(name)
    assert missing == [], "add {% set uses_htmx = true %} at the top of: " + ", ".join(missing)


def test_pages_load_htmx_only_when_they_use_it(client, auth, world):
    assert "htmx" not in client.get("/login").get_data(as_text=True)
    assert "htmx" not in client.get("/register").get_data(as_text=True)  # step one: the number only
    assert client.post("/register/code", data={"phone": "13912345678"}).status_code == 303
    assert "/vendor/htmx-" in client.get("/register").get_data(as_text=True)  # step two: the cascading unit picker
    for page in ("/login", "/register"):
        assert "chart-" not in client.get(page).get_data(as_text=True)
    auth.login(world.member_a.phone)
    assert "/vendor/htmx-" in client.get("/me").get_data(as_text=True)  # the record's pages
