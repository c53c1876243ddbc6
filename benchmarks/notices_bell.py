"""The bell's cost: the unread count every page with the menu pays, on a table of many people's notices.

    .venv/bin/python benchmarks/notices_bell.py --backend sqlite      (or postgresql; under a minute each)

Builds 200,000 notices (20,000 people, 10 each, a third unread; one person with 150 unread, counted to the cap),
then times unread_count() and prints its plan. Figures go in docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session, SQLModel

from volunteer_app.db import make_engine
from volunteer_app.models import Notice, Volunteer, utcnow
from volunteer_app.notices.service import unread_count

PEOPLE, EACH = 20_000, 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="rv-bell-"))
    if args.backend == "sqlite":
        url, drop = f"sqlite:///{workdir / 'bell.db'}", lambda: None
    else:
        from volunteer_app.scratch import scratch_database

        url, drop = scratch_database(args.pg_admin_url, f"rv_bell_{int(time.time())}")
    engine = make_engine(url)
    try:
        SQLModel.metadata.create_all(engine)
        now = utcnow()
        with Session(engine) as session:
            session.execute(insert(Volunteer), [
                {"id": i, "name": f"v{i}", "phone": f"199{i:08d}", "phone_tail": f"{i % 10000:04d}",
                 "password_hash": "x", "role": "volunteer", "created_at": now} for i in range(1, PEOPLE + 2)])
            rows = [{"volunteer_id": i, "kind": "join_approved", "params": {}, "created_at": now,
                     "read_at": None if n % 3 == 0 else now} for i in range(1, PEOPLE + 1) for n in range(EACH)]
            rows += [{"volunteer_id": PEOPLE + 1, "kind": "join_approved", "params": {}, "created_at": now,
                      "read_at": None} for _ in range(150)]
            session.execute(insert(Notice), rows)
            session.commit()
            if args.backend == "postgresql":
                session.execute(text("ANALYZE notice"))
                session.commit()
            for person, label in ((PEOPLE // 2, "4 unread"), (PEOPLE + 1, "150 unread (capped)")):
                timings = []
                for _ in range(2000):
                    start = time.perf_counter()
                    unread_count(session=session, volunteer_id=person)
                    timings.append(time.perf_counter() - start)
                    session.rollback()
                print(f"{args.backend} {label}: median {statistics.median(timings) * 1e6:.0f} µs, "
                      f"p95 {sorted(timings)[int(len(timings) * 0.95)] * 1e6:.0f} µs "
                      f"(count {unread_count(session=session, volunteer_id=person)})")
            prefix = "EXPLAIN QUERY PLAN " if args.backend == "sqlite" else "EXPLAIN "
            plan = session.execute(text(
                prefix + "SELECT count(*) FROM (SELECT id FROM notice WHERE volunteer_id = 7 AND read_at IS NULL "
                         "LIMIT 100) AS capped")).all()
            print("plan:", " | ".join(str(row[-1]) for row in plan))
    finally:
        engine.dispose()
        drop()


if __name__ == "__main__":
    main()
