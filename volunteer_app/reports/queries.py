"""Tallies for the office: 场次 (activities), 人次 (attendances), 人数 (distinct volunteers), 时长 (hours).

Counted activities are closed ones: their attendee_count and total_minutes are final and equal the sum of
their (non-voided) attendances, so the tallies read 40k activity rows instead of a million attendances, in
two passes: one GROUP BY (team, unit) for the headline sums and the unit and team breakdowns, one GROUP BY
theme per local month. The live share reads activity.live_count (kept by summary_triggers.py); 人数 comes
from people.py. Results are remembered (cache.py) while `data_version` is unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, literal, union_all
from sqlmodel import Session, select

from ..models import Activity, Attendance, AuditEvent, Membership, Signup, Team, Theme, Unit, Volunteer
from . import cache, recruitment
from .filters import COUNTED_STATUSES, ReportFilter, activity_conditions, local_months
from .people import filtered_volunteers, registered_volunteers

RANKED_TEAMS = 10
VERSION_ACTIVITY_PART = 7  # data_version starts with the database and the six activity sums


@dataclass(frozen=True)
class Totals:
    teams: int
    volunteers: int
    activities: int
    attendances: int
    minutes: int


@dataclass(frozen=True)
class Headline:
    """The dashboard's headline figures for one filter."""

    registered: int  # volunteers registered in the area (active members of its teams)
    active_volunteers: int  # at least one attendance in the range (any theme)
    active_teams: int  # at least one counted activity
    activities: int  # 场次
    attendances: int  # 人次
    volunteers: int  # 人数: distinct volunteers under every filter, theme included
    minutes: int  # 时长


@dataclass
class Tally:
    """One row of a breakdown: what it is, its figures, and how its attendances were recorded."""

    key: object
    label: str
    activities: int = 0
    attendances: int = 0
    minutes: int = 0
    live: int = 0
    recorded: int = 0  # attendances counted for the live share (equals `attendances` for closed activities)
    link: dict = field(default_factory=dict)  # filter changes that drill into this row
    recruit: recruitment.Recruitment | None = None  # sign-ups, fill and no-show rates (themes, areas, teams)

    @property
    def live_share(self) -> float | None:
        return self.live / self.recorded if self.recorded else None


@dataclass
class Dashboard:
    """Everything the dashboard and the tallies export show for one filter."""

    head: Headline
    themes: list[Tally]
    months: list[Tally]
    units: list[Tally]
    teams: list[Tally]  # every team of the view, ranked
    top_teams: list[Tally]
    bottom_teams: list[Tally]
    live: int  # attendances recorded live, of
    recorded: int  # all attendances of the counted activities
    recruit: recruitment.Recruitment = field(default_factory=recruitment.Recruitment)  # the view's sign-ups
    recruit_teams: list[Tally] = field(default_factory=list)  # the teams with the most sign-ups


def dashboard(*, session: Session, f: ReportFilter, language: str) -> Dashboard:
    """The dashboard's figures, reused from the cache while the underlying records are unchanged.

    The per-team sums are read first: they are needed on a miss, and the data version is derived from
    them (the same value data_version would query), so a miss costs no separate version query.
    """
    teams = team_groups(session=session, f=f)
    version = data_version(session=session, f=f, sums=version_sums(teams))
    return cache.remember("dashboard", filter_key(f) + (language,), version,
                          lambda: _compute_dashboard(session=session, f=f, language=language, version=version,
                                                     team_rows=teams))


def _compute_dashboard(*, session: Session, f: ReportFilter, language: str, version: tuple,
                       team_rows: list | None = None) -> Dashboard:
    groups = activity_groups(session=session, f=f, teams=team_rows)
    methods = method_counts(session=session, f=f, groups=groups)
    teams = team_tallies(session=session, f=f, methods=methods, groups=groups)
    top, bottom = split_ranking(teams)
    live, recorded = live_share_total(methods)
    head = cache.remember("headline", filter_key(f), version,
                          lambda: headline(session=session, f=f, groups=groups))
    themes = by_theme(session=session, f=f, language=language, groups=groups)
    units = by_unit(session=session, f=f, methods=methods, groups=groups)
    recruit_groups = cache.remember("recruitment", filter_key(f), recruitment_version(session=session, version=version),
                                    lambda: recruitment.recruitment_groups(session=session, f=f))
    recruit = recruitment.attach(session=session, f=f, groups=recruit_groups, themes=themes, units=units, teams=teams)
    return Dashboard(
        head=head,
        themes=themes,
        months=by_month(session=session, f=f, groups=groups),
        units=units,
        teams=teams,
        top_teams=top,
        bottom_teams=bottom,
        live=live,
        recorded=recorded,
        recruit=recruit,
        recruit_teams=recruitment.most_signups(teams, RANKED_TEAMS),
    )


