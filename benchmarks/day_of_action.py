"""A city-wide day of action in miniature: 2,000 volunteers scan into 100 open activities within two minutes.

    .venv/bin/python benchmarks/day_of_action.py --backend sqlite
    .venv/bin/python benchmarks/day_of_action.py --backend postgresql

A benchmark, not a test (it is not part of `make test`). It seeds a fresh database (20 teams, 100 open
members-only activities, 2,000 members with logged-in session cookies made offline, as on phones that
stayed logged in), starts gunicorn on 127.0.0.1, then plays the morning: each volunteer arrives at a
random moment of the window, opens the code the leader's phone is showing (GET /c/<token>, a freshly
minted rotating token) and presses the button (POST /c/<token> with the page's CSRF token). About 5%
press twice, as people do. Arrivals follow the schedule whatever the server does (an open loop), so a
slow server shows up as latency, not as fewer scans.

It stops by itself: every request has a timeout, the window is bounded (--window, default 120 s), a
watchdog ends the run after --deadline seconds, and gunicorn is stopped on the way out. Only ever talks
to 127.0.0.1.

Afterwards it checks: zero errors (every GET 200, every POST 303), the attendance rows equal the distinct
successful scans exactly, no (activity, volunteer) pair twice, and each activity's denormalised count
equals its rows. It prints p50/p95/p99 of the scan page, the button and the whole scan, and a Markdown
row for docs/PERFORMANCE.md; it exits 1 if any check fails.
"""
from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import re
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _server import BENCH_USER_AGENT, HOST, ROOT, make_database, pct, session_cookie, start_gunicorn, stop_gunicorn

sys.path.insert(0, str(ROOT))

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    volunteer_id: int
    activity_id: int
    cookies: dict[str, str]
    presses: int  # 1, or 2 for someone who presses twice


@dataclass
class Outcome:
    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    scan_ms: list[float] = field(default_factory=list)
    late_ms: list[float] = field(default_factory=list)  # how far behind schedule a scan started
    succeeded: set[tuple[int, int]] = field(default_factory=set)
    posts_ok: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--volunteers", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=100)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--window", type=int, default=120, help="seconds over which the arrivals are spread")
    parser.add_argument("--clients", type=int, default=64, help="client threads (phones scanning at once, at most)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ratelimit-storage", default="memory://")
    parser.add_argument("--twice", type=float, default=0.05, help="share of people who press the button twice")
    parser.add_argument("--deadline", type=int, default=420, help="the whole run ends after this many seconds")
    parser.add_argument("--seed", type=int, default=20260305)
    args = parser.parse_args()
    if args.window > 600 or args.deadline > 900:
        sys.exit("bounded runs only: --window ≤ 600 and --deadline ≤ 900")

    watchdog = threading.Timer(args.deadline, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, _stop)

    random.seed(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="rv-day-"))
    secret_key = secrets.token_urlsafe(32)
    url, drop = make_database(args, workdir, "day")
    server = None
    try:
        started = time.monotonic()
        people, activity_secrets = seed(url, secret_key, args)
        print(f"seeded {len(people)} volunteers, {len(activity_secrets)} activities in {time.monotonic() - started:.1f} s")
        port = args.port or free_port()
        server = start_gunicorn(
            url=url, secret_key=secret_key, workdir=workdir, port=port, workers=args.workers, threads=args.threads,
            ratelimit_storage=args.ratelimit_storage,
            instance_config=f"RATELIMIT_KEY_PREFIX = 'rv-day-{os.getpid()}'\n",
        )
        outcome = play(args, port, people, activity_secrets, secret_key)
        rows = check_database(url)
    finally:
        stop_gunicorn(server)
        drop()
    watchdog.cancel()
    return report(args, outcome, rows)


def _stop(_signum, _frame):
    raise SystemExit("stopped: the run took longer than --deadline")


# --- setting the stage --------------------------------------------------------------------------


