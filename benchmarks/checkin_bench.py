"""Check-in throughput: the check-in POST against a trivial endpoint, under gunicorn on loopback.

    .venv/bin/python benchmarks/checkin_bench.py --backend sqlite
    .venv/bin/python benchmarks/checkin_bench.py --backend postgresql

Seeds a fresh database (open activities, volunteers), makes logged-in session cookies and CSRF tokens
offline, mints current rotating tokens, starts gunicorn on 127.0.0.1, then runs wrk (bounded: -d) twice
with the same server settings: GET /healthz, and POST /c/<token> where every request is a new attendance
(a distinct volunteer × activity pair). Each POST carries the session a phone has after scanning: the
scan's GET keeps the scan (token and time) in the session cookie, and the button's POST sends it back.
Afterwards it checks that the database holds exactly one attendance per accepted POST. Prints a Markdown
table row for docs/PERFORMANCE.md.
Only ever talks to 127.0.0.1; needs `wrk` (apt-get install -y wrk).
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from _server import BENCH_USER_AGENT, ROOT, logged_in_session, make_database, run_wrk, start_gunicorn, stop_gunicorn

sys.path.insert(0, str(ROOT))

LUA = r"""
local rows = {}
local counter = 1
local nthreads = 1
local created = 0
-- thread_id is a global that setup() gives each thread (a local here would shadow it)

function setup(thread)
  thread:set("thread_id", created)
  created = created + 1
end

function init(args)
  local path = args[1]
  nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == thread_id then
      local p, c, b = line:match("([^\t]*)\t([^\t]*)\t(.*)")
      rows[#rows + 1] = wrk.format("POST", p, {
        ["Cookie"] = "session=" .. c,
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Host"] = "127.0.0.1",
        ["User-Agent"] = "{user_agent}",
      }, b)
    end
    i = i + 1
  end
end

function request()
  local r = rows[counter]
  counter = counter + 1
  if counter > #rows then counter = 1 end
  return r
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (bounded)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--volunteers", type=int, default=None,
                        help="default: enough distinct requests for the duration (max(2500, 200 × duration)); wrk "
                             "starts over at the first request when a thread runs out, and repeats are not new "
                             "attendances")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--ratelimit-headers", action="store_true",
                        help="instance/config.py sets RATELIMIT_HEADERS_ENABLED = True (off by default: two more "
                             "Redis round trips per request)")
    parser.add_argument("--config", default="", help="extra lines for instance/config.py (e.g. to see what a "
                        "setting costs: 'RATELIMIT_ENABLED = False')")
    parser.add_argument("--ratelimit-storage", default="redis://127.0.0.1:6379/15",
                        help="as in production with several servers; memory:// starts a timer thread per hit")
    args = parser.parse_args()
    if args.volunteers is None:
        args.volunteers = max(2500, 200 * args.duration)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")

    workdir = Path(tempfile.mkdtemp(prefix="rv-bench-"))
    secret_key = secrets.token_urlsafe(32)
    url, drop = make_database(args, workdir, "bench")
    server = None
    try:
        sessions, activity_ids, serializer = seed(url, secret_key, workdir, args)
        if args.ratelimit_storage.startswith("redis"):
            import redis  # a previous run's counters (same volunteer ids) must not count against this one

            redis.Redis.from_url(args.ratelimit_storage).flushdb()
        server = start_gunicorn(
            url=url, secret_key=secret_key, workdir=workdir, port=args.port, workers=args.workers,
            threads=args.threads, worker_class=args.worker_class, ratelimit_storage=args.ratelimit_storage,
            instance_config=("RATELIMIT_HEADERS_ENABLED = True\n" if args.ratelimit_headers else "")
            + args.config.replace("\\n", "\n") + "\n",
        )
        base = f"http://127.0.0.1:{args.port}"
        wrk = {"threads": args.wrk_threads, "connections": args.connections, "duration": args.duration}
        trivial = run_wrk(f"{base}/healthz", server=server, **wrk)
        requests_file = write_requests(url, secret_key, sessions, serializer, activity_ids, workdir)
        script = workdir / "checkin.lua"
        script.write_text(LUA.replace("{user_agent}", BENCH_USER_AGENT))
        checkin = run_wrk(f"{base}/", script=script, script_args=(str(requests_file), str(args.wrk_threads)),
                          server=server, **wrk)
        stored = count_attendances(url)
    finally:
        stop_gunicorn(server)
        drop()
    accepted = checkin["requests"] - checkin["errors"]
    print(f"\ntrivial GET /healthz : {trivial['rps']:.0f} req/s, p50 {trivial['p50']} ms, p99 {trivial['p99']} ms")
    print(f"check-in POST /c/... : {checkin['rps']:.0f} req/s, p50 {checkin['p50']} ms, p99 {checkin['p99']} ms, "
          f"non-2xx/3xx {checkin['errors']}, socket errors {checkin['socket_errors']}")
    # wrk stops with up to --connections requests in flight: those may be stored without being counted
    ok = accepted <= stored <= accepted + args.connections
    print(f"attendances stored: {stored} for {accepted} accepted POSTs "
          f"({'OK' if ok else 'MISMATCH: did a wrk thread run out of distinct requests? raise --volunteers'})")
    ratio = checkin["rps"] / trivial["rps"] if trivial["rps"] else 0
    print(f"ratio {ratio:.2f}")
    # CPU per request (server + wrk): what req/s would be if the two cores did nothing else
    cost = {name: run["server_cpu_ms"] + run["wrk_cpu_ms"] for name, run in (("healthz", trivial), ("checkin", checkin))}
    for name, run in (("healthz", trivial), ("checkin", checkin)):
        print(f"CPU per {name} request: server {run['server_cpu_ms']} ms + wrk {run['wrk_cpu_ms']} ms "
              f"-> at most {2000 / cost[name]:.0f} req/s on 2 idle cores")
    print(f"CPU-cost ratio (healthz cost / check-in cost) {cost['healthz'] / cost['checkin']:.2f}")
    print(f"\n| {args.backend} | {args.workers}×{args.threads} {args.worker_class} | {args.ratelimit_storage.split(':')[0]}{', X-RateLimit headers' if args.ratelimit_headers else ''} | "
          f"{trivial['rps']:.0f} | {trivial['p99']} | {checkin['rps']:.0f} | {checkin['p50']} | {checkin['p99']} | "
          f"{ratio:.2f} | {stored}/{accepted} |")


