"""The office's reports: tallies, charts, drill-down, exports and signals of padding, under /office."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/office")

from . import views  # noqa: E402,F401  (its routes register on bp)
