"""Domain errors with stable codes, and translated error pages and JSON answers.

A service raises `SomeError("code", **params)`; the code is stable (tests and logs use it),
the message is looked up in the subclass's `messages` table and translated when shown.
"""
from __future__ import annotations

from typing import ClassVar

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


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
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}
ERROR_TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist, or you are not allowed to see it."),
    405: _l("This address does not accept that kind of request."),
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


def error_response(status: int, message: str | None = None, code: str | None = None):
    """A translated error page, or JSON for API calls."""
    status = status if status in ERROR_TITLES else (500 if status >= 500 else 400)
    text = message or str(ERROR_TEXTS[status])
    if wants_json():
        return jsonify(error=code or str(status), message=text), status
    return render_template("errors/error.html", status=status, title=ERROR_TITLES[status], text=text), status


def init_app(app: Flask) -> None:
    """Register the handlers: no traceback ever reaches a user."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(exc.status, exc.message, exc.code)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        description = None
        if exc.code == 400 and getattr(exc, "description", None) and "CSRF" in str(exc.description):
            description = str(_l("The form has expired or was sent from elsewhere. Please reload the page and try again."))
        return error_response(exc.code or 500, description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
