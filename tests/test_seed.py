"""`volunteer-app seed-demo`: deterministic, consistent demo data with its planted padding cases (small scale)."""
from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text
from sqlmodel import Session

from volunteer_app.models import (ActiveMonths, Activity, Attendance, Membership, Photo, Signup, Team, Theme, Unit,
                                   Volunteer, utcnow)
from volunteer_app.seed import (
    DEMO_PASSWORD,
    DISTRICT_OFFICE_PHONE,
    LEADER_PHONE,
    OFFICE_PHONE,
    PLANTED_DEVICE_HASHES,
    PLANTED_OVERLAP_PHONES,
    PLANTED_ROSTER_LEADER_PHONES,
    SCALES,
    VOLUNTEER_PHONE,
)
from volunteer_app import summary_triggers as summary
from volunteer_app.workdays import past_recording_deadline

from .test_reports_summary import assert_summaries_true

NOW = "2026-11-26T15:10:00+08:00"
NOW_UTC = datetime.fromisoformat(NOW).astimezone(timezone.utc)
PLANTED = SCALES["small"].planted
SEEDED_TABLES = (Unit, Volunteer, Team, Membership, Activity, Attendance, Signup, Photo)


def seed(runner, *extra):
    result = runner.invoke(args=["seed-demo", "--scale", "small", "--now", NOW, *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture
def seeded(runner, app):
    """The small demo city, seeded once for the test."""
    return seed(runner)


@pytest.fixture
def db(app):
    with Session(app.extensions["db_engine"]) as s:
        yield s


def digest(session: Session) -> str:
    """A fingerprint of every seeded row, independent of the backend's value types."""
    h = hashlib.sha256()
    for model in SEEDED_TABLES:
        table = model.__table__
        for row in session.execute(select(table).order_by(table.c.id)):
            for value in row:
                if isinstance(value, datetime):
                    value = value.astimezone(timezone.utc).isoformat()
                elif isinstance(value, bytes):
                    value = hashlib.sha256(value).hexdigest()
                elif isinstance(value, float):
                    value = round(value, 6)
                h.update(repr(value).encode())
    return h.hexdigest()


def wipe(session: Session) -> None:
    for model in reversed(SEEDED_TABLES):
        session.execute(delete(model.__table__))
    session.commit()


# --- the command --------------------------------------------------------------------------


def test_same_seed_gives_the_same_data_and_another_seed_does_not(runner, db):
    seed(runner, "--seed", "7")
    first = digest(db)
    wipe(db)
    seed(runner, "--seed", "7")
    assert digest(db) == first
    wipe(db)
    seed(runner, "--seed", "8")
    assert digest(db) != first


def test_if_empty_is_a_no_op_on_a_seeded_database(runner, seeded, db):
    before = digest(db)
    result = runner.invoke(args=["seed-demo", "--scale", "small", "--if-empty"])
    assert result.exit_code == 0
    assert "not seeding" in result.output
    assert digest(db) == before


def test_seeding_a_non_empty_database_is_refused_cleanly(runner, seeded, db):
    count = db.execute(select(func.count(Volunteer.id))).scalar_one()
    result = runner.invoke(args=["seed-demo", "--scale", "small"])
    assert result.exit_code == 1
    assert "not empty" in result.output and "Traceback" not in result.output
    assert db.execute(select(func.count(Volunteer.id))).scalar_one() == count


@pytest.mark.parametrize("args, complaint", [
    (["--scale", "huge"], "Invalid value for '--scale'"),
    (["--seed", "many"], "Invalid value for '--seed'"),
    (["--now", "yesterday"], "not an ISO date-time"),
])
def test_bad_arguments_give_a_usage_error(runner, db, args, complaint):
    result = runner.invoke(args=["seed-demo", *args])
    assert result.exit_code == 2
    assert complaint in result.output and "Traceback" not in result.output
    assert db.execute(select(func.count(Volunteer.id))).scalar_one() == 0


def test_the_output_lists_the_demo_logins(seeded):
    for phone in (OFFICE_PHONE, DISTRICT_OFFICE_PHONE, LEADER_PHONE, VOLUNTEER_PHONE):
        assert phone in seeded.output
    assert DEMO_PASSWORD in seeded.output


@pytest.mark.parametrize("phone, greeting", [
    (OFFICE_PHONE, "周敏"), (DISTRICT_OFFICE_PHONE, "陈静"), (LEADER_PHONE, "李建国"), (VOLUNTEER_PHONE, "王小红"),
])
def test_demo_logins_work_through_the_login_form(client, seeded, phone, greeting):
    response = client.post("/login", data={"phone": phone, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert greeting in client.get("/").get_data(as_text=True)


def test_a_wrong_password_does_not_open_a_demo_account(client, seeded):
    response = client.post("/login", data={"phone": LEADER_PHONE, "password": "redvest2025"})
    assert response.status_code == 400


# --- the shape of the city ----------------------------------------------------------------


def test_units_form_a_tree_with_codes_and_paths(seeded, db):
    units = {u.id: u for u in db.execute(select(Unit)).scalars()}
    levels = defaultdict(int)
    for unit in units.values():
        levels[unit.level] += 1
        if unit.parent_id is None:
            assert unit.level == "district" and unit.path == f"/{unit.id}/"
            assert re.fullmatch(r"D\d\d", unit.code)
        else:
            parent = units[unit.parent_id]
            assert unit.path == f"{parent.path}{unit.id}/"
            assert unit.code.startswith(parent.code + "-")
            assert (parent.level, unit.level) in {("district", "street"), ("street", "community")}
    assert levels == {"district": 2, "street": 4, "community": 8}


def test_phones_are_unique_fictitious_and_tailed(seeded, db):
    phones = db.execute(select(Volunteer.phone, Volunteer.phone_tail)).all()
    assert len(phones) == 202  # 200 volunteers and two office accounts
    assert len({p for p, _t in phones}) == len(phones)
    for phone, tail in phones:
        assert re.fullmatch(r"1990\d{7}", phone) and tail == phone[-4:]


def test_every_team_has_an_active_leader_and_the_statuses_mix(seeded, db):
    teams = db.execute(select(Team)).scalars().all()
    led = set(db.execute(select(Membership.team_id).where(
        Membership.role == "leader", Membership.status == "active")).scalars())
    assert {t.id for t in teams} <= led
    statuses = sorted(t.status for t in teams)
    assert statuses.count("active") == 4 and "pending" in statuses and "suspended" in statuses
    assert all(t.status_reason for t in teams if t.status == "suspended")
    pending_requests = db.execute(select(func.count()).where(Membership.status == "pending")).scalar_one()
    assert pending_requests >= 3


def test_denormalised_counts_equal_the_sum_of_non_voided_attendances(seeded, db):
    sums = {
        activity_id: (count, minutes)
        for activity_id, count, minutes in db.execute(
            select(Attendance.activity_id, func.count(), func.sum(Attendance.credited_minutes))
            .where(Attendance.voided_at.is_(None))
            .group_by(Attendance.activity_id)
        )
    }
    activities = db.execute(select(Activity)).scalars().all()
    for activity in activities:
        assert (activity.attendee_count, activity.total_minutes) == sums.get(activity.id, (0, 0)), activity.id
    voided = db.execute(select(func.count()).where(Attendance.voided_at.is_not(None))).scalar_one()
    assert voided >= 1  # so the "non-voided" part of the rule is exercised
    assert db.execute(select(func.count()).where(Attendance.voided_at.is_not(None),
                                                  Attendance.void_reason.is_(None))).scalar_one() == 0


def test_the_dashboard_summaries_equal_the_attendances(seeded, db, backend):
    """The seed builds live_count and active_months in bulk (triggers off) and leaves the triggers on."""
    assert db.execute(select(func.count()).select_from(ActiveMonths)).scalar_one() > 0
    assert_summaries_true(db)
    if backend == "sqlite":
        names = set(db.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert set(summary.SQLITE_TRIGGERS) <= names
    else:
        names = set(db.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
        assert set(summary.POSTGRESQL_TRIGGERS) <= names


def test_activity_statuses_times_and_seasonality(seeded, db):
    activities = db.execute(select(Activity)).scalars().all()
    by_status = defaultdict(list)
    for activity in activities:
        by_status[activity.status].append(activity)
        assert activity.ends_at > activity.starts_at
    year_ago = NOW_UTC - timedelta(days=366)
    assert all(year_ago <= a.starts_at and a.ends_at < NOW_UTC for a in by_status["closed"])
    assert all(a.starts_at > NOW_UTC for a in by_status["scheduled"]) and by_status["scheduled"]
    assert all(a.status_reason for a in by_status["cancelled"]) and by_status["cancelled"]
    assert not any(a.attendee_count for a in by_status["cancelled"] + by_status["scheduled"])
    (open_now,) = by_status["open"]
    assert open_now.starts_at <= NOW_UTC < open_now.ends_at
    leader = db.execute(select(Volunteer).where(Volunteer.phone == LEADER_PHONE)).scalar_one()
    assert db.execute(select(Membership).where(
        Membership.team_id == open_now.team_id, Membership.volunteer_id == leader.id,
        Membership.role == "leader", Membership.status == "active")).scalar_one()
    per_day = defaultdict(int)
    for a in by_status["closed"]:
        per_day[(a.starts_at + timedelta(hours=8)).strftime("%m-%d")] += 1
    assert max(per_day, key=per_day.get) == "03-05"  # 学雷锋纪念日
    themes = dict(db.execute(select(Theme.id, Theme.code)).all())
    mix = defaultdict(int)
    for a in activities:
        mix[themes[a.theme_id]] += 1
    assert mix["civilized_traffic"] + mix["sanitation"] >= 0.3 * len(activities)


def test_the_next_two_weeks_recruit_with_limits_deadlines_and_meeting_points(seeded, db):
    upcoming = db.execute(select(Activity).where(Activity.status == "scheduled")).scalars().all()
    assert len(upcoming) >= SCALES["small"].upcoming * 0.6
    assert all(NOW_UTC < a.starts_at < NOW_UTC + timedelta(days=15) for a in upcoming)
    units = {u.id: u for u in db.execute(select(Unit)).scalars()}
    teams = {t.id: t for t in db.execute(select(Team)).scalars()}
    for a in upcoming:
        assert a.members_only == (a.audience == "team")
        assert (a.audience == "unit") == (a.audience_unit_id is not None)
        if a.audience_unit_id is not None:  # the team's street or district
            assert units[a.audience_unit_id].level in ("street", "district")
            assert units[teams[a.team_id].unit_id].path.startswith(units[a.audience_unit_id].path)
        assert a.signup_deadline is None or a.signup_deadline < a.starts_at
        assert a.admission in ("auto", "leader")
    assert {a.audience for a in upcoming} >= {"team", "unit"}
    assert any(a.capacity for a in upcoming) and any(a.meeting_point for a in upcoming)
    assert any(a.requirements for a in upcoming) and any(a.admitted_only for a in upcoming)


def signup_counts(db) -> dict:
    """(activity id, status) -> number of sign-ups."""
    return {(activity_id, status): n for activity_id, status, n in db.execute(
        select(Signup.activity_id, Signup.status, func.count()).group_by(Signup.activity_id, Signup.status))}


def test_sign_up_tallies_equal_the_sign_ups_and_never_overbook(seeded, db):
    counts = signup_counts(db)
    activities = db.execute(select(Activity)).scalars().all()
    for a in activities:
        assert a.admitted_count == counts.get((a.id, "admitted"), 0), a.id
        assert a.waitlist_count == counts.get((a.id, "waitlisted"), 0), a.id
        if a.capacity is not None:
            assert a.admitted_count + counts.get((a.id, "no_show"), 0) <= a.capacity, a.id
        if a.waitlist_count:  # a line forms only when every place is taken
            assert a.admitted_count + counts.get((a.id, "no_show"), 0) == a.capacity, a.id
    scheduled = [a for a in activities if a.status == "scheduled"]
    assert sum(a.waitlist_count for a in scheduled) and sum(counts.get((a.id, "pending"), 0) for a in scheduled)
    statuses = {status for _a, status in counts}
    assert statuses == {"pending", "admitted", "waitlisted", "declined", "cancelled", "no_show"}
    pending_closed = [a.id for a in activities if a.status != "scheduled" and counts.get((a.id, "pending"))]
    assert not pending_closed
    assert not db.execute(select(Signup).join(Activity, Activity.id == Signup.activity_id).where(
        Signup.created_at >= Activity.starts_at)).first()
    leader_decided = db.execute(select(Signup).join(Activity, Activity.id == Signup.activity_id).where(
        Activity.admission == "leader", Signup.status.in_(("admitted", "declined")))).scalars().all()
    assert leader_decided and all(s.decided_by_id and s.decided_at for s in leader_decided)
    assert all(s.reason for s in leader_decided if s.status == "declined")


def test_admitted_people_without_an_attendance_are_no_shows(seeded, db):
    attended = set(db.execute(select(Attendance.activity_id, Attendance.volunteer_id).where(
        Attendance.voided_at.is_(None))).all())
    closed = db.execute(select(Signup.activity_id, Signup.volunteer_id, Signup.status).join(
        Activity, Activity.id == Signup.activity_id).where(Activity.status == "closed")).all()
    admitted = [(a, v) for a, v, status in closed if status == "admitted"]
    no_shows = [(a, v) for a, v, status in closed if status == "no_show"]
    assert admitted and no_shows
    assert all(pair in attended for pair in admitted)
    assert not any(pair in attended for pair in no_shows)
    assert 0.02 <= len(no_shows) / (len(admitted) + len(no_shows)) <= 0.25


def test_the_demo_volunteer_has_an_upcoming_admitted_activity(seeded, db):
    volunteer = db.execute(select(Volunteer).where(Volunteer.phone == VOLUNTEER_PHONE)).scalar_one()
    mine = db.execute(select(Activity).join(Signup, Signup.activity_id == Activity.id).where(
        Signup.volunteer_id == volunteer.id, Signup.status == "admitted", Activity.status == "scheduled")).scalars().all()
    assert mine and all(a.starts_at > NOW_UTC for a in mine)


def test_attendances_follow_the_recording_rules(seeded, db):
    rows = db.execute(
        select(Attendance, Activity).join(Activity, Activity.id == Attendance.activity_id)
    ).all()
    methods = defaultdict(int)
    for attendance, activity in rows:
        methods[attendance.method] += 1
        assert attendance.credited_minutes >= 0
        assert (attendance.method == "retro_log") == activity.is_retro
        if attendance.method in ("leader_scan", "leader_manual", "retro_log"):
            assert attendance.recorded_by_id is not None
        if attendance.method == "self_scan":
            assert attendance.device_hash and len(attendance.device_hash) == 32
        if activity.status == "closed":
            assert attendance.checked_out_at is not None
            assert abs(attendance.checked_in_at - activity.starts_at) <= timedelta(minutes=30)
        assert attendance.created_at >= attendance.checked_in_at
        assert attendance.created_at <= NOW_UTC
    assert set(methods) == {"self_scan", "leader_scan", "leader_manual", "retro_log"}
    assert methods["self_scan"] > methods["leader_scan"] and methods["self_scan"] > 0.5 * len(rows)


# --- planted padding cases, and clean data around them ------------------------------------


def attendance_rows(db):
    return db.execute(
        select(Attendance.volunteer_id, Attendance.credited_minutes, Attendance.created_at, Attendance.device_hash,
               Attendance.checked_in_at, Activity.id, Activity.team_id, Activity.starts_at, Activity.ends_at,
               Activity.is_retro)
        .join(Activity, Activity.id == Attendance.activity_id)
    ).all()


def test_overlapping_activities_only_for_the_planted_volunteers(seeded, db):
    by_volunteer = defaultdict(list)
    for row in attendance_rows(db):
        by_volunteer[row.volunteer_id].append((row.starts_at, row.ends_at))
    overlapping = set()
    for volunteer_id, windows in by_volunteer.items():
        windows.sort()
        if any(b[0] < a[1] for a, b in zip(windows, windows[1:])):
            overlapping.add(volunteer_id)
    planted = set(db.execute(select(Volunteer.id).where(
        Volunteer.phone.in_(PLANTED_OVERLAP_PHONES[:PLANTED]))).scalars())
    assert len(planted) == PLANTED
    assert overlapping == planted


def test_one_device_for_many_people_only_where_planted(seeded, db):
    by_device = defaultdict(list)
    for row in attendance_rows(db):
        if row.device_hash:
            by_device[row.device_hash].append(row)
    shared = {device: rows for device, rows in by_device.items() if len({r.volunteer_id for r in rows}) > 1}
    assert set(shared) == set(PLANTED_DEVICE_HASHES[:PLANTED])
    for rows in shared.values():
        times = sorted(r.checked_in_at for r in rows)
        assert len(rows) >= 6 and times[-1] - times[0] <= timedelta(minutes=5)


def test_credit_longer_than_the_activity_only_where_planted(seeded, db):
    too_long = [r for r in attendance_rows(db)
                if r.credited_minutes * 60 > (r.ends_at - r.starts_at).total_seconds()]
    assert len(too_long) == PLANTED


def test_late_records_only_where_planted(seeded, db):
    late = {r.id for r in attendance_rows(db) if past_recording_deadline(r.ends_at, r.created_at)}
    assert len(late) == PLANTED
    assert all(r.is_retro for r in attendance_rows(db) if r.id in late)


def test_retro_logs_without_photos_only_where_planted(seeded, db):
    retro = set(db.execute(select(Activity.id).where(Activity.is_retro)).scalars())
    with_photos = set(db.execute(select(Photo.activity_id)).scalars())
    assert len(retro - with_photos) == PLANTED
    photo = db.execute(select(Photo)).scalars().first()
    assert photo.image[:2] == b"\xff\xd8" and photo.thumbnail[:2] == b"\xff\xd8"  # real JPEGs
    assert photo.size_bytes == len(photo.image)


def test_the_planted_team_logs_the_same_roster_every_week(seeded, db):
    leader_id = db.execute(select(Volunteer.id).where(Volunteer.phone == PLANTED_ROSTER_LEADER_PHONES[0])).scalar_one()
    team_id = db.execute(select(Membership.team_id).where(
        Membership.volunteer_id == leader_id, Membership.role == "leader")).scalar_one()
    rosters = defaultdict(set)
    for row in attendance_rows(db):
        if row.team_id == team_id:
            rosters[(row.starts_at, row.id)].add(row.volunteer_id)
    saturdays = Counter(frozenset(roster) for (start, _id), roster in rosters.items()
                        if (start + timedelta(hours=8)).weekday() == 5 and len(roster) == 12)
    planted, weeks = saturdays.most_common(1)[0]
    assert weeks >= 8  # a regular Saturday activity may happen to have 12 people too, never these 12
    others = [r for t, r in rosters.items() if r != planted]
    assert len({frozenset(r) for r in others}) == len(others)  # the team's other activities are all different


# --- a failed seed leaves nothing behind --------------------------------------------------


def _dangling_unit(original):
    def rows(self):
        for row in original(self):
            yield (row[0], row[1], 999_999) + row[3:]  # a team in a unit that does not exist
    return rows


def _dangling_volunteer(original):
    def rows(self, spec):
        found = original(self, spec)
        return [(r[0], r[1], 9_999_999) + r[3:] if spec.id == 40 and i == 0 else r for i, r in enumerate(found)]
    return rows


@pytest.mark.parametrize("method, sabotage", [("_team_rows", _dangling_unit), ("_attendances", _dangling_volunteer)])
def test_a_seed_that_fails_leaves_an_empty_database_with_its_indexes(runner, app, db, monkeypatch, method, sabotage):
    from sqlalchemy import inspect

    from volunteer_app import seed as seed_module

    engine = app.extensions["db_engine"]
    indexes_before = {t: sorted(ix["name"] for ix in inspect(engine).get_indexes(t))
                      for t in ("volunteer", "membership", "activity", "attendance")}
    monkeypatch.setattr(seed_module.Seeder, method, sabotage(getattr(seed_module.Seeder, method)))
    result = runner.invoke(args=["seed-demo", "--scale", "small", "--now", NOW])
    assert result.exit_code != 0
    assert "foreign key" in str(result.exception).lower()
    for model in SEEDED_TABLES:
        assert db.execute(select(func.count()).select_from(model)).scalar_one() == 0, model.__name__
    assert {t: sorted(ix["name"] for ix in inspect(engine).get_indexes(t)) for t in indexes_before} == indexes_before


def test_the_database_is_ready_for_the_app_after_seeding(seeded, app, backend, db):
    """New rows get fresh ids (PostgreSQL sequences moved past the seeded ids); SQLite settings are back."""
    from tests import factories

    top = db.execute(select(func.max(Volunteer.id))).scalar_one()
    volunteer = factories.make_volunteer(db, "新来的", phone="13912345678")
    db.commit()
    assert volunteer.id == top + 1
    if backend == "sqlite":
        for _ in range(3):  # whichever pooled connection the seed used
            with app.extensions["db_engine"].connect() as conn:
                raw = conn.connection.driver_connection
                assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert raw.execute("PRAGMA cache_size").fetchone()[0] == -2000


# --- demo refresh -------------------------------------------------------------------------


def test_demo_refresh_keeps_an_activity_open_for_the_demo_leader(runner, seeded, db):
    from volunteer_app.seed.refresh import refresh_demo

    leader = db.execute(select(Volunteer).where(Volunteer.phone == LEADER_PHONE)).scalar_one()
    later = NOW_UTC + timedelta(days=2)  # a newcomer comes back two days after seeding: nothing is open any more
    done = refresh_demo(session=db, now=later)
    db.commit()
    assert done.closed >= 1 and done.opened is not None and done.is_demo
    opened = db.get(Activity, done.opened.id)
    assert opened.status == "open" and opened.created_by_id == leader.id
    assert opened.starts_at < later < opened.ends_at
    again = refresh_demo(session=db, now=later + timedelta(minutes=5))  # safe to run again: nothing new
    db.commit()
    assert again.opened is None and again.closed == 0
    still_open = db.execute(select(func.count()).select_from(Activity).where(
        Activity.status == "open", Activity.ends_at > later)).scalar_one()
    assert still_open == 1


def test_demo_refresh_command_prints_the_logins(runner, seeded):
    result = runner.invoke(args=["demo", "refresh"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Demo logins" in result.output and LEADER_PHONE in result.output and VOLUNTEER_PHONE in result.output


def test_demo_refresh_leaves_a_database_without_the_demo_alone(runner, db):
    result = runner.invoke(args=["demo", "refresh"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "no demo leader" in result.output
    assert db.execute(select(func.count()).select_from(Activity)).scalar_one() == 0


def test_demo_refresh_keeps_an_upcoming_admitted_activity_for_the_demo_volunteer(seeded, db):
    from volunteer_app.seed.refresh import refresh_demo

    volunteer = db.execute(select(Volunteer).where(Volunteer.phone == VOLUNTEER_PHONE)).scalar_one()
    first = refresh_demo(session=db, now=NOW_UTC)  # the seed admitted them to one already
    db.commit()
    assert first.upcoming is not None and not first.scheduled
    later = NOW_UTC + timedelta(days=20)  # every seeded activity has started by then
    done = refresh_demo(session=db, now=later)
    db.commit()
    assert done.scheduled and done.upcoming.starts_at > later
    activity = db.get(Activity, done.upcoming.id)
    assert activity.status == "scheduled" and activity.admitted_count == 1 and activity.capacity
    assert (activity.starts_at + timedelta(hours=8)).date() == (later + timedelta(hours=8)).date() + timedelta(days=1)
    (signup,) = db.execute(select(Signup).where(Signup.activity_id == activity.id)).scalars().all()
    assert signup.volunteer_id == volunteer.id and signup.status == "admitted"
    again = refresh_demo(session=db, now=later + timedelta(minutes=5))
    db.commit()
    assert not again.scheduled and again.upcoming.id == activity.id
    assert db.execute(select(func.count()).select_from(Activity).where(Activity.starts_at > later)).scalar_one() == 1


def test_demo_refresh_prints_the_volunteers_upcoming_activity_with_the_logins(runner, seeded, db):
    result = runner.invoke(args=["demo", "refresh"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    volunteer = db.execute(select(Volunteer).where(Volunteer.phone == VOLUNTEER_PHONE)).scalar_one()
    upcoming = db.execute(select(Activity).join(Signup, Signup.activity_id == Activity.id).where(
        Signup.volunteer_id == volunteer.id, Signup.status == "admitted", Activity.status == "scheduled",
        Activity.starts_at > utcnow()).order_by(Activity.starts_at)).scalars().first()  # the command's clock
    line = next(line for line in result.output.splitlines() if VOLUNTEER_PHONE in line)
    assert f"admitted to {upcoming.id} «{upcoming.title}»" in line
