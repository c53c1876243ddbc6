"""Sign-ups per second at the last places: a crowd taps "sign up" at once for an activity that is nearly full.

    .venv/bin/python benchmarks/signup_bench.py --backend sqlite
    .venv/bin/python benchmarks/signup_bench.py --backend postgresql

Seeds a fresh database (one team, one activity with `--places` left of its capacity, `--crowd` volunteers),
then every volunteer POSTs /activities/<id>/signup through the Flask app in-process (the test client, no HTTP
server: this measures the app and the database, not the network), `--threads` at a time. Checks afterwards that
exactly `--places` were admitted and the rest waitlisted, and prints sign-ups per second and the latency
percentiles. Bounded: the crowd is finite (a few seconds).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from _server import ROOT, make_database, pct

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--crowd", type=int, default=1000)
    parser.add_argument("--places", type=int, default=10)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    from sqlalchemy import func
    from sqlmodel import Session, SQLModel, select

    from volunteer_app import create_app
    from volunteer_app.db import make_engine
    from volunteer_app.models import Activity, Signup, Team, Theme, Unit, Volunteer, utcnow
    from volunteer_app.schema import ensure_reference_data

    workdir = Path(tempfile.mkdtemp(prefix="rv-signup-bench-"))
    url, drop = make_database(args, workdir, "signup")
    try:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            ensure_reference_data(session)
            unit = Unit(name="社区", level="district", code="B01", path="")
            session.add(unit)
            session.flush()
            unit.path = f"/{unit.id}/"
            team = Team(name="队", unit_id=unit.id, status="active", join_policy="auto", invite_nonce="x")
            session.add(team)
            session.flush()
            start = utcnow().replace(microsecond=0) + timedelta(days=1)
            activity = Activity(team_id=team.id, theme_id=session.exec(select(Theme.id)).first(), unit_id=unit.id,
                                title="路口执勤", place="路口", starts_at=start, ends_at=start + timedelta(hours=2),
                                secret="s" * 32, audience="city", members_only=False, capacity=args.places + 40,
                                admitted_count=40)
            session.add(activity)
            people = [Volunteer(name=f"v{i}", phone=f"199{i:08d}", phone_tail=f"{i:04d}"[-4:], password_hash="x",
                                consent_at=utcnow()) for i in range(args.crowd)]
            session.add_all(people)
            session.commit()
            activity_id, ids = activity.id, [(p.id, p.session_version) for p in people]
        engine.dispose()

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-not-for-production",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "DB_POOL_SIZE": args.threads,
                          "TESTING": False})
        clients = []
        for volunteer_id, version in ids:
            client = app.test_client()
            with client.session_transaction() as http:
                http["_user_id"] = f"{volunteer_id}:{version}"
                http["_fresh"] = True
            clients.append(client)

        def tap(client) -> tuple[int, float]:
            began = time.perf_counter()
            code = client.post(f"/activities/{activity_id}/signup", headers={"HX-Request": "true"}).status_code
            return code, time.perf_counter() - began

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            results = list(pool.map(tap, clients))
        elapsed = time.perf_counter() - began
        app.extensions["db_engine"].dispose()

        engine = make_engine(url)
        with Session(engine) as session:
            counts = dict(session.exec(select(Signup.status, func.count()).group_by(Signup.status)).all())
        engine.dispose()
        codes = sorted({code for code, _ in results})
        assert codes == [200] and counts == {"admitted": args.places, "waitlisted": args.crowd - args.places}, \
            (codes, counts)
        latencies = [seconds * 1000 for _, seconds in results]
        print(f"| {args.backend} | {args.crowd} sign-ups, {args.places} places left, {args.threads} threads "
              f"| {args.crowd / elapsed:.0f}/s | p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms "
              f"| {counts['admitted']} admitted, {counts['waitlisted']} waitlisted |")
    finally:
        drop()


if __name__ == "__main__":
    main()
