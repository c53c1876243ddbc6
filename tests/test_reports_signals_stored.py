"""Stored signals: `signals refresh` (cron, seed, the office's button) computes them; the page reads them by filter."""
from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from volunteer_app.models import SignalFinding, SignalRun
from volunteer_app.reports import signals
from volunteer_app.reports.filters import ReportFilter

from .reports_data import at
from .test_reports_signals import attend, closed

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
REFRESH = "/office/signals/refresh"


@pytest.fixture
def planted(session, world, client):
    """Team A (district 1): a bare retro log in April and an overlong credit in June; team B (district 2): a bare
    retro log in May under another theme; and a clean activity with a photo-less live run."""
    client.set_cookie("lang", "en")
    bare_a = closed(session, world.team_a, "2026-04-04", is_retro=True)
    long_a = closed(session, world.team_a, "2026-06-06", 9, hours=2)
    attend(session, long_a, world.member_a, minutes=150, created_at=at("2026-06-06", 11))  # entered in time
    attend(session, long_a, world.leader_a, minutes=120, created_at=at("2026-06-06", 11))
    bare_b = closed(session, world.team_b, "2026-05-05", is_retro=True, theme_code="sanitation")
    clean = closed(session, world.team_b, "2026-05-06")
    session.commit()
    return {"bare_a": bare_a.id, "long_a": long_a.id, "bare_b": bare_b.id, "clean": clean.id}


def linked(html: str) -> set[int]:
    """The activity ids the signals page links to."""
    return {int(i) for i in re.findall(r'href="/office/activities/(\d+)[?"]', html)}


def refresh_now(session) -> signals.Computed:
    computed = signals.compute(session=session, zone=ZONE)
    assert signals.store(session=session, computed=computed)
    session.commit()
    return computed


def page(client, **params) -> str:
    response = client.get("/office/signals", query_string={**YEAR, **params})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_says_when_nothing_was_computed_yet(client, auth, world, planted):
    auth.login(world.office.phone)
    html = page(client)
    assert "have not been computed yet" in html and linked(html) == set()
    assert f'action="{REFRESH}?from=2026-01-01' in html


def test_the_cli_refresh_stores_what_the_detectors_find(runner, session, client, auth, world, planted):
    result = runner.invoke(args=["signals", "refresh"])
    assert result.exit_code == 0, result.output
    assert "3 findings" in result.output and "retro_no_photo 2" in result.output and "overlong 1" in result.output
    stored = session.exec(select(SignalFinding.kind, SignalFinding.activity_id)).all()
    assert sorted(stored) == sorted([("overlong", planted["long_a"]), ("retro_no_photo", planted["bare_a"]),
                                     ("retro_no_photo", planted["bare_b"])])
    run = session.exec(select(SignalRun)).one()
    assert run.findings == 3
    auth.login(world.office.phone)
    html = page(client)
    assert linked(html) == {planted["bare_a"], planted["long_a"], planted["bare_b"]}
    assert "As of " in html and "after the next refresh" in html
    assert world.member_a.name in html  # the overlong credit names its volunteer (joined, not copied)


def test_the_page_filters_the_stored_findings(session, client, auth, world, planted):
    refresh_now(session)
    auth.login(world.office.phone)
    assert linked(page(client, **{"from": "2026-05-01"})) == {planted["long_a"], planted["bare_b"]}
    assert linked(page(client, to="2026-04-30")) == {planted["bare_a"]}
    assert linked(page(client, theme="sanitation")) == {planted["bare_b"]}
    assert linked(page(client, team=world.team_a.id)) == {planted["bare_a"], planted["long_a"]}
    assert linked(page(client, unit=world.district2.id)) == {planted["bare_b"]}
    assert linked(page(client, unit=world.community.code)) == {planted["bare_a"], planted["long_a"]}