def city_totals(*, session: Session, start: datetime, end: datetime, area: Unit | None = None) -> Totals:
    """Totals for activities starting in [start, end) (the office home page); area limits them to a subtree."""
    conditions = [Activity.starts_at >= start, Activity.starts_at < end, Activity.status.in_(COUNTED_STATUSES)]
    team_conditions = [Team.status == "active"]
    volunteer_conditions = [Volunteer.role == "volunteer", Volunteer.deleted_at.is_(None)]
    if area is not None:
        subtree = select(Unit.id).where(Unit.path.startswith(area.path))
        conditions.append(Activity.unit_id.in_(subtree))
        team_conditions.append(Team.unit_id.in_(subtree))
        volunteer_conditions.append(Volunteer.home_unit_id.in_(subtree))
    activities, attendances, minutes = session.exec(
        select(
            func.count(Activity.id),
            func.coalesce(func.sum(Activity.attendee_count), 0),
            func.coalesce(func.sum(Activity.total_minutes), 0),
        ).where(*conditions)
    ).one()
    teams = session.exec(select(func.count(Team.id)).where(*team_conditions)).one()
    volunteers = session.exec(select(func.count(Volunteer.id)).where(*volunteer_conditions)).one()
    return Totals(teams, volunteers, activities, int(attendances), int(minutes))


def cached_headline(*, session: Session, f: ReportFilter) -> Headline:
    """headline(), reused while the underlying records are unchanged (the drill-down pages show it too)."""
    version = data_version(session=session, f=f)
    return cache.remember("headline", filter_key(f), version, lambda: headline(session=session, f=f))


def headline(*, session: Session, f: ReportFilter, groups: Groups | None = None) -> Headline:
    """Registered and active volunteers, active teams, 场次, 人次, 人数 and hours for a filter."""
    if groups is None:
        groups = activity_groups(session=session, f=f)
    activities = sum(row[2] for row in groups.month_themes)
    attendances = sum(row[3] for row in groups.month_themes)
    minutes = sum(row[4] for row in groups.month_themes)
    teams = len({row[0] for row in groups.teams})
    distinct = filtered_volunteers(session=session, f=f)
    active = distinct if f.theme is None else filtered_volunteers(session=session, f=f, with_theme=False)
    return Headline(registered_volunteers(session=session, f=f), active, teams, activities, attendances, distinct,
                    minutes)


@dataclass(frozen=True)
class Groups:
    """The filtered activities summed two ways; every figure of the dashboard but 人数 is a sum of these."""

    teams: list[tuple[int, int, int, int, int, int, int]]  # (team, unit, 场次, 人次, minutes, live, Σ theme ids)
    month_themes: list[tuple[str, int, int, int, int]]  # ('YYYY-MM', theme, 场次, 人次, minutes)


def activity_groups(*, session: Session, f: ReportFilter, teams: list | None = None) -> Groups:
    """Two passes over the covering index ix_activity_tally: by (team, unit) (team_groups), and by theme
    within each local month (one index range per month: small sorts, and no time-zone arithmetic per row)."""
    parts = []
    for key, first, last in local_months(f):
        parts.append(select(literal(key).label("month"), Activity.theme_id, func.count(Activity.id),
                            func.sum(Activity.attendee_count), func.sum(Activity.total_minutes))
                     .where(*activity_conditions(replace(f, start=first, end=last)))
                     .group_by(Activity.theme_id))
    month_themes = [(key, theme, int(count), int(attendances or 0), int(minutes or 0))
                    for key, theme, count, attendances, minutes in session.exec(
                        union_all(*parts) if len(parts) > 1 else parts[0])]
    return Groups(team_groups(session=session, f=f) if teams is None else teams, month_themes)


def team_groups(*, session: Session, f: ReportFilter) -> list[tuple[int, int, int, int, int, int, int]]:
    """(team, unit, 场次, 人次, minutes, live, sum of theme ids) of the filtered activities."""
    return [(team, unit, int(count), int(attendances or 0), int(minutes or 0), int(live or 0), int(themes or 0))
            for team, unit, count, attendances, minutes, live, themes in session.exec(
                select(Activity.team_id, Activity.unit_id, func.count(Activity.id),
                       func.sum(Activity.attendee_count), func.sum(Activity.total_minutes),
                       func.sum(Activity.live_count), func.sum(Activity.theme_id))
                .where(*activity_conditions(f))
                .group_by(Activity.team_id, Activity.unit_id))]


