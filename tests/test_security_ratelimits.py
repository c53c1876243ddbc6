"""Rate limits: every limited route answers 429 with a translated page once its limit is spent, with
memory storage and with the real Redis server (the production storage, shared by all app servers).

The table below has one row per limited route; a test fails when a route gains a limit without a row,
so that nobody adds a limit this file does not prove. Limits do not depend on the database backend,
so this module runs on SQLite only (database_url is overridden below).
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest

from volunteer_app.extensions import limiter

from . import factories
from .conftest import require

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """SQLite only: a limit is counted in its storage, not in the database."""
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Limited:
    """How to spend one route's tightest per-minute limit: `allowed` requests pass, the next gets 429."""

    method: str
    path: Callable[[dict], str]
    allowed: int
    login: str | None = None  # phone of who is logged in
    data: Callable[[dict], dict] = lambda ctx: {}


LIMITED: dict[str, Limited] = {
    "accounts.login": Limited("POST", lambda c: "/login", 10,
                              data=lambda c: {"phone": "13900000000", "password": "wrong password"}),
    "accounts.register": Limited("POST", lambda c: "/register", 10, data=lambda c: {"name": ""}),
    "accounts.reset_password": Limited("POST", lambda c: "/reset/not-a-real-token", 10,
                                       data=lambda c: {"password": "x"}),
    "teams.join": Limited("POST", lambda c: "/join/not-a-real-token", 60),
    "checkin.scan": Limited("GET", lambda c: "/c/not-a-real-token", 120),
    # the first POST checks in (a new check-in is never counted), the next 30 are repeats and count
    "checkin.scan_post": Limited("POST", lambda c: f"/c/{c['token']}", 31, login="13800000003",
                                 data=lambda c: {"action": "in", "activity": c["activity_id"]}),
    "checkin.report_refusal": Limited("POST", lambda c: "/c/not-a-real-token/refusal", 30),
    "checkin.volunteer_code_post": Limited("POST", lambda c: f"/v/{c['personal']}", 120, login="13800000001",
                                           data=lambda c: {"activity": c["activity_id"], "action": "in"}),
    "activities.manual": Limited("POST", lambda c: f"/activities/{c['activity_id']}/manual", 240,
                                 login="13800000001", data=lambda c: {"volunteer": c["member_id"]}),
    "privacy.export": Limited("POST", lambda c: "/privacy/export/json", 20, login="13800000003"),
    "privacy.delete": Limited("POST", lambda c: "/privacy/delete", 5, login="13800000003",
                              data=lambda c: {"password": "wrong password", "confirm": "y"}),
    # Codes by SMS: 2 a minute per number (here: no number, counted per address), then the code pages.
    "codes.register_code": Limited("POST", lambda c: "/register/code", 2, data=lambda c: {"phone": ""}),
    "codes.forgot": Limited("POST", lambda c: "/forgot", 2, data=lambda c: {"phone": ""}),
    "codes.claim": Limited("POST", lambda c: "/claim", 2, data=lambda c: {"phone": ""}),
    "codes.forgot_verify": Limited("POST", lambda c: "/forgot/verify", 10, data=lambda c: {"code": "1"}),
    "codes.claim_verify": Limited("POST", lambda c: "/claim/verify", 10, data=lambda c: {"code": "1"}),
    # Certificates: issuing and downloading per account, verifying per address (no login).
    "certificates.mine": Limited("POST", lambda c: "/me/certificates", 30, login="13800000003"),
    "certificates.download": Limited("GET", lambda c: "/me/certificates/999999.pdf", 60, login="13800000003"),
    "certificates.verify": Limited("GET", lambda c: "/verify/NOSUCHCODE", 30),
    "certificates.verify_form": Limited("GET", lambda c: "/verify?code=NOSUCHCODE", 30),
    "reports.signals_refresh": Limited("POST", lambda c: "/office/signals/refresh", 2, login="13800000009"),
}
# Where the issue asks for limits: login, registration, password reset, invite joining and check-in.
REQUIRED = {"accounts.login", "accounts.register", "accounts.reset_password", "teams.join", "checkin.scan_post",
            "codes.register_code", "codes.forgot", "codes.claim"}
ON_REDIS = ("accounts.login", "teams.join", "checkin.scan_post")
# Limited helpers that a route calls to count some of its requests (the check-in POST counts refused and
# repeated attempts only).
COUNTED_FOR = {"volunteer_app.checkin.views._count_attempt": "checkin.scan_post"}


