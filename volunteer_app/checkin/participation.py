"""Who may take part in an activity: the one rule every way of recording an attendance applies.

An attendance may be recorded only
- while the activity's team is active (a suspended team records nothing new; its history stays),
- for a volunteer account (never office staff) that is active and not deleted,
- for an active member of the activity's team; an activity open to all volunteers also takes non-members,
  but only through a code that shows the person is there (their own scan of the activity's code, or the
  leader's scan of their personal code). A person picked by id (manual check-in, add-missed, retro log)
  is always a member.

The rule is three SQL conditions (`columns`, which the check-in gate selects, the self-scan's too) and one
judgement on them (`refusal`); `refusal_for` runs both for the other paths. The codes are stable and their
messages shared by CheckinError and ActivityError (`MESSAGES`).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, select, true
from sqlmodel import Session

from ..models import Team, Volunteer
from ..teams.rules import active_member

# A non-member may take part in an activity open to all only through one of these (the person shows a code).
SCANS = ("self_scan", "leader_scan")

MESSAGES = {
    "team_suspended": _l("This team is suspended: nobody can be checked in or recorded until the Civilization "
                         "Office reactivates it."),
    "not_participant": _l("This account cannot take part in activities: it is closed, disabled or an office "
                          "account."),
    "members_by_name": _l("Only members of the team can be entered by name. Someone else checks in with their "
                          "own code."),
}

_v = Volunteer.__table__.c
_t = Team.__table__.c


def columns(team, volunteer) -> list:
    """The labelled columns `refusal` judges (team_active, account_ok, is_member), for a statement's SELECT;
    team and volunteer are a value, a bind parameter or a column."""
    return [
        exists().where(_t.id == team, _t.status == "active").label("team_active"),
        exists().where(_v.id == volunteer, _v.role == "volunteer", _v.is_active == true(),
                       _v.deleted_at.is_(None)).label("account_ok"),
        exists().where(*active_member(team=team, volunteer=volunteer)).label("is_member"),
    ]


def refusal(row, *, members_only: bool, method: str) -> str | None:
    """Why this person may not be recorded by method at an activity (a row of `columns`), or None if they may."""
    if not row.team_active:
        return "team_suspended"
    if not row.account_ok:
        return "not_participant"
    if not row.is_member and (members_only or method not in SCANS):
        return "not_member" if members_only else "members_by_name"
    return None


def refusal_for(session: Session, *, team_id: int, volunteer_id: int, members_only: bool, method: str) -> str | None:
    """`refusal` for one person and one team, read in one query."""
    row = session.connection().execute(_COLUMNS, {"team_id": team_id, "volunteer_id": volunteer_id}).one()
    return refusal(row, members_only=members_only, method=method)


_COLUMNS = select(*columns(bindparam("team_id"), bindparam("volunteer_id")))
