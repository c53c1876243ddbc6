"""Teams, membership, invites (views.py) and the office's roster import (roster_import/): one blueprint."""
from flask import Blueprint

bp = Blueprint("teams", __name__)
