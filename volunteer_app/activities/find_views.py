"""A volunteer finding activities: the list of what they may join, nearest first, and an activity's page.

Both answer only what finding.py says the volunteer may see; office accounts (no home, no sign-ups) get 404.
The sign-up button itself is the sign-up area's partial (activities/_signup_box.html).
"""
from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..db import get_session
from ..labels import SIGNUP_LABELS
from ..models import Team, Theme, Unit
from ..units import unit_label
from ..web import loads, page_arg
from . import bp, finding, reading
from . import view_helpers  # noqa: F401  (registers the look-ups this module loads by)

DISTANCE_LABELS = (_l("your community"), _l("your street"), _l("your district"), _l("elsewhere in the city"))


@bp.app_context_processor  # app-wide: the home page and the team pages list activities the same way
def _finding_labels() -> dict:
    return {"signup_names": SIGNUP_LABELS, "distance_names": DISTANCE_LABELS, "places_left": finding.places_left,
            "signup_deadline": finding.signup_deadline, "signups_open": finding.signups_open, "map_url": map_url}


@bp.get("/activities/find")
@login_required
def find():
    """Upcoming activities the volunteer may join, nearest first, filtered by theme, dates and area. Volunteers."""
    if current_user.is_office:
        abort(404)
    session = get_session()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    context = {"raw": request.args, "error": None, "page": None, "f": None,
               "themes": reading.themes(session=session), "areas": finding.area_choices(session=session)}
    status = 200
    try:
        f = finding.parse_filter(request.args, session=session, zone=zone)
    except finding.FindError as exc:
        context["error"] = exc.message
        status = 400
    else:
        context["f"] = f
        context["page"] = finding.find_activities(session=session, volunteer_id=current_user.id, f=f,
                                                  page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("activities/find.html", **context), status


@bp.get("/activities/<int:activity_id>/info")
@login_required
@loads("visible_activity")
def info(activity):
    """An activity as a volunteer sees it before taking part: when, where, how to get there, what to bring,
    places left, and the sign-up box. Whoever is in its audience, its team's members and those signed up."""
    session = get_session()
    return render_template("activities/info.html", activity=activity,
                           team=session.get(Team, activity.team_id), theme=session.get(Theme, activity.theme_id),
                           unit=unit_label(session=session, unit_id=activity.unit_id),
                           audience_unit=session.get(Unit, activity.audience_unit_id) if activity.audience_unit_id
                           else None,
                           signup=finding.signup_of(session=session, activity_id=activity.id,
                                                    volunteer_id=current_user.id))


def map_url(lat: float | None, lng: float | None, name: str = "") -> str | None:
    """A link that opens the point in a map site (Amap, WGS-84 coordinates as the browser gives them), or None."""
    if lat is None or lng is None:
        return None
    query = urlencode({"position": f"{lng:.6f},{lat:.6f}", "name": name[:60], "coordinate": "wgs84",
                       "callnative": "0"})
    return f"https://uri.amap.com/marker?{query}"