def seed(url: str, secret_key: str, args) -> tuple[list[Person], dict[int, str]]:
    """Teams with open activities and members; a logged-in session cookie for every member."""
    from sqlalchemy import insert
    from sqlmodel import Session, select

    from volunteer_app import create_app, schema
    from volunteer_app.db import make_engine
    from volunteer_app.models import Activity, Membership, Team, Theme, Unit, Volunteer, utcnow

    engine = make_engine(url)
    schema.upgrade(engine)  # the real migrations, as `volunteer-app db upgrade` runs them
    now = utcnow().replace(microsecond=0)
    with Session(engine) as session:
        district = Unit(name="演练区", level="district", code="DAY", path="/")
        session.add(district)
        session.flush()
        district.path = f"/{district.id}/"
        units = []
        for i in range(args.teams):
            unit = Unit(name=f"演练社区{i}", level="community", code=f"DAY-C{i}", parent_id=district.id, path="")
            session.add(unit)
            session.flush()
            unit.path = f"{district.path}{unit.id}/"
            units.append(unit)
        teams = []
        for i, unit in enumerate(units):
            team = Team(name=f"演练志愿服务队{i}", unit_id=unit.id, status="active", invite_nonce=secrets.token_hex(8))
            session.add(team)
            teams.append(team)
        session.flush()
        themes = list(session.exec(select(Theme.id)))
        session.execute(insert(Activity), [
            {"team_id": teams[i % len(teams)].id, "theme_id": themes[i % len(themes)],
             "unit_id": teams[i % len(teams)].unit_id, "title": f"学雷锋志愿服务{i}", "place": "",
             "starts_at": now - timedelta(minutes=15), "ends_at": now + timedelta(hours=3), "status": "open",
             "qr_mode": "rotating", "members_only": True, "is_retro": False, "secret": secrets.token_hex(16),
             "created_at": now, "opened_at": now, "attendee_count": 0, "total_minutes": 0}
            for i in range(args.activities)
        ])
        session.execute(insert(Volunteer), [
            {"name": f"志愿者{i}", "phone": f"1960{i:07d}", "phone_tail": f"{i % 10000:04d}", "password_hash": "!",
             "role": "volunteer", "home_unit_id": units[i % len(units)].id, "is_active": True, "session_version": 1,
             "created_at": now}
            for i in range(args.volunteers)
        ])
        session.flush()
        volunteers = list(session.exec(select(Volunteer.id, Volunteer.home_unit_id).order_by(Volunteer.id)))
        team_of_unit = {t.unit_id: t.id for t in teams}
        session.execute(insert(Membership), [
            {"team_id": team_of_unit[unit_id], "volunteer_id": v, "role": "member", "status": "active",
             "created_at": now, "joined_at": now, "updated_at": now} for v, unit_id in volunteers
        ])
        session.commit()
        activities = list(session.exec(select(Activity.id, Activity.team_id, Activity.secret)))
    engine.dispose()

    by_team: dict[int, list[int]] = {}
    for activity_id, team_id, _secret in activities:
        by_team.setdefault(team_id, []).append(activity_id)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key, "TESTING": False})
    people = []
    for volunteer_id, unit_id in volunteers:
        cookie, _csrf = session_cookie(app, volunteer_id)
        activity_id = random.choice(by_team[team_of_unit[unit_id]])
        presses = 2 if random.random() < args.twice else 1
        people.append(Person(volunteer_id, activity_id, {"session": cookie}, presses))
    app.extensions["db_engine"].dispose()
    return people, {a: s for a, _t, s in activities}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- the morning --------------------------------------------------------------------------------