@pytest.fixture
def context(session, world):
    """An open activity with its current code and the member's personal code."""
    from datetime import timedelta

    from volunteer_app import tokens
    from volunteer_app.models import utcnow

    activity = factories.make_activity(session, world.team_a, status="open",
                                       starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=5))
    session.commit()
    secret = "test-secret-key-not-for-production"
    return {
        "activity_id": activity.id,
        "member_id": world.member_a.id,
        "token": tokens.rotating_token(secret_key=secret, activity_id=activity.id, activity_secret=activity.secret),
        "personal": tokens.personal_token(secret_key=secret, volunteer_id=world.member_a.id, session_version=1),
    }


@pytest.fixture
def limited_app(make_app):
    """Build apps with limits on and the given storage; Redis keys of this test are removed afterwards."""
    built, prefixes = [], []

    def _make(storage: str = "memory://", prefix: str | None = None):
        prefix = prefix or f"rv-test-{uuid.uuid4().hex[:10]}"
        prefixes.append(prefix)
        # The Limiter object is shared by every app of this process and keeps the first key prefix it saw;
        # each test app needs its own, so that counts in Redis never leak from one test into the next.
        limiter._key_prefix = ""
        # Likewise a storage found dead (the Redis outage test) stays dead, with counts in the fallback memory,
        # until a backed-off recheck revives it in the middle of a later test and its counts start again.
        limiter._storage_dead = False
        application = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix)
        built.append(application)
        return application

    yield _make
    limiter._storage_dead = False  # nor for the tests of other files that come after this one
    if any(a.config["RATELIMIT_STORAGE_URI"].startswith("redis") for a in built):
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for prefix in prefixes:
            keys = list(client.scan_iter(match=f"*{prefix}*"))
            if keys:
                client.delete(*keys)


def redis_available() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # absent server, refused connection, missing package
        require(f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__})")


def spend(app, name: str, ctx: dict):
    """Make `allowed` requests (none may be refused), then one more; return that last response."""
    row = LIMITED[name]
    client = app.test_client()
    if row.login:
        assert client.post("/login", data={"phone": row.login, "password": factories.PASSWORD}).status_code == 302
    for i in range(row.allowed):
        response = client.open(row.path(ctx), method=row.method, data=row.data(ctx))
        assert response.status_code != 429, f"{name}: refused after {i} of {row.allowed} requests"
    return client.open(row.path(ctx), method=row.method, data=row.data(ctx))


def test_every_limited_route_has_a_row(app):
    names = {}
    for endpoint, view in app.view_functions.items():
        names[f"{view.__module__}.{view.__name__}"] = endpoint
    names.update(COUNTED_FOR)
    limited = {names[qualname.rsplit(".", 1)[0]] for qualname in limiter.limit_manager._decorated_limits
               if qualname.rsplit(".", 1)[0] in names}
    assert limited - set(LIMITED) == set(), "limited routes without a row in LIMITED"
    assert REQUIRED <= limited, f"routes the issue asks to limit but are not: {REQUIRED - limited}"


@pytest.mark.parametrize("name", sorted(LIMITED))
def test_each_limited_route_answers_429_after_its_limit(limited_app, context, name):
    app = limited_app("memory://")
    if name not in app.view_functions:
        pytest.fail(f"{name} is in LIMITED but the app has no such route")
    response = spend(app, name, context)
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ON_REDIS)
def test_limits_hold_with_the_redis_storage(limited_app, context, name):
    redis_available()
    response = spend(limited_app(REDIS_URL), name, context)
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_redis_counts_are_shared_by_app_servers_and_survive_a_restart(limited_app, world):
    """A second server (or the same one restarted) sees the attempts counted by the first."""
    redis_available()
    prefix = f"rv-test-{uuid.uuid4().hex[:10]}"
    first = limited_app(REDIS_URL, prefix).test_client()
    for _ in range(10):
        assert first.post("/login", data={"phone": "13900000000", "password": "nope nope"}).status_code == 400
    second = limited_app(REDIS_URL, prefix).test_client()  # a fresh Limiter storage object, the same Redis
    assert second.post("/login", data={"phone": "13900000000", "password": "nope nope"}).status_code == 429
    import redis

    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"*{prefix}*"))


def test_memory_counts_are_per_process_which_is_why_production_uses_redis(limited_app, world):
    first = limited_app("memory://").test_client()
    for _ in range(10):
        first.post("/login", data={"phone": "13900000000", "password": "nope nope"})
    second = limited_app("memory://").test_client()
    assert second.post("/login", data={"phone": "13900000000", "password": "nope nope"}).status_code == 400


def test_a_429_in_english(limited_app, world):
    client = limited_app().test_client()
    client.set_cookie("lang", "en")
    for _ in range(10):
        client.post("/login", data={"phone": "13900000000", "password": "nope nope"})
    response = client.post("/login", data={"phone": "13900000000", "password": "nope nope"})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)


