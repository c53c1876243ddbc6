"""An activity as an iCalendar file (.ics), for a phone's calendar: who may have it, and what it says.

The UID is the activity's own (activity-<id>@red-vest), so downloading it again after the leader changed the
time updates the same calendar entry instead of adding a second one (in calendars that import by UID).
Times are in Asia/Shanghai with their VTIMEZONE, the way the activity was announced.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vGeo
from sqlmodel import Session, select

from ..models import Activity, Signup, Team
from ..teams.rules import is_active_leader

PRODID = "-//Red Vest//volunteer_app//ZH"


def activity_for_calendar(*, session: Session, volunteer_id: int, activity_id: int) -> Activity | None:
    """The activity if the reader is admitted to it or leads its team; else None (→ 404)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        return None
    admitted = session.exec(select(Signup.id).where(Signup.activity_id == activity_id,
                                                    Signup.volunteer_id == volunteer_id,
                                                    Signup.status == "admitted")).first()
    if admitted is None and not is_active_leader(session, activity.team_id, volunteer_id):
        return None
    return activity


def activity_ics(*, session: Session, activity: Activity, now: datetime, url: str, zone: str = "Asia/Shanghai",
                 labels: dict[str, str]) -> bytes:
    """The .ics bytes of one activity. `labels` holds the translated words of the description ("team",
    "meeting_point", "requirements")."""
    tz = ZoneInfo(zone)
    team = session.get(Team, activity.team_id)
    event = Event()
    event.add("uid", f"activity-{activity.id}@red-vest")
    event.add("dtstamp", now)
    event.add("summary", activity.title)
    event.add("dtstart", activity.starts_at.astimezone(tz))
    event.add("dtend", activity.ends_at.astimezone(tz))
    location = " · ".join(part for part in (activity.place, activity.meeting_point) if part)
    if location:
        event.add("location", location)
    lat, lng = (activity.meeting_lat, activity.meeting_lng) if activity.meeting_lat is not None \
        else (activity.lat, activity.lng)
    if lat is not None and lng is not None:
        event.add("geo", vGeo((lat, lng)))
    lines = [f"{labels['team']}: {team.name}" if team else ""]
    if activity.meeting_point:
        lines.append(f"{labels['meeting_point']}: {activity.meeting_point}")
    if activity.requirements:
        lines.append(f"{labels['requirements']}: {activity.requirements}")
    lines.append(url)
    event.add("description", "\n".join(line for line in lines if line))
    event.add("url", url)
    event.add("status", "CANCELLED" if activity.status == "cancelled" else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

