"""How much of a check-in is Flask: the check-in POST in process, against its own work done without Flask.

    .venv/bin/python benchmarks/checkin_floor.py
    .venv/bin/python benchmarks/checkin_floor.py --backend postgresql

No HTTP server and no network: it seeds a fresh database as checkin_bench.py does (open members-only
activities, members, logged-in sessions that keep the scan of the code, as a phone's after the GET), then
measures the CPU milliseconds per request of three things, each on its own distinct new attendances:

1. `GET /healthz` through `app.wsgi_app` (the trivial endpoint);
2. the check-in `POST /c/<token>` through `app.wsgi_app` (all of Flask: contexts, routing, hooks, CSRF, the view);
3. the same request's own work called directly: parse the cookie header, open the session with the app's
   signing serializer, parse the form, check the CSRF token as Flask-WTF does, `checkin.service.self_check_in`,
   and build the answer's headers (the security headers included).

The difference between 2 and 3 is what Flask's request handling costs a check-in: what a route served outside
Flask could save (docs/PERFORMANCE.md, "Check-in throughput"). It checks that every request of 2 was answered 303
and that every attendance of 2 and 3 was written. Bounded by --requests.
"""
from __future__ import annotations

import argparse
import hmac
import io
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

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
        half = args.requests + warm
        statuses: dict[str, int] = {}
        healthz = _cpu_ms(lambda _line: _call(app, _environ("GET", "/healthz"), statuses), [None] * half, warm)
        healthz_ok = statuses.pop("200 OK", 0) == half
        through_flask = _cpu_ms(
            lambda line: _call(app, _environ("POST", line[0], cookie=line[1], body=line[2].encode()), statuses),
            lines[:half], warm)
        flask_ok = statuses == {"303 SEE OTHER": half}
        own_work = _OwnWork(app)
        direct = _cpu_ms(own_work, lines[half:2 * half], warm)
        stored = count_attendances(url)
        app.extensions["db_engine"].dispose()
    finally:
        drop()

    print(f"{args.backend}: CPU ms per request, median of {args.requests} after {warm} warm-up requests each")
    print(f"  GET /healthz through Flask                {healthz:.3f} ms  ({'all 200' if healthz_ok else 'NOT ALL 200'})")
    print(f"  check-in POST through Flask               {through_flask:.3f} ms  "
          f"({'all 303' if flask_ok else f'ANSWERS {statuses}'})")
    print(f"  the check-in's own work, without Flask    {direct:.3f} ms  ({own_work.written} written)")
    print(f"  Flask's request handling of a check-in    {through_flask - direct:.3f} ms")
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


def _call(app, environ: dict, statuses: dict) -> None:
    def start_response(status, _headers, _exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    response = app.wsgi_app(environ, start_response)
    for _chunk in response:
        pass
    getattr(response, "close", lambda: None)()


class _OwnWork:
    """A check-in's unavoidable work, without Flask's request handling (a measurement, not a route)."""

    def __init__(self, app):
        from itsdangerous import URLSafeTimedSerializer
        from werkzeug.http import parse_cookie

        from volunteer_app.accounts.auth import parse_session_id
        from volunteer_app.checkin import service
        from volunteer_app.checkin.views import kept_scan
        from volunteer_app.models import utcnow
        from volunteer_app.security import SECURITY_HEADERS

        self.parse_cookie, self.parse_session_id, self.service, self.utcnow = (parse_cookie, parse_session_id,
                                                                               service, utcnow)
        self.kept_scan, self.security_headers = kept_scan, SECURITY_HEADERS
        self.engine = app.extensions["db_engine"]
        self.secret_key = app.config["SECRET_KEY"]
        self.sessions = app.session_interface.get_signing_serializer(app)
        self.session_max_age = int(app.permanent_session_lifetime.total_seconds())
        # Flask-WTF's token: the same salt and time limit as flask_wtf.csrf.validate_csrf
        self.csrf = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
                                           salt="wtf-csrf-token")
        self.csrf_max_age = app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
        self.written = 0

    def __call__(self, line: list[str]) -> None:
        path, cookie, body = line
        session = self.sessions.loads(self.parse_cookie(f"session={cookie}")["session"], max_age=self.session_max_age)
        form = {}
        for name, value in parse_qsl(body, keep_blank_values=True):
            form.setdefault(name, value)
        if not hmac.compare_digest(session["csrf_token"], self.csrf.loads(form["csrf_token"], max_age=self.csrf_max_age)):
            raise RuntimeError("CSRF token refused")
        volunteer_id, version = self.parse_session_id(session["_user_id"])
        token = path.removeprefix("/c/")
        now = self.utcnow()
        scanned_at = self.kept_scan(session, token, now) or now
        checked_in = self.service.self_check_in(
            engine=self.engine, token=token, secret_key=self.secret_key, scanned_at=scanned_at,
            volunteer_id=volunteer_id, session_version=version, expected_activity_id=int(form["activity"]))
        if checked_in is None:
            raise RuntimeError("login refused")
        self.headers = [("Content-Type", "text/html; charset=utf-8"), ("Location", f"/c/result/{checked_in.activity_id}"),
                        *self.security_headers, ("Vary", "HX-Request, Cookie")]
        self.written += 1


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
