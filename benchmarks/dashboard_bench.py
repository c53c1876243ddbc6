"""Dashboard speed on a city's year: median server time of every dashboard view, and export memory.

Usage (figures go to docs/PERFORMANCE.md by hand, with the machine and the load it had):

    # a city database: `volunteer-app seed-demo --scale city` when available, or this script's generator
    .venv/bin/python benchmarks/dashboard_bench.py --url sqlite:////tmp/rv-city-reports.db --generate
    .venv/bin/python benchmarks/dashboard_bench.py --url sqlite:////tmp/rv-city-reports.db
    .venv/bin/python benchmarks/dashboard_bench.py --url postgresql+psycopg://postgres@127.0.0.1:5432/rv_city_reports --generate

"Server time" is the time the Flask app takes to answer a GET in-process (test client): query,
render and response, without the network. Each view is timed --cold times with the dashboard
cache cleared first (reports/cache.py: the attendance-level figures computed from scratch), then
--repeat times warm (the cache valid, as for every later visitor until the records change); the
medians are reported. Every run is bounded (--repeat, --cold, a fixed view list). The cold CPU column is
the CPU time of this process only (SQLite runs inside it; PostgreSQL's own work is not included): on a
machine shared with other work it shows what the wall time would be without waiting for a core.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, text  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

from volunteer_app import create_app  # noqa: E402
from volunteer_app.models import (  # noqa: E402
    Activity, Attendance, Membership, Team, Theme, Unit, Volunteer,
)
from volunteer_app import summary_triggers as summary  # noqa: E402
from volunteer_app.reports import cache  # noqa: E402
from volunteer_app.schema import ensure_reference_data  # noqa: E402

SHANGHAI = timezone(timedelta(hours=8))
PASSWORD_HASH = "scrypt:32768:8:1$bench$0"  # nobody logs in with a password here
YEAR = 2025


def generate(url: str, *, volunteers: int = 166_000, teams: int = 660, activities: int = 40_000,
             attendances: int = 1_200_000, seed: int = 7) -> None:
    """A synthetic city year with the issue's proportions (used while seed-demo --scale city is not there)."""
    rng = random.Random(seed)
    engine = create_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        ensure_reference_data(session)
        session.commit()
        theme_ids = [t.id for t in session.exec(select(Theme).order_by(Theme.sort_order))]
    with engine.begin() as conn:
        summary.drop_triggers(conn)  # built in one statement at the end, as seed-demo does
        units, communities = [], []
        next_id = 1
        for d in range(10):
            district = next_id
            units.append(dict(id=district, parent_id=None, level="district", name=f"第{d + 1}区", code=f"D{d + 1:02d}",
                              path=f"/{district}/"))
            next_id += 1
            for s in range(10):
                street = next_id
                units.append(dict(id=street, parent_id=district, level="street", name=f"第{d + 1}区{s + 1}街道",
                                  code=f"D{d + 1:02d}-S{s + 1:02d}", path=f"/{district}/{street}/"))
                next_id += 1
                for c in range(7 if s < 6 else 6):
                    community = next_id
                    units.append(dict(id=community, parent_id=street, level="community",
                                      name=f"第{d + 1}区{s + 1}街{c + 1}社区", code=f"D{d + 1:02d}-S{s + 1:02d}-C{c + 1:02d}",
                                      path=f"/{district}/{street}/{community}/"))
                    communities.append(community)
                    next_id += 1
        conn.execute(insert(Unit), units)
        team_rows = [dict(id=i + 1, name=f"志愿服务队{i + 1:03d}", unit_id=communities[i % len(communities)],
                          description="", contact_name="", status="active", join_policy="approve",
                          invite_nonce=f"{i:032x}", created_at=datetime(YEAR - 1, 6, 1, tzinfo=timezone.utc))
                     for i in range(teams)]
        conn.execute(insert(Team), team_rows)
        now = datetime(YEAR - 1, 6, 1, tzinfo=timezone.utc)
        batch = []
        for v in range(1, volunteers + 1):
            phone = f"13{v:09d}"
            batch.append(dict(id=v, name=f"志愿者{v}", phone=phone, phone_tail=phone[-4:], password_hash=PASSWORD_HASH,
                              role="volunteer", home_unit_id=team_rows[v % teams]["unit_id"], is_active=True,
                              session_version=1, created_at=now))
            if len(batch) == 20_000:
                conn.execute(insert(Volunteer), batch)
                batch = []
        conn.execute(insert(Volunteer), batch)
        conn.execute(insert(Volunteer), [dict(id=volunteers + 1, name="文明办", phone="19999999999", phone_tail="9999",
                                              password_hash=PASSWORD_HASH, role="office", home_unit_id=None,
                                              is_active=True, session_version=1, created_at=now)])
        members = {t: [] for t in range(1, teams + 1)}
        batch = []
        for v in range(1, volunteers + 1):
            for t in {v % teams + 1} | ({rng.randrange(teams) + 1} if rng.random() < 0.1 else set()):
                members[t].append(v)
                batch.append(dict(team_id=t, volunteer_id=v, role="member", status="active", created_at=now,
                                  joined_at=now, updated_at=now))
            if len(batch) >= 20_000:
                conn.execute(insert(Membership), batch)
                batch = []
        conn.execute(insert(Membership), batch)
        print(f"units, teams, volunteers: {time.perf_counter() - started:.1f}s", flush=True)

        per_activity = attendances / activities
        act_batch, att_batch = [], []
        written = 0
        attendance_id = 1
        for a in range(1, activities + 1):
            team = rng.randrange(teams) + 1
            day = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
            start = datetime(day.year, day.month, day.day, rng.choice((8, 9, 14, 15)), 0, tzinfo=SHANGHAI)
            start = start.astimezone(timezone.utc)
            length = rng.choice((60, 90, 120, 180))
            end = start + timedelta(minutes=length)
            retro = rng.random() < 0.05
            size = max(1, min(len(members[team]), int(rng.gauss(per_activity, 8))))
            if a == activities:
                size = max(1, attendances - written) if attendances > written else 1
            size = min(size, len(members[team]))
            roster = rng.sample(members[team], size)
            minutes_total = 0
            for volunteer in roster:
                method = "retro_log" if retro else rng.choices(
                    ("self_scan", "leader_scan", "leader_manual"), (0.75, 0.15, 0.10))[0]
                checked_in = start + timedelta(minutes=rng.randrange(0, 15))
                credited = max(0, length - int((checked_in - start).total_seconds() // 60) - rng.randrange(0, 10))
                minutes_total += credited
                att_batch.append(dict(id=attendance_id, activity_id=a, volunteer_id=volunteer, checked_in_at=checked_in,
                                      checked_out_at=checked_in + timedelta(minutes=credited), checkout_auto=False,
                                      credited_minutes=credited, method=method,
                                      created_at=(end + timedelta(days=2)) if retro else checked_in,
                                      device_hash=hashlib.sha1(str(volunteer).encode()).hexdigest()[:32]
                                      if method == "self_scan" else None))
                attendance_id += 1
            written += size
            act_batch.append(dict(id=a, team_id=team, theme_id=rng.choice(theme_ids),
                                  unit_id=team_rows[team - 1]["unit_id"], title=f"活动{a}", place="", starts_at=start,
                                  ends_at=end, status="closed", qr_mode="rotating", members_only=True, is_retro=retro,
                                  secret=f"{a:064x}", created_at=start, closed_at=end, attendee_count=size,
                                  total_minutes=minutes_total))
            if len(act_batch) >= 2000:
                conn.execute(insert(Activity), act_batch)
                conn.execute(insert(Attendance), att_batch)
                act_batch, att_batch = [], []
        if act_batch:
            conn.execute(insert(Activity), act_batch)
            conn.execute(insert(Attendance), att_batch)
        summary.rebuild(conn)
        summary.create_triggers(conn)
        if engine.dialect.name == "postgresql":
            for table in ("unit", "team", "volunteer", "activity", "attendance", "membership"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(f"generated {written} attendances in {activities} activities: {time.perf_counter() - started:.1f}s")


def views(session: Session) -> list[tuple[str, str]]:
    """The dashboard views to time: the unfiltered city year and each kind of filter and drill-down."""
    district = session.exec(select(Unit).where(Unit.level == "district").order_by(Unit.id)).first()
    street = session.exec(select(Unit).where(Unit.parent_id == district.id).order_by(Unit.id)).first()
    team = session.exec(select(Team).order_by(Team.id)).first()
    activity = session.exec(select(Activity.id).order_by(Activity.attendee_count.desc())).first()
    first, last = session.exec(select(func.min(Activity.starts_at), func.max(Activity.starts_at))).one()
    start, end = first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date()
    whole = f"from={start}&to={end}"  # the data's whole year (seed-demo: the last 12 months and a few weeks ahead)
    middle = start + timedelta(days=120)
    month_start = middle.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    month = f"from={month_start}&to={month_end}"
    return [
        ("city, full year", f"/office?{whole}"),
        ("city, full year, htmx fragment", f"/office?{whole}&hx=1"),
        ("theme civilized_traffic", f"/office?{whole}&theme=civilized_traffic"),
        ("one month", f"/office?{month}"),
        ("theme + month", f"/office?{month}&theme=civilized_traffic"),
        ("district", f"/office?{whole}&unit={district.id}"),
        ("street", f"/office?{whole}&unit={street.id}"),
        ("team", f"/office?{whole}&team={team.id}"),
        ("drill-down: activities, page 1", f"/office/activities?{whole}&theme=civilized_traffic"),
        ("drill-down: one activity", f"/office/activities/{activity}?{whole}"),
        ("signals, full year", f"/office/signals?{whole}"),
        ("export tallies xlsx", f"/office/export.xlsx?{whole}&kind=tallies"),
    ]


def bench(url: str, repeat: int, cold_runs: int, only: str | None = None, skip: str | None = None) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "TESTING": True})
    engine = app.extensions["db_engine"]
    with Session(engine) as session:
        office = session.exec(select(Volunteer).where(Volunteer.role == "office", Volunteer.office_unit_id.is_(None))).first()
        counts = (session.exec(select(func.count(Activity.id))).one(), session.exec(select(func.count(Attendance.id))).one())
        plan = [view for view in views(session)
                if (only is None or only in view[0]) and (skip is None or skip not in view[0])]
    print(f"{engine.dialect.name}: {counts[0]} activities, {counts[1]} attendances; "
          f"warm: median of {repeat} runs, cold: median of {cold_runs} runs")
    client = app.test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = f"{office.id}:{office.session_version}"
        http_session["_fresh"] = True
    print("| view | warm median | warm min | cold median (cache cleared) | cold min | cold CPU median (this process) |")
    print("|---|---|---|---|---|---|")
    for label, path in plan:
        headers = {"HX-Request": "true"} if "hx=1" in path else {}
        path = path.replace("&hx=1", "")
        cold, cold_cpu = [], []
        for _ in range(cold_runs):
            cache.clear()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers)
            response.get_data()  # a streamed export holds the request context until consumed
            cold.append((time.perf_counter() - started) * 1000)
            cold_cpu.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        warm = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            response.get_data()
            warm.append((time.perf_counter() - started) * 1000)
        print(f"| {label} | {statistics.median(warm):.0f} ms | {min(warm):.0f} ms | {statistics.median(cold):.0f} ms "
              f"| {min(cold):.0f} ms | {statistics.median(cold_cpu):.0f} ms |", flush=True)


