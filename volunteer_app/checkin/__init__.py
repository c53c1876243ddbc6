"""Check-in: scanning an activity's code (views.py), a volunteer's personal code (personal.py), the rules
(service.py)."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

bp = Blueprint("checkin", __name__)


def scan_key() -> str:
    """Rate-limit key of the scan routes: the logged-in person (many volunteers share one NAT address), else the
    address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"
