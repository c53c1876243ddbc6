"""Teams pages."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("teams", __name__)