def test_limits_per_person_do_not_block_the_next_person_on_the_same_address(limited_app, context, world):
    """On a day of action a whole crowd shares one carrier address: check-in is limited per person."""
    app = limited_app()
    assert spend(app, "checkin.scan_post", context).status_code == 429
    other = app.test_client()
    assert other.post("/login", data={"phone": world.leader_a.phone, "password": factories.PASSWORD}).status_code == 302
    response = other.post(f"/c/{context['token']}", data={"action": "in", "activity": context["activity_id"]})
    assert response.status_code != 429


def test_a_redis_outage_does_not_stop_logins_or_check_ins(limited_app, context, world):
    """With the limiter's Redis unreachable, requests are still answered, and limits still count in memory."""
    app = limited_app("redis://127.0.0.1:1/0")  # nothing listens on port 1
    client = app.test_client()
    statuses = [client.post("/login", data={"phone": "13900000000", "password": "nope nope"}).status_code
                for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    member = app.test_client()
    assert member.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 302
    response = member.post(f"/c/{context['token']}", data={"action": "in", "activity": context["activity_id"]})
    assert response.status_code == 303


# --- login: strict per number and address, loose per address ---------------------------------------------

def login_status(client, phone: str, password: str = "nope nope", address: str = "198.51.100.7") -> int:
    return client.post("/login", data={"phone": phone, "password": password},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_a_crowd_behind_one_address_is_not_blocked_by_one_persons_typos(limited_app, world):
    """A registration drive behind a carrier NAT: one number is refused after 10 tries, the others go on."""
    client = limited_app().test_client()
    assert [login_status(client, "13900000000") for _ in range(10)] == [400] * 10
    refused = client.post("/login", data={"phone": "13900000000", "password": "nope nope"},
                          environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "尝试次数过多" in page and "用此号码登录的尝试次数过多" in page
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert all(login_status(client, f"139000001{i:02d}") == 400 for i in range(30))
    assert login_status(client, world.member_a.phone, factories.PASSWORD) == 302


def test_the_number_limit_holds_for_every_spelling_of_the_number(limited_app, world):
    client = limited_app().test_client()
    spellings = ["13900000000", "139 0000 0000", "+86 139-0000-0000", "8613900000000", "１３９００００００００"]
    statuses = [login_status(client, spellings[i % len(spellings)]) for i in range(11)]
    assert statuses == [400] * 10 + [429]


def test_an_oversized_login_body_is_refused_without_upsetting_the_limiter(limited_app, world):
    """Reading the number from a body too large to read must not look like a storage failure to the limiter
    (it would count in per-process memory from then on)."""
    app = limited_app()
    app.config["MAX_CONTENT_LENGTH"] = 4096
    client = app.test_client()
    response = client.post("/login", data={"phone": "13900000000", "password": "x" * 10_000})
    assert response.status_code == 413
    assert limiter._storage_dead is False
    assert [login_status(client, "13900000000") for _ in range(11)] == [400] * 10 + [429]


def test_the_number_limit_is_per_address(limited_app, world):
    """The strict limit counts number and address together: the same number from elsewhere is a new count."""
    client = limited_app().test_client()
    assert [login_status(client, world.member_a.phone) for _ in range(11)][-1] == 429
    assert login_status(client, world.member_a.phone, factories.PASSWORD, address="203.0.113.9") == 302


def test_a_flood_from_one_address_is_refused_with_its_own_message(limited_app, world):
    """Varying the number does not get round the looser per-address guard (300 a minute)."""
    client = limited_app().test_client()
    client.set_cookie("lang", "en")
    statuses = [client.post("/login", data={"phone": f"13{i:09d}", "password": ""},
                            environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code for i in range(300)]
    assert 429 not in statuses
    refused = client.post("/login", data={"phone": "13999999999", "password": ""},
                          environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert refused.status_code == 429
    assert "Too many logins from this network" in refused.get_data(as_text=True)
    assert login_status(client, world.member_a.phone, factories.PASSWORD, address="198.51.100.9") == 302


def test_a_registration_drive_behind_one_address_is_not_blocked(limited_app, world):
    """A room registering over one carrier address: each number has its own 10 tries a minute; only a flood of
    300 a minute from the address is refused, with its own message."""
    client = limited_app().test_client()
    client.set_cookie("lang", "en")

    def register(phone: str):
        return client.post("/register", data={"name": "", "phone": phone}, environ_base={"REMOTE_ADDR": "198.51.100.10"})

    assert [register("13900000000").status_code for _ in range(10)] == [400] * 10
    refused = register("13900000000")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Too many attempts to register this number" in refused.get_data(as_text=True)
    assert all(register(f"13{i:09d}").status_code == 400 for i in range(1, 290))  # the rest of the room
    flood = register("13999999999")
    assert flood.status_code == 429 and "Too many registrations from this network" in flood.get_data(as_text=True)
