"""Language and display helpers: Simplified Chinese by default, English on request.

English is the source language of every message; the zh_CN catalogs translate all of them
(a test extracts every message and fails on a missing translation). There is one catalog
per domain (volunteer_app/translations/<domain>/), merged at run time, so that domains
can change their messages independently.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Blueprint, current_app, redirect, request, url_for
from flask_babel import format_datetime, get_locale

from .extensions import babel

LANG_COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

bp = Blueprint("i18n", __name__)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel, the language switch and the display filters."""
    dirs = sorted(str(p) for p in TRANSLATIONS.iterdir() if p.is_dir()) if TRANSLATIONS.exists() else []
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["hours"] = minutes_to_hours
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["theme_name"] = theme_name


def select_locale() -> str:
    """The cookie set by the switch wins; otherwise Chinese, the city's language."""
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """'zh_CN' or 'en', for templates."""
    return str(get_locale() or "zh_CN")


def theme_name(theme) -> str:
    """A theme's name in the current language."""
    if theme is None:
        return ""
    return theme.name_en if current_language() == "en" else theme.name_zh


def localtime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in the display time zone (Asia/Shanghai)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def minutes_to_hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal, the way service hours are reported."""
    return f"{(minutes or 0) / 60:.1f}"


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language in a cookie and go back where the person was."""
    target = request.args.get("next") or url_for("home.index")
    if not is_safe_redirect(target):
        target = url_for("home.index")
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def is_safe_redirect(target: str) -> bool:
    """Only same-site paths: no scheme, no host, no protocol-relative //evil."""
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
        and "\\" not in target