def version_sums(teams: list) -> tuple[int, ...]:
    """The activity part of data_version, from team_groups rows: count, 人次, minutes, and the sums of
    the team, theme and unit ids."""
    return (sum(row[2] for row in teams), sum(row[3] for row in teams), sum(row[4] for row in teams),
            sum(row[0] * row[2] for row in teams), sum(row[6] for row in teams), sum(row[1] * row[2] for row in teams))


def data_version(*, session: Session, f: ReportFilter, sums: tuple | None = None) -> tuple:
    """A fingerprint of everything the filter's figures are computed from (the cache's version).

    The filtered activities' count and sums change with every new, voided or re-credited attendance (their
    denormalised counts); the newest attendance, audit event, volunteer, membership and sign-up ids cover the
    rest (every change to attendances, memberships and team status is audited; a counted activity's sign-ups
    change only with its attendances). `sums`: the activity part, when
    the caller has it already (version_sums), else it is queried.
    """
    activities = sums if sums is not None else session.exec(select(
        func.count(Activity.id), func.coalesce(func.sum(Activity.attendee_count), 0),
        func.coalesce(func.sum(Activity.total_minutes), 0), func.coalesce(func.sum(Activity.team_id), 0),
        func.coalesce(func.sum(Activity.theme_id), 0), func.coalesce(func.sum(Activity.unit_id), 0),
    ).where(*activity_conditions(f))).one()
    newest = tuple(session.exec(select(func.max(model.id))).one() for model in (Attendance, AuditEvent, Volunteer,
                                                                                Membership, Signup))
    database = session.get_bind().url.render_as_string(hide_password=True)  # tests run several databases
    return (database,) + tuple(int(value) for value in activities) + newest


def recruitment_version(*, session: Session, version: tuple) -> tuple:
    """What a filter's sign-up figures depend on: its counted activities (data_version's activity part) and
    the newest sign-up and audit event, but not the newest attendance: a check-in into an open activity does
    not change a closed one's sign-ups (a late correction that turns a no-show into an attendee is audited),
    so during a day of action the sign-up figures stay cached while the tallies are recomputed."""
    newest = tuple(session.exec(select(func.max(model.id))).one() for model in (AuditEvent, Signup))
    return version[:VERSION_ACTIVITY_PART] + newest


def filter_key(f: ReportFilter) -> tuple:
    """The cache key of a filter."""
    return (f.area.id if f.area else None, f.start, f.end, f.theme.id if f.theme else None,
            f.team.id if f.team else None)


def by_theme(*, session: Session, f: ReportFilter, language: str, groups: Groups | None = None) -> list[Tally]:
    """One row per theme (themes without activities included, so the table shows the gaps)."""
    groups = activity_groups(session=session, f=f) if groups is None else groups
    counts = _summed(groups.month_themes, 1, 2)
    themes = session.exec(select(Theme).order_by(Theme.sort_order, Theme.id)).all()
    rows = []
    for theme in themes:
        if f.theme is not None and theme.id != f.theme.id:
            continue
        if theme.id not in counts and not theme.is_active:
            continue
        activities, attendances, minutes = counts.get(theme.id, (0, 0, 0))
        rows.append(Tally(theme.code, theme.name_en if language == "en" else theme.name_zh, int(activities),
                          int(attendances or 0), int(minutes or 0), link={"theme": theme.code}))
    return rows


def by_month(*, session: Session, f: ReportFilter, groups: Groups | None = None) -> list[Tally]:
    """One row per local calendar month of the range, empty months included."""
    groups = activity_groups(session=session, f=f) if groups is None else groups
    counts = _summed(groups.month_themes, 0, 2)
    rows = []
    year, number = f.start.year, f.start.month
    while (year, number) <= (f.end.year, f.end.month):
        key = f"{year:04d}-{number:02d}"
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        narrowed = f.narrowed(start=first, end=date.fromordinal(following.toordinal() - 1))
        activities, attendances, minutes = counts.get(key, (0, 0, 0))
        rows.append(Tally(key, key, int(activities), int(attendances or 0), int(minutes or 0),
                          link={"from": narrowed.start.isoformat(), "to": narrowed.end.isoformat()}))
        year, number = following.year, following.month
    return rows


