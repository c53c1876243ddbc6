"""Finding activities on a city: server time of `GET /activities/find` with 2,000 upcoming activities.

Usage (figures go to docs/PERFORMANCE.md by hand, with the machine and the load it had):

    .venv/bin/python benchmarks/find_bench.py                          # SQLite, a temporary bench database
    .venv/bin/python benchmarks/find_bench.py --backend postgresql     # database rv_bench_find, dropped at the end
    .venv/bin/python benchmarks/find_bench.py --url sqlite:////tmp/rv-city.db --add-upcoming 2000   # the city demo

The bench database holds the city demo's shape where finding reads it: 10 districts, 100 streets, 660
communities with one team each, 40,000 past closed activities and --upcoming (2,000) activities over the next
14 days, of which 55 % are for their team's members, 30 % for a street or district and 15 % for the whole city,
with capacities and admitted counts. The typical volunteer lives in a community and is a member of two teams.

For that volunteer it times, --repeat times each after one warm-up, and prints the medians and the worst:
the domain call (finding.find_activities, first page, no filter; then filtered by theme; by area; a late page)
and the full request through the Flask test client (routing, login from the session cookie, query,
template, response; no network). Target (issue 14): <= 100 ms server time. Bounded: a fixed number of runs.
"""
from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

from volunteer_app import create_app  # noqa: E402
from volunteer_app.activities import finding  # noqa: E402
from volunteer_app.models import Activity, Membership, Team, Theme, Unit, Volunteer  # noqa: E402
from volunteer_app.schema import ensure_reference_data  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DB = "rv_bench_find"
BENCH_PHONE = "19900000004"


