"""Who may take part in an activity: the one rule every way of recording an attendance applies.

An attendance may be recorded only
- while the activity's team is active (a suspended team records nothing new; its history stays),
- for a volunteer account (never office staff) that is active and not deleted,
- for an active member of the activity's team; an activity open to all volunteers also takes non-members,
  but only through a code that shows the person is there (their own scan of the activity's code, or the
  leader's scan of their personal code). A person picked by id (manual check-in, add-missed, retro log)
  is a member, or someone the leader admitted to that activity (a sign-up, activities/signups.py),
- and for an activity that takes only admitted volunteers (`admitted_only`), a self scan needs an admitted
  sign-up; the leader may still check anyone else in by hand or by scanning their personal code.

How an outsider came to an open activity stays on record without a column of its own: their sign-up (kept
with its status, never deleted) says they signed up; no sign-up and a scan means they walked in.

The rule is four SQL conditions (`columns`, which the check-in gate selects, the self-scan's too) and one
judgement on them (`refusal`); `refusal_for` runs both for the other paths. The codes are stable and their
messages shared by CheckinError and ActivityError (`MESSAGES`).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, or_, select, true
from sqlmodel import Session

from ..models import Signup, Team, Volunteer
from ..teams.rules import active_member

# A non-member may take part in an activity open to all only through one of these (the person shows a code).
SCANS = ("self_scan", "leader_scan")

MESSAGES = {
    "team_suspended": _l("This team is suspended: nobody can be checked in or recorded until the Civilization "
                         "Office reactivates it."),
    "not_participant": _l("This account cannot take part in activities: it is closed, disabled or an office "
                          "account."),
    "not_admitted": _l("Only volunteers admitted to this activity can check themselves in. Ask the leader to "
                       "check you in."),
    "members_by_name": _l("Only members of the team can be entered by name. Someone else checks in with their "
                          "own code."),
}

_v = Volunteer.__table__.c
_t = Team.__table__.c
_s = Signup.__table__.c
ADMITTED = ("admitted", "no_show")  # a no-show was admitted too: a correction may still record them


def columns(team, volunteer, activity=None) -> list:
    """The labelled columns `refusal` judges (team_active, account_ok, is_member, is_admitted), for a
    statement's SELECT; team, volunteer and activity are a value, a bind parameter or a column."""
    return [
        exists().where(_t.id == team, _t.status == "active").label("team_active"),
        exists().where(_v.id == volunteer, _v.role == "volunteer", _v.is_active == true(),
                       _v.deleted_at.is_(None)).label("account_ok"),
        exists().where(*active_member(team=team, volunteer=volunteer)).label("is_member"),
        # Spelled out, not IN (...): the driver path's DirectStatement takes no expanding parameters.
        exists().where(_s.activity_id == activity, _s.volunteer_id == volunteer,
                       or_(*(_s.status == status for status in ADMITTED))).label("is_admitted"),
    ]


def refusal(row, *, members_only: bool, method: str, admitted_only: bool = False) -> str | None:
    """Why this person may not be recorded by method at an activity (a row of `columns`), or None if they may."""
    if not row.team_active:
        return "team_suspended"
    if not row.account_ok:
        return "not_participant"
    if not row.is_member and (members_only or (method not in SCANS and not row.is_admitted)):
        return "not_member" if members_only else "members_by_name"
    if admitted_only and method == "self_scan" and not row.is_admitted:
        return "not_admitted"
    return None


def refusal_for(session: Session, *, team_id: int, volunteer_id: int, members_only: bool, method: str,
                activity_id: int | None = None, admitted_only: bool = False) -> str | None:
    """`refusal` for one person and one team (and the activity, for its sign-ups), read in one query."""
    row = session.connection().execute(_COLUMNS, {"team_id": team_id, "volunteer_id": volunteer_id,
                                                  "activity_id": activity_id}).one()
    return refusal(row, members_only=members_only, method=method, admitted_only=admitted_only)


_COLUMNS = select(*columns(bindparam("team_id"), bindparam("volunteer_id"), bindparam("activity_id")))
