"""Domain errors with stable codes, and translated error pages and JSON answers.

A service raises `SomeError("code", **params)`; the code is stable (tests and logs use it),
the message is looked up in the subclass's `messages` table and translated when shown.
"""
from __future__ import annotations

import time
from typing import ClassVar

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from .i18n import current_language


class DomainError(Exception):
    """A rule of the domain said no. `code` is stable; `message` is for people."""

    messages: ClassVar[dict] = {}
    status: ClassVar[int] = 400

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        template = self.messages.get(self.code)
        if template is None:
            return str(_l("This request could not be completed."))
        return str(template) % self.params if self.params else str(template)


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Changed in the meantime"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}
ERROR_TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist, or you are not allowed to see it."),
    405: _l("This address does not accept that kind of request."),
    409: _l("Someone changed this in the meantime. Please reload the page and try again."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing was saved from this request; please try again."),
}


def wants_json() -> bool:
    """API calls (under /api/ or asking for JSON) get JSON errors instead of pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


# Headers of an HTTP error worth passing on: what a 405 allows, when a 429 may try again.
KEPT_HEADERS = ("Allow", "Retry-After")


def retry_after_seconds() -> int:
    """Seconds until the limit that refused this request lets the next one through (asked only on a refusal)."""
    from .extensions import limiter

    try:
        breached = limiter.current_limit
        if breached is not None:
            return max(1, int(breached.reset_at - time.time()))
    except Exception:  # the limiter's storage is unreachable: a minute is the longest window we use
        current_app.logger.warning("Rate-limit window unavailable for Retry-After", exc_info=True)
    return 60


def error_response(status: int, message: str | None = None, code: str | None = None, headers=None):
    """A translated error page, or JSON for API calls.

    If the page itself cannot be rendered (the Host was refused before URLs can be built, or the
    database is down while the navigation asks who is logged in), a plain page says the same.
    """
    status = status if status in ERROR_TITLES else (500 if status >= 500 else 400)
    text = message or str(ERROR_TEXTS[status])
    if wants_json():
        response = jsonify(error=code or str(status), message=text)
    else:
        response = Response(_page(status, text), mimetype="text/html")
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, text: str) -> str:
    title = str(ERROR_TITLES[status])
    if request_ctx.url_adapter is not None:
        try:
            return render_template("errors/error.html", status=status, title=title, text=text)
        except Exception:  # the error page must not fail in turn; the plain page below says the same
            current_app.logger.exception("Error page %s could not be rendered", status)
    return PLAIN_PAGE.format(
        lang="en" if current_language() == "en" else "zh-CN",
        title=escape(title), text=escape(text), brand=escape(str(_l("Red Vest"))),
    )


PLAIN_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {brand}</title></head>
<body><main><h1>{title}</h1><p>{text}</p><p><a href="/">{brand}</a></p></main></body></html>
"""


def init_app(app: Flask) -> None:
    """Register the handlers: no traceback ever reaches a user."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(exc.status, exc.message, exc.code)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        description = code = None
        if isinstance(exc, CSRFError):
            code = "csrf"
            description = str(_l("The form has expired or was sent from elsewhere. Please reload the page and try again."))
        kept = {name: value for name, value in exc.get_headers() if name in KEPT_HEADERS}
        if exc.code == 429:
            kept.setdefault("Retry-After", str(retry_after_seconds()))
            limit = getattr(exc, "limit", None)  # Flask-Limiter: a limit with its own (translated) message
            if limit is not None and limit.error_message:
                description, code = exc.description, "too_many_attempts"
        return error_response(exc.code or 500, description, code, headers=kept)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
