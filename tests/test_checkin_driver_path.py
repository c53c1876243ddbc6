"""The check-in POST's driver path (service.self_check_in, db.DirectStatement), on both backends.

The fast path must be indistinguishable from the ORM path in what it writes and whom it lets in: the same
row values, the same refusals, and a login that ended elsewhere sends the person to log in.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.checkin import service
from volunteer_app.db import DirectStatement, driver_connection, driver_write, get_engine
from volunteer_app.models import Activity, Attendance, ScanRefusal, Volunteer, utcnow

from . import factories
from .test_activities_flow import SECRET, fresh, rotating


def self_check_in(app, activity, volunteer, *, version=1, token=None, **extra):
    with app.app_context():
        return service.self_check_in(engine=get_engine(), token=token or rotating(activity), secret_key=SECRET,
                                     scanned_at=utcnow(), volunteer_id=volunteer.id, session_version=version,
                                     **extra)


def test_a_driver_check_in_writes_what_the_orm_path_writes(app, session, world):
    """Both paths side by side: every column of the two rows agrees (types, time zone, defaults)."""
    fast = factories.make_activity(session, world.team_a, status="open", lat=31.2, lng=121.4, radius_m=300)
    slow = factories.make_activity(session, world.team_a, status="open", lat=31.2, lng=121.4, radius_m=300)
    session.commit()
    geo = (31.2001, 121.4001, 15.0)
    checked_in = self_check_in(app, fast, world.member_a, device_hash="d" * 32, geo=geo)
    assert checked_in.activity_id == fast.id
    service.check_in(session=session, activity_id=slow.id, volunteer_id=world.member_a.id, method="self_scan",
                     device_hash="d" * 32, geo=geo)
    session.commit()
    fresh(session)
    by_driver = session.get(Attendance, checked_in.attendance_id)
    by_orm = session.exec(select(Attendance).where(Attendance.activity_id == slow.id)).one()
    assert by_driver.activity_id == fast.id and by_driver.volunteer_id == world.member_a.id
    assert by_driver.checked_in_at.tzinfo is not None
    assert abs(by_driver.checked_in_at - utcnow()) < timedelta(minutes=1)
    for column in ("method", "recorded_by_id", "checkout_auto", "credited_minutes", "device_hash", "geo_status",
                   "geo_accuracy_m", "checked_out_at", "voided_at"):
        assert getattr(by_driver, column) == getattr(by_orm, column), column
    assert by_driver.geo_status == "inside" and by_driver.geo_accuracy_m == 15


def test_direct_statement_reads_typed_values(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", lat=31.25, lng=121.5, radius_m=200)
    session.commit()
    gate = DirectStatement(select(Activity.starts_at, Activity.members_only, Activity.lat, Activity.radius_m)
                           .where(Activity.id == activity.id))
    with app.app_context():
        engine = get_engine()
        with driver_connection(engine) as connection:
            row = gate.first(connection.cursor(), engine.dialect, {})
    assert row.starts_at == activity.starts_at and row.starts_at.tzinfo is not None
    assert row.members_only is True and row.lat == pytest.approx(31.25) and row.radius_m == 200


def test_a_failed_driver_write_leaves_nothing_and_the_connection_usable(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    planned = service.plan_check_in(gate=service.read_gate(session=session, activity_id=activity.id,
                                                           volunteer_id=world.member_a.id),
                                    volunteer_id=world.member_a.id, method="self_scan")
    session.rollback()
    with app.app_context():
        engine = get_engine()
        insert = service._INSERT_NEW_DIRECT[engine.dialect.name]
        with driver_connection(engine) as connection:
            with pytest.raises(Exception) as failed:  # no such volunteer: the foreign key refuses the row
                driver_write(engine, connection, insert, {**planned, "volunteer_id": 10**9})
            assert "foreign key" in str(failed.value).lower()
            assert driver_write(engine, connection, insert, planned) is not None  # same connection, next write
    fresh(session)
    assert session.exec(select(Attendance.volunteer_id)).all() == [world.member_a.id]


def test_a_driver_connection_goes_back_to_the_pool_as_it_came(app, session, world):
    """Autocommit is switched on for the driver path only: the next Session on that connection has transactions."""
    with app.app_context():
        engine = get_engine()
        with driver_connection(engine) as connection:
            raw = connection.driver_connection
            if engine.dialect.name == "postgresql":
                assert raw.autocommit is True
        if engine.dialect.name == "postgresql":
            assert raw.autocommit is False


def test_an_ended_login_is_not_checked_in(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    assert self_check_in(app, activity, world.member_a, version=7) is None  # logged out everywhere since
    world.member_a.is_active = False
    session.commit()
    assert self_check_in(app, activity, world.member_a) is None
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 0


def test_the_driver_path_refuses_like_the_orm_path(app, session, world):
    stranger = factories.make_volunteer(session, name="路人")
    closed = factories.make_activity(session, world.team_a, status="closed")
    activity = factories.make_activity(session, world.team_a, status="open")
    other = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    with pytest.raises(service.CheckinError) as refused:
        self_check_in(app, activity, stranger)
    assert refused.value.code == "not_member"
    with pytest.raises(service.CheckinError) as refused:
        self_check_in(app, closed, world.member_a)
    assert refused.value.code == "closed"
    with pytest.raises(service.CheckinError) as refused:
        self_check_in(app, activity, world.member_a, expected_activity_id=other.id)
    assert refused.value.code == "wrong_activity"
    with pytest.raises(service.tokens.TokenError) as refused:
        self_check_in(app, activity, world.member_a, token=rotating(activity)[:-2] + "zz")
    assert refused.value.code == "bad_token"
    self_check_in(app, activity, world.member_a)
    with pytest.raises(service.NotWritten) as again:
        self_check_in(app, activity, world.member_a)
    with pytest.raises(service.CheckinError) as refused:
        service.raise_not_inserted(session=session, planned=again.value.planned)
    assert refused.value.code == "already_checked_in"


# --- through the HTTP client ----------------------------------------------------------------


def post_in(client, activity):
    return client.post(f"/c/{rotating(activity)}", data={"action": "in", "activity": str(activity.id)})


def test_logged_out_everywhere_means_log_in_again(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    world.member_a.session_version += 1  # "log out everywhere" on another phone
    session.commit()
    response = post_in(client, activity)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 0
    assert client.get("/").status_code in (200, 302)  # the stale login is gone from this browser too
    with client.session_transaction() as cookie:
        assert "_user_id" not in cookie


def test_a_forged_or_missing_login_gets_the_login_page(client, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    assert "/login" in post_in(client, activity).headers["Location"]
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "not-a-number"
    assert "/login" in post_in(client, activity).headers["Location"]
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 0


def test_a_phone_kept_logged_in_checks_in_after_the_browser_forgot_its_session(client, session, world):
    """"Keep me logged in": the session cookie is gone (browser restarted), the remember-me cookie is not."""
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    response = client.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD,
                                           "remember": "y"})
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")
    response = post_in(client, activity)
    assert response.status_code == 303 and "/login" not in response.headers["Location"]
    fresh(session)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.volunteer_id == world.member_a.id and attendance.activity_id == activity.id


def test_a_deleted_account_cannot_check_in(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    volunteer = session.get(Volunteer, world.member_a.id)
    volunteer.deleted_at = utcnow()
    session.commit()
    response = post_in(client, activity)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_repeats_count_as_attempts_but_a_new_check_in_always_goes_through(limited_config, client, auth, session,
                                                                             world):
    first, second = (factories.make_activity(session, world.team_a, status="open") for _ in range(2))
    session.commit()
    auth.login(world.member_a.phone)
    assert post_in(client, first).status_code == 303
    repeats = [post_in(client, first).status_code for _ in range(30)]  # "already checked in", 30 times
    assert repeats == [303] * 30
    assert post_in(client, first).status_code == 429  # the 31st repeat is one too many
    assert post_in(client, second).status_code == 303  # but a real new check-in is never refused for it
    fresh(session)
    assert session.exec(select(func.count(Attendance.id))).one() == 2
    assert session.exec(select(func.count(ScanRefusal.id)).where(ScanRefusal.code == "too_many_attempts")).one() == 1


def test_the_answer_leads_to_the_activity_checked_in(client, auth, session, world):
    """The redirect names the activity (not the new attendance, whose id differs here) and its page confirms."""
    activities = [factories.make_activity(session, world.team_a, status="open", title=f"活动{i}") for i in range(3)]
    session.commit()
    auth.login(world.member_a.phone)
    target = activities[2]
    response = post_in(client, target)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/result/{target.id}")
    fresh(session)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.id != target.id
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "活动2" in page.get_data(as_text=True)
