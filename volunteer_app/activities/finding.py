"""Finding activities to join: what a volunteer may see and sign up for, nearest first.

An activity's audience says who may join it: its team's members ('team'), anyone whose home unit lies in
the audience unit's subtree ('unit'), or anyone in the city ('city'). The same rule answers both questions,
"what does the find page list" (as SQL conditions, `audience_conditions`) and "may this person open this
activity's page" (`visible_activity`), so the two cannot drift apart.

"Nearest" is read from the unit tree: the activity's unit (its team's unit) against the volunteer's home
community: the same community first, then the same street, the same district, the rest of the city.

Public functions (keyword-only `session`; they only read):

    parse_filter(args, *, session, zone) -> FindFilter             (FindError on bad input)
    places_left(activity) -> int | None;  signup_deadline(activity) -> datetime;  signups_open(activity, now=None)
    find_activities(*, session, volunteer_id, f, page=1, per_page=PER_PAGE, now=None) -> Page of Found
    visible_activity(*, session, volunteer_id, activity_id) -> Activity | None
    signup_of(*, session, activity_id, volunteer_id) -> Signup | None
    my_upcoming(*, session, volunteer_id, now=None, limit=MY_LIMIT) -> list[Found]
    team_upcoming(*, session, team_id, now=None, limit=TEAM_LIMIT) -> list[(Activity, Theme)]
    area_choices(*, session) -> list[Unit]
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, literal, or_
from sqlmodel import Session, select

from ..errors import DomainError
from ..models import Activity, Membership, Signup, Team, Theme, Unit, Volunteer, utcnow
from ..teams.rules import active_member, is_active_member
from ..web import Page
from .service import MAX_DURATION

PER_PAGE = 20
MY_LIMIT = 20
TEAM_LIMIT = 100
MAX_RANGE_DAYS = 366
UPCOMING = ("scheduled", "open")
MY_STATUSES = ("admitted", "pending", "waitlisted")  # in the order "my activities" shows them
DISTANCES = ("community", "street", "district", "city")  # Found.distance indexes this


class FindError(DomainError):
    """A filter of the find page could not be used; `code` is stable."""

    status = 400
    messages = {
        "bad_date": _l("“%(value)s” is not a date. Use the form 2026-03-05."),
        "range_reversed": _l("The end date is before the start date."),
        "range_too_long": _l("Choose a date range of at most a year."),
        "unknown_theme": _l("There is no service theme “%(value)s”."),
        "unknown_area": _l("Choose a district or street from the list."),
    }


@dataclass(frozen=True)
class FindFilter:
    """What the volunteer narrowed the list to; dates are local calendar days, both ends included."""

    zone: ZoneInfo
    theme: Theme | None = None
    start: date | None = None
    end: date | None = None
    area: Unit | None = None  # a district or a street

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (for the pager's links)."""
        values = {"theme": self.theme.code if self.theme else "", "from": self.start.isoformat() if self.start else "",
                  "to": self.end.isoformat() if self.end else "", "area": str(self.area.id) if self.area else ""}
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class Found:
    """One activity as the volunteer sees it in a list."""

    activity: Activity
    team_name: str
    theme: Theme
    distance: int  # 0 own community, 1 own street, 2 own district, 3 elsewhere (DISTANCES)
    signup: Signup | None = None

    @property
    def places_left(self) -> int | None:
        return places_left(self.activity)


def places_left(activity: Activity) -> int | None:
    """Places still free (capacity - admitted, never below 0); None when the activity has no limit."""
    if activity.capacity is None:
        return None
    return max(0, activity.capacity - activity.admitted_count)


def signup_deadline(activity: Activity) -> datetime:
    """When sign-ups close: the leader's deadline, or the start when none was set."""
    return activity.signup_deadline or activity.starts_at


def signups_open(activity: Activity, now: datetime | None = None) -> bool:
    """Whether the activity still takes sign-ups (the rule `_upcoming` states in SQL for the list)."""
    now = now or utcnow()
    return activity.status in UPCOMING and activity.ends_at > now and signup_deadline(activity) > now


