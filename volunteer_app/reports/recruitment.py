"""Recruitment figures for the office (issue 14 point 6): sign-ups, fill rate and no-show rate.

Over the same counted activities as every other figure of the dashboard (closed ones, in the range, area,
theme and team of the filter: filters.activity_conditions), so a closed activity's sign-ups are final:

- sign-ups (报名) = its sign-ups that were not cancelled (pending ones left at the close included);
- admitted = admitted + no_show (a no-show was admitted, and never checked in by the close);
- fill rate = admitted ÷ headcount limit (capacity), over the activities that set a limit;
- no-show rate = no_show ÷ admitted.

Two grouped reads (sign-ups by status, limits) per filter, folded into the dashboard's theme, area and team
rows. The dashboard caches the groups apart from its other figures (queries.recruitment_version), so a check-in
does not make them be read again.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlmodel import Session, select

from ..models import Activity, Signup, Theme, Unit
from .filters import ReportFilter, activity_conditions

DEFINITIONS = {
    "signups": _l("Sign-ups for the counted activities, not counting those cancelled."),
    "fill_rate": _l("Admitted (no-shows included) ÷ headcount limit, over the counted activities that set a limit."),
    "no_show_rate": _l("Admitted but never checked in by the close ÷ everyone admitted, over the counted activities."),
}
NOT_SIGNED_UP = ("cancelled",)
ADMITTED = ("admitted", "no_show")


@dataclass
class Recruitment:
    """Sign-up figures of one row (a theme, an area, a team, or the whole view)."""

    signups: int = 0
    admitted: int = 0  # no-shows included
    no_shows: int = 0
    places: int = 0  # headcount limits summed, over the activities that set one
    filled: int = 0  # admitted to those activities

    @property
    def fill_rate(self) -> float | None:
        return self.filled / self.places if self.places else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.admitted if self.admitted else None

    def add(self, other: Recruitment) -> None:
        """Add another row's figures to this one."""
        self.signups += other.signups
        self.admitted += other.admitted
        self.no_shows += other.no_shows
        self.places += other.places
        self.filled += other.filled


def recruitment_groups(*, session: Session, f: ReportFilter) -> dict[tuple[int, int, int], Recruitment]:
    """(team, unit, theme) → Recruitment for the filter's counted activities."""
    groups: dict[tuple[int, int, int], Recruitment] = {}
    limited = Activity.capacity.is_not(None)
    # Sign-ups counted per activity first (one pass over the covering index ix_signup_activity_status), then
    # joined to the filtered activities by primary key: a few thousand activities recruit, so this reads far
    # less than probing the sign-ups of every counted activity of the range.
    per_activity = (select(Signup.activity_id, Signup.status, func.count().label("n"))
                    .where(Signup.status.not_in(NOT_SIGNED_UP))
                    .group_by(Signup.activity_id, Signup.status).subquery())
    for team, unit, theme, has_limit, status, count in session.exec(
            select(Activity.team_id, Activity.unit_id, Activity.theme_id, limited, per_activity.c.status,
                   func.sum(per_activity.c.n))
            .select_from(per_activity).join(Activity, Activity.id == per_activity.c.activity_id)
            .where(*activity_conditions(f))
            .group_by(Activity.team_id, Activity.unit_id, Activity.theme_id, limited, per_activity.c.status)):
        count = int(count)
        row = groups.setdefault((team, unit, theme), Recruitment())
        row.signups += count
        if status in ADMITTED:
            row.admitted += count
            row.filled += count if has_limit else 0
        if status == "no_show":
            row.no_shows += count
    for team, unit, theme, places in session.exec(
            select(Activity.team_id, Activity.unit_id, Activity.theme_id, func.sum(Activity.capacity))
            .where(*activity_conditions(f), limited)
            .group_by(Activity.team_id, Activity.unit_id, Activity.theme_id)):
        groups.setdefault((team, unit, theme), Recruitment()).places += int(places or 0)
    return groups


def total(groups: dict[tuple[int, int, int], Recruitment]) -> Recruitment:
    """The whole view's figures."""
    whole = Recruitment()
    for row in groups.values():
        whole.add(row)
    return whole


def by_team(groups: dict) -> dict[int, Recruitment]:
    """Team id → its figures."""
    return _folded(groups, lambda team, _unit, _theme: team)


def by_theme(groups: dict) -> dict[int, Recruitment]:
    """Theme id → its figures."""
    return _folded(groups, lambda _team, _unit, theme: theme)


def by_child_unit(*, session: Session, f: ReportFilter, groups: dict, children: list[int]) -> dict[int, Recruitment]:
    """Unit one level below the area → the figures of activities anywhere in its subtree."""
    area_path = f.area.path if f.area is not None else "/"
    prefix_len = len(area_path)
    paths = dict(session.exec(select(Unit.id, Unit.path).where(Unit.path.startswith(area_path))).all())
    wanted = set(children)

    def child_of(unit_id: int) -> int | None:
        head = paths.get(unit_id, "")[prefix_len:].split("/", 1)[0]
        return int(head) if head.isdigit() and int(head) in wanted else None

    return {child: row for child, row in _folded(groups, lambda _team, unit, _theme: child_of(unit)).items()
            if child is not None}


def _folded(groups: dict, key) -> dict:
    folded: dict = {}
    for (team, unit, theme), row in groups.items():
        folded.setdefault(key(team, unit, theme), Recruitment()).add(row)
    return folded


def attach(*, session: Session, f: ReportFilter, groups: dict, themes: list, units: list, teams: list) -> Recruitment:
    """Give each theme, area and team row of the dashboard (queries.Tally) its figures from recruitment_groups;
    returns the total."""
    theme_ids = dict(session.exec(select(Theme.code, Theme.id)).all())
    per_theme = by_theme(groups)
    for row in themes:
        row.recruit = per_theme.get(theme_ids.get(row.key), Recruitment())
    per_unit = by_child_unit(session=session, f=f, groups=groups, children=[row.key for row in units])
    for row in units:
        row.recruit = per_unit.get(row.key, Recruitment())
    per_team = by_team(groups)
    for row in teams:
        row.recruit = per_team.get(row.key, Recruitment())
    return total(groups)


def most_signups(teams: list, limit: int) -> list:
    """The teams of a ranked list with the most sign-ups (those with none left out)."""
    return sorted((row for row in teams if row.recruit and row.recruit.signups),
                  key=lambda row: (-row.recruit.signups, row.label))[:limit]