def test_the_stored_findings_equal_the_detectors_for_every_filter(session, world, planted):
    refresh_now(session)
    filters = [
        ReportFilter(start=date(2026, 1, 1), end=date(2026, 12, 31), zone=ZONE, scope=None, unit=None),
        ReportFilter(start=date(2026, 5, 1), end=date(2026, 12, 31), zone=ZONE, scope=None, unit=None),
        ReportFilter(start=date(2026, 1, 1), end=date(2026, 12, 31), zone=ZONE, scope=world.district2, unit=None),
        ReportFilter(start=date(2026, 1, 1), end=date(2026, 12, 31), zone=ZONE, scope=None, unit=None,
                     team=world.team_a),
    ]
    for f in filters:
        live = signals.all_signals(session=session, f=f)
        stored = signals.stored_signals(session=session, f=f).findings
        assert {kind: [(x.activity_ids, x.volunteer_id, x.figures) for x in items] for kind, items in live.items()} \
            == {kind: [(x.activity_ids, x.volunteer_id, x.figures) for x in items] for kind, items in stored.items()}


def test_a_district_office_sees_only_its_districts_findings(session, client, auth, world, planted):
    refresh_now(session)
    auth.login(world.office_district2.phone)
    html = page(client)
    assert linked(html) == {planted["bare_b"]}
    assert world.team_a.name not in html and world.member_a.name not in html
    for param, value in (("unit", world.district.id), ("team", world.team_a.id)):
        response = client.get("/office/signals", query_string={**YEAR, param: value})
        assert response.status_code == 400 and world.team_a.name.encode() not in response.get_data()


@pytest.mark.parametrize("who", ["volunteer", "member_a", "leader_a", "leader_b"])
def test_volunteers_and_leaders_get_404_and_cannot_refresh(session, client, auth, world, planted, who):
    auth.login(getattr(world, who).phone)
    assert client.get("/office/signals").status_code == 404
    assert client.post(REFRESH).status_code == 404
    assert session.exec(select(func.count(SignalRun.id))).one() == 0


def test_anonymous_refresh_goes_to_login(session, client, planted):
    response = client.post(REFRESH)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert session.exec(select(func.count(SignalRun.id))).one() == 0


