"""Rate limits hold for the whole server (issue 12, point 7): `make run` shares the counts in Redis or serves
with one worker, the app warns at start when per-process counts meet several workers, and a lock-out on a phone
number lifts once the owner proves the number is theirs with a reset link."""
from __future__ import annotations

import logging
import os
import runpy
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from volunteer_app import create_app
from volunteer_app.accounts.service import issue_password_reset
from volunteer_app.models import Volunteer

from . import factories
from .test_security_ratelimits import REDIS_URL, limited_app, login_status, redis_available  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def make_run(*args: str) -> str:
    """The commands `make run` would run (dry run: nothing is started), as a make started by hand would.

    Under `make test` the environment says this is a sub-make, which would print "Leaving directory" last."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    done = subprocess.run(["make", "--no-print-directory", "-n", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_run_serves_with_one_worker_when_limits_count_per_process():
    server = make_run("RATELIMIT_STORAGE_URI=memory://").splitlines()
    command = " ".join(server[-2:])
    assert "WEB_CONCURRENCY=1" in command and "--workers 1 " in command


def test_make_run_shares_the_counts_of_several_workers_in_the_storage_set():
    command = " ".join(make_run("RATELIMIT_STORAGE_URI=redis://cache.internal:6379").splitlines()[-2:])
    assert "RATELIMIT_STORAGE_URI=redis://cache.internal:6379" in command and "--workers 2 " in command


def test_make_run_uses_redis_when_it_answers():
    redis_available()
    command = " ".join(make_run(f"REDIS_URL={REDIS_URL}").splitlines()[-2:])
    assert f"RATELIMIT_STORAGE_URI={REDIS_URL}" in command and "--workers 2 " in command
    command = " ".join(make_run("REDIS_URL=redis://127.0.0.1:1").splitlines()[-2:])  # nothing answers there
    assert "RATELIMIT_STORAGE_URI=memory://" in command and "--workers 1 " in command


@pytest.mark.parametrize("storage, workers, warned", [
    ("memory://", "2", True), ("memory://", "1", False), ("memory://", None, False),
    (REDIS_URL, "4", False),
])
def test_per_process_counts_with_several_workers_are_warned_at_start(app_config, tmp_path, monkeypatch, caplog,
                                                                     storage, workers, warned):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    if workers is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", workers)
    with caplog.at_level(logging.WARNING):
        app = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage})
    app.extensions["db_engine"].dispose()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("counted per process" in m for m in messages) is warned


def test_gunicorn_tells_the_app_how_many_workers_serve(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "unset by the test")
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=3)))
    import os

    assert os.environ["WEB_CONCURRENCY"] == "3"


@pytest.mark.parametrize("storage", ["memory://", REDIS_URL])
def test_a_reset_link_lifts_the_lock_out_on_the_number(limited_app, world, session, storage):  # noqa: F811
    """Someone behind the victim's carrier address spends the victim's tries; the owner, given a reset link by
    their leader, sets a new password and can log in at once, from the same address."""
    if storage.startswith("redis"):
        redis_available()
    app = limited_app(storage)
    attacker, victim = app.test_client(), app.test_client()
    phone = world.member_a.phone
    assert [login_status(attacker, phone) for _ in range(10)] == [400] * 10
    assert login_status(victim, phone, factories.PASSWORD) == 429  # locked out, although the password is right
    token = issue_password_reset(session=session, volunteer=session.get(Volunteer, world.member_a.id),
                                 issued_by_id=world.leader_a.id, team_id=world.team_a.id)
    session.commit()
    response = victim.post(f"/reset/{token}", data={"password": "a new password 2026",
                                                     "password2": "a new password 2026", "consent": "y"},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 303
    other_phone = app.test_client()
    assert login_status(other_phone, phone, "a new password 2026") == 302
    # a new count, which the owner's login started: the attacker is stopped again within ten tries
    assert [login_status(attacker, phone) for _ in range(10)] == [400] * 9 + [429]