def by_unit(*, session: Session, f: ReportFilter, methods: dict | None = None,
            groups: Groups | None = None) -> list[Tally]:
    """One row per unit one level below the area (districts for the whole city), with its live share."""
    area = f.area
    children = session.exec(
        select(Unit).where(Unit.parent_id == area.id if area is not None else Unit.parent_id.is_(None))
        .order_by(Unit.code)).all()
    if not children:
        return []
    prefix_len = len(area.path) if area is not None else 1
    rows = {child.id: Tally(child.id, child.name, link={"unit": child.id, "team": None}) for child in children}

    def child_of(path: str) -> int | None:
        head = path[prefix_len:].split("/", 1)[0]
        return int(head) if head.isdigit() and int(head) in rows else None

    unit_paths = dict(session.exec(select(Unit.id, Unit.path).where(
        Unit.path.startswith(area.path if area is not None else "/"))).all())
    groups = activity_groups(session=session, f=f) if groups is None else groups
    for unit_id, (activities, attendances, minutes) in _summed(groups.teams, 1, 2).items():
        child = child_of(unit_paths.get(unit_id, ""))
        if child is not None:
            row = rows[child]
            row.activities += activities
            row.attendances += attendances
            row.minutes += minutes
    methods = method_counts(session=session, f=f, groups=groups) if methods is None else methods
    for (unit_id, _team_id), (live, recorded) in methods.items():
        child = child_of(unit_paths.get(unit_id, ""))
        if child is not None:
            rows[child].live += live
            rows[child].recorded += recorded
    return list(rows.values())


def ranked_teams(*, session: Session, f: ReportFilter,
                 methods: dict | None = None) -> tuple[list[Tally], list[Tally]]:
    """The top and bottom teams of the area by 人次; active teams without any activity rank last."""
    return split_ranking(team_tallies(session=session, f=f, methods=methods))


def split_ranking(rows: list[Tally]) -> tuple[list[Tally], list[Tally]]:
    """The first and last RANKED_TEAMS of a ranked list; the bottom never repeats a team of the top."""
    top = rows[:RANKED_TEAMS]
    bottom = list(reversed(rows[max(len(top), len(rows) - RANKED_TEAMS):]))
    return top, bottom


def team_tallies(*, session: Session, f: ReportFilter, methods: dict | None = None,
                 groups: Groups | None = None) -> list[Tally]:
    """Every team of the view, ranked by 人次 then hours, with its live share; idle active teams last."""
    groups = activity_groups(session=session, f=f) if groups is None else groups
    counts = _summed(groups.teams, 0, 2)
    team_query = select(Team.id, Team.name, Team.status)
    if f.team is not None:
        team_query = team_query.where(Team.id == f.team.id)
    elif f.area is not None:
        team_query = team_query.where(Team.unit_id.in_(select(Unit.id).where(Unit.path.startswith(f.area.path))))
    shares: dict[int, list[int]] = {}
    methods = method_counts(session=session, f=f, groups=groups) if methods is None else methods
    for (_unit_id, team_id), (live, recorded) in methods.items():
        shares.setdefault(team_id, [0, 0])
        shares[team_id][0] += live
        shares[team_id][1] += recorded
    rows = []
    for team_id, name, status in session.exec(team_query):
        if team_id not in counts and status != "active":
            continue
        activities, attendances, minutes = counts.get(team_id, (0, 0, 0))
        live, recorded = shares.get(team_id, (0, 0))
        rows.append(Tally(team_id, name, activities, attendances, minutes, live, recorded,
                          link={"team": team_id}))
    rows.sort(key=lambda row: (-row.attendances, -row.minutes, row.label))
    return rows


def method_counts(*, session: Session, f: ReportFilter,
                  groups: Groups | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """(unit_id, team_id) → (attendances recorded live, all attendances), non-voided, for a filter.

    Read from the activities' denormalised live_count and attendee_count (see activity_groups).
    """
    result: dict[tuple[int, int], tuple[int, int]] = {}
    for team, unit, _count, attendances, _minutes, live, _themes in (
            activity_groups(session=session, f=f) if groups is None else groups).teams:
        before = result.get((unit, team), (0, 0))
        result[(unit, team)] = (before[0] + live, before[1] + attendances)
    return result


def _summed(rows: list, key: int, first: int) -> dict:
    """Rows summed by their column `key`: key → (场次, 人次, minutes) from columns first, first + 1, first + 2."""
    sums: dict = {}
    for row in rows:
        before = sums.get(row[key], (0, 0, 0))
        sums[row[key]] = (before[0] + row[first], before[1] + row[first + 1], before[2] + row[first + 2])
    return sums


def live_share_total(shares: dict[tuple[int, int], tuple[int, int]]) -> tuple[int, int]:
    """The live and total attendance counts summed over every team."""
    return sum(v[0] for v in shares.values()), sum(v[1] for v in shares.values())