def seed(url: str, secret_key: str, workdir: Path, args) -> tuple[dict[int, tuple[dict, str]], list[int], object]:
    """Open activities of one team, volunteers, a logged-in session (with CSRF token) for each, and the app's
    session-cookie serializer."""
    from sqlalchemy import insert
    from sqlmodel import Session, SQLModel, select

    from volunteer_app import create_app
    from volunteer_app.db import make_engine
    from volunteer_app.models import Activity, Membership, Team, Theme, Unit, Volunteer, utcnow
    from volunteer_app.schema import ensure_reference_data

    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    now = utcnow()
    with Session(engine) as session:
        ensure_reference_data(session)
        unit = Unit(name="基准社区", level="community", code="BENCH", path="/1/")
        session.add(unit)
        session.flush()
        team = Team(name="基准志愿服务队", unit_id=unit.id, status="active", invite_nonce=secrets.token_hex(8))
        session.add(team)
        session.flush()
        theme_id = session.exec(select(Theme.id)).first()
        session.execute(insert(Volunteer), [
            {"name": f"志愿者{i}", "phone": f"1970{i:07d}", "phone_tail": f"{i % 10000:04d}", "password_hash": "!",
             "role": "volunteer", "is_active": True, "session_version": 1, "created_at": now}
            for i in range(args.volunteers)
        ])
        session.execute(insert(Activity), [
            {"team_id": team.id, "theme_id": theme_id, "unit_id": unit.id, "title": f"基准活动{i}", "place": "",
             "starts_at": now - timedelta(minutes=30), "ends_at": now + timedelta(hours=3), "status": "open",
             "qr_mode": "rotating", "members_only": True, "is_retro": False, "secret": secrets.token_hex(16),
             "created_at": now, "opened_at": now, "attendee_count": 0, "total_minutes": 0}
            for i in range(args.activities)
        ])
        session.flush()
        volunteer_ids = list(session.exec(select(Volunteer.id).order_by(Volunteer.id)))
        # members-only activities, as most are: the check-in also reads the membership
        session.execute(insert(Membership), [
            {"team_id": team.id, "volunteer_id": v, "role": "member", "status": "active", "created_at": now,
             "joined_at": now, "updated_at": now} for v in volunteer_ids
        ])
        session.commit()
        activity_ids = list(session.exec(select(Activity.id).order_by(Activity.id)))
    engine.dispose()

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key, "TESTING": False})
    sessions = {volunteer_id: logged_in_session(app, volunteer_id) for volunteer_id in volunteer_ids}
    app.extensions["db_engine"].dispose()
    return sessions, activity_ids, app.session_interface.get_signing_serializer(app)


def write_requests(url: str, secret_key: str, sessions: dict, serializer, activity_ids: list[int],
                   workdir: Path) -> Path:
    """One line per new attendance: volunteer-major, so each person's requests stay under the per-user limit.

    The cookie holds the scan its GET kept (views.PENDING_KEY), timed now: the POSTs follow within 10 minutes."""
    from urllib.parse import urlencode

    from sqlmodel import Session, select

    from volunteer_app import tokens
    from volunteer_app.checkin.views import PENDING_KEY
    from volunteer_app.db import make_engine
    from volunteer_app.models import Activity, utcnow

    engine = make_engine(url)
    with Session(engine) as session:
        secrets_by_id = {a: s for a, s in session.exec(select(Activity.id, Activity.secret))}
    engine.dispose()
    minted = {a: tokens.rotating_token(secret_key=secret_key, activity_id=a, activity_secret=secrets_by_id[a])
              for a in activity_ids}
    scanned_at = utcnow().timestamp()
    path = workdir / "requests.tsv"
    with path.open("w") as fh:
        for session, csrf in sessions.values():
            for activity_id in activity_ids:
                token = minted[activity_id]
                cookie = serializer.dumps({**session, PENDING_KEY: {"token": token, "scanned_at": scanned_at}})
                body = urlencode({"csrf_token": csrf, "action": "in", "activity": activity_id})
                fh.write(f"/c/{token}\t{cookie}\t{body}\n")
    return path


def count_attendances(url: str) -> int:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from volunteer_app.db import make_engine
    from volunteer_app.models import Attendance

    engine = make_engine(url)
    with Session(engine) as session:
        count = session.exec(select(func.count(Attendance.id))).one()
    engine.dispose()
    return count


if __name__ == "__main__":
    main()
