"""Activities: leaders create and run them, the office views and corrects them.

The blueprint is defined here; its routes are in lifecycle_views (list, create, edit, open, cancel, the closing
dialog and close), live_views (the activity page, live QR and its full-screen page, count and roster, manual
check-in, poster), correction_views and retro_views (past activities logged afterwards, photos), signup_views
(sign-ups and the leader's decisions), find_views (volunteers finding activities to join, an activity's page for
them); create_app imports them. view_helpers holds what they share. The rules: service (lifecycle and reading),
corrections (after close), retro (the retro log), publishing (recruitment settings), signups (sign-ups), finding
(who may see and join what); agenda (a leader's day) and closing (what closing now would meet) read for pages.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("activities", __name__)
