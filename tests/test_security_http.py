"""HTTP hardening: headers, cookies, trusted hosts, the proxy in front, request size, cross-site posts,
and translated error pages (never a traceback) for every error status, as pages and as JSON."""
from __future__ import annotations

import pytest
from flask import abort, request

from volunteer_app import create_app
from volunteer_app.security import CSP

from . import factories


def add_test_routes(app):
    """Routes that fail on purpose, added before the first request."""

    @app.get("/_test/abort/<int:status>")
    def _abort(status):
        abort(status)

    @app.get("/_test/crash")
    def _crash():
        raise RuntimeError("secret-detail-7f3a in /srv/app/volunteer_app/views.py")

    @app.get("/_test/remote-addr")
    def _remote_addr():
        return request.remote_addr or ""

    return app


# --- headers and cookies ------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client):
    for path in ("/login", "/static/app.css", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CSP, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would mean nothing


def test_csp_forbids_inline_script_and_style_and_framing():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_session_cookie_is_httponly_and_lax(client):
    client.get("/login")  # the CSRF token puts something in the session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure  # plain HTTP in tests and `make run`


def test_sessions_sign_with_one_serializer_per_key_and_honour_key_rotation(make_app, world):
    """The cached serializer is Flask's own: a login survives; a rotated key keeps old cookies valid through
    SECRET_KEY_FALLBACKS; a cookie signed with an unknown key is no login at all."""
    old = make_app(SECRET_KEY="the-old-secret-key-0123456789abcdef")
    interface = old.session_interface
    assert interface.get_signing_serializer(old) is interface.get_signing_serializer(old)
    client = old.test_client()
    assert client.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD}).status_code == 302
    cookie = client.get_cookie("session").value

    rotated = make_app(SECRET_KEY="the-new-secret-key-0123456789abcdef",
                       SECRET_KEY_FALLBACKS=["the-old-secret-key-0123456789abcdef"])
    carried = rotated.test_client()
    carried.set_cookie("session", cookie)
    assert carried.get("/").status_code == 200  # still logged in
    stranger = make_app(SECRET_KEY="someone-elses-secret-key-0123456789")
    forged = stranger.test_client()
    forged.set_cookie("session", cookie)
    assert forged.get("/").status_code == 302  # to the login page


def test_the_limiter_pass_over_every_request_is_gone_while_all_limits_are_decorators(app):
    from volunteer_app.extensions import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    assert not limiter.limit_manager.default_limits and not limiter.limit_manager.application_limits


