"""Benchmark `volunteer-app seed-demo` on a fresh SQLite file and a fresh PostgreSQL database.

    .venv/bin/python benchmarks/seed_bench.py [--scale city] [--backend sqlite --backend postgresql]

Each run is `volunteer-app db upgrade` then `volunteer-app seed-demo --scale <scale>`, each in its own
process, measured from outside: wall time, CPU time (user + system) and peak resident memory of that
process (os.wait4's rusage, so one run's peak never leaks into the next). CPU time is printed beside
wall time because this machine is shared: when other processes compete for the two cores, wall time
grows while CPU time stays near what a quiet machine would need. The load average is printed too.

The PostgreSQL database `rv_bench_seed` is dropped and created on the server at --pg-admin-url, and
dropped again at the end; the SQLite file lives in a temporary directory. Every step has a timeout.
Target (issue 2): city scale into SQLite in ≤ 30 s and ≤ 500 MB peak memory. Results: docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "volunteer-app"
sys.path.insert(0, str(ROOT))

from volunteer_app.scratch import scratch_database  # noqa: E402  (after the path is set)
PG_DATABASE = "rv_bench_seed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="city", choices=("city", "small"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"),
                        help="repeatable; default: both")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per step")
    args = parser.parse_args()
    if not CLI.exists():
        print(f"{CLI} is missing: run `make setup` first", file=sys.stderr)
        return 2

    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory(prefix="rv-seed-bench-") as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
            else:
                try:
                    url, drop = scratch_database(args.pg_admin_url, PG_DATABASE)
                except Exception as exc:  # the server is absent or refuses us
                    print(f"PostgreSQL at {args.pg_admin_url} is not reachable ({type(exc).__name__}); skipping it",
                          file=sys.stderr)
                    continue
            env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32),
                       VOLUNTEER_APP_INSTANCE=f"{tmp}/instance")
            try:
                upgrade = run([str(CLI), "db", "upgrade"], env, args.timeout)
                seed = run([str(CLI), "seed-demo", "--scale", args.scale, "--seed", str(args.seed)], env,
                           args.timeout)
                size = _database_size(backend, url, tmp)
            finally:
                if backend == "postgresql":
                    drop()
            rows = re.search(r"([\d,]+) attendances", seed["output"])
            results.append((backend, upgrade, seed, rows.group(1) if rows else "?", size))

    print(f"\nseed-demo --scale {args.scale} --seed {args.seed}  ({os.cpu_count()} CPUs, "
          f"load average at start/end shown per run)")
    header = ("backend", "step", "wall s", "cpu s", "peak MB", "attendances", "db size MB", "load avg")
    print("  ".join(f"{h:>12}" for h in header))
    for backend, upgrade, seed, rows, size in results:
        for step, r in (("db upgrade", upgrade), ("seed-demo", seed)):
            print("  ".join(f"{v:>12}" for v in (
                backend, step, f"{r['wall']:.1f}", f"{r['cpu']:.1f}", f"{r['rss_mb']:.0f}",
                rows if step == "seed-demo" else "", f"{size:.0f}" if step == "seed-demo" else "",
                f"{r['load'][0]:.1f}/{r['load'][1]:.1f}")))
    failed = [r for _b, u, s, _r, _s in results for r in (u, s) if r["status"] != 0]
    return 1 if failed else 0


def run(command: list[str], env: dict, timeout: float) -> dict:
    """Run one step in its own process; its wall time, CPU time and peak RSS (killed after timeout)."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile(mode="w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        # wait4 reaps exactly this child and returns its own resource usage (peak RSS, CPU time).
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        timer.cancel()
        process.returncode = status = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if status != 0:
        print(output, file=sys.stderr)
    name = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command))
    print(f"  {name}: {wall:.1f} s, exit {status}", flush=True)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "status": status, "output": output, "load": (load_before, os.getloadavg()[0])}


def _database_size(backend: str, url: str, tmp: str) -> float:
    if backend == "sqlite":
        return sum(p.stat().st_size for p in Path(tmp).glob("bench.db*")) / 2**20
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return size / 2**20


if __name__ == "__main__":
    sys.exit(main())
