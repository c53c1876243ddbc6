"""Language and display helpers: Simplified Chinese by default, English on request.

English is the source language; one zh_CN catalog per domain (translations/<domain>/), merged at run time.
The app compiles them itself at start (`compile_catalogs`, into the instance folder), so no install step
can forget it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Blueprint, current_app, redirect, request, url_for
from flask_babel import format_datetime, get_locale
from markupsafe import Markup

from .extensions import babel

LANG_COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
CATALOG = "LC_MESSAGES/messages"

bp = Blueprint("i18n", __name__)
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Compile the catalogs if needed, then bind Flask-Babel, the language switch and the display filters."""
    compiled = Path(app.config.get("COMPILED_TRANSLATIONS") or Path(app.instance_path) / "translations")
    try:
        compile_catalogs(TRANSLATIONS, compiled)
    except OSError as exc:  # an instance folder we may not write: a cache folder of our own instead
        fallback = Path(tempfile.gettempdir()) / (
            f"volunteer-app-{os.getuid()}-{hashlib.sha256(str(TRANSLATIONS).encode()).hexdigest()[:12]}")
        log.warning("cannot write compiled translations to %s (%s); using %s", compiled, exc, fallback)
        compiled = compile_catalogs(TRANSLATIONS, fallback)
    dirs = sorted(str(p) for p in compiled.iterdir() if p.is_dir())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["hours"] = minutes_to_hours
    app.jinja_env.filters["nowrap"] = nowrap
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["theme_name"] = theme_name


def compile_catalogs(source: Path, target: Path) -> Path:
    """Compile every source/<domain>/<locale>/LC_MESSAGES/messages.po whose .mo under target is missing or
    was made from another version of it (the .mo carries the .po's mtime). Each .mo is written to a temporary
    file and renamed into place, so workers starting together never read half a catalog. Returns target."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target.mkdir(parents=True, exist_ok=True)
    for po_path in sorted(source.glob(f"*/*/{CATALOG}.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        po_mtime = po_path.stat().st_mtime_ns
        if mo_path.exists() and mo_path.stat().st_mtime_ns == po_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        fd, temporary = tempfile.mkstemp(dir=mo_path.parent, prefix=".messages-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as fh:
                write_mo(fh, catalog)
            os.utime(temporary, ns=(po_mtime, po_mtime))
            os.replace(temporary, mo_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target


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
    """Minutes as hours with one decimal and thousands separators, the way service hours are reported."""
    return f"{(minutes or 0) / 60:,.1f}"


def nowrap(text) -> Markup:
    """A figure with its unit ("2.5 h", "2,280,420.9 小时") kept on one line: the unit never wraps away from it."""
    return Markup('<span class="nowrap">%s</span>') % text


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
