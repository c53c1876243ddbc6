"""Demo data at the city's real scale: `volunteer-app seed-demo --scale small|city [--seed N] [--if-empty]`.

`city` is the real city: 6 districts, ~60 streets (街道), ~600 communities (社区), 660 teams, 166,000
volunteers, ~40,000 activities over the last 12 months and ~1.2 million attendances. `small` has the same
shape (2 districts, 6 teams, ~200 volunteers, ~150 activities) and builds in a second or two, for tests.

The data is deterministic for a given --seed and clock (`--now` pins the clock). Everything is fictitious:
district, street and community names are invented, names are drawn from common surname and given-name
characters weighted by real surname frequency, and every phone number lies in the 199 0xxx xxxx block:

- 19900000001 city-wide office account, 19900000002 office account limited to the first district,
  19900000003 the demo team leader, 19900000004 the demo volunteer (password: DEMO_PASSWORD);
- 199000000xx (below 100) other reserved people of the planted cases listed below;
- everybody else: "1990" + 7 digits from a bijection of the volunteer's index onto 0000100..9999999,
  so numbers are unique and look scattered; `phone_tail` is the last 4 digits.

All demo accounts share ONE precomputed password hash (hashing 166,000 passwords would take hours).

Rows go in with SQLAlchemy Core: an INSERT compiled from each SQLModel table (`Model.__table__`) and run
with the connection's executemany in chunks, fed by generators so memory stays flat. Values are
prepared in their stored form (on SQLite, UTC datetimes as the text SQLAlchemy itself writes; checked
against SQLAlchemy's own bind processor at start) because per-row type processing costs more than the
insert itself at 1.2 million rows. The whole seed is one transaction: it lands completely or not at all.
Secondary indexes that rows would hit at random are built after the insert; on SQLite the seeding connection
checks foreign keys in one pass before committing instead of per row (docs/PERFORMANCE.md has the figures).

Clean data obeys the rules the check-in service enforces: a volunteer never attends two overlapping
activities, credited minutes = check-out − check-in clipped to the activity window, records are written
at check-in time (live) or within 10 working days (retro logs, which always carry photos), every self
scan has the volunteer's own pseudo device, and each activity's attendee_count and total_minutes equal
the sum over its non-voided attendances.

Planted padding cases (issue 5's signals), `planted` of each per scale (city 3, small 2), findable so:

1. one volunteer in two overlapping activities: the volunteers with phones in PLANTED_OVERLAP_PHONES each
   attend two activities of two teams whose windows overlap;
2. many self check-ins for different volunteers from one device within minutes: attendances whose
   device_hash is in PLANTED_DEVICE_HASHES (8 volunteers, one activity each, within 4 minutes);
3. credited minutes longer than the activity: attendances with credited_minutes > the window (only these);
4. records entered more than 10 working days after the activity ended (volunteer_app.workdays): retro
   logs of `planted` activities, written 15–30 working days late;
5. retro-logged activities without photos: `planted` retro activities with no Photo row (every other
   retro activity has one or two);
6. a team that logs exactly the same roster week after week: the teams led by PLANTED_ROSTER_LEADER_PHONES
   (`roster_teams` per scale) log the same 12 people every Saturday morning for 10 weeks, all typed in
   by the leader (leader_manual) with the full window credited.

This module is longer than most: it is a generator script with its own word lists.
"""
from __future__ import annotations

import bisect
import hashlib
import io
import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, func, select
from sqlmodel import Session

from . import schema
from .db import get_engine
from .models import LIVE_METHODS, Activity, ActiveMonths, Attendance, Membership, Photo, Team, Theme, Unit, Volunteer
from . import summary_triggers as summary
from .workdays import add_working_days

DEMO_PASSWORD = "redvest2026"
# werkzeug.security.generate_password_hash(DEMO_PASSWORD), computed once; checked at the start of every seed.
DEMO_PASSWORD_HASH = (
    "scrypt:32768:8:1$JGC5fSYCaMemqolp$f0bf09069503ff45e5746874d5e88d5913554e87ae5cf08f37845e46a14b43ea"
    "dc25ea3d5a039e2f4cf53fce62a46957dbdfc99e2ede63b585ef838a1f857570"
)
OFFICE_PHONE = "19900000001"
DISTRICT_OFFICE_PHONE = "19900000002"
LEADER_PHONE = "19900000003"
VOLUNTEER_PHONE = "19900000004"
PLANTED_OVERLAP_PHONES = ("19900000011", "19900000012", "19900000013")
PLANTED_ROSTER_LEADER_PHONES = ("19900000021", "19900000022", "19900000023")
PLANTED_DEVICE_HASHES = tuple(
    hashlib.sha256(f"red-vest-planted-device-{i}".encode()).hexdigest()[:32] for i in (1, 2, 3)
)
CHINA = ZoneInfo("Asia/Shanghai")
LOCAL_OFFSET = 8 * 3600  # China has no daylight saving time: local = UTC + 8 h all year


@dataclass(frozen=True)
class Scale:
    """How big the city is."""

    districts: int
    streets_per_district: tuple[int, int]
    communities_per_street: tuple[int, int]
    teams: int
    street_teams: int
    pending_teams: int
    suspended_teams: int
    volunteers: int
    activities: int  # past activities over the last 12 months
    attendances: int  # target; the real number comes out a little lower (busy volunteers are skipped)
    planted: int  # cases of each planted kind
    roster_teams: int
    pending_requests: int
    chunk: int


SCALES = {
    "city": Scale(6, (9, 11), (8, 12), 660, 59, 8, 4, 166_000, 40_000, 1_230_000, 3, 3, 120, 5_000),
    "small": Scale(2, (2, 2), (2, 2), 6, 1, 1, 1, 200, 150, 1_500, 2, 1, 6, 500),
}


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(sorted(SCALES)), default="small", show_default=True,
              help="city: the real city (166,000 volunteers, 1.2M attendances); small: a few teams, for tests.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; the same seed gives the same data.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has volunteers.")
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="Pin the clock (e.g. 2026-11-26T10:00+08:00) for reproducible data; default: the current time.")
@with_appcontext
def seed_demo_command(scale: str, seed: int, if_empty: bool, now_text: str | None) -> None:
    """Fill an empty database with the demo city and print the demo logins."""
    now = _parse_now(now_text)
    engine = get_engine()
    with Session(engine) as session:
        counts = {
            name: session.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in (("volunteers", Volunteer), ("units", Unit), ("teams", Team))
        }
    if if_empty and counts["volunteers"]:
        click.echo(f"The database already has {counts['volunteers']:,} volunteers; not seeding.")
        return
    if any(counts.values()):
        raise click.ClickException(
            "The database is not empty (" + ", ".join(f"{n:,} {name}" for name, n in counts.items())
            + "); seed-demo only fills an empty database. Use a fresh database, or --if-empty to skip."
        )
    started = time.perf_counter()
    report = seed_database(engine, scale=SCALES[scale], seed=seed, now=now)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded the {scale} demo in {elapsed:.1f} s: {report['districts']} districts, {report['streets']} streets, "
        f"{report['communities']} communities, {report['teams']:,} teams, {report['volunteers']:,} volunteers, "
        f"{report['memberships']:,} memberships, {report['activities']:,} activities, "
        f"{report['attendances']:,} attendances, {report['photos']:,} photos."
    )
    click.echo("The signals of padding are computed by `volunteer-app signals refresh` (cron; `make run` runs it).")
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for role, phone, name, note in report["logins"]:
        click.echo(f"  {role:<22} {phone}  {name}{'  ' + note if note else ''}")


def _parse_now(text: str | None) -> int:
    """The clock as UTC epoch seconds; a time without offset is China time."""
    if not text:
        return int(time.time())
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO date-time such as 2026-11-26T10:00+08:00",
                                 param_hint="--now") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    return int(value.timestamp())


# --- the plan -----------------------------------------------------------------------------


@dataclass
class TeamPlan:
    """A team as planned: where it is, who is in it (a block of ids plus people from other teams), how keen."""

    id: int
    unit_id: int
    district: int  # index
    community_ids: list[int]  # where its members live
    name: str
    kind: str
    status: str = "active"
    size: int = 0
    first_member: int = 0
    created: int = 0
    suspended_at: int = 0
    manual_share: float = 0.07  # leader_manual share among live records
    leaders: list[int] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)


