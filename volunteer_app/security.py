"""HTTP hardening: security headers, the proxy in front, trusted hosts.

The Content-Security-Policy allows no inline script or style: htmx, Chart.js and the app's own
script are served from static/, and templates carry no inline handlers.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Wrap the app for its proxy and add headers to every response."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Trust exactly as many X-Forwarded-* hops as there are proxies; a forged header adds one more and is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "HX-Request" not in response.vary:
            response.vary.add("HX-Request")
        return response