def export_memory(url: str, fmt: str) -> None:
    """Stream the full-year record export and report rows, time and the peak RSS of this process."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with Session(app.extensions["db_engine"]) as session:
        office = session.exec(select(Volunteer).where(Volunteer.role == "office", Volunteer.office_unit_id.is_(None))).first()
        first, last = session.exec(select(func.min(Activity.starts_at), func.max(Activity.starts_at))).one()
    client = app.test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = f"{office.id}:{office.session_version}"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    span = f"from={first.astimezone(SHANGHAI).date()}&to={last.astimezone(SHANGHAI).date()}"
    response = client.get(f"/office/export.{fmt}?{span}&kind=records", buffered=False)
    size = 0
    lines = 0
    for chunk in response.response:
        size += len(chunk)
        if fmt == "csv":
            lines += chunk.count(b"\n")
    response.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"export {fmt}: {size / 1e6:.0f} MB{f', {lines - 1} rows' if lines else ''} in "
          f"{time.perf_counter() - started:.0f} s; peak RSS {before / 1024:.0f} MB before, {peak / 1024:.0f} MB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", "sqlite:////tmp/rv-city-reports.db"))
    parser.add_argument("--generate", action="store_true", help="(re)create the database with a synthetic city year")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cold", type=int, default=3, help="runs with the cache cleared before each")
    parser.add_argument("--export", choices=("csv", "xlsx"), help="measure a full-year record export instead")
    parser.add_argument("--only", help="time only the views whose label contains this text")
    parser.add_argument("--skip", help="leave out the views whose label contains this text")
    args = parser.parse_args()
    if args.generate:
        generate(args.url)
    elif args.export:
        export_memory(args.url, args.export)
    else:
        bench(args.url, args.repeat, args.cold, args.only, args.skip)


if __name__ == "__main__":
    main()
