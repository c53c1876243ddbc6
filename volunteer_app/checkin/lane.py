"""The check-in lane: a new self check-in (POST /c/<token>) answered in front of Flask.

On a day of action the check-in POST is the one hot route. Flask's request handling (contexts, request and
response objects, routing, hooks) costs a check-in more than the check-in's own work does (benchmarks/
checkin_floor.py; docs/PERFORMANCE.md, "Check-in throughput"). The lane does that own work directly, with the
same functions the Flask route uses, and answers only when the outcome is plainly a new attendance:

    POST /c/<token>, no query string, a small url-encoded form, a trusted host, no other site's Origin,
    a signed session that holds a login, needs no new cookie and no remember-me update, a valid CSRF token
    (and over HTTPS a same-site Referer, as Flask-WTF's SSL-strict check), the button "check in",
    and service.self_check_in wrote the attendance.

Anything else goes to Flask untouched (the body put back): refusals, repeats, check-out, ended logins,
logins restored from the remember-me cookie, errors. Before writing, the lane has only read, so Flask then
decides exactly as if the lane were not there; the lane never accepts what Flask would refuse, it only
declines to answer (tests/test_checkin_lane.py compares it with Flask request by request).

The lane is wrapped round Flask only when the app's request hooks are the ones it was written against
(REVIEWED_HOOKS): a new before_request or after_request hook could change the answer, so until someone
reviews it here (and the test that lists the hooks is updated) every check-in goes through Flask. Config
CHECKIN_LANE = False switches it off.
"""
from __future__ import annotations

import hmac
import io
import logging
import re
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qsl

from flask import Flask
from flask_wtf.csrf import same_origin as same_site_referrer
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from .. import security
from ..accounts.auth import parse_session_id
from ..errors import DomainError
from ..models import utcnow
from . import service
from .views import DEVICE_COOKIE, device_hash, geo_from, kept_scan

log = logging.getLogger(__name__)

# The request hooks (app-wide and of the checkin blueprint) the lane has been checked against: with each of them,
# the lane's answer is what Flask's would be (the comment says why). Names as _hook_name gives them.
REVIEWED_HOOKS = {
    "before_request": (
        "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",  # the CSRF check: done by the lane
        "volunteer_app.security.init_app.<locals>._refuse_cross_site_posts",  # Origin: security.same_origin
        "volunteer_app.security.init_app.<locals>._refuse_nul_bytes",  # the token's shape, no query string
    ),
    "after_request": (
        "volunteer_app.db._commit_on_success",  # no ORM session is opened
        "flask_limiter._extension.Limiter.__inject_headers",  # no limit is evaluated for a new check-in
        "volunteer_app.security.init_app.<locals>._headers",  # security.security_headers, Vary
        "flask_login.login_manager.LoginManager._update_remember_cookie",  # declined when it would act
    ),
    "teardown_request": ("flask_limiter._extension.Limiter.__release_context",),
    "teardown_appcontext": ("volunteer_app.db._close_session",),
    "url_value_preprocessor": (),
}
ROUTE = ("/c/<token>", "checkin.scan_post")
PREFIX = "/c/"
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")  # wider than any token (tokens._SHAPE): the service parses it
MAX_BODY = 4096  # the button's form is ~200 bytes; anything bigger is Flask's to bound and judge
FORM_TYPE = "application/x-www-form-urlencoded"


def install(app: Flask) -> None:
    """Put the lane in front of app.wsgi_app, unless it is switched off or the app's hooks are not the reviewed
    ones (then logged: every check-in still works, through Flask)."""
    if not app.config["CHECKIN_LANE"]:
        return
    changed = unreviewed_hooks(app)
    if changed:
        log.warning("check-in lane not installed: request hooks it was not checked against: %s", changed)
        return
    app.wsgi_app = CheckinLane(app, app.wsgi_app)


def unreviewed_hooks(app: Flask) -> dict[str, list[str]]:
    """The app's request hooks (for every request, or for the checkin blueprint) that are not in REVIEWED_HOOKS,
    a missing check-in route, and settings that change routing."""
    found = {
        "before_request": _hook_names(app.before_request_funcs),
        "after_request": _hook_names(app.after_request_funcs),
        "teardown_request": _hook_names(app.teardown_request_funcs),
        "teardown_appcontext": [_hook_name(f) for f in app.teardown_appcontext_funcs],
        "url_value_preprocessor": _hook_names(app.url_value_preprocessors),
    }
    # A reviewed hook that is absent (Flask-Limiter switched off, say) only makes Flask check less than the lane.
    changed = {kind: unknown for kind, names in found.items()
               if (unknown := [name for name in names if name not in REVIEWED_HOOKS[kind]])}
    rules = [(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())
             and rule.rule.startswith(PREFIX)]
    if ROUTE not in rules:
        changed["route"] = [f"{rule} -> {endpoint}" for rule, endpoint in rules]
    if app.config.get("SERVER_NAME") or app.url_map.host_matching or app.subdomain_matching:
        changed["routing"] = ["SERVER_NAME, host or subdomain matching"]
    return changed


def _hook_names(funcs: dict) -> list[str]:
    return [_hook_name(f) for key in (None, "checkin") for f in funcs.get(key, ())]


def _hook_name(func: Callable) -> str:
    func = func.func if isinstance(func, partial) else getattr(func, "__func__", func)
    return f"{func.__module__}.{func.__qualname__}"


