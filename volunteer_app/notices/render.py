"""A notice in words: rendered when read, in the reader's language, from its kind, params and the rows it names.

Nothing translated is stored: the activity's title, time (Asia/Shanghai) and place are read as they are now, so
a notice never shows an outdated or untranslated text. Every notice links to the thing it is about.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select
from werkzeug.routing import BuildError

from ..i18n import current_language, localtime
from ..models import Activity, Notice, Signup, Team, utcnow
from .service import subjects

TEXTS = {
    "signup_admitted": _l("You are admitted to “%(activity)s”, %(time)s."),
    "signup_declined": _l("Your sign-up for “%(activity)s”, %(time)s, was not accepted."),
    "signup_waitlisted": _l("“%(activity)s”, %(time)s, is full: you are on the waiting list."),
    "signup_promoted": _l("A place came free: you are admitted to “%(activity)s”, %(time)s."),
    "activity_changed": _l("“%(activity)s” has changed. It is now %(time)s at %(place)s."),
    "activity_cancelled": _l("“%(activity)s”, %(time)s, is cancelled."),
    "reminder_day": _l("Reminder: “%(activity)s”, %(time)s at %(place)s."),
    "reminder_hour": _l("Starting within the hour: “%(activity)s”, %(time)s at %(place)s."),
    "join_approved": _l("You are now a member of %(team)s."),
}
CHANGED = {
    "time": _l("time"),
    "place": _l("place"),
    "meeting_point": _l("meeting point"),
    "title": _l("title"),
}
# Kinds after which the person is (still) expected to come: the list offers the calendar file.
COMING = ("signup_admitted", "signup_promoted", "reminder_day", "reminder_hour", "activity_changed")
# The page a volunteer reads an activity on (the find page's detail, /activities/<id>/info), if the app has it.
ACTIVITY_PAGES = ("activities.info",)


@dataclass(frozen=True)
class Rendered:
    """One notice as the list shows it."""

    id: int
    kind: str
    text: str
    detail: str | None  # a second line: the leader's reason, what changed
    link: str
    calendar: str | None  # the .ics of an activity the reader is admitted to and that is still to come
    created_at: datetime
    unread: bool


def render_notices(*, session: Session, notices: list[Notice], reader_id: int,
                   now: datetime | None = None) -> list[Rendered]:
    """The notices in the current language (a request or app context with a locale)."""
    activities, teams = subjects(session=session, notices=notices)
    admitted = _admitted_to(session, reader_id, list(activities)) if activities else set()
    now = now or utcnow()
    return [_render(notice, activities, teams, admitted, now) for notice in notices]


def when(activity: Activity) -> str:
    """An activity's start (and end on the same day) in the display time zone, in the reader's words."""
    if current_language() == "en":
        return f"{localtime(activity.starts_at, 'EEE d MMM HH:mm')}–{localtime(activity.ends_at, 'HH:mm')}"
    return f"{localtime(activity.starts_at, 'M月d日（EEE）HH:mm')}–{localtime(activity.ends_at, 'HH:mm')}"


def where(activity: Activity) -> str:
    """Where to go: the meeting point when there is one, else the place."""
    return activity.meeting_point or activity.place or _("the place the leader tells you")


def activity_link(activity: Activity) -> str:
    """The page a volunteer reads an activity on (falls back to the home page, which lists their activities)."""
    for endpoint in ACTIVITY_PAGES:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, activity_id=activity.id)
            except BuildError:  # a page that names the activity otherwise: not one of ours to guess
                continue
    return url_for("home.index")


def _render(notice: Notice, activities: dict[int, Activity], teams: dict[int, Team], admitted: set[int],
            now: datetime) -> Rendered:
    params = notice.params or {}
    activity = activities.get(notice.activity_id)
    team = teams.get(notice.team_id) or (teams.get(activity.team_id) if activity else None)
    template = TEXTS.get(notice.kind)
    if activity is not None:
        text = template % {"activity": activity.title, "time": when(activity), "place": where(activity),
                           "team": team.name if team else ""} if template else activity.title
        link = activity_link(activity)
    else:
        text = template % {"team": team.name if team else "", "activity": "", "time": "", "place": ""} \
            if template else ""
        link = url_for("teams.my_teams")
    detail = None
    reason = params.get("reason")
    if isinstance(reason, str) and reason.strip():
        detail = _("Reason: %(reason)s", reason=reason.strip()[:500])
    changed = [CHANGED[c] for c in params.get("changed", ()) if isinstance(c, str) and c in CHANGED] \
        if isinstance(params.get("changed"), list) else []
    if changed:
        detail = _("Changed: %(what)s", what=(", " if current_language() == "en" else "、").join(map(str, changed)))
    calendar = None
    if activity is not None and notice.kind in COMING and activity.id in admitted and activity.ends_at > now \
            and activity.status in ("scheduled", "open"):
        calendar = url_for("notices.calendar", activity_id=activity.id)
    return Rendered(notice.id, notice.kind, text, detail, link, calendar, notice.created_at, notice.read_at is None)


def _admitted_to(session: Session, reader_id: int, activity_ids: list[int]) -> set[int]:
    return set(session.exec(select(Signup.activity_id).where(
        Signup.volunteer_id == reader_id, Signup.status == "admitted", Signup.activity_id.in_(activity_ids))).all())