def test_production_cookies_are_secure_when_the_environment_says_so(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "prod-instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    production = create_app()
    try:
        assert not production.testing
        assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
        response = production.test_client().get("/login", base_url="https://localhost")
        set_cookie = response.headers["Set-Cookie"]
        assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    finally:
        production.extensions["db_engine"].dispose()


def test_a_well_known_secret_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "prod-instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


# --- hosts and proxies --------------------------------------------------------------------


def test_an_untrusted_host_gets_a_translated_400(make_app):
    app = make_app(TRUSTED_HOSTS=["rv.example.cn"])
    client = app.test_client()
    assert client.get("/login", headers={"Host": "rv.example.cn"}).status_code == 200
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请求有误" in page and "Traceback" not in page
    assert response.headers["Content-Security-Policy"] == CSP


def test_behind_one_proxy_the_client_is_the_last_hop_not_the_forged_first(make_app):
    client = add_test_routes(make_app(TRUSTED_PROXIES=1)).test_client()
    response = client.get(
        "/_test/remote-addr",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
    )
    assert response.get_data(as_text=True) == "203.0.113.7"


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(make_app):
    client = add_test_routes(make_app()).test_client()
    response = client.get(
        "/_test/remote-addr", headers={"X-Forwarded-For": "6.6.6.6"}, environ_base={"REMOTE_ADDR": "198.51.100.4"}
    )
    assert response.get_data(as_text=True) == "198.51.100.4"


def test_a_forged_forwarded_for_cannot_dodge_the_login_limit(make_app, world):
    client = make_app(TRUSTED_PROXIES=1, RATELIMIT_ENABLED=True).test_client()

    def attempt(forged: str, real: str = "203.0.113.7"):
        return client.post(
            "/login",
            data={"phone": "13800000003", "password": "wrong password"},
            headers={"X-Forwarded-For": f"{forged}, {real}"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )

    statuses = [attempt(f"6.6.6.{i}").status_code for i in range(12)]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    # another real client behind the same proxy is not blocked by the first one's attempts
    assert attempt("6.6.6.99", real="203.0.113.8").status_code == 400


# --- request size and cross-site posts ----------------------------------------------------


def test_an_oversized_body_gets_a_translated_413(make_app, world):
    client = make_app(MAX_CONTENT_LENGTH=4096).test_client()
    response = client.post("/login", data={"phone": "13800000003", "password": "x" * 10_000})
    assert response.status_code == 413
    assert "内容过大" in response.get_data(as_text=True)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_one_huge_form_field_is_refused_even_under_the_upload_limit(client, world, content_type):
    response = client.post("/login", data={"phone": "1" * 600_000, "password": "x"}, content_type=content_type)
    assert response.status_code == 413


def test_a_huge_json_body_is_refused(client):
    response = client.post("/login", data=b'{"a": "' + b"x" * 600_000 + b'"}', content_type="application/json")
    assert response.status_code == 413


def test_too_many_form_fields_are_refused(client, world):
    data = {f"f{i}": "x" for i in range(1_100)}
    response = client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_large_upload_is_still_accepted_up_to_its_own_limit(client, world):
    """Spreadsheets and photos are multipart files: the small form limit does not apply to them."""
    import io

    response = client.post(
        "/login",
        data={"phone": "13800000003", "password": "x", "file": (io.BytesIO(b"x" * 2_000_000), "roster.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400  # read in full and answered by the form (wrong password), not 413


def test_a_post_from_another_site_is_refused_before_any_work(client, world):
    response = client.post(
        "/login",
        data={"phone": "13800000003", "password": factories.PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400
    assert "表单已过期或来源不明" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


@pytest.mark.parametrize("origin", ["null", "http://localhost.evil.example", "javascript:alert(1)"])
def test_odd_origins_are_refused(client, world, origin):
    response = client.post("/login", data={"phone": "13800000003", "password": "x"}, headers={"Origin": origin})
    assert response.status_code == 400


def test_a_post_from_this_site_passes_the_origin_check(client, world):
    response = client.post(
        "/login",
        data={"phone": "13800000003", "password": factories.PASSWORD},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302


def test_a_post_without_csrf_token_is_refused_with_a_translated_page(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/login", data={"phone": "13800000003", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "表单已过期或来源不明" in response.get_data(as_text=True)


# --- error pages --------------------------------------------------------------------------

ERROR_TEXT = {
    400: ("请求有误", "Bad request"),
    403: ("无权操作", "Not allowed"),
    404: ("未找到", "Not found"),
    405: ("不支持的请求方式", "Method not allowed"),
    413: ("内容过大", "Too large"),
    429: ("尝试次数过多", "Too many attempts"),
    500: ("出错了", "Something went wrong"),
}


def provoke(client, status: int):
    """Make the app answer `status` the way it would in real use where there is a real way."""
    if status == 400:
        return client.post("/login", data={"phone": "1", "password": "x"}, headers={"Origin": "https://evil.example"})
    if status == 403:
        return client.get("/_test/abort/403")
    if status == 404:
        return client.get("/no/such/page")
    if status == 405:
        return client.delete("/login")
    if status == 413:
        return client.post("/login", data={"phone": "1", "password": "x" * 10_000})
    if status == 429:
        for _ in range(10):
            client.post("/login", data={"phone": "13900000000", "password": "wrong password"})
        return client.post("/login", data={"phone": "13900000000", "password": "wrong password"})
    return client.get("/_test/crash")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("status", sorted(ERROR_TEXT))
def test_error_pages_are_translated_and_show_no_traceback(make_app, world, status, language):
    app = add_test_routes(make_app(MAX_CONTENT_LENGTH=4096, RATELIMIT_ENABLED=True))
    client = app.test_client()
    client.set_cookie("lang", language)
    response = provoke(client, status)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    title = ERROR_TEXT[status][0 if language == "zh_CN" else 1]
    assert f"<h1>{title}</h1>" in page
    assert "Traceback" not in page and "secret-detail" not in page and "RuntimeError" not in page
    assert 'href="/static/app.' in page and '.css"' in page  # the full page with the app's look, not a bare fallback
    assert response.headers["Content-Security-Policy"] == CSP


def test_a_405_says_what_is_allowed(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_a_crash_rolls_back_and_is_logged_but_not_shown(make_app, world, caplog):
    app = add_test_routes(make_app())
    response = app.test_client().get("/_test/crash")
    assert response.status_code == 500
    assert "secret-detail" not in response.get_data(as_text=True)
    assert any("secret-detail-7f3a" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_an_error_page_that_cannot_render_falls_back_to_a_plain_translated_page(make_app, monkeypatch):
    app = add_test_routes(make_app())
    from volunteer_app import errors

    def broken(*args, **kwargs):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(errors, "render_template", broken)
    response = app.test_client().get("/_test/crash")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "<h1>出错了</h1>" in page and "database is down" not in page
    assert "<script" not in page and "style=" not in page


@pytest.mark.parametrize("status", [404, 405, 500])
def test_api_calls_get_json_errors(make_app, status):
    client = add_test_routes(make_app()).test_client()
    if status == 404:
        response = client.get("/api/no-such-thing")
    elif status == 405:
        response = client.delete("/login", headers={"Accept": "application/json"})
    else:
        response = client.get("/_test/crash", headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["error"] == str(status) and body["message"]
    assert "secret-detail" not in response.get_data(as_text=True)


def test_a_429_tells_when_to_retry(make_app, world):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    for _ in range(10):
        client.post("/login", data={"phone": "13900000000", "password": "wrong password"})
    response = client.post("/login", data={"phone": "13900000000", "password": "wrong password"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


# --- hostile addresses ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/teams/99999999999999999999", "/activities/9223372036854775808",
                                  "/attendances/18446744073709551616/void"])
def test_ids_past_64_bits_are_a_plain_404(client, auth, world, path):
    auth.login(world.leader_a.phone)
    response = client.get(path) if "void" not in path else client.post(path, data={"reason": "x"})
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/c/abc%00def", "/join/x%00", "/office/teams?q=%00", "/teams?x=1%002"])
def test_a_nul_byte_in_the_address_is_a_translated_400(client, auth, world, path):
    auth.login(world.office.phone)
    response = client.get(path)
    assert response.status_code == 400
    assert "请求有误" in response.get_data(as_text=True)