class CheckinLane:
    """WSGI middleware: answers a new self check-in itself, hands every other request to the app."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._csrf_serializers: dict[str, URLSafeTimedSerializer] = {}

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(PREFIX):
            headers = self.check_in(environ)
            if headers is not None:
                start_response("303 SEE OTHER", headers)
                return [b""]
        return self.wsgi_app(environ, start_response)

    def check_in(self, environ: dict) -> list[tuple[str, str]] | None:
        """Write the attendance and return the answer's headers, or None (nothing written; environ as it came)."""
        token = environ["PATH_INFO"][len(PREFIX):]
        if not _TOKEN.fullmatch(token) or environ.get("QUERY_STRING") or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        # never more than Flask would read (HardenedRequest bounds a form body by both settings)
        limits = (self.app.config.get("MAX_CONTENT_LENGTH"), self.app.config.get("MAX_FORM_BODY_SIZE"), MAX_BODY)
        body = _read_small_form(environ, min(limit for limit in limits if limit is not None))
        if body is None:
            return None
        try:
            return self._check_in(environ, token, body)
        except (DomainError, service.NotWritten):  # refused or repeated: Flask answers and counts it
            return None
        except Exception:  # nothing was written (the insert's transaction rolls back): Flask answers
            log.exception("check-in lane: handed to Flask after an error")
            return None

    def _check_in(self, environ: dict, token: str, body: bytes) -> list[tuple[str, str]] | None:
        app, config = self.app, self.app.config
        try:
            host = get_host(environ, config["TRUSTED_HOSTS"])
        except SecurityError:
            return None
        if not security.same_origin(environ.get("HTTP_ORIGIN"), host):
            return None
        secure = environ.get("wsgi.url_scheme") in {"https", "wss"}  # request.is_secure
        cookies = parse_cookie(environ.get("HTTP_COOKIE"))
        sessions = app.session_interface
        session = sessions.open_session(app, _Cookies(cookies))
        if session is None or "_remember" in session or config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST") \
                or sessions.should_set_cookie(app, session):
            return None
        login = parse_session_id(session.get("_user_id"))
        form = _form(body)
        if login is None or form is None or form.get("action", "") == "out" \
                or not self._csrf_valid(session, form, environ, host, secure):
            return None
        try:
            expected = int(form.get("activity", ""))
        except ValueError:
            expected = None
        now = utcnow()
        checked_in = service.self_check_in(
            engine=app.extensions["db_engine"], token=token, secret_key=config["SECRET_KEY"],
            scanned_at=kept_scan(session, token, now) or now, volunteer_id=login[0], session_version=login[1],
            expected_activity_id=expected, device_hash=device_hash(cookies.get(DEVICE_COOKIE), config["SECRET_KEY"]),
            geo=geo_from(form))
        if checked_in is None:  # the login has ended: Flask logs out and asks for a login
            return None
        location = f"{environ.get('SCRIPT_NAME', '').rstrip('/')}/c/result/{checked_in.activity_id}"
        return [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "0"), ("Location", location),
                *security.security_headers(secure), ("Vary", "HX-Request, Cookie")]

    def _csrf_valid(self, session, form: dict, environ: dict, host: str, secure: bool) -> bool:
        """Flask-WTF's check (flask_wtf.csrf.validate_csrf and CSRFProtect.protect), on the form's token only.

        Stricter than Flask-WTF where it differs: the token must be in the form's own field, and it is checked
        even where Flask-WTF would skip it (an exempt view, WTF_CSRF_CHECK_DEFAULT off); only with CSRF
        switched off altogether (WTF_CSRF_ENABLED = False, as in most tests) is there nothing to check.
        """
        config = self.app.config
        if not config.get("WTF_CSRF_ENABLED", True):
            return True
        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        data = form.get(field)
        if not data or field not in session:
            return False
        try:
            signed = self._csrf_serializer().loads(data, max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600))
        except BadData:
            return False
        if not isinstance(signed, str) or not isinstance(session[field], str) \
                or not hmac.compare_digest(session[field], signed):
            return False
        if secure and config.get("WTF_CSRF_SSL_STRICT", True):
            referrer = environ.get("HTTP_REFERER")
            return bool(referrer) and same_site_referrer(referrer, f"https://{host}/")
        return True

    def _csrf_serializer(self) -> URLSafeTimedSerializer:
        secret = self.app.config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key
        serializer = self._csrf_serializers.get(secret)
        if serializer is None:
            self._csrf_serializers.clear()  # one key at a time: a rotated key replaces the last
            serializer = self._csrf_serializers[secret] = URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
        return serializer


class _Cookies:
    """What SessionInterface.open_session reads of a request: its cookies."""

    __slots__ = ("cookies",)

    def __init__(self, cookies):
        self.cookies = cookies


def _read_small_form(environ: dict, max_body: int) -> bytes | None:
    """The body of a small url-encoded form, read and put back for Flask; None (nothing read) for anything else."""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.split(";", 1)[0].strip().lower() != FORM_TYPE:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= max_body:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # for Flask, if the lane declines
    return body if len(body) == length else None


def _form(body: bytes) -> dict[str, str] | None:
    """The form's fields as werkzeug parses a url-encoded body (request.form.get: the first of a repeated name)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    form: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        form.setdefault(name, value)
    return form

