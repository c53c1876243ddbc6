"""The home page: one view per role, from the real records."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import select

from .activities.agenda import leader_agenda
from .activities.finding import my_upcoming
from .db import get_session
from .models import Activity, Attendance, Team, Theme, Unit, utcnow
from .reports.queries import city_totals
from .teams.membership import memberships_of
from .teams.service import active_member_counts, teams_led_by

bp = Blueprint("home", __name__)

RECENT = 5


@bp.get("/")
@login_required
def index():
    """Office staff see the city's year; volunteers their hours; leaders also their teams."""
    session = get_session()
    context = {}
    if current_user.is_office:
        year, start = local_year_start()
        area = session.get(Unit, current_user.volunteer.office_unit_id) if current_user.volunteer.office_unit_id else None
        context["year"] = year
        context["area"] = area
        context["totals"] = city_totals(session=session, start=start, end=utcnow() + timedelta(days=1), area=area)
    else:
        context.update(volunteer_summary(current_user.id))
        context["my_upcoming"] = my_upcoming(session=session, volunteer_id=current_user.id)
        context["my_teams"] = memberships_of(session=session, volunteer_id=current_user.id)
        teams = teams_led_by(session=session, volunteer_id=current_user.id)
        if teams:
            context["led_teams"] = teams
            context["member_counts"] = active_member_counts(session=session, team_ids=[t.id for t in teams])
            day_start, day_end = local_day()
            context["agenda"] = leader_agenda(session=session, team_ids=[t.id for t in teams], day_start=day_start,
                                              day_end=day_end, at=utcnow())
            context["team_activities"] = session.exec(
                select(Activity, Team, Theme)
                .join(Team, Team.id == Activity.team_id)
                .join(Theme, Theme.id == Activity.theme_id)
                .where(Activity.team_id.in_([t.id for t in teams]))
                .order_by(Activity.starts_at.desc())
                .limit(RECENT)
            ).all()
    return render_template("home/index.html", **context)


def volunteer_summary(volunteer_id: int) -> dict:
    """Own credited hours, session count and the latest attendances."""
    session = get_session()
    minutes, sessions = session.exec(
        select(func.coalesce(func.sum(Attendance.credited_minutes), 0), func.count(Attendance.id)).where(
            Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None)
        )
    ).one()
    recent = session.exec(
        select(Attendance, Activity, Theme)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .where(Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None))
        .order_by(Attendance.checked_in_at.desc())
        .limit(RECENT)
    ).all()
    return {"my_minutes": int(minutes), "my_sessions": sessions, "recent": recent}


def local_day() -> tuple[datetime, datetime]:
    """Today in the display time zone: its first moment and the first moment of tomorrow."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def local_year_start() -> tuple[int, datetime]:
    """This year in the display time zone, and 1 January 00:00 local time."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    year = datetime.now(zone).year
    start = datetime(year, 1, 1, tzinfo=zone)
    return year, start
