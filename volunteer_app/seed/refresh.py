"""`volunteer-app demo refresh`: keep the demo alive each time `make run` starts.

It closes what is overdue and, if the demo leader has no activity open now, creates and opens one through the
activities service (the same door a leader's phone uses); if the demo volunteer has no upcoming activity they
are admitted to, it schedules one for tomorrow morning in their team and signs them up through the sign-up
service (it admits automatically while places last); then it prints the demo logins with that activity. Safe to run again: a second run finds both and changes nothing. A database without the
demo leader is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import click
from flask.cli import with_appcontext
from sqlmodel import Session, select

from ..activities.service import close_overdue, create_activity, open_activity
from ..activities.signups import signup
from ..db import get_engine, session_scope
from ..models import Activity, Membership, Signup, Team, Theme, Unit, Volunteer, utcnow
from ..teams.rules import active_leader
from .plan import CHINA, DEMO_PASSWORD, DISTRICT_OFFICE_PHONE, LEADER_PHONE, OFFICE_PHONE, VOLUNTEER_PHONE

OPEN_FOR = timedelta(hours=3)
STARTED_BEFORE = timedelta(minutes=10)
UPCOMING_HOUR = 9  # the demo volunteer's activity: tomorrow 09:00-11:00 China time
UPCOMING_FOR = timedelta(hours=2)


@dataclass
class Refreshed:
    """What a refresh did: activities closed, the activity opened (if one was), and the demo leader's teams."""

    closed: int = 0
    opened: Activity | None = None
    leader_teams: list[str] = field(default_factory=list)
    is_demo: bool = True
    upcoming: Activity | None = None  # the demo volunteer's next admitted activity
    scheduled: bool = False  # whether this run created it


def refresh_demo(*, session: Session, now: datetime | None = None) -> Refreshed:
    """Close what is overdue; make sure the demo leader's first team has an activity open now."""
    now = now or utcnow()
    done = Refreshed()
    while True:  # close_overdue works in batches
        batch = close_overdue(session=session, at=now, limit=500)
        done.closed += len(batch)
        if len(batch) < 500:
            break
    leader = session.exec(select(Volunteer).where(Volunteer.phone == LEADER_PHONE)).first()
    teams = [] if leader is None else session.exec(
        select(Team).join(Membership, Membership.team_id == Team.id)
        .where(*active_leader(team=Team.id, volunteer=leader.id), Team.status == "active").order_by(Team.id)).all()
    if not teams:
        done.is_demo = False
        return done
    done.leader_teams = [team.name for team in teams]
    team = teams[0]
    open_now = session.exec(select(Activity).where(
        Activity.team_id == team.id, Activity.status == "open", Activity.ends_at > now)).first()
    if open_now is None:
        theme = session.exec(select(Theme).where(Theme.code == "civilized_traffic")).first() \
            or session.exec(select(Theme).where(Theme.is_active).order_by(Theme.sort_order)).first()
        activity = create_activity(session=session, team_id=team.id, actor_id=leader.id, theme_id=theme.id,
                                   title="文明交通劝导", place="社区东门路口", starts_at=now - STARTED_BEFORE,
                                   ends_at=now - STARTED_BEFORE + OPEN_FOR, now=now)
        done.opened = open_activity(session=session, activity_id=activity.id, actor_id=leader.id, at=now)
    volunteer = session.exec(select(Volunteer).where(Volunteer.phone == VOLUNTEER_PHONE)).first()
    if volunteer is not None:
        done.upcoming = _next_admitted(session, volunteer.id, now)
        if done.upcoming is None:
            done.upcoming = _schedule_for_volunteer(session, team, leader.id, volunteer.id, now)
            done.scheduled = True
    return done


def _next_admitted(session: Session, volunteer_id: int, now: datetime) -> Activity | None:
    """The volunteer's next activity that has not started and that they are admitted to."""
    return session.exec(select(Activity).join(Signup, Signup.activity_id == Activity.id).where(
        Signup.volunteer_id == volunteer_id, Signup.status == "admitted", Activity.status == "scheduled",
        Activity.starts_at > now).order_by(Activity.starts_at)).first()


