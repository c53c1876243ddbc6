"""HTTP hardening: security headers, the proxy in front, trusted hosts, cross-site posts, bounded requests.

The Content-Security-Policy allows no inline script or style (a test scans every page). TRUSTED_PROXIES,
TRUSTED_HOSTS and SESSION_COOKIE_SECURE come from the environment (config.py, README's configuration table).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Check-in may ask for the position (the optional geofence); nothing else needs a device feature.
PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"
HSTS = "max-age=31536000; includeSubDomains"
# On every answer unless the view set its own (HSTS is added over HTTPS only).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_SECURE_HEADERS = (*SECURITY_HEADERS, ("Strict-Transport-Security", HSTS))
MAX_ID = 2**63 - 1  # the largest id a database column holds (SQLite INTEGER, PostgreSQL BIGINT)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The office's reports parse every filter parameter themselves (reports/filters.py) and answer 400 with
# the message beside the filters; a bare error page would lose the filters the person had set.
SELF_CHECKED_QUERIES = {"reports"}
# Forms carry a name, a phone, a reason: half a megabyte per field (and per body that is not an
# upload) and a thousand fields is plenty. Uploads (photos, spreadsheets) come as multipart files,
# bounded by MAX_CONTENT_LENGTH instead.
FORM_LIMITS = {"MAX_FORM_MEMORY_SIZE": 500_000, "MAX_FORM_PARTS": 1_000, "MAX_FORM_BODY_SIZE": 500_000}


class HardenedRequest(Request):
    """A request whose body is bounded by what it is: a form or JSON body gets the small limit.

    Werkzeug applies MAX_FORM_MEMORY_SIZE only to multipart fields; a url-encoded or JSON body is
    read whole into memory, so it gets MAX_FORM_BODY_SIZE. A view may still set its own limit.
    """

    @property
    def max_content_length(self) -> int | None:
        limit = Request.max_content_length.fget(self)
        if self._max_content_length is not None or self.mimetype == "multipart/form-data":
            return limit
        body_limit = current_app.config.get("MAX_FORM_BODY_SIZE") if current_app else None
        if body_limit is None:
            return limit
        return body_limit if limit is None else min(limit, body_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` that only matches ids a database column can hold (signed 64 bits).

    /teams/99999999999999999999 is a 404 like any id that does not exist, instead of an overflow
    inside the database driver (SQLite raises it; a 500 would reach the person).
    """

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)



def init_app(app: Flask) -> None:
    """Bound form parsing, refuse cross-site posts, add headers to every response (the proxy: trust_proxies).

    Runs before the blueprints are registered, so that every `<int:...>` route gets the bounded converter.
    """
    app.url_map.converters["int"] = DatabaseIntConverter
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])
    for key, value in FORM_LIMITS.items():
        if not app.config.get(key):
            app.config[key] = value
    app.request_class = HardenedRequest
    app.session_interface = SignedCookieSessions()
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.config["REMEMBER_COOKIE_SECURE"] = True

    @app.before_request
    def _refuse_cross_site_posts():
        """A browser names the page a POST comes from; another site's page is refused before any work."""
        if request.method in UNSAFE_METHODS and not same_origin(request.headers.get("Origin"), request.host):
            raise CSRFError("The request was sent from another site.")

    @app.before_request
    def _refuse_nul_bytes():
        """A NUL byte has no place in an address, and PostgreSQL refuses it with an error.

        Form fields are left to their forms, which name the field and say what is wrong with it; so are
        the query parameters of blueprints that validate every one of them and show the problem on the page.
        """
        if has_nul(request.view_args):
            abort(400)
        if request.blueprint not in SELF_CHECKED_QUERIES and has_nul(request.args):
            abort(400)

    @app.after_request
    def _headers(response):
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}  # one pass (setdefault scans per call)
        for name, value in security_headers(request.is_secure):
            if name.lower() not in present:
                headers.add(name, value)
        if "HX-Request" not in response.vary and request.endpoint != "static":
            response.vary.add("HX-Request")
        return response


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, read the client's address, scheme and host from their X-Forwarded-* headers.

    Called last in create_app, so that it wraps everything else.
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Trust exactly as many X-Forwarded-* hops as there are proxies; a forged header adds one more and is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers every answer carries unless it set its own; HSTS over HTTPS only."""
    return _SECURE_HEADERS if secure else SECURITY_HEADERS


def has_nul(values) -> bool:
    """True if any text value (of a dict or a MultiDict with repeated keys) contains a NUL byte."""
    if not values:
        return False
    items = values.lists() if hasattr(values, "lists") else ((k, [v]) for k, v in values.items())
    return any(isinstance(v, str) and "\x00" in v for _key, vs in items for v in vs)


def same_origin(origin: str | None, host: str) -> bool:
    """True when there is no Origin header (older browsers, curl, tests) or it names this host.

    "null" (a sandboxed frame, a privacy-preserving redirect) is not this site either.
    """
    if origin is None or origin == "":
        return True
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == host.lower()


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, unchanged, except that the signing serializer is made once per key
    instead of on every request (making one costs ~0.05 ms; docs/PERFORMANCE.md), and that static files get
    no cookie and no `Vary: Cookie` (they are public and cached for a year: volunteer_app/assets.py). It keeps
    no per-call state, so threads share it."""

    def save_session(self, app: Flask, session, response) -> None:
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            if len(self._serializers) > 8:  # keys rotated many times in one process: start afresh
                self._serializers.clear()
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer
