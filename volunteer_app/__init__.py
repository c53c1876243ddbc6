"""Red Vest (红马甲): a volunteer activity registry for a city's Civilization Office."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and CLI commands."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("VOLUNTEER_APP_INSTANCE") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    if test_config is not None and test_config.get("TESTING"):
        app.testing = True
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import config

    config.load(app, test_config)

    from . import assets, db, errors, i18n, security
    from .extensions import csrf, limiter, warn_if_limits_are_per_process

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    warn_if_limits_are_per_process(app)
    i18n.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    assets.init_app(app)

    from .accounts import auth

    auth.init_app(app)

    from . import sms

    sms.init_app(app)

    from .accounts import text_size

    text_size.init_app(app)

    from .accounts.code_views import bp as codes_bp
    from .accounts.record_views import bp as record_bp
    from .accounts.views import bp as accounts_bp
    from .activities import bp as activities_bp
    from .activities import (correction_views, find_views, lifecycle_views, live_views,  # noqa: F401  (routes)
                             retro_views, signup_views)
    from .activities import request_views  # noqa: F401  (routes)
    from .certificates import bp as certificates_bp
    from .certificates import views as certificates_views  # noqa: F401  (routes on certificates_bp)
    from .checkin.views import bp as checkin_bp
    from .home import bp as home_bp
    from .notices import bp as notices_bp
    from .notices import views as notices_views  # noqa: F401  (routes on notices_bp)
    from .privacy.views import bp as privacy_bp
    from .reports import bp as reports_bp
    from .teams import bp as teams_bp
    from .teams import views as teams_views  # noqa: F401  (routes on teams_bp)
    from .teams.roster_import import views as roster_import_views  # noqa: F401  (routes on teams_bp)

    for blueprint in (home_bp, accounts_bp, teams_bp, activities_bp, checkin_bp, reports_bp, privacy_bp,
                      notices_bp, certificates_bp, record_bp, codes_bp):
        app.register_blueprint(blueprint)

    from .extensions import drop_unused_limiter_pass

    drop_unused_limiter_pass(app)

    security.trust_proxies(app)

    from . import cli

    cli.init_app(app)
    return app
