"""Configuration: defaults here, then instance/config.py, then the environment.

Every setting that matters in production can be set from the environment, so that
several app servers behind one proxy can share a configuration without files.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

# The secret a careless deployment might copy from an example; refused outside debug/testing.
INSECURE_SECRETS = {"", "dev", "change-me", "changeme", "secret"}

ENV_SETTINGS = {
    # environment variable: (config key, parser)
    "DATABASE_URL": ("DATABASE_URL", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "TRUSTED_HOSTS": ("TRUSTED_HOSTS", lambda v: [h.strip() for h in v.split(",") if h.strip()]),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", lambda v: v.lower() in {"1", "true", "yes"}),
    "DB_POOL_SIZE": ("DB_POOL_SIZE", int),
    "BABEL_DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", str),
    "MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "CITY_CODE": ("CITY_CODE", str),
    # Text messages (volunteer_app/sms): "tencent" sends through Tencent Cloud SMS; unset keeps them in the outbox.
    "SMS_PROVIDER": ("SMS_PROVIDER", str),
    "TENCENT_SECRET_ID": ("TENCENT_SECRET_ID", str),
    "TENCENT_SECRET_KEY": ("TENCENT_SECRET_KEY", str),
    "TENCENT_SMS_SDK_APP_ID": ("TENCENT_SMS_SDK_APP_ID", str),
    "TENCENT_SMS_SIGN_NAME": ("TENCENT_SMS_SIGN_NAME", str),
    "TENCENT_SMS_REGION": ("TENCENT_SMS_REGION", str),
    "TENCENT_SMS_TEMPLATES": ("TENCENT_SMS_TEMPLATES", str),  # "code=1001,register_taken=1002,..."
    "SMS_NOTICE_KINDS": ("SMS_NOTICE_KINDS", str),  # "signup_admitted,activity_cancelled": also sent by SMS
    "CITY_OFFICE_NAME": ("CITY_OFFICE_NAME", str),
}


class Defaults:
    """Settings every deployment starts from."""

    DATABASE_URL: str | None = None  # None: SQLite file in the instance folder
    DB_POOL_SIZE = 10
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    DISPLAY_TIMEZONE = "Asia/Shanghai"
    COMPILED_TRANSLATIONS: str | None = None  # None: <instance>/translations, compiled at start (i18n.py)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; a phone page may stay open for hours
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # a 166k-row spreadsheet fits; photos are bounded per file
    RATELIMIT_STORAGE_URI = "memory://"
    # No X-RateLimit-* headers on every answer (with Redis they cost two more round trips per request); a 429
    # still says when to try again (Retry-After, errors.py).
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count in each process instead of failing every request
    TRUSTED_PROXIES = 0  # how many reverse proxies set X-Forwarded-For in front of the app
    TRUSTED_HOSTS: list[str] | None = None
    CITY_CODE = "330100"  # the city's administrative division code, the prefix of every volunteer number
    SMS_PROVIDER = "outbox"  # development and the demo: messages kept for the office's outbox page
    SMS_NOTICE_KINDS: tuple[str, ...] | str = ()  # no notice goes out by SMS unless named
    # The body that issues certificates of service (志愿服务记录证明), printed on each one and on /verify.
    CITY_OFFICE_NAME = "市文明办"
    STAR_LEVEL_HOURS = (100, 300, 600, 1000, 1500)
    PAGE_SIZE = 20


def load(app, test_config: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and test_config."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for env_name, (key, parse) in ENV_SETTINGS.items():
            if os.environ.get(env_name):
                app.config[key] = parse(os.environ[env_name])
    else:
        app.config.update(test_config)

    if not app.config.get("DATABASE_URL"):
        db_path = Path(app.instance_path) / "volunteer.db"
        app.config["DATABASE_URL"] = f"sqlite:///{db_path}"
    app.config["DATABASE_URL"] = normalise_database_url(app.config["DATABASE_URL"])

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SECRET_KEY"] in INSECURE_SECRETS and not (app.debug or app.testing):
        raise RuntimeError("SECRET_KEY is missing or a well-known default; set a long random SECRET_KEY.")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance: Path) -> str:
    """Read the secret generated on first start, creating it (mode 0600) if missing."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
