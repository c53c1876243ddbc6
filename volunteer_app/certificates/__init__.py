"""Certificates of service (志愿服务记录证明): a volunteer issues and downloads them (PDF), anyone verifies them
at /verify/<code>, the office finds and revokes them.

The blueprint is defined here; its routes are in views, which create_app imports.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__)
