"""Does the check-in's driver path still pay? The check-in POST through Flask, in process, two ways.

    .venv/bin/python benchmarks/checkin_paths.py --backend sqlite
    .venv/bin/python benchmarks/checkin_paths.py --backend postgresql [--profile driver]

No HTTP server: it seeds a fresh database as checkin_bench.py does and sends each POST /c/<token> (a logged-in
member, the kept scan, a new attendance each time) to the app's WSGI callable, with either
- `driver`: the code as it is (service.self_check_in: the gate and the insert as DirectStatements on a pooled
  driver connection in autocommit mode), or
- `session`: the same two Core statements through the request's SQLAlchemy Session (the gate in the read
  transaction, the insert in db.write_transaction), which is what the route would do without the driver path.
Batches of --batch requests alternate between the two (--rounds each, the order flipped every round); it prints
the median CPU and wall milliseconds per check-in of each, checks every answer was 303 and every attendance
stored. Bounded by --rounds x --batch.
"""
from __future__ import annotations

import argparse
import io
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _server import BENCH_USER_AGENT, HOST, ROOT, make_database

sys.path.insert(0, str(ROOT))

from checkin_bench import count_attendances, seed, write_requests  # noqa: E402  (after the path is set)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    p.add_argument("--batch", type=int, default=300)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--activities", type=int, default=20)
    p.add_argument("--profile", choices=["driver", "session"], help="cProfile the timed batches of this variant")
    args = p.parse_args()
    variants = ["driver", "session"]
    total = (args.rounds * len(variants) + 2) * args.batch
    args.volunteers = -(-total // args.activities)
    workdir = Path(tempfile.mkdtemp(prefix="rv-cmp-"))
    secret = secrets.token_urlsafe(32)
    url, drop = make_database(args, workdir, "cmp")
    try:
        sessions, activity_ids, serializer = seed(url, secret, workdir, args)
        requests_file = write_requests(url, secret, sessions, serializer, activity_ids, workdir)
        lines = [line.split("\t") for line in requests_file.read_text().splitlines()]
        from volunteer_app import create_app
        from volunteer_app import tokens
        from volunteer_app.checkin import service
        from volunteer_app.db import get_session, write_transaction

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret, "TESTING": False,
                          "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"})
        driver = service.self_check_in

        def session_path(*, engine, token, secret_key, scanned_at, volunteer_id, session_version,
                         expected_activity_id=None, device_hash=None, geo=None):
            session = get_session()
            parsed = tokens.parse_activity_token(token)
            gate = session.connection().execute(service._SELF_GATE.statement, {
                "activity_id": parsed.activity_id, "volunteer_id": volunteer_id, "recorded_by_id": None,
                "session_version": session_version}).first()
            if gate is not None and not gate.login_valid:
                return None
            service._check_token(parsed, gate, secret_key=secret_key, scanned_at=scanned_at,
                                 expected_activity_id=expected_activity_id)
            planned = service.plan_check_in(gate=gate, volunteer_id=volunteer_id, method="self_scan",
                                            device_hash=device_hash, geo=geo)
            with write_transaction() as s:
                conn = s.connection()
                new_id = conn.execute(service._INSERT_NEW[conn.dialect.name], planned).scalar()
            if new_id is None:
                raise service.NotWritten(planned)
            return service.CheckedIn(activity_id=gate.id, attendance_id=new_id)

        impl = {"driver": driver, "session": session_path}
        statuses = {}

        def environ(line):
            body = line[2].encode()
            return {"REQUEST_METHOD": "POST", "PATH_INFO": line[0], "QUERY_STRING": "", "SERVER_NAME": HOST,
                    "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                    "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
                    "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0), "REMOTE_ADDR": HOST,
                    "HTTP_HOST": HOST, "HTTP_USER_AGENT": BENCH_USER_AGENT, "HTTP_COOKIE": f"session={line[1]}",
                    "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body))}

        def call(line):
            def sr(status, headers, exc=None):
                statuses[status] = statuses.get(status, 0) + 1

            r = app.wsgi_app(environ(line), sr)
            for _ in r:
                pass
            getattr(r, "close", lambda: None)()

        pos = 0
        res = {v: [] for v in variants}
        for v in variants:  # warm
            service.self_check_in = impl[v]
            for line in lines[pos:pos + args.batch]:
                call(line)
            pos += args.batch
        prof = None
        if args.profile:
            import cProfile
            prof = cProfile.Profile()
        for r in range(args.rounds):
            for v in (variants if r % 2 == 0 else variants[::-1]):
                service.self_check_in = impl[v]
                batch = lines[pos:pos + args.batch]
                pos += args.batch
                if prof and v == args.profile:
                    prof.enable()
                t0, w0 = time.process_time(), time.perf_counter()
                for line in batch:
                    call(line)
                t1, w1 = time.process_time(), time.perf_counter()
                if prof and v == args.profile:
                    prof.disable()
                res[v].append(((t1 - t0) * 1000 / len(batch), (w1 - w0) * 1000 / len(batch)))
        stored = count_attendances(url)
        app.extensions["db_engine"].dispose()
    finally:
        drop()
    ok = statuses == {"303 SEE OTHER": pos} and stored == pos
    print(f"{args.backend}: answers {statuses}, attendances stored {stored} of {pos} ({'OK' if ok else 'MISMATCH'})")
    for v in variants:
        cpu = statistics.median(x[0] for x in res[v])
        wall = statistics.median(x[1] for x in res[v])
        print(f"{v:8s} CPU ms per check-in, median {cpu:.3f} (wall {wall:.3f}); batches: {[round(x[0], 3) for x in res[v]]}")
    if prof:
        import pstats
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