@dataclass
class ActivitySpec:
    """An activity as planned, with the planted flags that shape its attendances."""

    team: TeamPlan
    theme: str
    start: int
    end: int
    status: str = "closed"
    k: float = 0.0  # attendees wanted
    is_retro: bool = False
    title: str = ""
    place: str = ""
    reason: str | None = None
    forced: list[int] = field(default_factory=list)  # attendees planted regardless of other activities
    roster: bool = False  # only the forced attendees, typed in by the leader
    device: str | None = None  # planted shared device
    long_credit: bool = False
    late: bool = False
    no_photo: bool = False
    photos: int = 0
    logged: int = 0  # when a retro log was written
    id: int = 0


class Seeder:
    """Builds the city in memory as a plan, then streams its rows into the database."""

    def __init__(self, engine: Engine, scale: Scale, seed: int, now: int):
        """Everything derives from random.Random(seed) and the clock `now` (UTC epoch seconds)."""
        self.engine = engine
        self.scale = scale
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now
        self.today = datetime.fromtimestamp(now, CHINA).date()
        self.sqlite = engine.dialect.name == "sqlite"
        self.ts = Timestamps(self.sqlite, now)
        self.report: dict = {}

    # -- units ----------------------------------------------------------------------------

    def plan_units(self) -> None:
        """Districts, streets and communities with codes (D01-S03-C07) and materialised paths."""
        rng, scale = self.rng, self.scale
        self.units: list[tuple] = []  # (id, parent_id, level, name, code, path)
        self.streets: list[tuple[int, int, str]] = []  # (unit id, district index, name)
        self.communities: list[tuple[int, int, int, str]] = []  # (unit id, street id, district index, name)
        street_names = rng.sample(STREET_WORDS, len(STREET_WORDS))
        community_names = [a + b for a in COMMUNITY_WORDS for b in COMMUNITY_SUFFIXES]
        rng.shuffle(community_names)
        next_id = 1
        for d in range(scale.districts):
            district_id = next_id
            next_id += 1
            self.units.append((district_id, None, "district", DISTRICTS[d], f"D{d + 1:02d}", f"/{district_id}/"))
            for s in range(rng.randint(*scale.streets_per_district)):
                street_id = next_id
                next_id += 1
                name = street_names.pop() + "街道"
                self.units.append((street_id, district_id, "street", name, f"D{d + 1:02d}-S{s + 1:02d}",
                                   f"/{district_id}/{street_id}/"))
                self.streets.append((street_id, d, name))
                for c in range(rng.randint(*scale.communities_per_street)):
                    community_id = next_id
                    next_id += 1
                    cname = community_names.pop() + "社区"
                    self.units.append((community_id, street_id, "community", cname,
                                       f"D{d + 1:02d}-S{s + 1:02d}-C{c + 1:02d}",
                                       f"/{district_id}/{street_id}/{community_id}/"))
                    self.communities.append((community_id, street_id, d, cname))
        self.unit_names = {u[0]: u[3] for u in self.units}
        self.street_of_community = {cid: sid for cid, sid, _d, _n in self.communities}
        self.report.update(districts=scale.districts, streets=len(self.streets), communities=len(self.communities))

    # -- teams and people -----------------------------------------------------------------

    def plan_teams(self) -> None:
        """660 teams (most at community level), their statuses, sizes, id blocks and leaders."""
        rng, scale = self.rng, self.scale
        communities_of_street: dict[int, list[int]] = {}
        for cid, sid, _d, _n in self.communities:
            communities_of_street.setdefault(sid, []).append(cid)
        teams: list[TeamPlan] = []
        # The demo community has two teams, both led by the demo leader.
        first = self.communities[0]
        community_slots = [first, first] + self.communities[1:]
        n_community = scale.teams - scale.street_teams
        while len(community_slots) < n_community:
            community_slots.append(rng.choice(self.communities[1:]))
        used_names: set[tuple[int, str]] = set()
        for cid, sid, d, cname in community_slots[:n_community]:
            kind = "" if (cid, cname + "志愿服务队") not in used_names else rng.choice(COMMUNITY_TEAM_KINDS)
            name = f"{cname}{kind}志愿服务队"
            while (cid, name) in used_names:
                kind = rng.choice(COMMUNITY_TEAM_KINDS)
                name = f"{cname}{kind}志愿服务队"
            used_names.add((cid, name))
            teams.append(TeamPlan(len(teams) + 1, cid, d, [cid], name, kind))
        street_order = rng.sample(self.streets, len(self.streets))
        for i in range(scale.street_teams):
            sid, d, sname = street_order[i % len(street_order)]
            kind = STREET_TEAM_KINDS[i // len(street_order) % len(STREET_TEAM_KINDS)]
            teams.append(TeamPlan(len(teams) + 1, sid, d, communities_of_street[sid], f"{sname}{kind}志愿服务队", kind))
        self.teams = teams
        self.demo_teams = teams[:2]
        others = teams[2:]
        special = rng.sample(others, scale.pending_teams + scale.suspended_teams + scale.roster_teams)
        for team in special[: scale.pending_teams]:
            team.status = "pending"
        for team in special[scale.pending_teams: scale.pending_teams + scale.suspended_teams]:
            team.status = "suspended"
            team.suspended_at = self.now - rng.randint(30, 120) * 86400
        self.roster_teams = special[scale.pending_teams + scale.suspended_teams:]
        for team in teams:
            if team.status == "pending":
                team.created = self.now - rng.randint(3, 20) * 86400
            else:
                team.created = self.now - rng.randint(430, 1800) * 86400
            team.manual_share = 0.30 if rng.random() < 0.12 else 0.07

        # Sizes: log-normal around the mean, street teams larger; pending teams are only their applicant.
        people = scale.volunteers  # plus two office accounts
        working = [t for t in teams if t.status != "pending"]
        people -= len(teams) - len(working)
        raw = [rng.lognormvariate(0, 0.45) * (1.4 if t.unit_id not in t.community_ids else 1.0) for t in working]
        total_raw = sum(raw)
        minimum = 20 if scale.volunteers < 1000 else 40
        sizes = [max(minimum, int(r / total_raw * people)) for r in raw]
        excess = sum(sizes) - people
        step = 0
        while excess:
            i = step % len(sizes)
            if excess > 0 and sizes[i] > minimum:
                sizes[i] -= 1
                excess -= 1
            elif excess < 0:
                sizes[i] += 1
                excess += 1
            step += 1
        for team, size in zip(working, sizes):
            team.size = size
        for team in teams:
            if team.status == "pending":
                team.size = 1
        next_id = 3
        for team in teams:
            team.first_member = next_id
            next_id += team.size
            n_leaders = 1 if team.size < 60 or team.status == "pending" else 1 + (rng.random() < 0.6) + (team.size > 250)
            team.leaders = list(range(team.first_member, team.first_member + n_leaders))
        self.volunteer_count = next_id - 1
        # The demo leader leads both demo teams; the demo volunteer is a keen member of the first.
        self.demo_leader = self.demo_teams[0].first_member
        self.demo_teams[1].leaders.insert(0, self.demo_leader)
        self.demo_volunteer = self.demo_leader + len(self.demo_teams[0].leaders) + 3
        self.report["teams"] = len(teams)

    def plan_memberships(self) -> None:
        """Primary memberships are the team blocks; ~8% of people also join a nearby team."""
        rng = self.rng
        active_by_district: dict[int, list[TeamPlan]] = {}
        for team in self.teams:
            if team.status != "pending":
                active_by_district.setdefault(team.district, []).append(team)
        self.team_of: list[TeamPlan | None] = [None] * (self.volunteer_count + 1)
        for team in self.teams:
            for vid in range(team.first_member, team.first_member + team.size):
                self.team_of[vid] = team
        self.second: list[tuple[int, TeamPlan, str]] = []  # (volunteer, team, status)
        for vid in range(3, self.volunteer_count + 1):
            team = self.team_of[vid]
            if team.status == "pending" or rng.random() >= 0.08:
                continue
            other = rng.choice(active_by_district[team.district])
            if other is not team:
                self.second.append((vid, other, "left" if rng.random() < 0.05 else "active"))
        # Planted overlaps: people of one team who also belong to a second team of the same district.
        self.overlap_people: list[tuple[int, TeamPlan, TeamPlan]] = []
        candidates = [t for t in self.teams[2:] if t.status == "active" and t not in self.roster_teams]
        for i in range(self.scale.planted):
            home = candidates[(i * 7) % len(candidates)]
            nearby = [t for t in active_by_district[home.district] if t is not home and t.status == "active"
                      and t not in self.roster_teams]
            other = nearby[0] if nearby else next(t for t in candidates + self.demo_teams if t is not home)
            vid = home.first_member + home.size - 1 - i
            self.second = [s for s in self.second if s[0] != vid]
            self.second.append((vid, other, "active"))
            self.overlap_people.append((vid, home, other))
        # A few requests waiting for a leader's approval (three for the demo leader's team).
        self.pending: list[tuple[int, TeamPlan]] = []
        taken = {(vid, team.id) for vid, team, _s in self.second}
        for i in range(self.scale.pending_requests):
            team = self.demo_teams[0] if i < 3 else rng.choice(self.teams[2:])
            vid = rng.randint(3, self.volunteer_count)
            if self.team_of[vid] is team or (vid, team.id) in taken or vid == self.demo_leader:
                continue
            taken.add((vid, team.id))
            self.pending.append((vid, team))
        # Activity pools with a keenness weight: a few stalwarts, many occasional, some who rarely come.
        for team in self.teams:
            team.pool = list(range(team.first_member, team.first_member + team.size))
        for vid, team, status in self.second:
            if status == "active":
                team.pool.append(vid)
        self.demo_teams[1].pool.append(self.demo_leader)
        for team in self.teams:
            leaders = set(team.leaders)
            weights = []
            for vid in team.pool:
                r = rng.random()
                w = 6.0 if r < 0.2 else 1.5 if r < 0.55 else 0.3
                if vid in leaders:
                    w = 8.0
                weights.append(w)
            if team is self.demo_teams[0]:
                weights[team.pool.index(self.demo_volunteer)] = 10.0
            team.weights = weights
            total = 0.0
            cum = []
            for w in weights:
                total += w
                cum.append(total)
            team.cum = cum

    # -- activities -----------------------------------------------------------------------

    def plan_activities(self) -> None:
        """A year of activities per team by the day weights, the planted cases, and what is scheduled or open."""
        rng, scale = self.rng, self.scale
        start_day = self.today - timedelta(days=365)
        days = [start_day + timedelta(days=i) for i in range(365)]  # up to yesterday
        self.day_weights = _day_weights(days)
        cum, total = [], 0.0
        for w in self.day_weights:
            total += w
            cum.append(total)
        window_start = _local_midnight(start_day)
        working = [t for t in self.teams if t.status != "pending"]
        rates = [t.size ** 0.6 * rng.uniform(0.5, 1.5) for t in working]
        roster_extra = 10 * len(self.roster_teams) + self.scale.planted
        wanted = scale.activities - roster_extra
        factor = wanted / sum(rates)
        specs: list[ActivitySpec] = []
        for team, rate in zip(working, rates):
            n = rate * factor
            n = int(n) + (rng.random() < n - int(n))
            hi = len(days)
            if team.status == "suspended":
                hi = max(1, (team.suspended_at - window_start) // 86400)
            for day_index in sorted(bisect.bisect(cum, rng.random() * cum[hi - 1]) for _ in range(n)):
                specs.append(self._activity_on(team, days[min(day_index, hi - 1)]))
        self._plant_rosters(specs)
        self._plant_overlaps(specs)
        # Planted retro logs (late, or without photos), then cancellations and clean retro logs.
        closed = [s for s in specs if s.status == "closed" and not s.forced and not s.roster]
        old = [s for s in closed if s.end < self.now - 60 * 86400 and s.team not in self.demo_teams]
        picks = rng.sample(old, 2 * scale.planted)
        for n, spec in enumerate(picks):
            spec.is_retro, spec.k = True, spec.k * 1.7
            spec.late, spec.no_photo = n < scale.planted, n >= scale.planted
            spec.photos = 1 if spec.late else 0
        for spec in closed:
            if spec.is_retro:
                continue
            r = rng.random()
            if r < 0.015:
                spec.status = "cancelled"
                spec.reason = rng.choice(CANCEL_REASONS)
            elif r < 0.045 and spec.end < self.now - 21 * 86400:
                spec.is_retro = True
                spec.k *= 1.7
                spec.photos = 1 + (rng.random() < 0.4)
        live = [s for s in closed if s.status == "closed" and not s.is_retro and s.k >= 12]
        picks = rng.sample(live, 2 * scale.planted)
        for i, spec in enumerate(picks[: scale.planted]):
            spec.device = PLANTED_DEVICE_HASHES[i % len(PLANTED_DEVICE_HASHES)]
        for spec in picks[scale.planted:]:
            spec.long_credit = True
        # The demo team's last closed activities carry a photo, so that pages have one to show.
        for spec in [s for s in specs if s.team is self.demo_teams[0] and s.status == "closed"][-3:]:
            spec.photos = max(spec.photos, 1)
        specs.extend(self._upcoming())
        # Attendees: scaled to the target total, never more than 70% of the team's pool.
        flexible = [s for s in specs if s.status == "closed" and not s.roster]
        factor = (scale.attendances - sum(len(s.forced) for s in specs)) / sum(s.k for s in flexible)
        for spec in flexible:
            spec.k = max(2, min(int(spec.k * factor + rng.random()), int(len(spec.team.pool) * 0.7)))
            if spec.device:
                spec.k = max(spec.k, 10)  # enough people behind the one device
        specs.sort(key=lambda s: (s.start, s.team.id))
        for i, spec in enumerate(specs, start=1):
            spec.id = i
        self.specs = specs

    def _activity_on(self, team: TeamPlan, day: date) -> ActivitySpec:
        """One activity of the team on that day: theme, local start time, length, wanted attendees."""
        rng = self.rng
        theme = _choose_theme(rng, team.kind, day)
        start_min, lengths, base_k = THEME_TIMES[theme]
        weekend = day.weekday() >= 5
        hour = rng.choice(start_min[1] if weekend else start_min[0])
        start = _local_midnight(day) + hour * 3600 + rng.choice((0, 0, 30)) * 60
        end = start + rng.choice(lengths) * 60
        k = base_k * rng.lognormvariate(0, 0.35) * (1.2 if weekend else 1.0)
        if (day.month, day.day) == (3, 5):
            k *= 2.2
        spec = ActivitySpec(team, theme, start, end, k=k)
        spec.title, spec.place = self._words(theme, team, day)
        return spec

    def _words(self, theme: str, team: TeamPlan, day: date) -> tuple[str, str]:
        """A title and a place fitting the theme and the team's neighbourhood."""
        rng = self.rng
        titles, places = THEME_TEXT[theme]
        title = rng.choice(titles)
        if (day.month, day.day) == (3, 5):
            title = "学雷锋纪念日·" + title
        elif (day.month, day.day) == (12, 5):
            title = "国际志愿者日·" + title
        community = self.unit_names[rng.choice(team.community_ids)]
        street_id = team.unit_id if team.unit_id not in team.community_ids else None
        street = self.unit_names[street_id] if street_id else self._street_of(team.community_ids[0])
        road, road2 = rng.sample(ROADS, 2)
        place = rng.choice(places).format(
            community=community, street=street, road=road, road2=road2, n=rng.randint(1, 36),
            line=rng.randint(1, 6), school=rng.choice(SCHOOLS), park=rng.choice(PARKS),
            river=rng.choice(RIVERS), bank=rng.choice(("东岸", "西岸", "南岸", "北岸", "段")),
        )
        return title, place

    def _street_of(self, community_id: int) -> str:
        """The name of the street a community belongs to."""
        return self.unit_names[self.street_of_community[community_id]]

    def _plant_rosters(self, specs: list[ActivitySpec]) -> None:
        """Ten Saturdays in a row, the same twelve names, typed in by the leader."""
        rng = self.rng
        for team in self.roster_teams:
            people = team.pool[len(team.leaders): len(team.leaders) + 12]
            saturday = self.today - timedelta(days=(self.today.weekday() - 5) % 7 + 7 * rng.randint(3, 8))
            for week in range(10):
                day = saturday - timedelta(days=7 * week)
                start = _local_midnight(day) + 9 * 3600
                spec = ActivitySpec(team, "sanitation", start, start + 2 * 3600, roster=True, forced=list(people))
                spec.title, spec.place = "周末环境清洁", f"{self.unit_names[team.community_ids[0]]}小区"
                specs.append(spec)

    def _plant_overlaps(self, specs: list[ActivitySpec]) -> None:
        """The planted person attends an activity of each of their teams, 30 minutes apart."""
        for vid, home, other in self.overlap_people:
            mine = [s for s in specs if s.team is home and not s.roster and s.start < self.now - 14 * 86400]
            first = mine[-1]
            first.forced.append(vid)
            second = ActivitySpec(other, first.theme, first.start + 1800, first.end + 1800, k=first.k)
            second.title, second.place = self._words(first.theme, other, datetime.fromtimestamp(first.start, CHINA).date())
            second.forced.append(vid)
            specs.append(second)

    def _upcoming(self) -> list[ActivitySpec]:
        """One activity open right now for the demo leader's team, and a few scheduled ones."""
        rng = self.rng
        start = self.now - self.now % 1800 - 1800
        team = self.demo_teams[0]
        open_now = ActivitySpec(team, "civilized_traffic", start, start + 3 * 3600, status="open", k=6)
        open_now.title, open_now.place = "文明交通劝导", self._words("civilized_traffic", team, self.today)[1]
        specs = [open_now]
        for team in [t for t in self.teams if t.status == "active"]:
            if team in self.demo_teams or rng.random() < 0.3:
                day = self.today + timedelta(days=rng.randint(1, 14))
                spec = self._activity_on(team, day)
                spec.status, spec.k = "scheduled", 0
                specs.append(spec)
        return specs

    # -- writing --------------------------------------------------------------------------

    def write(self, conn: Connection, progress) -> None:
        """Insert every planned row, in foreign-key order, activities and their attendances chunk by chunk."""
        ts = self.ts
        self.progress = progress
        summary.drop_triggers(conn)  # the summaries are written with the rows instead of per attendance
        dropped = [ix for model, in_order in ((Volunteer, ""), (Membership, "team_id"), (Activity, "starts_at"),
                                              (Attendance, "activity_id"))
                   for ix in _drop_secondary_indexes(conn, model, keep_leading=in_order)]
        self._insert(conn, Unit, ("id", "parent_id", "level", "name", "code", "path"), self.units)
        self._insert(conn, Volunteer, VOLUNTEER_COLUMNS, self._volunteer_rows())
        self._insert(conn, Team, TEAM_COLUMNS, self._team_rows())
        self._insert(conn, Membership, MEMBERSHIP_COLUMNS, self._membership_rows())
        themes = dict(conn.execute(select(Theme.code, Theme.id)).all())
        self.busy = [0] * (self.volunteer_count + 1)
        self.devices = [_device(vid, self.seed) for vid in range(self.volunteer_count + 1)]
        self.reserved: dict[int, list[tuple[int, int]]] = {}
        for spec in self.specs:
            for vid in spec.forced:
                self.reserved.setdefault(vid, []).append((spec.start, spec.end))
        images = demo_images()
        photos: list[tuple] = []
        counts = {"attendances": 0}
        active_months = summary.ActiveMonthsBuilder(self.units)
        for i in range(0, len(self.specs), 1000):
            activity_rows, attendance_rows = [], []
            for spec in self.specs[i: i + 1000]:
                rows = self._attendances(spec) if spec.status in ("closed", "open") else []
                live = [r for r in rows if r[ATT_VOIDED] is None]
                if spec.status == "closed":
                    active_months.add(spec.start, themes[spec.theme], spec.team.unit_id, [r[ATT_VOLUNTEER] for r in live])
                created = self._activity_created(spec)
                activity_rows.append(self._activity_row(spec, themes[spec.theme], len(live),
                                                        sum(r[ATT_MINUTES] for r in live), created)
                                     + (sum(1 for r in live if r[ATT_METHOD] in LIVE_METHODS),))
                attendance_rows.extend(rows)
                for n in range(spec.photos):
                    image, thumb, width, height = images[(spec.id + n) % len(images)]
                    photos.append((spec.id, spec.team.leaders[0], created + 60 * (n + 1), width, height, len(image),
                                   image, thumb))
            self._insert(conn, Activity, ACTIVITY_COLUMNS, activity_rows)
            self._insert(conn, Attendance, ATTENDANCE_COLUMNS, attendance_rows)
            counts["attendances"] += len(attendance_rows)
        _recreate_indexes(conn, dropped)
        # live_count was written with each activity; active_months was collected while the rows were made
        # (summary.ActiveMonthsBuilder: what summary.rebuild() derives, without reading the rows back;
        # tests/test_seed.py compares the two).
        self._insert(conn, ActiveMonths, ("scope", "scope_id", "era", "volunteer_id", "months"), active_months.rows())
        summary.create_triggers(conn)
        photo_rows = [(n, a, u, ts(c), w, h, s, img, th) for n, (a, u, c, w, h, s, img, th) in enumerate(photos, 1)]
        self._insert(conn, Photo, PHOTO_COLUMNS, photo_rows)
        self.report.update(activities=len(self.specs), attendances=counts["attendances"], photos=len(photo_rows))

    def _insert(self, conn: Connection, model, columns: tuple[str, ...], rows) -> None:
        """Core executemany of an INSERT compiled from the model's table, in chunks."""
        sql = _insert_sql(conn, model, columns)
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.scale.chunk:
                conn.exec_driver_sql(sql, batch)
                self.progress.update(len(batch))
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
            self.progress.update(len(batch))

    def _volunteer_rows(self):
        """The two office accounts, then every team's block of people, with names and phones."""
        rng, ts = self.rng, self.ts
        hash_ = DEMO_PASSWORD_HASH
        district1 = self.units[0][0]
        old = self.now - 420 * 86400
        yield (1, "周敏", OFFICE_PHONE, OFFICE_PHONE[-4:], hash_, "office", None, None, True, 1,
               ts(old - 900 * 86400), ts(old - 900 * 86400))
        yield (2, "陈静", DISTRICT_OFFICE_PHONE, DISTRICT_OFFICE_PHONE[-4:], hash_, "office", None, district1, True, 1,
               ts(old - 800 * 86400), ts(old - 800 * 86400))
        reserved = {self.demo_leader: ("李建国", LEADER_PHONE), self.demo_volunteer: ("王小红", VOLUNTEER_PHONE)}
        for i, (vid, _home, _other) in enumerate(self.overlap_people):
            reserved[vid] = (None, PLANTED_OVERLAP_PHONES[i])
        for i, team in enumerate(self.roster_teams):
            reserved[team.leaders[0]] = (None, PLANTED_ROSTER_LEADER_PHONES[i])
        self.names: dict[int, tuple[str, str]] = {}
        self.created = [0] * (self.volunteer_count + 1)
        leaders = {vid for team in self.teams for vid in team.leaders}
        index = 0
        for team in self.teams:
            for vid in range(team.first_member, team.first_member + team.size):
                name = _chinese_name(rng)
                if vid in reserved:
                    name = reserved[vid][0] or name
                    phone = reserved[vid][1]
                else:
                    phone = "1990" + f"{PHONE_BASE + (index * PHONE_STEP + self.seed) % PHONE_SPACE:07d}"
                    index += 1
                if team.status == "pending":
                    created = team.created - rng.randint(0, 3) * 86400
                else:
                    created = old - int(rng.random() * 1400 * 86400)
                created += rng.randint(8 * 3600, 20 * 3600)
                self.created[vid] = created
                if vid in leaders:
                    self.names[vid] = (name, phone)
                yield (vid, name, phone, phone[-4:], hash_, "volunteer", rng.choice(team.community_ids), None, True, 1,
                       ts(created), ts(created))
        self.report["volunteers"] = self.volunteer_count - 2

    def _team_rows(self):
        """Team rows; the first leader is the contact and the applicant."""
        rng, ts = self.rng, self.ts
        for team in self.teams:
            leader_name, leader_phone = self.names[team.leaders[0]]
            decided = team.created + rng.randint(1, 10) * 86400 if team.status != "pending" else None
            reason = rng.choice(SUSPEND_REASONS) if team.status == "suspended" else None
            decided = team.suspended_at if team.status == "suspended" else decided
            yield (team.id, team.name, team.unit_id, TEAM_DESCRIPTIONS.get(team.kind, TEAM_DESCRIPTIONS[""]),
                   leader_name, leader_phone, team.status, reason, team.leaders[0],
                   1 if decided else None, ts(decided) if decided else None,
                   "auto" if rng.random() < 0.15 else "approve", f"{rng.getrandbits(64):016x}", ts(team.created))

    def _membership_rows(self):
        """Primary memberships (team blocks), second teams, pending requests, the demo leader's second team."""
        rng, ts, created = self.rng, self.ts, self.created
        n = 0
        for team in self.teams:
            leaders = set(team.leaders)
            for vid in range(team.first_member, team.first_member + team.size):
                joined = max(team.created, created[vid]) + rng.randint(1, 20) * 3600
                n += 1
                yield (n, team.id, vid, "leader" if vid in leaders else "member", "active", ts(joined), ts(joined),
                       ts(joined))
        for vid, team, status in self.second:
            joined = max(team.created, created[vid]) + rng.randint(1, 15) * 86400
            updated = self.now - rng.randint(5, 60) * 86400 if status == "left" else joined
            n += 1
            role = "leader" if vid in team.leaders else "member"
            yield (n, team.id, vid, role, status, ts(joined), ts(joined), ts(updated))
        for vid, team in self.pending:
            asked = self.now - rng.randint(1, 10) * 86400 - rng.randint(0, 86000)
            n += 1
            yield (n, team.id, vid, "member", "pending", ts(asked), None, ts(asked))
        # The demo leader also leads the second demo team (their own membership of it).
        n += 1
        joined = max(self.demo_teams[1].created, created[self.demo_leader]) + 86400
        yield (n, self.demo_teams[1].id, self.demo_leader, "leader", "active", ts(joined), ts(joined), ts(joined))
        self.report["memberships"] = n

    def _attendances(self, spec: ActivitySpec) -> list[tuple]:
        """The attendance rows of one activity as stored (ids given); keeps each volunteer's busy time."""
        rng, ts, busy, devices = self.rng, self.ts, self.busy, self.devices
        days, times, day0 = ts.days, ts.times, ts.first_day
        random_ = rng.random
        start, end, team = spec.start, spec.end, spec.team
        chosen = list(dict.fromkeys(spec.forced))
        if not spec.roster:
            wanted = len(chosen) + int(spec.k)
            taken = set(chosen)
            reserved = self.reserved
            for vid in rng.choices(team.pool, cum_weights=team.cum, k=int(spec.k * 1.5) + 4):
                if len(chosen) >= wanted:
                    break
                if vid in taken or busy[vid] > start:
                    continue
                if vid in reserved and any(s < end + 3600 and start < e + 3600 for s, e in reserved[vid]):
                    continue
                if spec.status == "open" and vid == self.demo_volunteer:
                    continue  # left for the demo: they check in themselves
                taken.add(vid)
                chosen.append(vid)
        for vid in chosen:
            if busy[vid] < end + 3600:
                busy[vid] = end + 3600  # an hour's gap: the next check-in never precedes this check-out
        recorder = self._recorder(spec)
        window = (end - start) // 60
        rows = []
        next_id = self.next_attendance_id
        if spec.is_retro:
            spec.logged = self._retro_logged_at(spec)
            for n, vid in enumerate(chosen):
                rows.append((next_id + n, spec.id, vid, ts(start), ts(end), False, window, "retro_log", recorder,
                             ts(spec.logged + n), None, None, None))
        elif spec.status == "open":
            for n, vid in enumerate(chosen):
                checked_in = start - 600 + int(random_() * min(self.now - start + 600, 3000))
                rows.append((next_id + n, spec.id, vid, ts(checked_in), None, False, 0, "self_scan", None,
                             ts(checked_in + 2), devices[vid], None, None))
        else:
            rows = self._live_attendances(spec, chosen, recorder, next_id)
        self.next_attendance_id = next_id + len(rows)
        return rows

    def _live_attendances(self, spec: ActivitySpec, chosen: list[int], recorder: int, next_id: int) -> list[tuple]:
        """Records of an activity run live: scans with their real times, or names the leader typed in.

        The hot loop of the seed (a million rows): one branch per method, timestamps by table look-up;
        the planted oddities are written over a few rows afterwards.
        """
        rng, ts, devices = self.rng, self.ts, self.devices
        days, times, day0 = ts.days, ts.times, ts.first_day
        random_ = rng.random
        start, end, window, activity_id = spec.start, spec.end, (spec.end - spec.start) // 60, spec.id
        span = end - start
        start_text, end_text = ts(start), ts(end)
        manual_share = 1.0 if spec.roster else spec.team.manual_share
        scan_share = manual_share + (1 - manual_share) * 0.17  # leader scans among the rest
        rows = []
        append = rows.append
        for n, vid in enumerate(chosen):
            r = random_()
            if r < manual_share:
                created = start + int(random_() * span)
                append((next_id + n, activity_id, vid, start_text, end_text, False, window, "leader_manual", recorder,
                        days[created // 86400 - day0] + times[created % 86400], None, None, None))
                continue
            checked_in = start - 900 + int(random_() * random_() * 2400)
            r2 = random_()
            if r2 < 0.15:
                checked_out, auto = end, True  # still there at closing: checked out by the close
            elif r2 < 0.2:
                checked_out, auto = start + int(span * (0.3 + 0.6 * random_())), False
            else:
                checked_out, auto = end - 900 + int(random_() * 2100), False
            counted_in = checked_in if checked_in > start else start
            counted_out = checked_out if checked_out < end else end
            credited = (counted_out - counted_in) // 60 if counted_out > counted_in else 0
            created = checked_in + 1 + int(random_() * 4)
            if r < scan_share:
                method, device, by = "leader_scan", None, recorder
            else:
                method, device, by = "self_scan", devices[vid], None
            append((next_id + n, activity_id, vid, days[checked_in // 86400 - day0] + times[checked_in % 86400],
                    days[checked_out // 86400 - day0] + times[checked_out % 86400], auto, credited, method, by,
                    days[created // 86400 - day0] + times[created % 86400], device, None, None))
        if spec.device:
            # Planted: one phone checks eight different people in within four minutes.
            for n, row in enumerate(rows[:8]):
                checked_in = start - 300 + n * 25 + int(random_() * 20)
                checked_out = end - 900 + int(random_() * 2100)
                credited = (min(checked_out, end) - start) // 60
                rows[n] = row[:3] + (ts(checked_in), ts(checked_out), False, credited, "self_scan", None,
                                     ts(checked_in + 2), spec.device, None, None)
        if spec.long_credit and rows:
            # Planted: a leader typed a whole day for a short activity.
            credited = window + 240 + int(random_() * 120)
            rows[0] = rows[0][:3] + (start_text, ts(start + credited * 60), False, credited, "leader_manual",
                                     recorder, ts(start + int(random_() * span)), None, None, None)
        elif rows and not (spec.device or spec.roster) and random_() < 0.08 and end < self.now - 3 * 86400:
            # Now and then a leader voids a record (a duplicate, someone who did not come), with a reason.
            j = int(random_() * len(rows))
            rows[j] = rows[j][:11] + (ts(end + 86400 + int(random_() * 86400)), rng.choice(VOID_REASONS))
        return rows

    def _recorder(self, spec: ActivitySpec) -> int:
        """The leader who created the activity and records for it."""
        leaders = spec.team.leaders
        return leaders[spec.id % len(leaders)]

    def _retro_logged_at(self, spec: ActivitySpec) -> int:
        """Retro logs are written within 10 working days, or 15–30 working days late for the planted ones."""
        end_day = datetime.fromtimestamp(spec.end, CHINA).date()
        n = self.rng.randint(15, 30) if spec.late else self.rng.randint(1, 9)
        logged = _local_midnight(add_working_days(end_day, n)) + self.rng.randint(9 * 3600, 17 * 3600)
        return min(logged, self.now - 3600)

    def _activity_created(self, spec: ActivitySpec) -> int:
        """When the activity row was written: days before it (live), just before its records (retro)."""
        if spec.is_retro:
            return spec.logged - 30
        if spec.status == "scheduled":
            return min(self.now - 3600, spec.start - 3 * 86400)
        return spec.start - (2 + spec.id % 12) * 86400 - (spec.id * 7919) % 36000

    def _activity_row(self, spec: ActivitySpec, theme_id: int, count: int, minutes: int, created: int) -> tuple:
        """The activity as stored, with its denormalised attendee count and minutes."""
        ts = self.ts
        opened = closed = None
        if spec.status in ("open", "closed") and not spec.is_retro:
            opened = ts(spec.start - 600 - (spec.id % 10) * 60)
        if spec.status == "closed":
            closed = ts(created + 60) if spec.is_retro else ts(spec.end + (spec.id % 40) * 60)
        headcount = int(spec.k) if spec.status in ("scheduled", "closed") and spec.k else None
        return (spec.id, spec.team.id, theme_id, spec.team.unit_id, spec.title, spec.place, ts(spec.start),
                ts(spec.end), spec.status, "poster" if spec.id % 5 == 0 else "rotating", not spec.title.startswith("学雷锋"),
                headcount, spec.is_retro, f"{self.rng.getrandbits(128):032x}", spec.reason,
                self._recorder(spec), ts(created), opened, closed, count, minutes)


def seed_database(engine: Engine, *, scale: Scale, seed: int, now: int) -> dict:
    """Plan the city, then write it in one transaction; returns counts and the demo logins."""
    from werkzeug.security import check_password_hash

    if not check_password_hash(DEMO_PASSWORD_HASH, DEMO_PASSWORD):
        raise click.ClickException("DEMO_PASSWORD_HASH does not match DEMO_PASSWORD")
    with Session(engine) as session:
        schema.ensure_reference_data(session)
        session.commit()
    seeder = Seeder(engine, scale, seed, now)
    seeder.plan_units()
    seeder.plan_teams()
    seeder.plan_memberships()
    seeder.plan_activities()
    seeder.next_attendance_id = 1
    estimate = (len(seeder.units) + 2 * seeder.volunteer_count + len(seeder.teams) + len(seeder.specs)
                + scale.attendances)
    with engine.connect() as conn:
        restore = _tune_sqlite(conn) if seeder.sqlite else None
        try:
            with conn.begin():
                with click.progressbar(length=estimate, label="Seeding the demo city") as bar:
                    seeder.write(conn, bar)
                _after_insert(conn, seeder.sqlite)
        finally:
            if restore:
                restore()
    if seeder.sqlite:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    report = seeder.report
    team, second = seeder.demo_teams
    report["logins"] = [
        ("office (city-wide)", OFFICE_PHONE, "周敏", ""),
        ("office (one district)", DISTRICT_OFFICE_PHONE, "陈静", f"{DISTRICTS[0]} only"),
        ("team leader", LEADER_PHONE, "李建国", f"{team.name}, {second.name}; an activity is open now"),
        ("volunteer", VOLUNTEER_PHONE, "王小红", team.name),
    ]
    return report


# --- helpers ------------------------------------------------------------------------------

VOLUNTEER_COLUMNS = ("id", "name", "phone", "phone_tail", "password_hash", "role", "home_unit_id", "office_unit_id",
                     "is_active", "session_version", "consent_at", "created_at")
TEAM_COLUMNS = ("id", "name", "unit_id", "description", "contact_name", "contact_phone", "status", "status_reason",
                "applied_by_id", "decided_by_id", "decided_at", "join_policy", "invite_nonce", "created_at")
MEMBERSHIP_COLUMNS = ("id", "team_id", "volunteer_id", "role", "status", "created_at", "joined_at", "updated_at")
ACTIVITY_COLUMNS = ("id", "team_id", "theme_id", "unit_id", "title", "place", "starts_at", "ends_at", "status",
                    "qr_mode", "members_only", "expected_headcount", "is_retro", "secret", "status_reason",
                    "created_by_id", "created_at", "opened_at", "closed_at", "attendee_count", "total_minutes",
                    "live_count")
ATTENDANCE_COLUMNS = ("id", "activity_id", "volunteer_id", "checked_in_at", "checked_out_at", "checkout_auto",
                      "credited_minutes", "method", "recorded_by_id", "created_at", "device_hash", "voided_at",
                      "void_reason")
ATT_VOLUNTEER, ATT_MINUTES, ATT_METHOD, ATT_CREATED, ATT_VOIDED = 2, 6, 7, 9, 11
PHOTO_COLUMNS = ("id", "activity_id", "uploaded_by_id", "created_at", "width", "height", "size_bytes", "image",
                 "thumbnail")
PHONE_BASE, PHONE_SPACE, PHONE_STEP = 100, 10**7 - 100, 7_654_321  # gcd(step, space) == 1: a bijection
assert math.gcd(PHONE_STEP, PHONE_SPACE) == 1


def _insert_sql(conn: Connection, model, columns: tuple[str, ...]) -> str:
    """The dialect's positional INSERT for these columns of the model's table."""
    dialect = conn.dialect
    if dialect.paramstyle not in ("qmark", "format", "numeric"):
        dialect = type(dialect)(paramstyle="format")
    compiled = model.__table__.insert().compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup) != columns:
        raise RuntimeError(f"column order of {model.__tablename__} differs: {compiled.positiontup}")
    return compiled.string


class Timestamps:
    """UTC epoch seconds → the value the driver stores, by two table lookups: day + time of day.

    On SQLite the text SQLAlchemy itself writes ("2026-03-05 01:30:00.000000", checked against its bind
    processor), elsewhere an aware datetime (day) plus a timedelta (time of day). Hot loops inline
    `days[s // 86400 - first_day] + times[s % 86400]` instead of calling `ts`.
    """

    def __init__(self, sqlite: bool, now: int):
        """Tables for six years back to two months ahead of now."""
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        self.first_day = now // 86400 - 6 * 366
        span = range(self.first_day, now // 86400 + 60)
        if sqlite:
            from sqlalchemy.dialects import sqlite as sqlite_dialect
            from sqlmodel.sql.sqltypes import UTCDateTime

            dialect = sqlite_dialect.dialect()
            processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
            sample = epoch + timedelta(seconds=1_772_668_923)
            if processor(sample) != sample.strftime("%Y-%m-%d %H:%M:%S.%f"):
                raise RuntimeError("SQLAlchemy's SQLite datetime format changed; update seed.Timestamps")
            self.days = [(epoch + timedelta(days=d)).strftime("%Y-%m-%d ") for d in span]
            self.times = [f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)]
        else:
            self.days = [epoch + timedelta(days=d) for d in span]
            self.times = [timedelta(seconds=s) for s in range(86400)]

    def __call__(self, s: int):
        """The stored form of epoch second s."""
        return self.days[s // 86400 - self.first_day] + self.times[s % 86400]


def _tune_sqlite(conn: Connection):
    """For this connection only, while seeding: a bigger page cache, and foreign keys checked in one pass
    before commit (`_after_insert`) instead of three look-ups per attendance row. Returns the undo."""
    raw = conn.connection.driver_connection
    cache, keys = raw.execute("PRAGMA cache_size").fetchone()[0], raw.execute("PRAGMA foreign_keys").fetchone()[0]
    raw.execute("PRAGMA cache_size=-65536")  # 64 MiB
    raw.execute("PRAGMA foreign_keys=OFF")

    def undo() -> None:
        """Put the connection back as it was."""
        raw.execute(f"PRAGMA cache_size={int(cache)}")
        raw.execute(f"PRAGMA foreign_keys={'ON' if keys else 'OFF'}")

    return undo


def _drop_secondary_indexes(conn: Connection, model, *, keep_leading: str) -> list:
    """Non-unique indexes are cheaper to build once after the bulk insert than to maintain row by row,
    except those led by keep_leading, the column rows arrive ordered by: they only grow at their end."""
    indexes = [ix for ix in model.__table__.indexes if not ix.unique and ix.columns[0].name != keep_leading]
    for index in indexes:
        index.drop(conn)
    return indexes


def _recreate_indexes(conn: Connection, indexes: list) -> None:
    """Build the indexes dropped by _drop_secondary_indexes, from the model definitions."""
    for index in indexes:
        index.create(conn)


def _after_insert(conn: Connection, sqlite: bool) -> None:
    """Check SQLite's foreign keys; let PostgreSQL's sequences continue after the explicit ids; fresh statistics."""
    if sqlite:
        broken = _foreign_key_problems(conn)
        if broken:  # rolls the whole seed back
            raise RuntimeError(f"seed-demo wrote rows that fail the foreign key check, e.g. {broken[:5]}")
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
        return
    for model in (Unit, Volunteer, Team, Membership, Activity, Attendance, Photo):
        table = model.__tablename__
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        )
    conn.exec_driver_sql("ANALYZE")


def _foreign_key_problems(conn: Connection) -> list:
    """SQLite's foreign key check of every seeded table, with a shortcut for the 1.2 million attendances.

    The seed numbers activities and volunteers 1..N without gaps; when the tables confirm that (count equals
    the largest id), an attendance's references are valid exactly when they lie in 1..N: one scan instead
    of three index look-ups per row. Otherwise the full check runs.
    """
    broken = []
    for model in (Unit, Volunteer, Team, Membership, Activity, Photo):
        broken += conn.exec_driver_sql(f'PRAGMA foreign_key_check("{model.__tablename__}")').fetchall()
    activities, last_activity = conn.exec_driver_sql("SELECT count(*), max(id) FROM activity").one()
    volunteers, last_volunteer = conn.exec_driver_sql("SELECT count(*), max(id) FROM volunteer").one()
    if activities != last_activity or volunteers != last_volunteer:
        return broken + conn.exec_driver_sql('PRAGMA foreign_key_check("attendance")').fetchall()
    outside = conn.exec_driver_sql(
        "SELECT id, activity_id, volunteer_id, recorded_by_id FROM attendance WHERE activity_id NOT BETWEEN 1 AND ? "
        "OR volunteer_id NOT BETWEEN 1 AND ? OR (recorded_by_id IS NOT NULL AND recorded_by_id NOT BETWEEN 1 AND ?) "
        "LIMIT 5", (last_activity or 0, last_volunteer or 0, last_volunteer or 0)
    ).fetchall()
    return broken + [("attendance",) + tuple(row) for row in outside]


def _local_midnight(day: date) -> int:
    """00:00 China time on day, as UTC epoch seconds."""
    return (day - date(1970, 1, 1)).days * 86400 - LOCAL_OFFSET


def _device(vid: int, seed: int) -> str:
    """A volunteer's own pseudo device: a stable 32-hex-digit value per person."""
    return f"{(vid * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9) % (1 << 128):032x}"


def _day_weights(days: list[date]) -> list[float]:
    """How busy each day is: weekends, a big peak on 5 March (学雷锋纪念日), dips in summer, winter and holidays."""
    calendar = holidays_calendar(tuple(sorted({d.year for d in days})))
    weights = []
    for day in days:
        w = MONTH_FACTOR[day.month]
        if not calendar.is_working_day(day):
            w *= 2.2 if day not in calendar else 0.6
        name = calendar.get(day) or ""
        if "Spring Festival" in name or "New Year's Eve" in name:
            w *= 0.3
        if day.month == 3 and day.day <= 10:
            w *= 1.6
        weights.append(w)
    others = sum(w for d, w in zip(days, weights) if (d.month, d.day) not in ((3, 5), (12, 5)))
    for i, day in enumerate(days):
        if (day.month, day.day) == (3, 5):
            weights[i] = others * 0.06  # ~2,500 activities city-wide on the day
        elif (day.month, day.day) == (12, 5):
            weights[i] = others * 0.012  # International Volunteer Day
    return weights


def holidays_calendar(years: tuple[int, ...]):
    """China's public holidays and adjusted working days for those years."""
    import holidays

    return holidays.China(years=years)


def _choose_theme(rng: random.Random, kind: str, day: date) -> str:
    """A theme for an activity of this kind of team on that day: the city mix, the team's speciality, the season."""
    weights = dict(THEME_MIX)
    for theme in TEAM_KIND_THEMES.get(kind, ()):
        weights[theme] *= 4
    if day.month == 3 and day.day <= 10:
        weights["civility_promotion"] *= 2.5
        weights["community_service"] *= 1.8
    elif day.month in (7, 8):
        weights["minors"] *= 2.5
        weights["ecology"] *= 1.3
    elif day.month in (12, 1, 2):
        weights["elderly_disabled"] *= 1.8
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _chinese_name(rng: random.Random) -> str:
    """Surname by real frequency; one or two given-name characters (volunteers are a little more often women)."""
    random_ = rng.random
    surname = SURNAMES[bisect.bisect(SURNAME_CUM, random_() * SURNAME_CUM[-1])]
    if random_() < 0.56:
        single, first, second = FEMALE_SINGLE, FEMALE_FIRST, FEMALE_SECOND
    else:
        single, first, second = MALE_SINGLE, MALE_FIRST, MALE_SECOND
    if random_() < 0.28:
        return surname + single[int(random_() * len(single))]
    return surname + first[int(random_() * len(first))] + second[int(random_() * len(second))]


def demo_images() -> list[tuple[bytes, bytes, int, int]]:
    """Four small real JPEGs (image, thumbnail, width, height): red vests in a street, drawn with Pillow."""
    from PIL import Image, ImageDraw

    result = []
    scenes = [((135, 180, 220), (120, 120, 125)), ((170, 210, 240), (90, 150, 80)),
              ((200, 200, 210), (150, 130, 110)), ((120, 160, 200), (110, 110, 110))]
    for n, (sky, ground) in enumerate(scenes):
        image = Image.new("RGB", (480, 360), sky)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 220, 480, 360), fill=ground)
        if n % 2 == 0:
            for x in range(20, 480, 60):  # a zebra crossing
                draw.rectangle((x, 300, x + 30, 350), fill=(235, 235, 235))
        for i in range(3 + n):
            x = 40 + i * (400 // (3 + n))
            draw.ellipse((x + 8, 150, x + 32, 174), fill=(230, 190, 160))
            draw.rectangle((x, 176, x + 40, 240), fill=(210, 30, 40))  # the red vest
            draw.rectangle((x + 6, 240, x + 34, 290), fill=(40, 50, 80))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=60, optimize=True)
        thumb = image.copy()
        thumb.thumbnail((160, 120))
        thumb_buffer = io.BytesIO()
        thumb.save(thumb_buffer, "JPEG", quality=60, optimize=True)
        result.append((buffer.getvalue(), thumb_buffer.getvalue(), 480, 360))
    return result


# --- word lists ---------------------------------------------------------------------------

DISTRICTS = ("青屏区", "临川区", "东澜区", "云溪区", "北塘区", "南岭区")
STREET_WORDS = [
    "和平", "长青", "新华", "建设", "解放", "人民", "胜利", "光明", "朝阳", "东风", "红旗", "前进", "文昌", "中兴", "民主",
    "团结", "幸福", "丰收", "振兴", "友谊", "青年", "育才", "望江", "临湖", "白沙", "金桥", "银湖", "翠屏", "龙泉", "凤鸣",
    "玉泉", "石桥", "柳林", "桃园", "杏花", "梅岭", "松柏", "枫林", "荷塘", "兰亭", "紫荆", "桂花", "樟树", "梧桐", "锦绣",
    "华林", "康乐", "安居", "永宁", "长乐", "太平", "万福", "广福", "清河", "西湖", "南湖", "北湖", "东城", "西城", "江滨",
    "湖滨", "鼓楼", "钟楼", "城关", "新城", "开元", "东兴", "南星", "北辰", "星光",
]
COMMUNITY_WORDS = [
    "清和", "永安", "春晖", "和谐", "明珠", "锦华", "福安", "嘉园", "丽景", "康宁", "惠民", "景苑", "阳光", "金色", "碧水",
    "翠竹", "新风", "友爱", "平安", "同心", "书香", "晨曦", "芙蓉", "银杏", "青松", "海棠", "丁香", "玉兰", "山水", "绿洲",
    "江南", "湖光", "半岛", "御景", "怡园", "乐居", "欣悦", "恒泰", "瑞祥", "宏福", "鑫源", "盛世", "华府", "金城", "长虹",
    "花溪", "月湖", "荷香", "竹园", "梨园", "果园", "桑园", "石门", "水岸", "云港", "汇景", "仁和", "德润", "诚信", "民安",
    "秀水", "映月", "听涛", "望湖", "观澜", "凤凰", "麒麟", "紫薇", "百合", "兰馨", "柏树", "杨柳", "芳草", "东篱", "南浦",
    "西岭", "北岸", "新桥", "古井", "双塘",
]
COMMUNITY_SUFFIXES = ["", "东", "西", "南", "北", "新村", "花园", "里", "苑"]
COMMUNITY_TEAM_KINDS = ("党员", "巾帼", "银龄", "青年", "邻里守望")
STREET_TEAM_KINDS = ("新时代文明实践", "应急救援", "文明交通", "生态环保", "助老")
TEAM_KIND_THEMES = {
    "党员": ("civility_promotion", "community_service"), "巾帼": ("minors", "community_service"),
    "银龄": ("elderly_disabled", "culture"), "青年": ("minors", "civilized_traffic"),
    "邻里守望": ("community_service", "sanitation"), "新时代文明实践": ("civility_promotion", "culture"),
    "应急救援": ("emergency",), "文明交通": ("civilized_traffic",), "生态环保": ("ecology", "sanitation"),
    "助老": ("elderly_disabled",),
}
TEAM_DESCRIPTIONS = {
    "": "社区居民自发组成的志愿服务队，开展环境整治、文明劝导、邻里互助等活动。",
    "党员": "由社区在职党员和离退休党员组成，带头参与社区治理与文明创建。",
    "巾帼": "社区妇女志愿者为主，关爱儿童、服务家庭、倡导文明新风。",
    "银龄": "低龄老人服务高龄老人，开展探访、助餐、文化娱乐活动。",
    "青年": "青年志愿者参与护学岗、文明交通和社区宣传。",
    "邻里守望": "楼栋长和热心居民组成，邻里互助、平安巡逻。",
    "新时代文明实践": "依托街道新时代文明实践所，组织理论宣讲和文明实践活动。",
    "应急救援": "具备救护、消防技能的志愿者，参与应急演练和防汛巡查。",
    "文明交通": "在重点路口和站台开展文明交通劝导。",
    "生态环保": "巡河护绿、垃圾分类宣传、节能环保倡导。",
    "助老": "为辖区独居、高龄老人提供上门服务。",
}
THEME_MIX = {
    "civilized_traffic": 24, "sanitation": 20, "community_service": 13, "elderly_disabled": 11,
    "civility_promotion": 10, "minors": 8, "ecology": 7, "culture": 5, "emergency": 2,
}
# theme: ((weekday start hours, weekend start hours), lengths in minutes, usual attendees)
THEME_TIMES = {
    "civilized_traffic": (((7, 7, 16, 17), (9, 10, 15)), (90, 120, 120), 14),
    "sanitation": (((8, 9, 14, 15), (8, 9, 14)), (90, 120, 150, 180), 26),
    "elderly_disabled": (((9, 14, 15), (9, 14)), (120, 150, 180), 18),
    "minors": (((16, 16, 9), (9, 14)), (120, 150, 180), 20),
    "civility_promotion": (((9, 10, 15), (9, 10, 15)), (60, 90, 120), 24),
    "community_service": (((9, 14, 15), (9, 10, 14)), (120, 150, 180), 26),
    "ecology": (((8, 9, 14), (8, 9, 14)), (120, 180, 240), 30),
    "emergency": (((9, 14), (9, 14)), (120, 180, 240), 20),
    "culture": (((15, 19), (9, 15, 19)), (90, 120, 150), 22),
}
MONTH_FACTOR = {1: 0.65, 2: 0.6, 3: 1.35, 4: 1.1, 5: 1.1, 6: 1.0, 7: 0.75, 8: 0.7, 9: 1.05, 10: 1.0, 11: 1.05, 12: 0.95}
THEME_TEXT = {
    "civilized_traffic": (
        ["文明交通劝导", "路口文明引导", "礼让斑马线宣传", "非机动车规范停放引导", "文明出行志愿岗", "“一盔一带”宣传劝导"],
        ["{road}与{road2}交叉口", "{road}公交站台", "地铁{line}号线{road}站出口", "{school}门口"],
    ),
    "sanitation": (
        ["楼道杂物清理", "背街小巷环境整治", "垃圾分类宣传指导", "小区环境大扫除", "清理小广告", "绿化带白色垃圾捡拾"],
        ["{community}{n}号楼", "{community}小区", "{road}沿线", "{community}农贸市场"],
    ),
    "elderly_disabled": (
        ["独居老人上门探访", "为老人义务理发", "助老智能手机教学", "残疾人家庭结对帮扶", "老年食堂助餐服务", "健康义诊进社区"],
        ["{community}居家养老服务站", "{community}老年活动中心", "{street}敬老院", "{community}党群服务中心"],
    ),
    "minors": (
        ["“四点半课堂”作业辅导", "假期托管陪伴", "青少年防溺水宣传", "亲子阅读", "护学岗", "未成年人心理关爱讲座"],
        ["{community}四点半课堂", "{school}", "{community}儿童之家", "{street}新时代文明实践所"],
    ),
    "civility_promotion": (
        ["文明城市创建宣传", "移风易俗宣讲", "学雷锋志愿服务宣传", "“光盘行动”倡导", "反诈知识宣传", "文明养犬宣传"],
        ["{community}文化广场", "{street}新时代文明实践所", "{road}步行街", "{park}"],
    ),
    "community_service": (
        ["便民服务集市", "邻里互助日", "社区义诊", "家电义务维修", "平安巡逻", "社区议事协调"],
        ["{community}党群服务中心", "{community}文化广场", "{community}小区门口", "{street}便民服务中心"],
    ),
    "ecology": (
        ["河道清漂巡河", "义务植树", "湿地公园环保捡拾", "节能减排宣传", "护绿认养", "旧衣物回收"],
        ["{river}{bank}", "{park}", "{community}绿地", "{road}绿化带"],
    ),
    "emergency": (
        ["应急救护培训", "消防安全演练", "防汛巡查", "地震逃生演练", "燃气安全入户宣传", "防溺水巡查"],
        ["{community}党群服务中心", "{river}{bank}", "{street}应急避难场所", "{school}"],
    ),
    "culture": (
        ["社区文艺汇演", "书法进社区写春联", "公益电影放映", "图书角整理与借阅", "非遗手工体验", "广场舞展演"],
        ["{community}文化广场", "{street}文化站", "{community}图书室", "{park}"],
    ),
}
ROADS = ["人民路", "解放路", "建设路", "中山路", "长江路", "黄河路", "文化路", "胜利路", "和平路", "新华路", "青年路",
         "工农路", "民主路", "光明路", "朝阳路", "滨江大道", "环湖路", "学府路", "科技路", "迎宾大道", "健康路", "车站路"]
SCHOOLS = ["实验小学", "第一中学", "育才小学", "第三中学", "师范附属小学", "外国语学校", "第二实验小学"]
PARKS = ["人民公园", "滨江公园", "湿地公园", "森林公园", "儿童公园", "植物园", "体育公园"]
RIVERS = ["清水河", "玉带河", "护城河", "白沙河", "青溪"]
CANCEL_REASONS = ["因暴雨预警取消", "场地临时征用，活动取消", "与街道统一行动时间冲突，改期举行", "报名人数不足，取消"]
SUSPEND_REASONS = ["负责人变更，待重新审核", "连续三个月未开展活动，暂停待整改", "活动记录存疑，暂停核查"]
VOID_REASONS = ["重复登记", "本人未实际参加", "登记错人，已更正"]

_SURNAME_FREQ = (
    ("王", 712), ("李", 700), ("张", 674), ("刘", 510), ("陈", 461), ("杨", 322), ("黄", 245), ("赵", 229), ("吴", 205),
    ("周", 193), ("徐", 160), ("孙", 153), ("马", 139), ("朱", 131), ("胡", 126), ("郭", 116), ("何", 115), ("林", 109),
    ("高", 108), ("罗", 87), ("郑", 85), ("梁", 84), ("谢", 76), ("宋", 73), ("唐", 70), ("许", 67), ("韩", 65), ("冯", 64),
    ("邓", 63), ("曹", 63), ("彭", 59), ("曾", 58), ("肖", 55), ("田", 54), ("董", 52), ("潘", 50), ("袁", 50), ("蔡", 48),
    ("蒋", 48), ("余", 47), ("于", 47), ("杜", 46), ("叶", 45), ("程", 44), ("魏", 42), ("苏", 42), ("吕", 41), ("丁", 40),
    ("任", 39), ("卢", 38), ("姚", 38), ("沈", 37), ("钟", 36), ("姜", 35), ("崔", 34), ("谭", 34), ("陆", 33), ("范", 32),
    ("汪", 32), ("廖", 31), ("石", 31), ("金", 30), ("韦", 30), ("贾", 29), ("夏", 29), ("付", 28), ("方", 28), ("邹", 27),
    ("熊", 27), ("白", 27), ("孟", 26), ("秦", 26), ("邱", 26), ("侯", 25), ("江", 25), ("尹", 24), ("薛", 24), ("闫", 23),
    ("段", 23), ("雷", 23), ("龙", 22), ("黎", 22), ("史", 22), ("陶", 21), ("贺", 21), ("毛", 20), ("郝", 20), ("顾", 20),
    ("龚", 19), ("邵", 19), ("万", 18), ("覃", 18), ("武", 18), ("钱", 17), ("戴", 17), ("严", 17), ("欧阳", 5), ("司马", 1),
)
SURNAMES = [s for s, _f in _SURNAME_FREQ]
SURNAME_CUM = []
_total = 0
for _s, _f in _SURNAME_FREQ:
    _total += _f
    SURNAME_CUM.append(_total)
FEMALE_SINGLE = list("芳娜敏静丽艳娟霞秀玲燕红梅琳婷雪慧颖倩洁佳欣怡萍兰琴云莉璐晶丹蕾薇瑶")
FEMALE_FIRST = list("秀桂淑玉丽春晓雅欣思雨梦诗佳子一紫语美凤海小静慧")
FEMALE_SECOND = list("英兰珍芳华梅霞琴娟婷琳怡涵萱彤琪悦宁然洁云敏燕")
MALE_SINGLE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳峰亮成晨博")
MALE_FIRST = list("建国志文海永德宏子浩宇俊明家天振晓立学红春思一")
MALE_SECOND = list("国华军平明伟强东峰林杰涛斌鹏辉轩然睿泽宇航博文成")
