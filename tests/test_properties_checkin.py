"""A stateful property test of the check-in machine (Hypothesis): random sequences of open, scan,
leader check-in, check-out, close, cancel, correct and void, with the clock moving forward, on both
backends. After every step:

- attendances equal distinct (activity, volunteer) pairs: nobody is counted twice;
- credited minutes lie inside the activity window (and equal the clipped time unless a leader corrected them);
- each closed activity's denormalised attendee_count and total_minutes equal the sum of its non-voided
  attendances (its tally; check-ins and check-outs of an open activity leave them alone);
- only opened activities have attendances, and a members-only activity has members only.

Each step runs in its own session and transaction, committed on success and rolled back on a
domain error, the way a request does.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func
from sqlmodel import Session, select

from volunteer_app import audit
from volunteer_app.activities.corrections import adjust_minutes, void_attendance
from volunteer_app.activities.service import (
    ActivityError,
    cancel_activity,
    close_activity,
    open_activity,
)
from volunteer_app.checkin.service import (
    EARLY_MARGIN_SECONDS,
    LATE_MARGIN_SECONDS,
    CheckinError,
    check_in,
    check_out,
    credited_minutes,
)
from volunteer_app.db import _bind
from volunteer_app.errors import DomainError
from volunteer_app.models import Activity, Attendance, Team, utcnow

from . import factories

PEOPLE = 5  # four members (one of them the leader) and one outsider


def test_the_checkin_machine_keeps_its_invariants(app):
    engine = app.extensions["db_engine"]
    outcomes: Counter[str] = Counter()

    class CheckinMachine(RuleBasedStateMachine):
        activities = Bundle("activities")
        opened = Bundle("opened")
        present = Bundle("present")  # (activity id, volunteer id) of successful check-ins

        def __init__(self):
            super().__init__()
            self.now = utcnow().replace(microsecond=0)
            self.adjusted: set[int] = set()
            self.activity_ids: list[int] = []
            self.people: list[int] = []
            self.members: set[int] = set()

        def step(self, work, name: str = "setup") -> object | None:
            """Run work(session) as one request would: commit on success, roll back on a domain error."""
            with Session(bind=_bind(engine, True), expire_on_commit=False) as session:
                try:
                    result = work(session)
                except DomainError as exc:
                    session.rollback()
                    event(f"{name}: refused {exc.code}")
                    outcomes[f"{name}: refused {exc.code}"] += 1
                    return exc
                session.commit()
                event(f"{name}: done")
                outcomes[f"{name}: done"] += 1
                return result

        @initialize()
        def cast(self):
            def build(session):
                unit = factories.make_unit(session, "状态机社区", "community")
                team = factories.make_team(session, f"状态机队{unit.id}", unit)
                people = [factories.make_volunteer(session, f"志愿者{i}", home_unit=unit) for i in range(PEOPLE)]
                factories.add_member(session, team, people[0], role="leader")
                for person in people[1:4]:
                    factories.add_member(session, team, person)
                return team.id, [p.id for p in people]

            self.team_id, self.people = self.step(build)
            self.leader = self.people[0]
            self.members = set(self.people[:4])

        def make(self, start_in, hours, members_only) -> int:
            def build(session):
                team = session.get(Team, self.team_id)
                activity = factories.make_activity(session, team, status="scheduled", hours=hours,
                                                   starts_at=self.now + timedelta(minutes=start_in),
                                                   members_only=members_only)
                return activity.id

            activity_id = self.step(build)
            self.activity_ids.append(activity_id)
            return activity_id

        @rule(target=activities, start_in=st.integers(-90, 90), hours=st.integers(1, 4), members_only=st.booleans())
        def create(self, start_in, hours, members_only):
            """A scheduled activity, left unopened (scans are refused)."""
            return self.make(start_in, hours, members_only)

        @rule(target=opened, start_in=st.integers(-50, 50), hours=st.integers(1, 4), members_only=st.booleans())
        def create_and_open(self, start_in, hours, members_only):
            activity_id = self.make(start_in, hours, members_only)
            return self.open_it(activity_id)

        @rule(target=opened, activity_id=activities)
        def open(self, activity_id):
            return self.open_it(activity_id)

        def open_it(self, activity_id):
            status = self.activity(activity_id).status
            result = self.step(name="open_activity", work=lambda s: open_activity(
                session=s, activity_id=activity_id, actor_id=self.leader, at=self.now))
            if isinstance(result, DomainError):
                assert status != "scheduled" or result.code == "ended"
                return multiple()
            assert status == "scheduled" and self.activity(activity_id).status == "open"
            return activity_id

        def scan(self, activity_id, person, method):
            volunteer_id = self.people[person]
            before = self.attendance(activity_id, volunteer_id)
            result = self.step(name="check_in", work=lambda s: check_in(
                session=s, activity_id=activity_id, volunteer_id=volunteer_id, method=method,
                recorded_by_id=None if method == "self_scan" else self.leader, at=self.now))
            if before is not None:
                assert isinstance(result, CheckinError)  # a second scan never makes a second record
                activity = self.activity(activity_id)
                in_window = activity.starts_at - timedelta(seconds=EARLY_MARGIN_SECONDS) <= self.now \
                    <= activity.ends_at + timedelta(seconds=LATE_MARGIN_SECONDS)
                if activity.status == "open" and in_window:
                    assert result.code == ("voided" if before.voided_at else "already_checked_in")
            if isinstance(result, DomainError):
                return multiple()
            activity = self.activity(activity_id)
            assert activity.status == "open"
            assert volunteer_id in self.members or not activity.members_only
            return (activity_id, volunteer_id)

        @rule(target=present, activity_id=opened, person=st.integers(0, PEOPLE - 1),
              method=st.sampled_from(["self_scan", "leader_scan", "leader_manual"]))
        def scan_in(self, activity_id, person, method):
            return self.scan(activity_id, person, method)

        @rule(target=present, activity_id=opened, person=st.integers(1, 3))
        def member_scans(self, activity_id, person):
            """Members scanning in is what happens most at the door."""
            return self.scan(activity_id, person, "self_scan")

        @rule(target=present, activity_id=activities, person=st.integers(0, PEOPLE - 1))
        def scan_anything(self, activity_id, person):
            """Scans at scheduled, closed and cancelled activities too: refused, never recorded."""
            return self.scan(activity_id, person, "self_scan")

        @rule(pair=present)
        def scan_out(self, pair):
            activity_id, volunteer_id = pair
            before = self.attendance(activity_id, volunteer_id)
            result = self.step(name="check_out", work=lambda s: check_out(
                session=s, activity_id=activity_id, volunteer_id=volunteer_id, at=self.now))
            if before.checked_out_at is not None or before.voided_at is not None:
                assert isinstance(result, CheckinError)
            if not isinstance(result, DomainError):
                after = self.attendance(activity_id, volunteer_id)
                assert after.checked_out_at == self.now and not after.checkout_auto

        @rule(activity_id=opened, roll=st.integers(0, 1))
        def close(self, activity_id, roll):
            if roll:  # closing is rarer than scanning
                return
            status = self.activity(activity_id).status
            result = self.step(name="close_activity", work=lambda s: close_activity(
                session=s, activity_id=activity_id, actor_id=self.leader, at=self.now))
            assert isinstance(result, ActivityError) == (status != "open")
            if status == "open":
                assert self.activity(activity_id).status == "closed"
                still_in = [a for a in self.attendances(activity_id) if a.checked_out_at is None]
                assert not still_in  # everyone was checked out on close

        @rule(activity_id=activities, roll=st.integers(0, 5))
        def cancel(self, activity_id, roll):
            if roll:  # cancelling is rare
                return
            status = self.activity(activity_id).status
            result = self.step(name="cancel_activity", work=lambda s: cancel_activity(
                session=s, activity_id=activity_id, actor_id=self.leader, reason="下雨取消", at=self.now))
            assert isinstance(result, ActivityError) == (status not in ("scheduled", "open"))

        @rule(pair=present, minutes=st.integers(-5, 300))
        def correct(self, pair, minutes):
            attendance = self.attendance(*pair)
            result = self.step(name="adjust_minutes", work=lambda s: adjust_minutes(
                session=s, attendance_id=attendance.id, minutes=minutes, reason="补录时长", actor_id=self.leader,
                at=self.now))
            if not isinstance(result, DomainError):
                self.adjusted.add(attendance.id)
                assert self.attendance(*pair).credited_minutes == minutes

        @rule(pair=present)
        def void(self, pair):
            attendance = self.attendance(*pair)
            result = self.step(name="void_attendance", work=lambda s: void_attendance(
                session=s, attendance_id=attendance.id, reason="代签", actor_id=self.leader, at=self.now))
            if not isinstance(result, DomainError):
                assert self.attendance(*pair).voided_at is not None

        @rule(minutes=st.integers(1, 90))
        def tick(self, minutes):
            self.now += timedelta(minutes=minutes)

        # --- reading what is stored -------------------------------------------------------------

        def read(self, query):
            with Session(engine) as session:
                return query(session)

        def activity(self, activity_id) -> Activity:
            return self.read(lambda s: s.get(Activity, activity_id))

        def attendance(self, activity_id, volunteer_id) -> Attendance | None:
            return self.read(lambda s: s.exec(select(Attendance).where(
                Attendance.activity_id == activity_id, Attendance.volunteer_id == volunteer_id)).first())

        def attendances(self, activity_id=None) -> list[Attendance]:
            ids = [activity_id] if activity_id is not None else self.activity_ids
            if not ids:
                return []
            return self.read(lambda s: list(s.exec(select(Attendance).where(Attendance.activity_id.in_(ids)))))

        # --- invariants -------------------------------------------------------------------------

        @invariant()
        def one_attendance_per_person_and_activity(self):
            rows = self.attendances()
            assert len(rows) == len({(a.activity_id, a.volunteer_id) for a in rows})

        @invariant()
        def credited_minutes_lie_inside_the_window(self):
            activities = {a.id: a for a in self.read(lambda s: list(s.exec(
                select(Activity).where(Activity.id.in_(self.activity_ids or [0])))))}
            for attendance in self.attendances():
                activity = activities[attendance.activity_id]
                window = int((activity.ends_at - activity.starts_at).total_seconds() // 60)
                assert 0 <= attendance.credited_minutes <= window
                if attendance.checked_out_at is None:
                    assert attendance.credited_minutes == 0
                elif attendance.id not in self.adjusted:
                    assert attendance.checked_out_at >= attendance.checked_in_at
                    assert attendance.credited_minutes == credited_minutes(
                        attendance.checked_in_at, attendance.checked_out_at, activity.starts_at, activity.ends_at)

        @invariant()
        def denormalised_counts_equal_the_attendances(self):
            if not self.activity_ids:
                return

            def sums(session):
                rows = session.exec(
                    select(Attendance.activity_id, func.count(Attendance.id),
                           func.coalesce(func.sum(Attendance.credited_minutes), 0))
                    .where(Attendance.activity_id.in_(self.activity_ids), Attendance.voided_at.is_(None))
                    .group_by(Attendance.activity_id)
                ).all()
                stored = session.exec(select(Activity.id, Activity.status, Activity.attendee_count,
                                             Activity.total_minutes).where(Activity.id.in_(self.activity_ids))).all()
                return {a: (int(c), int(m)) for a, c, m in rows}, {a: (s, (c, m)) for a, s, c, m in stored}

            actual, stored = self.read(sums)
            for activity_id, (status, counts) in stored.items():
                if status == "closed":
                    assert counts == actual.get(activity_id, (0, 0)), activity_id
                else:  # open or cancelled: no tally (cancelled ones are not counted anywhere)
                    assert counts == (0, 0), activity_id

        @invariant()
        def only_opened_activities_have_attendances_and_members_only_means_members(self):
            activities = {a.id: a for a in self.read(lambda s: list(s.exec(
                select(Activity).where(Activity.id.in_(self.activity_ids or [0])))))}
            for attendance in self.attendances():
                activity = activities[attendance.activity_id]
                assert activity.status in ("open", "closed", "cancelled")
                if activity.members_only:
                    assert attendance.volunteer_id in self.members
                if activity.status == "cancelled":
                    assert attendance.voided_at is not None

    run_state_machine_as_test(
        CheckinMachine,
        settings=settings(max_examples=30, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )
    with Session(engine) as session:
        assert audit.verify(session=session) is None  # every open, close, correction and void chained
    # The machine really worked the service, not only its refusals.
    assert outcomes["check_in: done"] and outcomes["close_activity: done"], dict(outcomes)
    assert outcomes["check_in: refused already_checked_in"], dict(outcomes)
