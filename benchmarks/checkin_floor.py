"""How much of a check-in is Flask: the check-in POST in process, through Flask and through the check-in lane.

    .venv/bin/python benchmarks/checkin_floor.py
    .venv/bin/python benchmarks/checkin_floor.py --backend postgresql

No HTTP server and no network: it seeds a fresh database as checkin_bench.py does (open members-only
activities, members, logged-in sessions that keep the scan of the code, as a phone's after the GET), then
measures the CPU milliseconds per request of three things, each on its own distinct new attendances:

1. `GET /healthz` through the app (the trivial endpoint);
2. the check-in `POST /c/<token>` through Flask alone (all of it: contexts, routing, hooks, CSRF, the view);
3. the same request through the app as served: the check-in lane (volunteer_app/checkin/lane.py) answers it in
   front of Flask, doing the request's own work (cookie, session, form, CSRF, self_check_in, headers).

The difference between 2 and 3 is what Flask's request handling costs a check-in, and what the lane saves
(docs/PERFORMANCE.md, "Check-in throughput"). It checks that every check-in was answered 303, that the lane
answered every one of 3, and that every attendance was written. Bounded by --requests.
"""
from __future__ import annotations

import argparse
import io
import secrets
import sys
import tempfile
import time
from pathlib import Path

from _server import BENCH_USER_AGENT, HOST, ROOT, make_database

sys.path.insert(0, str(ROOT))

from checkin_bench import count_attendances, seed, write_requests  # noqa: E402  (after the path is set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=5000, help="timed requests of each kind")
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--ratelimit-storage", default="redis://127.0.0.1:6379/15",
                        help="as checkin_bench.py (a new check-in touches no limit, so this hardly matters)")
    args = parser.parse_args()
    warm = 300
    args.volunteers = -(-(2 * (args.requests + warm)) // args.activities)  # two kinds, each its own attendances

    workdir = Path(tempfile.mkdtemp(prefix="rv-floor-"))
    secret_key = secrets.token_urlsafe(32)
    url, drop = make_database(args, workdir, "floor")
    try:
        sessions, activity_ids, serializer = seed(url, secret_key, workdir, args)
        requests_file = write_requests(url, secret_key, sessions, serializer, activity_ids, workdir)
        lines = [line.split("\t") for line in requests_file.read_text().splitlines()]
        from volunteer_app import create_app

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key, "TESTING": False,
                          "RATELIMIT_STORAGE_URI": args.ratelimit_storage})
        from volunteer_app.checkin.lane import CheckinLane

        if not isinstance(app.wsgi_app, CheckinLane):
            sys.exit("the check-in lane is not installed (CHECKIN_LANE, or request hooks it does not know)")
        checkin_lane, flask_alone = app.wsgi_app, app.wsgi_app.wsgi_app
        half = args.requests + warm
        statuses: dict[str, int] = {}
        healthz = _cpu_ms(lambda _line: _call(app.wsgi_app, _environ("GET", "/healthz"), statuses),
                          [None] * half, warm)
        healthz_ok = statuses.pop("200 OK", 0) == half
        through_flask = _cpu_ms(
            lambda line: _call(flask_alone, _environ("POST", line[0], cookie=line[1], body=line[2].encode()),
                               statuses), lines[:half], warm)
        flask_ok = statuses == {"303 SEE OTHER": half}
        statuses.clear()
        reached_flask = []
        checkin_lane.wsgi_app = lambda environ, start_response: reached_flask.append(environ) or flask_alone(
            environ, start_response)
        through_lane = _cpu_ms(
            lambda line: _call(checkin_lane, _environ("POST", line[0], cookie=line[1], body=line[2].encode()),
                               statuses), lines[half:2 * half], warm)
        lane_ok = statuses == {"303 SEE OTHER": half} and not reached_flask
        stored = count_attendances(url)
        app.extensions["db_engine"].dispose()
    finally:
        drop()

    print(f"{args.backend}: CPU ms per request, median of {args.requests} after {warm} warm-up requests each")
    print(f"  GET /healthz                              {healthz:.3f} ms  ({'all 200' if healthz_ok else 'NOT ALL 200'})")
    print(f"  check-in POST through Flask alone         {through_flask:.3f} ms  "
          f"({'all 303' if flask_ok else 'NOT ALL 303'})")
    print(f"  check-in POST as served (the lane)        {through_lane:.3f} ms  "
          f"({'all 303 from the lane' if lane_ok else f'{len(reached_flask)} reached Flask, answers {statuses}'})")
    print(f"  what the lane saves a check-in            {through_flask - through_lane:.3f} ms")
    print(f"attendances stored: {stored} of {2 * half} ({'OK' if stored == 2 * half else 'MISMATCH'})")


def _environ(method: str, path: str, *, cookie: str | None = None, body: bytes = b"") -> dict:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": HOST, "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0), "REMOTE_ADDR": HOST, "HTTP_HOST": HOST, "HTTP_USER_AGENT": BENCH_USER_AGENT,
    }
    if cookie:
        environ["HTTP_COOKIE"] = f"session={cookie}"
    if body:
        environ.update(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)))
    return environ


def _call(wsgi_app, environ: dict, statuses: dict) -> None:
    def start_response(status, _headers, _exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    response = wsgi_app(environ, start_response)
    for _chunk in response:
        pass
    getattr(response, "close", lambda: None)()


def _cpu_ms(call, items: list, warm: int) -> float:
    """CPU milliseconds per call(item) after `warm` untimed calls: the median of 5 equal batches of the rest (a
    batch's mean is steadier than one call's time)."""
    for item in items[:warm]:
        call(item)
    timed = items[warm:]
    batch = max(1, len(timed) // 5)
    means = []
    for start in range(0, batch * 5, batch):
        begin = time.process_time()
        for item in timed[start:start + batch]:
            call(item)
        means.append((time.process_time() - begin) * 1000 / batch)
    return sorted(means)[2]


if __name__ == "__main__":
    main()
