"""What the activity views share: the look-ups they load objects by, labels, choices, running an action.

Every view looks the activity up through what the user may see (activity_for_leader / activity_for_viewer,
team_for_leader) and answers 404 for "not yours" and "does not exist" alike: `@loads(kind)` (volunteer_app.web)
hands the view the object instead of the id in its URL; `found_or_404(kind, id)` for ids found elsewhere.
"""
from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from sqlmodel import select
from wtforms import SelectChoice

from ..db import get_session
from ..errors import DomainError
from ..labels import AUTO_CHECKOUT_LABEL, METHOD_LABELS
from ..models import Activity, Membership, Team, Volunteer
from ..teams.rules import active_member
from ..teams.membership import team_for_member
from ..teams.service import team_for_leader
from ..web import register_lookup
from . import bp, finding, reading, service

STATUS_LABELS = {
    "scheduled": _l("upcoming"),
    "open": _l("open"),
    "closed": _l("closed"),
    "cancelled": _l("cancelled"),
}


@bp.context_processor
def _labels() -> dict:
    return {"method_names": METHOD_LABELS, "auto_checkout_label": AUTO_CHECKOUT_LABEL, "status_names": STATUS_LABELS}


def _active_team_for_leader(*, session, volunteer_id: int, team_id: int) -> Team | None:
    team = team_for_leader(session=session, volunteer_id=volunteer_id, team_id=team_id)
    return team if team is not None and team.status == "active" else None


# What a view may act on: the URL parameter it comes from, and the look-up through what the user may see.
register_lookup("active_team", "team_id", _active_team_for_leader)  # an active team the user leads
register_lookup("led_activity", "activity_id", service.activity_for_leader)  # an activity of a team the user leads
register_lookup("seen_activity", "activity_id", reading.activity_for_viewer)  # ... or one the office may see
register_lookup("member_team", "team_id", team_for_member)  # a team the user is an active member of (as teams/views)
register_lookup("visible_activity", "activity_id", finding.visible_activity)  # one the volunteer may see or join


def run_action(action, success: str) -> bool:
    """Run a service call: flash its success, or roll back and flash its domain error."""
    try:
        action()
    except DomainError as exc:
        get_session().rollback()
        flash(exc.message, "error")
        return False
    flash(success, "success")
    return True


def theme_choices() -> list[SelectChoice]:
    from ..i18n import theme_name

    return [SelectChoice(t.id, theme_name(t)) for t in reading.themes(session=get_session())]


def team_members(team_id: int) -> list[Volunteer]:
    return list(get_session().exec(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(*active_member(team=team_id), Volunteer.deleted_at.is_(None))
        .order_by(Volunteer.name).limit(2000)
    ).all())


def audience_choices(team: Team) -> list[SelectChoice]:
    """Who may sign up, nearest first: the team, its community, street and district, the whole city."""
    from . import publishing

    units = publishing.audience_units(session=get_session(), team=team)
    return [SelectChoice("team", _l("Members of the team only")),
            *(SelectChoice(f"unit:{unit.id}", _l("Anyone living in %(unit)s", unit=unit.name)) for unit in units),
            SelectChoice("city", _l("Anyone in the city"))]


def audience_fields(value: str | None) -> dict:
    """The service's audience and audience_unit_id from the form's choice ("team", "unit:12", "city")."""
    kind, _sep, unit = (value or "").partition(":")
    return {"audience": kind or None, "audience_unit_id": int(unit) if kind == "unit" and unit.isdigit() else None}


def member_choices(activity: Activity, exclude: set[int]) -> list[SelectChoice]:
    from ..accounts.phone import mask_phone

    return [SelectChoice(v.id, f"{v.name} {mask_phone(v.phone)}") for v in team_members(activity.team_id)
            if v.id not in exclude]
