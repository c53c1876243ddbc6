"""What the server benchmarks share: a fresh database, offline session cookies, an HTTP server on 127.0.0.1
(gunicorn or Granian: start, readiness wait, stop) and wrk with its latency figures and the server's CPU time.

Used by checkin_bench.py, server_bench.py and day_of_action.py; not a script of its own. Only ever talks to
127.0.0.1.
"""
from __future__ import annotations

import http.client
import os
import re
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BENCH_USER_AGENT = "rv-bench/1 (Android; phone)"  # every benchmark client sends it (see session_cookie)


def make_database(args, workdir: Path, name: str):
    """A fresh database: the SQLite file `<name>.db` in workdir, or the PostgreSQL database `rv_<name>_<pid>`
    on the server of args.pg_admin_url. Returns (url, drop); drop() removes it and workdir."""
    from volunteer_app.scratch import scratch_database

    if args.backend == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}", lambda: shutil.rmtree(workdir, ignore_errors=True)
    url, drop_database = scratch_database(args.pg_admin_url, f"rv_{name}_{os.getpid()}")

    def drop():
        drop_database()
        shutil.rmtree(workdir, ignore_errors=True)

    return url, drop


def session_cookie(app, volunteer_id: int) -> tuple[str, str]:
    """(session cookie value, CSRF token) of a logged-in volunteer, made offline as a phone that stayed logged in."""
    session, csrf = logged_in_session(app, volunteer_id)
    return app.session_interface.get_signing_serializer(app).dumps(session), csrf


def logged_in_session(app, volunteer_id: int) -> tuple[dict, str]:
    """(session contents, CSRF token) of a logged-in volunteer; the app's signing serializer makes the cookie.

    Like login_user(), it stores the session-protection identifier of the client that will use it (127.0.0.1
    with BENCH_USER_AGENT): without it flask-login would mark every request's session not fresh and the
    server would re-sign and send the cookie on every answer, which a real logged-in phone never causes."""
    from flask import session as http_session
    from flask_login.utils import _create_identifier
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context("/", headers={"User-Agent": BENCH_USER_AGENT}, environ_base={"REMOTE_ADDR": HOST}):
        http_session["_user_id"] = f"{volunteer_id}:1"
        http_session["_fresh"] = True
        http_session["_id"] = _create_identifier()
        csrf = generate_csrf()
        return dict(http_session), csrf


# The servers the benchmarks compare, each on two cores' worth of workers (--workers), all on 127.0.0.1.
# gunicorn's HTTP parser is named explicitly: with the gunicorn-h1c package installed, "auto" picks the C one.
SERVERS = {
    "gunicorn-sync": ("gunicorn", ["--worker-class", "sync", "--threads", "1", "--http-parser", "python"]),
    "gunicorn-sync-c": ("gunicorn", ["--worker-class", "sync", "--threads", "1", "--http-parser", "fast"]),
    "gunicorn-gthread": ("gunicorn", ["--worker-class", "gthread", "--threads", "8", "--http-parser", "python"]),
    "granian": ("granian", ["--blocking-threads", "1"]),
    "granian-4": ("granian", ["--blocking-threads", "4"]),
}


def start_server(server: str, *, url: str, secret_key: str, workdir: Path, port: int, ratelimit_storage: str,
                 workers: int = 2, extra: tuple[str, ...] = (), instance_config: str | None = None,
                 db_pool_size: int = 8) -> subprocess.Popen:
    """One of SERVERS serving the app on 127.0.0.1:port in its own process group; returns once /healthz answers.

    Settings without an environment variable go in instance/config.py (instance_config), as in a deployment.
    extra: more command-line options for the server (e.g. gunicorn's --timeout). The log is workdir/server.log."""
    program, options = SERVERS[server]
    if program == "gunicorn":
        command = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
                   "--log-level", "warning", *options, *extra, "volunteer_app:create_app()"]
    else:
        command = [str(ROOT / ".venv/bin/granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
                   "--workers", str(workers), "--log-level", "warning", *options, *extra, "--factory",
                   "volunteer_app:create_app"]
    return _start(command, url=url, secret_key=secret_key, workdir=workdir, port=port,
                  ratelimit_storage=ratelimit_storage, instance_config=instance_config, db_pool_size=db_pool_size)


def start_gunicorn(*, url: str, secret_key: str, workdir: Path, port: int, workers: int, threads: int,
                   ratelimit_storage: str, worker_class: str = "gthread",
                   instance_config: str | None = None) -> subprocess.Popen:
    """gunicorn with the given workers, threads and worker class (its default HTTP parser); see start_server."""
    command = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
               "--threads", str(threads), "--worker-class", worker_class, "--log-level", "warning",
               "volunteer_app:create_app()"]
    return _start(command, url=url, secret_key=secret_key, workdir=workdir, port=port,
                  ratelimit_storage=ratelimit_storage, instance_config=instance_config,
                  db_pool_size=max(threads, 5))


def _start(command: list[str], *, url: str, secret_key: str, workdir: Path, port: int, ratelimit_storage: str,
           instance_config: str | None, db_pool_size: int) -> subprocess.Popen:
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "config.py").write_text(instance_config or "")
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret_key, VOLUNTEER_APP_INSTANCE=str(instance),
               DB_POOL_SIZE=str(db_pool_size), RATELIMIT_STORAGE_URI=ratelimit_storage)
    log = workdir / "server.log"
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                              start_new_session=True)
    if not _ready(port):
        stop_server(server)
        raise SystemExit(f"{command[0]} did not start: " + log.read_text()[-2000:])
    return server


def _ready(port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_server(server: subprocess.Popen | None) -> None:
    """SIGTERM to the server's process group; SIGKILL if it has not gone after 20 s."""
    if server is None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


stop_gunicorn = stop_server  # day_of_action.py's name


def run_wrk(url: str, *, threads: int, connections: int, duration: int, script: Path | None = None,
            script_args: tuple[str, ...] = (), server: subprocess.Popen | None = None) -> dict:
    """One bounded wrk run (printed as wrk prints it); returns req/s, requests, non-2xx/3xx, socket errors and
    the p50/p99 latency in ms; with `server`, also the CPU milliseconds per request that the server's processes
    and wrk spent (user + system): a figure that other work on the machine hardly changes, unlike req/s."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script), url, "--", *script_args]
    else:
        command.append(url)
    server_before = group_cpu_seconds(server.pid) if server is not None else 0.0
    children_before = _children_cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    wrk_cpu = _children_cpu_seconds() - children_before
    server_cpu = group_cpu_seconds(server.pid) - server_before if server is not None else 0.0
    print(output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "server_cpu_ms": round(server_cpu * 1000 / max(requests, 1), 3),
        "wrk_cpu_ms": round(wrk_cpu * 1000 / max(requests, 1), 3),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        "socket_errors": (m.group(0) if (m := re.search(r"Socket errors:.*", output)) else "none"),
        "p50": _ms(re.search(r"50%\s+([\d.]+)(us|ms|s)", output)),
        "p99": _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output)),
    }


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in the process group (all their threads)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:  # fields after "pid (comm)": state ppid pgrp ... utime(12) stime(13)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ms(match) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of latencies in ms; nan for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