def _schedule_for_volunteer(session: Session, team: Team, leader_id: int, volunteer_id: int,
                            now: datetime) -> Activity:
    """Tomorrow morning's activity of the team, open to its members and admitting automatically, with the
    demo volunteer admitted."""
    theme = session.exec(select(Theme).where(Theme.code == "sanitation")).first() \
        or session.exec(select(Theme).where(Theme.is_active).order_by(Theme.sort_order)).first()
    tomorrow = now.astimezone(CHINA).date() + timedelta(days=1)
    starts_at = datetime(tomorrow.year, tomorrow.month, tomorrow.day, UPCOMING_HOUR, tzinfo=CHINA).astimezone(timezone.utc)
    activity = create_activity(session=session, team_id=team.id, actor_id=leader_id, theme_id=theme.id,
                               title="小区环境大扫除", place="社区党群服务中心", starts_at=starts_at,
                               ends_at=starts_at + UPCOMING_FOR, capacity=20, now=now)
    activity.meeting_point = "社区党群服务中心门口集合"
    activity.requirements = "穿方便活动的衣服和运动鞋，手套由社区提供"
    session.flush()
    signup(session=session, activity_id=activity.id, volunteer_id=volunteer_id, now=now)
    return activity


def echo_logins(logins) -> None:
    """Print the demo logins (role, phone, name, note) as seed-demo and demo refresh both show them."""
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for role, phone, name, note in logins:
        click.echo(f"  {role:<22} {phone}  {name}{'  ' + note if note else ''}")


def demo_logins(leader_teams: list[str], district: str, volunteer_team: str,
                upcoming: str = "") -> list[tuple[str, str, str, str]]:
    """The four demo accounts, with what each sees (upcoming: the volunteer's next admitted activity)."""
    return [
        ("office (city-wide)", OFFICE_PHONE, "周敏", ""),
        ("office (one district)", DISTRICT_OFFICE_PHONE, "陈静", f"{district} only"),
        ("team leader", LEADER_PHONE, "李建国", f"{', '.join(leader_teams)}; an activity is open now"),
        ("volunteer", VOLUNTEER_PHONE, "王小红", f"{volunteer_team}; admitted to {upcoming}" if upcoming
         else volunteer_team),
    ]


@click.group("demo")
def demo_group() -> None:
    """The demo city."""


@demo_group.command("refresh")
@with_appcontext
def demo_refresh_command() -> None:
    """Close what is overdue, open an activity for the demo leader if none is open now, print the logins."""
    with session_scope(get_engine()) as session:
        done = refresh_demo(session=session)
        opened = done.opened and (done.opened.id, done.opened.ends_at)
        upcoming = done.upcoming and describe_upcoming(done.upcoming)
        district = _district_office_area(session)
        volunteer_team = done.leader_teams[0] if done.leader_teams else ""
    if not done.is_demo:
        click.echo(f"{done.closed} overdue activities closed; no demo leader here, nothing else to do.")
        return
    click.echo(f"{done.closed} overdue activities closed.")
    if opened:
        click.echo(f"Opened activity {opened[0]} for the demo leader, open until {opened[1]:%Y-%m-%d %H:%M} UTC.")
    else:
        click.echo("The demo leader has an activity open now.")
    if upcoming:
        click.echo(f"{'Scheduled' if done.scheduled else 'The demo volunteer already has'} activity {upcoming}"
                   f"{', with the demo volunteer admitted' if done.scheduled else ', admitted'}.")
    echo_logins(demo_logins(done.leader_teams, district, volunteer_team, upcoming or ""))


def describe_upcoming(activity: Activity) -> str:
    """'<id> «title» on 2026-12-04 09:00' (China time), for the logins."""
    return f"{activity.id} «{activity.title}» on {activity.starts_at.astimezone(CHINA):%Y-%m-%d %H:%M}"


def _district_office_area(session: Session) -> str:
    """The name of the unit the district office is limited to (the seed's first district)."""
    office = session.exec(select(Volunteer).where(Volunteer.phone == DISTRICT_OFFICE_PHONE)).first()
    unit = session.get(Unit, office.office_unit_id) if office is not None and office.office_unit_id else None
    return unit.name if unit is not None else ""
