"""Publishing an activity for recruitment (招募): who may sign up, until when, how, where to meet, what to bring.

    recruitment_fields(*, session, team, starts_at, **given) -> dict   (validated columns for Activity)
    audience_units(*, session, team) -> list[Unit]    (the units a leader may recruit from: own unit and above)
    CHANGE_FIELDS: the columns whose change is told to those signed up

The audience is the team's members ("team"), anyone living in a unit subtree ("unit": the team's own unit
or one of its ancestors, e.g. its street or district) or anyone in the city ("city"). `members_only`, the
check-in's form of the audience, is always `audience == "team"` (a check constraint holds it).
Codes (PublishError): bad_audience, bad_deadline, bad_meeting_point, bad_admission, capacity_below_admitted.
"""
from __future__ import annotations

import math
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from ..errors import DomainError
from ..models import ADMISSIONS, AUDIENCES, Team, Unit

TEXT_MAX = 200
REQUIREMENTS_MAX = 2000
# What those signed up care about: a change of any of these is told to them (activity_changed).
CHANGE_FIELDS = ("title", "place", "starts_at", "ends_at", "meeting_point", "meeting_lat", "meeting_lng",
                 "requirements", "admitted_only")


class PublishError(DomainError):
    """A recruitment setting that cannot be; `code` is stable."""

    status = 409
    messages = {
        "bad_audience": _l("Choose who may sign up: the team, the team's community, street or district, or the "
                           "whole city."),
        "bad_deadline": _l("The sign-up deadline must be before the start."),
        "bad_meeting_point": _l("Give both the latitude and the longitude of the meeting point, or neither."),
        "bad_admission": _l("Choose how sign-ups are admitted."),
        "capacity_below_admitted": _l("%(count)d volunteers are admitted already; the headcount cannot be lower."),
    }


def recruitment_fields(*, session: Session, team: Team, starts_at: datetime, audience: str | None = None,
                       audience_unit_id: int | None = None, members_only: bool | None = None,
                       signup_deadline: datetime | None = None, admission: str = "auto", admitted_only: bool = False,
                       meeting_point: str | None = "", meeting_lat: float | None = None,
                       meeting_lng: float | None = None, requirements: str | None = "") -> dict:
    """The recruitment columns of an activity of this team, checked; PublishError names what is wrong.

    Without an audience, members_only decides it as before recruitment existed (True: the team, False: the city).
    """
    if audience is None:
        audience = "team" if members_only in (None, True) else "city"
    if audience not in AUDIENCES:
        raise PublishError("bad_audience")
    if audience == "unit":
        if audience_unit_id not in {unit.id for unit in audience_units(session=session, team=team)}:
            raise PublishError("bad_audience")
    else:
        audience_unit_id = None
    if signup_deadline is not None and signup_deadline >= starts_at:
        raise PublishError("bad_deadline")
    if admission not in ADMISSIONS:
        raise PublishError("bad_admission")
    point = (meeting_lat, meeting_lng)
    if any(v is not None for v in point):
        if any(v is None or not math.isfinite(v) for v in point) \
                or not (-90 <= meeting_lat <= 90 and -180 <= meeting_lng <= 180):
            raise PublishError("bad_meeting_point")
    return {
        "audience": audience, "audience_unit_id": audience_unit_id, "members_only": audience == "team",
        "signup_deadline": signup_deadline, "admission": admission, "admitted_only": bool(admitted_only),
        "meeting_point": (meeting_point or "").strip()[:TEXT_MAX], "meeting_lat": meeting_lat,
        "meeting_lng": meeting_lng, "requirements": (requirements or "").strip()[:REQUIREMENTS_MAX],
    }


def audience_units(*, session: Session, team: Team) -> list[Unit]:
    """The team's unit and its ancestors, nearest first (community, street, district)."""
    unit = session.get(Unit, team.unit_id)
    if unit is None:
        return []
    ids = [int(part) for part in unit.path.strip("/").split("/") if part.isdigit()]
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(ids)))}
    return [units[i] for i in reversed(ids) if i in units]