def parse_filter(args: Mapping[str, str], *, session: Session, zone: ZoneInfo) -> FindFilter:
    """Read ?theme=<code>&from=YYYY-MM-DD&to=YYYY-MM-DD&area=<unit id>; empty values mean "any"."""
    values = {name: (args.get(name) or "").strip()[:40] for name in ("theme", "from", "to", "area")}
    theme = None
    if values["theme"]:
        theme = session.exec(select(Theme).where(Theme.code == values["theme"], Theme.is_active.is_(True))).first()
        if theme is None:
            raise FindError("unknown_theme", value=values["theme"])
    start, end = _date(values["from"]), _date(values["to"])
    if start and end:
        if end < start:
            raise FindError("range_reversed")
        if (end - start).days > MAX_RANGE_DAYS:
            raise FindError("range_too_long")
    area = None
    if values["area"]:
        raw = values["area"]
        area = session.get(Unit, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        if area is None or area.level not in ("district", "street"):
            raise FindError("unknown_area")
    return FindFilter(zone=zone, theme=theme, start=start, end=end, area=area)


def find_activities(*, session: Session, volunteer_id: int, f: FindFilter, page: int = 1, per_page: int = PER_PAGE,
                    now: datetime | None = None) -> Page:
    """One page of the upcoming activities the volunteer may join, nearest first, then soonest (Found rows)."""
    now = now or utcnow()
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        return Page([], 1, 1, 0)
    home = _home_path(session, volunteer)
    conditions = [*_upcoming(now), audience_conditions(session=session, volunteer=volunteer, home_path=home),
                  Team.status == "active", *_filter_conditions(f)]
    distance = _distance(home)
    total = session.exec(
        select(func.count(Activity.id)).select_from(Activity).join(Team, Team.id == Activity.team_id)
        .join(Unit, Unit.id == Activity.unit_id).where(*conditions)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(Activity, Team.name, Theme, distance.label("distance"))
        .join(Team, Team.id == Activity.team_id).join(Unit, Unit.id == Activity.unit_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .where(*conditions)
        .order_by(distance, Activity.starts_at, Activity.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    signups = _signups(session, volunteer_id, [activity.id for activity, *_rest in rows])
    items = [Found(activity, team_name, theme, int(dist), signups.get(activity.id))
             for activity, team_name, theme, dist in rows]
    return Page(items, page, pages, total)


def audience_conditions(*, session: Session, volunteer: Volunteer, home_path: str | None = None):
    """SQL condition on Activity: the volunteer is in its audience (or in its team, whatever the audience)."""
    home_path = home_path if home_path is not None else _home_path(session, volunteer)
    team_ids = list(session.exec(select(Membership.team_id).where(*active_member(volunteer=volunteer.id))).all())
    ancestors = _path_ids(home_path)
    return or_(
        Activity.audience == "city",
        Activity.team_id.in_(team_ids) if team_ids else false(),
        and_(Activity.audience == "unit", Activity.audience_unit_id.in_(ancestors)) if ancestors else false(),
    )


def visible_activity(*, session: Session, volunteer_id: int, activity_id: int) -> Activity | None:
    """The activity if the volunteer may see it: in its audience, in its team, or signed up for it; else None."""
    activity = session.get(Activity, activity_id)
    volunteer = session.get(Volunteer, volunteer_id)
    if activity is None or volunteer is None or volunteer.role != "volunteer":
        return None
    if is_active_member(session, activity.team_id, volunteer_id):
        return activity
    if signup_of(session=session, activity_id=activity.id, volunteer_id=volunteer_id) is not None:
        return activity
    team = session.get(Team, activity.team_id)
    if team is None or team.status != "active":
        return None
    if activity.audience == "city":
        return activity
    if activity.audience == "unit" and activity.audience_unit_id in _path_ids(_home_path(session, volunteer)):
        return activity
    return None


def signup_of(*, session: Session, activity_id: int, volunteer_id: int) -> Signup | None:
    """The volunteer's sign-up for the activity, whatever its status, or None."""
    return session.exec(select(Signup).where(Signup.activity_id == activity_id,
                                             Signup.volunteer_id == volunteer_id)).first()


def my_upcoming(*, session: Session, volunteer_id: int, now: datetime | None = None,
                limit: int = MY_LIMIT) -> list[Found]:
    """The volunteer's upcoming sign-ups still in play: admitted first, then pending, then waitlisted; soonest first."""
    now = now or utcnow()
    order = case(*((Signup.status == status, rank) for rank, status in enumerate(MY_STATUSES)), else_=len(MY_STATUSES))
    rows = session.exec(
        select(Signup, Activity, Team.name, Theme)
        .join(Activity, Activity.id == Signup.activity_id).join(Team, Team.id == Activity.team_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .where(Signup.volunteer_id == volunteer_id, Signup.status.in_(MY_STATUSES), Activity.status.in_(UPCOMING),
               Activity.ends_at > now)
        .order_by(order, Activity.starts_at, Activity.id).limit(limit)).all()
    return [Found(activity, team_name, theme, 0, signup) for signup, activity, team_name, theme in rows]


def team_upcoming(*, session: Session, team_id: int, now: datetime | None = None,
                  limit: int = TEAM_LIMIT) -> list[tuple[Activity, Theme]]:
    """A team's activities that have not ended (open or scheduled), soonest first, for its members."""
    now = now or utcnow()
    return list(session.exec(
        select(Activity, Theme).join(Theme, Theme.id == Activity.theme_id)
        .where(Activity.team_id == team_id, Activity.status.in_(UPCOMING), Activity.ends_at > now)
        .order_by(Activity.starts_at, Activity.id).limit(limit)).all())


def area_choices(*, session: Session) -> list[Unit]:
    """Districts, each followed by its streets, for the area filter."""
    units = session.exec(select(Unit).where(Unit.level.in_(("district", "street"))).order_by(Unit.path)).all()
    districts = sorted((u for u in units if u.level == "district"), key=lambda u: u.code)
    streets: dict[int | None, list[Unit]] = {}
    for unit in units:
        if unit.level == "street":
            streets.setdefault(unit.parent_id, []).append(unit)
    ordered = []
    for district in districts:
        ordered.append(district)
        ordered.extend(sorted(streets.get(district.id, []), key=lambda u: u.code))
    return ordered


# --- helpers ------------------------------------------------------------------------------


def _upcoming(now: datetime) -> tuple:
    """Not ended, sign-ups still open. The start bound lets the (status, starts_at) index do the work."""
    return (Activity.status.in_(UPCOMING), Activity.starts_at > now - MAX_DURATION, Activity.ends_at > now,
            func.coalesce(Activity.signup_deadline, Activity.starts_at) > now)


def _filter_conditions(f: FindFilter) -> list:
    conditions = []
    if f.theme is not None:
        conditions.append(Activity.theme_id == f.theme.id)
    if f.start is not None:
        conditions.append(Activity.starts_at >= _local_midnight(f.start, f.zone))
    if f.end is not None:
        conditions.append(Activity.starts_at < _local_midnight(f.end + timedelta(days=1), f.zone))
    if f.area is not None:
        conditions.append(Unit.path.startswith(f.area.path, autoescape=True))
    return conditions


def _distance(home_path: str | None):
    """0 same community, 1 same street, 2 same district, 3 elsewhere: a CASE on the activity's unit path."""
    ids = _path_ids(home_path)
    if not ids:
        return literal(3)
    # The prefix of k ids is the home's district (k=1), street (k=2) or community (k=3): distance 3 - k.
    whens = [(Unit.path.startswith("/" + "/".join(map(str, ids[:k])) + "/", autoescape=True), 3 - k)
             for k in range(len(ids), 0, -1)]
    return case(*whens, else_=3)


def _home_path(session: Session, volunteer: Volunteer) -> str | None:
    if volunteer.home_unit_id is None:
        return None
    unit = session.get(Unit, volunteer.home_unit_id)
    return unit.path if unit is not None else None


def _path_ids(path: str | None) -> list[int]:
    return [int(part) for part in (path or "").strip("/").split("/") if part.isdigit()]


def _signups(session: Session, volunteer_id: int, activity_ids: list[int]) -> dict[int, Signup]:
    if not activity_ids:
        return {}
    rows = session.exec(select(Signup).where(Signup.volunteer_id == volunteer_id,
                                             Signup.activity_id.in_(activity_ids))).all()
    return {signup.activity_id: signup for signup in rows}


def _date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FindError("bad_date", value=raw[:20]) from None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