def play(args, port: int, people: list[Person], activity_secrets: dict[int, str], secret_key: str) -> Outcome:
    """Each person arrives at a random moment of the window and scans; client threads follow the schedule."""
    from volunteer_app import tokens

    schedule = sorted((random.uniform(0, args.window), person) for person in people)
    jobs: queue.Queue = queue.Queue()
    for item in schedule:
        jobs.put(item)
    outcome = Outcome()
    start = time.monotonic() + 1.0
    hard_stop = start + args.window + 60  # stragglers get a minute, then the run ends regardless

    def mint(activity_id: int) -> str:
        return tokens.rotating_token(secret_key=secret_key, activity_id=activity_id,
                                     activity_secret=activity_secrets[activity_id])

    def client():
        while time.monotonic() < hard_stop:
            try:
                at, person = jobs.get_nowait()
            except queue.Empty:
                return
            delay = start + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with outcome.lock:
                outcome.late_ms.append(max(0.0, -delay) * 1000)
            scan(person, mint(person.activity_id), outcome)

    def scan(person: Person, token: str, out: Outcome):
        """One phone: a new connection (idle keep-alive connections are closed by the server), page, button."""
        began = time.monotonic()
        conn = http.client.HTTPConnection(HOST, port, timeout=15)
        try:
            status, body, ms = request(conn, "GET", f"/c/{token}", person.cookies)
            with out.lock:
                out.get_ms.append(ms)
            match = CSRF_RE.search(body)
            if status != 200 or match is None:
                raise RuntimeError(f"scan page answered {status}" + ("" if match else " without a form"))
            form = urlencode({"csrf_token": match.group(1), "activity": person.activity_id, "action": "in",
                              "lat": "", "lng": "", "acc": ""})
            for press in range(person.presses):
                status, _body, ms = request(conn, "POST", f"/c/{token}", person.cookies, form)
                with out.lock:
                    out.post_ms.append(ms)
                if status != 303:
                    raise RuntimeError(f"button press {press + 1} answered {status}")
                with out.lock:
                    out.posts_ok += 1
                    out.succeeded.add((person.activity_id, person.volunteer_id))
            with out.lock:
                out.scan_ms.append((time.monotonic() - began) * 1000)
        except Exception as exc:  # every failure is counted and reported; the run goes on
            with out.lock:
                out.errors.append(f"volunteer {person.volunteer_id}: {type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, hard_stop - time.monotonic()))
    left = jobs.qsize()
    if left:
        outcome.errors.append(f"{left} volunteers never got to scan before the hard stop")
    return outcome


def request(conn, method: str, path: str, cookies: dict[str, str], body: str | None = None):
    """One request on a kept-alive connection, with the person's cookies; keeps what the server sets."""
    headers = {"Host": f"{HOST}:{conn.port}", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
               "User-Agent": BENCH_USER_AGENT}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://{HOST}:{conn.port}"
    began = time.monotonic()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read().decode("utf-8", "replace")
    elapsed = (time.monotonic() - began) * 1000
    for header in response.headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            cookies[name] = morsel.value
    return response.status, data, elapsed


# --- checking and reporting ---------------------------------------------------------------------


def check_database(url: str) -> dict:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from volunteer_app.activities.service import close_overdue
    from volunteer_app.db import make_engine, session_scope
    from volunteer_app.models import Activity, Attendance, utcnow

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(func.count(Attendance.id))).one()
        pairs = session.exec(select(func.count()).select_from(
            select(Attendance.activity_id, Attendance.volunteer_id).distinct().subquery())).one()
        per_activity = dict(session.exec(select(Attendance.activity_id, func.count(Attendance.id))
                                         .group_by(Attendance.activity_id)).all())
    # The activities' counts are their closed tally: close them all (as the cron job would once they are
    # over) and compare what closing counted with the rows.
    with session_scope(engine) as session:
        close_overdue(session=session, at=utcnow() + timedelta(days=1))
    with Session(engine) as session:
        stored = dict(session.exec(select(Activity.id, Activity.attendee_count)).all())
    engine.dispose()
    mismatched = [a for a, count in stored.items() if count != per_activity.get(a, 0)]
    return {"rows": rows, "pairs": pairs, "mismatched": mismatched}


def report(args, outcome: Outcome, rows: dict) -> int:
    expected = len(outcome.succeeded)
    checks = {
        "zero errors": not outcome.errors,
        "rows == successful scans": rows["rows"] == expected,
        "no pair twice": rows["rows"] == rows["pairs"],
        "counts at close == rows": not rows["mismatched"],
        "every volunteer scanned": expected == args.volunteers,
    }
    print()
    for name, line in (("scan page GET", outcome.get_ms), ("button POST", outcome.post_ms),
                       ("whole scan", outcome.scan_ms), ("behind schedule", outcome.late_ms)):
        print(f"{name:16s} n={len(line):5d}  p50 {pct(line, 50):7.1f} ms  p95 {pct(line, 95):7.1f} ms  "
              f"p99 {pct(line, 99):7.1f} ms  max {max(line, default=float('nan')):7.1f} ms")
    print(f"button presses accepted: {outcome.posts_ok}; distinct successful scans: {expected}; "
          f"attendance rows: {rows['rows']}")
    for error in outcome.errors[:10]:
        print("  error:", error)
    for name, ok in checks.items():
        print(f"{'OK  ' if ok else 'FAIL'} {name}")
    mean_rate = len(outcome.get_ms) / args.window if args.window else 0
    print(f"\n| {args.backend} | {args.workers}×{args.threads} gthread | {args.volunteers} → {args.activities} in "
          f"{args.window} s (~{mean_rate:.0f} scans/s) | {pct(outcome.get_ms, 50):.0f} / {pct(outcome.get_ms, 99):.0f} | "
          f"{pct(outcome.post_ms, 50):.0f} / {pct(outcome.post_ms, 99):.0f} | "
          f"{pct(outcome.scan_ms, 50):.0f} / {pct(outcome.scan_ms, 99):.0f} | {len(outcome.errors)} | "
          f"{rows['rows']} = {expected} |")
    if outcome.scan_ms:
        print(f"(mean whole scan {statistics.mean(outcome.scan_ms):.1f} ms)")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
