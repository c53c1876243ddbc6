"""Flask extensions, created here and bound to the app in create_app()."""
from __future__ import annotations

import os

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default, redis://... when several servers run.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def warn_if_limits_are_per_process(app) -> bool:
    """Log a warning (and return True) when the rate-limit storage counts per process but several worker
    processes serve: each would allow the full limit, so 10 a minute becomes 10 a minute per worker.

    The worker count comes from WEB_CONCURRENCY (gunicorn.conf.py sets it from gunicorn's own count; `make
    run` sets it; gunicorn also reads it as its default number of workers)."""
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    workers = worker_count()
    if not app.config.get("RATELIMIT_ENABLED", True) or not storage.startswith("memory://") or workers < 2:
        return False
    app.logger.warning(
        "Rate limits are counted per process (RATELIMIT_STORAGE_URI=%s) but %d worker processes serve: each "
        "allows the full limit. Set RATELIMIT_STORAGE_URI=redis://... or run one worker.", storage, workers)
    return True


def worker_count() -> int:
    """How many worker processes serve this app, as WEB_CONCURRENCY says (1 when unset or unreadable)."""
    try:
        return max(1, int(os.environ.get("WEB_CONCURRENCY") or 1))
    except ValueError:
        return 1


def drop_unused_limiter_pass(app) -> bool:
    """Remove Flask-Limiter's before_request pass from app while every limit is a decorator; True if removed.

    The pass looks for default, application-wide, meta and blueprint limits on every request; a decorated
    limit checks itself when its function runs. With none of the former configured it finds nothing to
    do and costs ~0.12 ms a request (docs/PERFORMANCE.md). Call once the blueprints are registered.
    """
    manager = limiter.limit_manager
    if (manager.default_limits or manager.application_limits or getattr(limiter, "_meta_limits", None)
            or getattr(manager, "_blueprint_limits", None)):
        return False
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
    return True