def generate(url: str, *, upcoming: int, past: int, seed: int = 14) -> None:
    """The bench city (see the module docstring); replaces whatever the database held."""
    rng = random.Random(seed)
    engine = create_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        ensure_reference_data(session)
        session.commit()
        theme_ids = [t.id for t in session.exec(select(Theme).order_by(Theme.sort_order))]
    units, communities, streets, districts = [], [], [], []
    next_id = 1
    for d in range(10):
        district = next_id
        districts.append(district)
        units.append(dict(id=district, parent_id=None, level="district", name=f"第{d + 1}区", code=f"D{d + 1:02d}",
                          path=f"/{district}/"))
        next_id += 1
        for s in range(10):
            street = next_id
            streets.append((street, f"/{district}/{street}/"))
            units.append(dict(id=street, parent_id=district, level="street", name=f"第{d + 1}区{s + 1}街道",
                              code=f"D{d + 1:02d}-S{s + 1:02d}", path=f"/{district}/{street}/"))
            next_id += 1
            for c in range(7 if s < 6 else 6):
                community = next_id
                communities.append((community, f"/{district}/{street}/{community}/"))
                units.append(dict(id=community, parent_id=street, level="community",
                                  name=f"第{d + 1}区{s + 1}街{c + 1}社区",
                                  code=f"D{d + 1:02d}-S{s + 1:02d}-C{c + 1:02d}",
                                  path=f"/{district}/{street}/{community}/"))
                next_id += 1
    now = datetime.now(timezone.utc).replace(microsecond=0)
    teams = [dict(id=i + 1, name=f"志愿服务队{i + 1}", unit_id=community, status="active", join_policy="approve",
                  invite_nonce=secrets.token_hex(8), description="", contact_name="")
             for i, (community, _path) in enumerate(communities)]
    home_community, home_path = communities[0]
    people = [dict(id=1, name="志愿者", phone=BENCH_PHONE, phone_tail=BENCH_PHONE[-4:], password_hash="x",
                   role="volunteer", home_unit_id=home_community, session_version=1, is_active=True, created_at=now)]
    memberships = [dict(team_id=team_id, volunteer_id=1, role="member", status="active", created_at=now,
                        updated_at=now, joined_at=now) for team_id in (1, 2)]
    activities = []
    for n in range(past + upcoming):
        team = teams[rng.randrange(len(teams))]
        if n < past:
            start = now - timedelta(days=rng.uniform(1, 365))
            status, audience, unit = "closed", "team", None
        else:
            start = now + timedelta(hours=rng.uniform(1, 14 * 24))
            status = "scheduled"
            roll = rng.random()
            audience = "team" if roll < 0.55 else ("unit" if roll < 0.85 else "city")
            unit = None
            if audience == "unit":
                unit = rng.choice([s for s, _p in streets] + districts)
        capacity = rng.choice([None, 10, 20, 30, 50])
        activities.append(dict(
            team_id=team["id"], theme_id=rng.choice(theme_ids), unit_id=team["unit_id"], title=f"活动{n}",
            place="人民路与解放路口", starts_at=start, ends_at=start + timedelta(hours=2), status=status,
            qr_mode="rotating", members_only=audience == "team", capacity=capacity, audience=audience,
            audience_unit_id=unit, admission="auto", admitted_only=False, meeting_point="", requirements="",
            admitted_count=rng.randint(0, capacity) if capacity else rng.randint(0, 20), waitlist_count=0,
            is_retro=False, secret=secrets.token_hex(16), created_at=start - timedelta(days=3),
            attendee_count=0, total_minutes=0, live_count=0))
    with engine.begin() as conn:
        conn.execute(insert(Unit), units)
        conn.execute(insert(Team), teams)
        conn.execute(insert(Volunteer), people)
        conn.execute(insert(Membership), memberships)
        for i in range(0, len(activities), 5000):
            conn.execute(insert(Activity), activities[i:i + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"generated {len(units)} units, {len(teams)} teams, {past:,} past and {upcoming:,} upcoming activities; "
          f"the volunteer lives in {home_path}")


def add_upcoming(url: str, count: int, *, seed: int = 14) -> None:
    """Add `count` upcoming activities (the generator's mix of audiences) to an existing city, e.g. the demo's."""
    rng = random.Random(seed)
    engine = create_engine(url)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with Session(engine) as session:
        teams = session.exec(select(Team.id, Team.unit_id).where(Team.status == "active")).all()
        areas = session.exec(select(Unit.id).where(Unit.level.in_(("district", "street")))).all()
        theme_ids = session.exec(select(Theme.id)).all()
    rows = []
    for n in range(count):
        team_id, unit_id = rng.choice(teams)
        start = now + timedelta(hours=rng.uniform(1, 14 * 24))
        roll = rng.random()
        audience = "team" if roll < 0.55 else ("unit" if roll < 0.85 else "city")
        capacity = rng.choice([None, 10, 20, 30, 50])
        rows.append(dict(
            team_id=team_id, theme_id=rng.choice(theme_ids), unit_id=unit_id, title=f"招募活动{n}", place="人民路口",
            starts_at=start, ends_at=start + timedelta(hours=2), status="scheduled", qr_mode="rotating",
            members_only=audience == "team", capacity=capacity, audience=audience,
            audience_unit_id=rng.choice(areas) if audience == "unit" else None, admission="auto", admitted_only=False,
            meeting_point="", requirements="", admitted_count=rng.randint(0, capacity) if capacity else 0,
            waitlist_count=0, is_retro=False, secret=secrets.token_hex(16), created_at=now, attendee_count=0,
            total_minutes=0, live_count=0))
    with engine.begin() as conn:
        conn.execute(insert(Activity), rows)
    engine.dispose()
    print(f"added {count:,} upcoming activities")


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median ms, worst ms, last result) of fn(), after one warm-up call."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def run(url: str, phone: str, repeat: int) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    engine = app.extensions["db_engine"]
    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])
    with Session(engine) as session:
        volunteer = session.exec(select(Volunteer).where(Volunteer.phone == phone)).one()
        theme = session.exec(select(Theme).order_by(Theme.sort_order)).first()
        home = session.get(Unit, volunteer.home_unit_id)
        district = session.get(Unit, int(home.path.strip("/").split("/")[0]))
        volunteer_id, session_version, theme_code, district_id = (volunteer.id, volunteer.session_version, theme.code,
                                                                  district.id)
        now = datetime.now(timezone.utc)
        upcoming = session.exec(select(Activity.id).where(Activity.status.in_(("scheduled", "open")),
                                                          Activity.ends_at > now)).all()
        print(f"{engine.dialect.name}: {len(upcoming):,} upcoming activities; volunteer {volunteer.id} "
              f"({home.path}); {repeat} runs each, medians (worst)")
        cases = [
            ("domain, first page", finding.FindFilter(zone=zone), 1),
            ("domain, one theme", finding.FindFilter(zone=zone, theme=theme), 1),
            ("domain, own district", finding.FindFilter(zone=zone, area=district), 1),
            ("domain, page 5", finding.FindFilter(zone=zone), 5),
        ]
        for label, f, page in cases:
            def call(f=f, page=page):
                session.expire_all()
                return finding.find_activities(session=session, volunteer_id=volunteer_id, f=f, page=page)
            median, worst, result = timed(call, repeat)
            print(f"  {label:<24} {median:7.1f} ms ({worst:6.1f})   {result.total:,} found")
    client = app.test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = f"{volunteer_id}:{session_version}"
        http_session["_fresh"] = True
    for label, path in [("request, first page", "/activities/find"),
                        ("request, theme + area", f"/activities/find?theme={theme_code}&area={district_id}"),
                        ("request, page 5", "/activities/find?page=5")]:
        def get(path=path):
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response
        median, worst, _response = timed(get, repeat)
        print(f"  {label:<24} {median:7.1f} ms ({worst:6.1f})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="an existing database (not regenerated unless --generate)")
    parser.add_argument("--generate", action="store_true", help="(with --url) build the bench city into it first")
    parser.add_argument("--phone", default=BENCH_PHONE, help="the volunteer to time (a seeded city: 19900000004)")
    parser.add_argument("--upcoming", type=int, default=2000)
    parser.add_argument("--add-upcoming", type=int, default=0, help="(with --url) add this many upcoming activities")
    parser.add_argument("--past", type=int, default=40000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    if args.url:
        if args.generate:
            generate(args.url, upcoming=args.upcoming, past=args.past)
        if args.add_upcoming:
            add_upcoming(args.url, args.add_upcoming)
        run(args.url, args.phone, args.repeat)
        return
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/find.db"
            generate(url, upcoming=args.upcoming, past=args.past)
            run(url, args.phone, args.repeat)
        return
    admin = create_engine(args.pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB}"))
        conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    url = args.pg_admin_url.rsplit("/", 1)[0] + f"/{PG_DB}"
    try:
        generate(url, upcoming=args.upcoming, past=args.past)
        run(url, args.phone, args.repeat)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