def test_the_office_refreshes_on_demand_and_newer_records_wait_for_it(session, client, auth, world, planted):
    auth.login(world.office.phone)
    response = client.post(REFRESH, query_string={**YEAR, "theme": "civilized_traffic"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/office/signals?") and "theme=civilized_traffic" in \
        response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Signals refreshed: 3 findings" in html
    assert linked(html) == {planted["bare_a"], planted["long_a"]}
    later = closed(session, world.team_a, "2026-07-04", is_retro=True)
    session.commit()
    assert later.id not in linked(page(client))  # stored findings: new records wait for the next refresh
    client.post(REFRESH, query_string=YEAR)
    assert later.id in linked(page(client))
    assert session.exec(select(func.count(SignalRun.id))).one() == 1
    assert session.exec(select(func.count(SignalFinding.id))).one() == 4


def test_a_district_office_cannot_refresh_with_a_wider_filter(session, client, auth, world, planted):
    auth.login(world.office_district2.phone)
    response = client.post(REFRESH, query_string={**YEAR, "unit": world.district.id})
    assert response.status_code == 400
    assert session.exec(select(func.count(SignalRun.id))).one() == 0
    assert client.post(REFRESH, query_string=YEAR).status_code == 303


def test_a_refresh_replaces_the_set_and_an_older_one_never_overwrites_a_newer(session, world, planted):
    older = signals.compute(session=session, zone=ZONE)
    later = closed(session, world.team_b, "2026-08-08", is_retro=True)
    session.commit()
    newer = signals.compute(session=session, zone=ZONE)
    assert signals.store(session=session, computed=newer)
    session.commit()
    assert signals.store(session=session, computed=newer)  # the same again: replaced, not doubled
    session.commit()
    assert not signals.store(session=session, computed=older)  # finished later, computed earlier: dropped
    session.commit()
    ids = session.exec(select(SignalFinding.activity_id)).all()
    assert sorted(ids) == sorted([planted["bare_a"], planted["long_a"], planted["bare_b"], later.id])
    assert session.exec(select(SignalRun.computed_at)).all() == [newer.computed_at]


def test_a_refresh_looks_at_every_counted_activity_of_the_city(session, world, planted):
    f = signals.everything(ZONE)
    assert f.start_utc < at("2000-01-02") and f.end_utc > at("2999-12-01") and f.area is None
    unclosed = closed(session, world.team_a, "2026-09-05", is_retro=True)
    unclosed.status = "scheduled"  # not counted, so not a signal either
    session.add(unclosed)
    session.commit()
    computed = signals.compute(session=session, zone=ZONE)
    assert {row["activity_id"] for row in computed.rows} == {planted["bare_a"], planted["long_a"], planted["bare_b"]}


def test_the_refresh_is_rate_limited_with_a_translated_message(limited_config, client, auth, world, planted):
    auth.login(world.office.phone)
    codes = [client.post(REFRESH, query_string=YEAR).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    client.delete_cookie("lang")  # Chinese, the default
    refused = client.post(REFRESH, query_string=YEAR)
    assert refused.status_code == 429 and "刚刚刷新过" in refused.get_data(as_text=True)


@pytest.fixture
def csrf_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_the_refresh_needs_the_forms_csrf_token(csrf_config, session, client, world, planted):
    with client.session_transaction() as http_session:
        http_session["_user_id"] = f"{world.office.id}:1"
        http_session["_fresh"] = True
    assert client.post(REFRESH, query_string=YEAR).status_code == 400
    assert session.exec(select(func.count(SignalRun.id))).one() == 0
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page(client)).group(1)
    assert client.post(REFRESH, query_string=YEAR, data={"csrf_token": form_token}).status_code == 303
    session.rollback()  # a new snapshot (SQLite keeps the read transaction's)
    assert session.exec(select(func.count(SignalRun.id))).one() == 1


def test_time_of_the_run_is_shown_in_china_time(session, client, auth, world, planted):
    computed = refresh_now(session)
    auth.login(world.office.phone)
    local = (computed.computed_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert f"As of {local}" in page(client)


def test_the_seeded_demo_gets_its_planted_cases_stored(runner, app, client, auth):
    from volunteer_app.seed import DEMO_PASSWORD, OFFICE_PHONE

    from .test_seed import seed

    seed(runner)
    result = runner.invoke(args=["signals", "refresh"])  # what `make run` does after seeding (and cron later)
    assert result.exit_code == 0, result.output
    engine = app.extensions["db_engine"]
    with Session(engine) as session:
        run = session.exec(select(SignalRun)).one()
        counts = dict(session.exec(select(SignalFinding.kind, func.count()).group_by(SignalFinding.kind)).all())
        assert run.findings == sum(counts.values())
        assert all(counts.get(kind, 0) >= 1 for kind in signals.KINDS), counts  # a roster: one per team
        whole = ReportFilter(start=date(2000, 1, 1), end=date(2999, 12, 30), zone=ZONE, scope=None, unit=None)
        live = signals.all_signals(session=session, f=whole, limit=None)
        stored = signals.stored_signals(session=session, f=whole, limit=10_000).findings
        assert {kind: sorted(map(tuple, (x.activity_ids for x in items))) for kind, items in live.items()} \
            == {kind: sorted(map(tuple, (x.activity_ids for x in items))) for kind, items in stored.items()}
    client.set_cookie("lang", "en")
    auth.login(OFFICE_PHONE, DEMO_PASSWORD)
    html = page(client, **{"from": "2025-01-01", "to": "2026-12-31"})
    shown = dict(re.findall(r'id="signal-([a-z_]+)" class="signal" data-count="(\d+)"', html))
    assert set(shown) == set(signals.KINDS) and all(int(n) >= 1 for n in shown.values()), shown
