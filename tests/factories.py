"""Small chained builders for tests: unit → team → volunteer → activity → attendance.

They write rows directly (flush, no commit); tests that go through HTTP commit first.
"""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from volunteer_app.models import Activity, Attendance, Membership, Team, Theme, Unit, Volunteer, utcnow

PASSWORD = "correct horse 42"
PASSWORD_HASH = generate_password_hash(PASSWORD)  # hashed once: scrypt per volunteer would slow every test
_phones = itertools.count(1)


def next_phone() -> str:
    """A fresh, clearly fictitious 11-digit mobile number (199 1000 xxxx: the demo seed uses 199 0xxx xxxx)."""
    return f"1991000{next(_phones) % 10000:04d}"


def make_unit(session: Session, name: str, level: str, parent: Unit | None = None, code: str | None = None) -> Unit:
    unit = Unit(name=name, level=level, parent_id=parent.id if parent else None,
                code=code or f"U{secrets.token_hex(4)}", path="")
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def make_volunteer(session: Session, name: str = "张三", *, phone: str | None = None, role: str = "volunteer",
                   home_unit: Unit | None = None, office_unit: Unit | None = None) -> Volunteer:
    phone = phone or next_phone()
    volunteer = Volunteer(name=name, phone=phone, phone_tail=phone[-4:], password_hash=PASSWORD_HASH, role=role,
                          home_unit_id=home_unit.id if home_unit else None,
                          office_unit_id=office_unit.id if office_unit else None, consent_at=utcnow())
    session.add(volunteer)
    session.flush()
    return volunteer


def make_team(session: Session, name: str, unit: Unit, *, status: str = "active", join_policy: str = "approve") -> Team:
    team = Team(name=name, unit_id=unit.id, status=status, join_policy=join_policy, invite_nonce=secrets.token_hex(8))
    session.add(team)
    session.flush()
    return team


def add_member(session: Session, team: Team, volunteer: Volunteer, *, role: str = "member",
               status: str = "active") -> Membership:
    membership = Membership(team_id=team.id, volunteer_id=volunteer.id, role=role, status=status,
                            joined_at=utcnow() if status == "active" else None)
    session.add(membership)
    session.flush()
    return membership


def theme(session: Session, code: str = "civilized_traffic") -> Theme:
    return session.exec(select(Theme).where(Theme.code == code)).one()


def make_activity(session: Session, team: Team, *, theme_code: str = "civilized_traffic", title: str = "路口文明劝导",
                  starts_at: datetime | None = None, hours: float = 2, status: str = "scheduled",
                  created_by: Volunteer | None = None, **fields) -> Activity:
    starts_at = starts_at or utcnow().replace(microsecond=0) - timedelta(minutes=30)
    if fields.get("members_only") is False:
        fields.setdefault("audience", "city")
    fields["members_only"] = fields.get("audience", "team") == "team"  # ck_activity_members_only
    activity = Activity(team_id=team.id, theme_id=theme(session, theme_code).id, unit_id=team.unit_id, title=title,
                        place=fields.pop("place", "人民路与解放路口"), starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=hours), status=status, secret=secrets.token_hex(16),
                        created_by_id=created_by.id if created_by else None, **fields)
    session.add(activity)
    session.flush()
    return activity


def make_attendance(session: Session, activity: Activity, volunteer: Volunteer, *, minutes: int = 60,
                    method: str = "self_scan", checked_in_at: datetime | None = None) -> Attendance:
    checked_in_at = checked_in_at or activity.starts_at
    attendance = Attendance(activity_id=activity.id, volunteer_id=volunteer.id, checked_in_at=checked_in_at,
                            checked_out_at=checked_in_at + timedelta(minutes=minutes), credited_minutes=minutes,
                            method=method)
    session.add(attendance)
    session.flush()
    return attendance


@dataclass
class World:
    """The cast most tests need, committed."""

    district: Unit
    district2: Unit
    street: Unit
    community: Unit
    community2: Unit
    team_a: Team
    team_b: Team
    leader_a: Volunteer
    leader_b: Volunteer
    member_a: Volunteer
    member_b: Volunteer
    volunteer: Volunteer
    office: Volunteer
    office_district2: Volunteer


def make_world(session: Session) -> World:
    district = make_unit(session, "和平区", "district", code="D01")
    district2 = make_unit(session, "河西区", "district", code="D02")
    street = make_unit(session, "南市街道", "street", district, code="D01-S01")
    street2 = make_unit(session, "友谊路街道", "street", district2, code="D02-S01")
    community = make_unit(session, "清和社区", "community", street, code="D01-S01-C01")
    community2 = make_unit(session, "永安社区", "community", street2, code="D02-S01-C01")
    team_a = make_team(session, "清和社区志愿服务队", community)
    team_b = make_team(session, "永安社区志愿服务队", community2)
    leader_a = make_volunteer(session, "李队长", phone="13800000001", home_unit=community)
    leader_b = make_volunteer(session, "王队长", phone="13800000002", home_unit=community2)
    member_a = make_volunteer(session, "赵小红", phone="13800000003", home_unit=community)
    member_b = make_volunteer(session, "钱小明", phone="13800000004", home_unit=community2)
    volunteer = make_volunteer(session, "孙志愿", phone="13800000005", home_unit=community)
    office = make_volunteer(session, "文明办", phone="13800000009", role="office")
    office_district2 = make_volunteer(session, "河西文明办", phone="13800000008", role="office", office_unit=district2)
    add_member(session, team_a, leader_a, role="leader")
    add_member(session, team_a, member_a)
    add_member(session, team_b, leader_b, role="leader")
    add_member(session, team_b, member_b)
    session.commit()
    return World(district, district2, street, community, community2, team_a, team_b, leader_a, leader_b, member_a,
                 member_b, volunteer, office, office_district2)
