"""The notice centre's rules: a person's own notices, how many are unread, marking them read, forgetting them.

Sending is volunteer_app.notify.send (the one door, every channel); this module only reads and updates the
in-app rows, and only ever the reader's own: another person's notice is "not found" (404), like a missing one.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from ..models import Activity, Notice, Team, utcnow

# The bell shows "99+" beyond this: counting stops there, so the query on every page stays cheap.
BELL_CAP = 99
PER_PAGE = 20


def unread_count(*, session: Session, volunteer_id: int) -> int:
    """Unread notices of one person, counted up to BELL_CAP + 1 (read from ix_notice_volunteer_read alone)."""
    capped = (select(Notice.id).where(Notice.volunteer_id == volunteer_id, Notice.read_at.is_(None))
              .limit(BELL_CAP + 1).subquery())
    return session.exec(select(func.count()).select_from(capped)).one()


def notices_of(*, volunteer_id: int):
    """A statement of the person's notices, newest first (for web.paginate)."""
    return select(Notice).where(Notice.volunteer_id == volunteer_id).order_by(Notice.id.desc())


def notice_for_reader(*, session: Session, volunteer_id: int, notice_id: int) -> Notice | None:
    """The notice if it is the reader's own, else None (→ 404 for "not yours" and "missing" alike)."""
    notice = session.get(Notice, notice_id)
    return notice if notice is not None and notice.volunteer_id == volunteer_id else None


def mark_read(*, session: Session, notice: Notice, now: datetime | None = None) -> Notice:
    """Mark one notice read (again is harmless: the first time read stays)."""
    if notice.read_at is None:
        notice.read_at = now or utcnow()
        session.add(notice)
        session.flush()
    return notice


def mark_all_read(*, session: Session, volunteer_id: int, now: datetime | None = None) -> int:
    """Mark every unread notice of the person read; how many were."""
    result = session.execute(
        update(Notice).where(Notice.volunteer_id == volunteer_id, Notice.read_at.is_(None))
        .values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0


def subjects(*, session: Session, notices: list[Notice]) -> tuple[dict[int, Activity], dict[int, Team]]:
    """The activities and teams a page of notices is about (and the activities' teams), two queries at most."""
    activity_ids = {n.activity_id for n in notices if n.activity_id}
    activities = {a.id: a for a in session.exec(select(Activity).where(Activity.id.in_(activity_ids)))} \
        if activity_ids else {}
    team_ids = {n.team_id for n in notices if n.team_id} | {a.team_id for a in activities.values()}
    teams = {t.id: t for t in session.exec(select(Team).where(Team.id.in_(team_ids)))} if team_ids else {}
    return activities, teams


def export_rows(*, session: Session, volunteer_id: int) -> list[tuple[Notice, Activity | None, Team | None]]:
    """Every notice of the person with what it is about, oldest first (the personal data export)."""
    notices = list(session.exec(select(Notice).where(Notice.volunteer_id == volunteer_id)
                                .order_by(Notice.id)).all())
    activities, teams = subjects(session=session, notices=notices)
    rows = []
    for notice in notices:
        activity = activities.get(notice.activity_id)
        team = teams.get(notice.team_id or (activity.team_id if activity else None))
        rows.append((notice, activity, team))
    return rows


def delete_notices_of(*, session: Session, volunteer_id: int) -> int:
    """Forget every notice of a person (account deletion); how many there were."""
    result = session.execute(delete(Notice).where(Notice.volunteer_id == volunteer_id)
                             .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0
