"""Which HTTP server: gunicorn (sync, sync with its C parser, gthread) and Granian side by side, route by route.

    .venv/bin/python benchmarks/server_bench.py checkin --backend sqlite --rounds 3
    .venv/bin/python benchmarks/server_bench.py checkin --backend postgresql --rounds 3
    .venv/bin/python benchmarks/server_bench.py office --url sqlite:////tmp/rv-city.db --rounds 3
    .venv/bin/python benchmarks/server_bench.py export --url sqlite:////tmp/rv-city.db

Every server gets two workers (two cores); `--servers` picks from _server.SERVERS. The rounds are interleaved:
each round runs every server once, in an order rotated from round to round, and the summary gives the median
of the rounds per server, with the machine's load average beside each run (this machine is shared).

- `checkin`: per round a fresh database as checkin_bench.py seeds it (open members-only activities, members with
  logged-in session cookies that keep the scan, made offline); per server `wrk -t2 -c32` for --duration seconds
  on GET /healthz, then on POST /c/<token> where every request is a new attendance (each server its own slice
  of the requests). After each run it counts the attendances: every accepted POST stored exactly once (up to the
  32 requests in flight when wrk stops, which may be stored without being counted); the unique constraint forbids
  a second row per person and activity.
- `office`: the full-year city dashboard (`/office?from=..&to=..`, the data's whole span) of a seeded city
  database (`volunteer-app seed-demo --scale city`), logged in as the city office, `wrk -t2 -c8`.
- `export`: one client downloads the full-year record export (`/office/export.csv?kind=records`, ~1.2 M rows for
  the city) from each server as it would be deployed (gunicorn's default 30 s --timeout, or --export-timeout);
  it reports time, bytes, rows and whether the download was complete (its rows = the closed, non-voided
  attendances of the span). Bounded by --export-deadline per server.

Reported per run: req/s, p50/p99 latency (wrk) and the server's CPU milliseconds per request (user + system of
every process of the server's process group, from /proc, before and after). Only ever talks to 127.0.0.1; every
load run is bounded by its duration.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path

from _server import (BENCH_USER_AGENT, HOST, ROOT, SERVERS, group_cpu_seconds, logged_in_session, make_database,
                     run_wrk, start_server, stop_server)

sys.path.insert(0, str(ROOT))

from checkin_bench import LUA, count_attendances, seed, write_requests  # noqa: E402  (after the path is set)

SHANGHAI = timezone(timedelta(hours=8))
DEFAULT_SERVERS = "gunicorn-sync,gunicorn-sync-c,gunicorn-gthread,granian"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["checkin", "office", "export"])
    parser.add_argument("--servers", default=DEFAULT_SERVERS, help=f"comma-separated, of {', '.join(SERVERS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (bounded)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--url", help="office/export: the database of a seeded city")
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument("--ratelimit-storage", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--export-timeout", type=int, default=None,
                        help="gunicorn --timeout for the export run (default: gunicorn's own, 30 s)")
    parser.add_argument("--export-deadline", type=int, default=600, help="seconds at most per export download")
    parser.add_argument("--json", type=Path, default=None, help="append every run as a JSON line to this file")
    args = parser.parse_args()
    servers = [name for name in args.servers.split(",") if name]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        sys.exit(f"unknown servers: {unknown}")
    runs = {"checkin": checkin_rounds, "office": office_rounds, "export": export_runs}[args.what](args, servers)
    summarise(args, runs)


def checkin_rounds(args, servers: list[str]) -> list[dict]:
    runs = []
    per_run = 4000 * args.duration  # distinct new attendances one server may need (more than 3,000/s for the run)
    args.volunteers = -(-per_run * len(servers) // args.activities)
    for round_no in range(args.rounds):
        order = servers[round_no % len(servers):] + servers[:round_no % len(servers)]
        workdir = Path(tempfile.mkdtemp(prefix="rv-server-bench-"))
        secret_key = secrets.token_urlsafe(32)
        url, drop = make_database(args, workdir, "serverbench")
        try:
            sessions, activity_ids, serializer = seed(url, secret_key, workdir, args)
            lines = write_requests(url, secret_key, sessions, serializer, activity_ids, workdir).read_text().splitlines()
            script = workdir / "checkin.lua"
            script.write_text(LUA.replace("{user_agent}", BENCH_USER_AGENT))
            for index, server_name in enumerate(order):
                mine = workdir / f"requests-{server_name}.tsv"
                mine.write_text("\n".join(lines[index * per_run:(index + 1) * per_run]) + "\n")
                _flush_redis(args.ratelimit_storage)
                server = start_server(server_name, url=url, secret_key=secret_key, workdir=workdir, port=args.port,
                                      ratelimit_storage=args.ratelimit_storage)
                try:
                    base = f"http://{HOST}:{args.port}"
                    wrk = {"threads": 2, "connections": 32, "duration": args.duration}
                    load = os.getloadavg()[0]
                    healthz = run_wrk(f"{base}/healthz", server=server, **wrk)
                    runs.append(_row(args, round_no, server_name, "healthz", healthz, load))
                    before = count_attendances(url)
                    load = os.getloadavg()[0]
                    checkin = run_wrk(f"{base}/", script=script, script_args=(str(mine), "2"), server=server, **wrk)
                    stored = count_attendances(url) - before
                finally:
                    stop_server(server)
                accepted = checkin["requests"] - checkin["errors"]
                row = _row(args, round_no, server_name, "checkin", checkin, load)
                row["stored_accepted"] = f"{stored}/{accepted}"
                row["stored_ok"] = accepted <= stored <= accepted + 32 and checkin["requests"] <= per_run
                runs.append(row)
                _emit(args, runs[-2:])
        finally:
            drop()
    return runs


def office_rounds(args, servers: list[str]) -> list[dict]:
    runs = []
    cookie, span = _office_login(args)
    script = Path(tempfile.mkdtemp(prefix="rv-office-")) / "office.lua"
    script.write_text(f'wrk.headers["Cookie"] = "session={cookie}"\nwrk.headers["User-Agent"] = "{BENCH_USER_AGENT}"\n')
    for round_no in range(args.rounds):
        order = servers[round_no % len(servers):] + servers[:round_no % len(servers)]
        for server_name in order:
            workdir = Path(tempfile.mkdtemp(prefix="rv-office-"))
            server = start_server(server_name, url=args.url, secret_key=args.secret_key, workdir=workdir,
                                  port=args.port, ratelimit_storage=args.ratelimit_storage)
            try:
                page = f"http://{HOST}:{args.port}/office?{span}"
                # warm-up, not counted: each worker's first visits build its templates and its dashboard memo
                run_wrk(page, threads=2, connections=8, duration=3, script=script)
                load = os.getloadavg()[0]
                result = run_wrk(page, server=server, threads=2, connections=8, duration=args.duration, script=script)
            finally:
                stop_server(server)
            runs.append(_row(args, round_no, server_name, "office", result, load))
            _emit(args, runs[-1:])
    return runs


def export_runs(args, servers: list[str]) -> list[dict]:
    runs = []
    cookie, span = _office_login(args)
    expected = _expected_records(args.url, span)
    for server_name in servers:
        workdir = Path(tempfile.mkdtemp(prefix="rv-export-"))
        extra = ("--timeout", str(args.export_timeout)) if args.export_timeout is not None \
            and SERVERS[server_name][0] == "gunicorn" else ()
        server = start_server(server_name, url=args.url, secret_key=args.secret_key, workdir=workdir,
                              port=args.port, ratelimit_storage=args.ratelimit_storage, extra=extra)
        cpu_before = group_cpu_seconds(server.pid)
        load = os.getloadavg()[0]
        started = time.monotonic()
        status, size, rows, error = 0, 0, 0, ""
        try:
            conn = http.client.HTTPConnection(HOST, args.port, timeout=120)
            conn.request("GET", f"/office/export.csv?kind=records&{span}",
                         headers={"Cookie": f"session={cookie}", "User-Agent": BENCH_USER_AGENT})
            response = conn.getresponse()
            status = response.status
            while time.monotonic() - started < args.export_deadline:
                chunk = response.read1(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                rows += chunk.count(b"\n")
            else:
                error = f"stopped after the {args.export_deadline} s deadline"
        except (OSError, http.client.HTTPException) as exc:  # the status line, if any, stays what it was
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - started
        cpu = group_cpu_seconds(server.pid) - cpu_before
        log = (workdir / "server.log").read_text()
        stop_server(server)
        complete = rows - 1 == expected and not error  # one header line
        runs.append({"what": "export", "backend": args.url.split(":")[0], "server": server_name, "round": 0,
                     "status": status, "seconds": round(seconds, 1), "MB": round(size / 1e6, 1), "rows": rows - 1,
                     "expected": expected, "complete": complete, "server_cpu_s": round(cpu, 1),
                     "load": round(load, 1), "error": error,
                     "worker_killed": "WORKER TIMEOUT" in log or "was sent SIGKILL" in log})
        _emit(args, runs[-1:])
    return runs


def _office_login(args) -> tuple[str, str]:
    """(session cookie of the city-wide office account, the query string of the data's whole span)."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from volunteer_app import create_app
    from volunteer_app.models import Activity, Volunteer

    if not args.url:
        sys.exit("--url: the database of a seeded city")
    args.secret_key = secrets.token_urlsafe(32)
    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": args.secret_key, "TESTING": False})
    with Session(app.extensions["db_engine"]) as session:
        office = session.exec(select(Volunteer.id).where(Volunteer.phone == "19900000001")).one()
        first, last = session.exec(select(func.min(Activity.starts_at), func.max(Activity.starts_at))).one()
    session_data, _csrf = logged_in_session(app, office)
    cookie = app.session_interface.get_signing_serializer(app).dumps(session_data)
    app.extensions["db_engine"].dispose()
    return cookie, f"from={first.astimezone(SHANGHAI).date()}&to={last.astimezone(SHANGHAI).date()}"


def _expected_records(url: str, span: str) -> int:
    """The rows the record export of span should hold, counted by the export's own query."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from sqlmodel import Session, select

    from volunteer_app import create_app
    from volunteer_app.models import Volunteer
    from volunteer_app.reports import export
    from volunteer_app.reports.filters import parse_filter

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 40, "TESTING": True})
    params = dict(part.split("=") for part in span.split("&"))
    with app.test_request_context(), Session(app.extensions["db_engine"]) as session:
        office = session.exec(select(Volunteer).where(Volunteer.phone == "19900000001")).one()
        f = parse_filter(params, session=session, office=office, zone=ZoneInfo("Asia/Shanghai"), today=date.today())
        count = sum(1 for _row in export.record_rows(session, f))
    app.extensions["db_engine"].dispose()
    return count


def _flush_redis(uri: str) -> None:
    if uri.startswith("redis"):
        import redis

        redis.Redis.from_url(uri).flushdb()


def _row(args, round_no: int, server: str, route: str, result: dict, load: float) -> dict:
    backend = args.backend if args.what == "checkin" else args.url.split(":")[0].split("+")[0]
    return {"what": args.what, "backend": backend, "server": server, "route": route, "round": round_no,
            "rps": result["rps"], "p50": result["p50"], "p99": result["p99"], "requests": result["requests"],
            "errors": result["errors"], "socket_errors": result["socket_errors"],
            "cpu_ms": result["server_cpu_ms"], "load": round(load, 1)}


def _emit(args, rows: list[dict]) -> None:
    for row in rows:
        print("RUN", json.dumps(row, ensure_ascii=False), flush=True)
        if args.json:
            with args.json.open("a") as fh:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def summarise(args, runs: list[dict]) -> None:
    if args.what == "export":
        print("\n| server | status | seconds | MB | rows / expected | complete | worker killed | server CPU s | load |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in runs:
            print(f"| {r['server']} | {r['status']} | {r['seconds']} | {r['MB']} | {r['rows']} / {r['expected']} | "
                  f"{'yes' if r['complete'] else 'NO ' + r['error']} | {'yes' if r['worker_killed'] else 'no'} | "
                  f"{r['server_cpu_s']} | {r['load']} |")
        return
    print(f"\nmedians of {args.rounds} interleaved rounds ({args.what}, {runs[0]['backend'] if runs else ''})")
    print("| server | route | req/s | p50 ms | p99 ms | server CPU ms/request | errors | load (runs) | stored/accepted |")
    print("|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["server"], r["route"]) for r in runs}, key=lambda k: (k[1], k[0]))
    for server, route in keys:
        mine = [r for r in runs if r["server"] == server and r["route"] == route]
        med = {k: statistics.median(r[k] for r in mine) for k in ("rps", "p50", "p99", "cpu_ms")}
        stored = " ".join(r.get("stored_accepted", "") for r in mine)
        ok = all(r.get("stored_ok", True) for r in mine)
        print(f"| {server} | {route} | {med['rps']:.0f} | {med['p50']:.1f} | {med['p99']:.1f} | {med['cpu_ms']:.2f} | "
              f"{sum(r['errors'] for r in mine)} | {'/'.join(str(r['load']) for r in mine)} | "
              f"{stored + ('' if ok else ' MISMATCH') if stored else ''} |")


if __name__ == "__main__":
    main()
