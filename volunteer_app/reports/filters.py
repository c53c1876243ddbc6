"""The dashboard's filters: parsed from the query string, checked against what the office account may see,
and turned into WHERE clauses on the counted activities (`activity_conditions`).

Every dashboard, drill-down and export route takes the same parameters, so one parser answers
for all of them: `from` and `to` (YYYY-MM-DD, local dates in Asia/Shanghai, both included),
`unit` (an id or a code), `theme` (a code) and `team` (an id). A bad value raises FilterError,
shown on the page with status 400; nothing is silently widened.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from ..errors import DomainError
from ..models import Activity, Team, Theme, Unit, Volunteer

PARAMS = ("from", "to", "unit", "theme", "team")
_UNUSABLE = {"from": "bad_date", "to": "bad_date", "unit": "unknown_unit", "theme": "unknown_theme",
             "team": "unknown_team"}
MAX_RANGE_DAYS = 3 * 366  # a longer range is almost surely a typo, and an expensive one
EARLIEST = date(2000, 1, 1)
COUNTED_STATUSES = ("closed",)  # a closed activity's tally is final


class FilterError(DomainError):
    """A dashboard parameter that cannot be used."""

    messages = {
        "repeated_param": _l("The parameter “%(name)s” was given more than once."),
        "bad_date": _l("“%(value)s” is not a date; use the form 2026-03-31."),
        "range_reversed": _l("The start date is after the end date."),
        "range_too_long": _l("The date range is too long; choose at most three years."),
        "unknown_unit": _l("This district, street or community does not exist, or is outside your area."),
        "unknown_theme": _l("There is no theme with the code “%(value)s”."),
        "unknown_team": _l("This team does not exist, or is outside your area."),
    }


@dataclass(frozen=True)
class ReportFilter:
    """What the office is looking at: a local date range, a unit subtree, a theme and a team."""

    start: date
    end: date  # included
    zone: ZoneInfo
    scope: Unit | None  # the office account's own unit (None: the whole city)
    unit: Unit | None  # the chosen unit, inside scope (None: the whole scope)
    theme: Theme | None = None
    team: Team | None = None

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time.min, self.zone)

    @property
    def end_utc(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time.min, self.zone)

    @property
    def area(self) -> Unit | None:
        """The unit whose subtree is counted: the chosen unit, else the account's scope."""
        return self.unit or self.scope

    def params(self, **changes) -> dict:
        """The query parameters of this view, with changes (None removes one): for links and exports."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "unit": self.unit.id if self.unit else None,
            "theme": self.theme.code if self.theme else None,
            "team": self.team.id if self.team else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def narrowed(self, *, start: date | None = None, end: date | None = None) -> "ReportFilter":
        """The same view limited to a smaller date range (a month of the monthly breakdown)."""
        return replace(self, start=max(start or self.start, self.start), end=min(end or self.end, self.end))


def parse_filter(args: Mapping, *, session: Session, office: Volunteer, zone: ZoneInfo,
                 today: date) -> ReportFilter:
    """Read the query string into a ReportFilter for office; raise FilterError on anything unusable.

    `args` is a werkzeug MultiDict (or a plain dict in tests); a parameter given twice is refused
    rather than guessed at.
    """
    values = {}
    for name in PARAMS:
        given = args.getlist(name) if hasattr(args, "getlist") else ([args[name]] if name in args else [])
        given = [value.strip() for value in given if value is not None and value.strip() != ""]
        if len(set(given)) > 1:
            raise FilterError("repeated_param", name=name)
        values[name] = given[0] if given else None
        if values[name] is not None and not values[name].isprintable():
            # NUL and other control characters can match nothing (and PostgreSQL refuses NUL outright)
            raise FilterError(_UNUSABLE[name], value=values[name].encode("unicode_escape").decode("ascii")[:20])

    start = _parse_date(values["from"]) if values["from"] else date(today.year, 1, 1)
    end = _parse_date(values["to"]) if values["to"] else today
    if start > end:
        raise FilterError("range_reversed")
    if (end - start).days > MAX_RANGE_DAYS:
        raise FilterError("range_too_long")

    scope = session.get(Unit, office.office_unit_id) if office.office_unit_id else None
    unit = _find_unit(session, values["unit"], scope) if values["unit"] else None
    theme = None
    if values["theme"]:
        theme = session.exec(select(Theme).where(Theme.code == values["theme"][:40])).first()
        if theme is None:
            raise FilterError("unknown_theme", value=values["theme"][:40])
    team = _find_team(session, values["team"], unit or scope) if values["team"] else None
    return ReportFilter(start=start, end=end, zone=zone, scope=scope, unit=unit, theme=theme, team=team)


def _parse_date(value: str) -> date:
    try:
        parsed = date.fromisoformat(value[:10]) if len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed < EARLIEST or parsed.year > 2999:
        raise FilterError("bad_date", value=value[:20])
    return parsed


def in_subtree(unit: Unit, area: Unit | None) -> bool:
    """True when unit is area or lies below it (area None: the whole city)."""
    return area is None or unit.path.startswith(area.path)


def _find_unit(session: Session, raw: str, scope: Unit | None) -> Unit:
    """A unit by id or code, inside the account's scope; 'not there' and 'not yours' read alike."""
    raw = raw[:32]
    unit = session.get(Unit, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if unit is None:
        unit = session.exec(select(Unit).where(Unit.code == raw)).first()
    if unit is None or not in_subtree(unit, scope):
        raise FilterError("unknown_unit")
    return unit


def _find_team(session: Session, raw: str, area: Unit | None) -> Team:
    team = session.get(Team, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if team is None:
        raise FilterError("unknown_team")
    unit = session.get(Unit, team.unit_id)
    if unit is None or not in_subtree(unit, area):
        raise FilterError("unknown_team")
    return team


def activity_conditions(f: ReportFilter, *, with_theme: bool = True, activity=Activity) -> list:
    """WHERE clauses on Activity (or an alias of it) for a filter: counted, in the range, area, theme, team."""
    conditions = [
        activity.status.in_(COUNTED_STATUSES),
        activity.starts_at >= f.start_utc,
        activity.starts_at < f.end_utc,
    ]
    if f.area is not None:
        conditions.append(activity.unit_id.in_(select(Unit.id).where(Unit.path.startswith(f.area.path))))
    if f.theme is not None and with_theme:
        conditions.append(activity.theme_id == f.theme.id)
    if f.team is not None:
        conditions.append(activity.team_id == f.team.id)
    return conditions


def local_months(f: ReportFilter) -> list[tuple[str, date, date]]:
    """('YYYY-MM', first day, last day) of each local month of the range, clipped to the range."""
    months = []
    for month in month_numbers(f):
        first, last = month_days(month)
        months.append((f"{first.year:04d}-{first.month:02d}", max(first, f.start), min(last, f.end)))
    return months


def month_numbers(f: ReportFilter) -> range:
    """The range's months as year * 12 + month - 1."""
    return range(f.start.year * 12 + f.start.month - 1, f.end.year * 12 + f.end.month)


def month_days(month: int) -> tuple[date, date]:
    """First and last day of month number year * 12 + month - 1."""
    following = month + 1
    return date(month // 12, month % 12 + 1, 1), date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
