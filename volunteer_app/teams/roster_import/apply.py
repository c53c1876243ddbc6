"""Checking every row of a roster Table, then writing all of it or nothing.

Speed for 166,000 volunteer rows: one pass over the rows with set and dict lookups (the phones,
units and teams already in the database are loaded once), then Core executemany inserts in one
transaction, with the audit events chained in memory and inserted the same way.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert
from sqlmodel import Session, select

from ... import audit
from ...accounts import numbers
from ...accounts.phone import normalise_phone
from ...accounts.service import NAME_MAX, NO_PASSWORD
from ...models import Membership, Team, Unit, Volunteer, utcnow
from ...units import units_in_scope
from .parse import PROGRESS_EVERY, Progress, Table

REPORT_LIMIT = 5_000  # rows kept in the stored report; error_count has the full number

JOIN_POLICY_VALUES = {"审核": "approve", "队长审核": "approve", "approve": "approve", "自动": "auto",
                      "自动加入": "auto", "auto": "auto", "": "approve"}
ROLE_VALUES = {"队员": "member", "成员": "member", "member": "member", "": "member", "队长": "leader",
               "副队长": "leader", "leader": "leader"}

ROW_MESSAGES = {
    "missing": _l("This field is empty."),
    "bad_phone": _l("Not an 11-digit mainland mobile number."),
    "bad_name": _l("Name is empty, longer than 40 characters, or contains invisible characters."),
    "too_long": _l("Too long."),
    "duplicate_in_file": _l("Same as row %(row)d of this file."),
    "phone_registered": _l("This phone number is already registered."),
    "unknown_unit": _l("No unit with this code (or outside your area)."),
    "ambiguous_unit": _l("Several units have this name; use the unit code."),
    "not_community": _l("A volunteer's unit must be a community."),
    "unknown_team": _l("No active team with this name."),
    "ambiguous_team": _l("Several teams have this name; none of them is in this person's community."),
    "team_exists": _l("A team with this name already exists in this unit."),
    "bad_role": _l("Write 队员 (member) or 队长 (leader)."),
    "bad_join_policy": _l("Write 审核 (leader approval) or 自动 (automatic)."),
}


@dataclass
class RowError:
    row: int
    column: str  # column key
    value: str
    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "code": self.code,
                "params": self.params}


@dataclass
class ImportResult:
    kind: str
    total_rows: int = 0
    created: int = 0
    memberships: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- validating and writing ---------------------------------------------------------------------


def validate_and_write(
    *, session: Session, kind: str, table: Table, actor_id: int | None, scope: str | None = None,
    progress: Progress | None = None, read_session: Session | None = None,
) -> ImportResult:
    """Check every row (reading through read_session if given); if all are right, write them in session."""
    reader = read_session or session
    if kind == "teams":
        result, plan = _validate_teams(reader, table, scope, progress)
    else:
        result, plan = _validate_volunteers(reader, table, scope, progress)
    if result.errors:
        return result
    if progress:
        progress("writing", result.total_rows, result.total_rows)
    if kind == "teams":
        _write_teams(session, plan, actor_id, result)
    else:
        _write_volunteers(session, plan, actor_id, result)
    return result


def _cells(table: Table, cells: list[str]) -> dict[str, str]:
    return {key: (cells[index] if index < len(cells) else "") for key, index in table.columns.items()}


def _validate_teams(session: Session, table: Table, scope: str | None, progress: Progress | None):
    result = ImportResult("teams", total_rows=len(table.rows), ignored_columns=table.ignored)
    units = _units(session, scope)
    existing = set(session.exec(select(Team.unit_id, Team.name)).all())
    seen: dict[tuple[int, str], int] = {}
    plan = []
    for done, (number, cells) in enumerate(table.rows, start=1):
        values = _cells(table, cells)
        errors = result.errors
        before = len(errors)
        name = _check_name(values["name"], number, "name", errors)
        unit_id = _check_unit(units, values["unit"], number, errors, community_only=False)
        description = values.get("description", "")
        if len(description) > 2000:
            errors.append(RowError(number, "description", description[:40], "too_long"))
        contact_name = values.get("contact_name", "")
        if contact_name:
            contact_name = _check_name(contact_name, number, "contact_name", errors) or ""
        contact_phone = values.get("contact_phone", "")
        if contact_phone:
            normalised = normalise_phone(contact_phone)
            if normalised is None:
                errors.append(RowError(number, "contact_phone", contact_phone[:40], "bad_phone"))
            contact_phone = normalised or ""
        policy = JOIN_POLICY_VALUES.get(values.get("join_policy", "").lower())
        if policy is None:
            errors.append(RowError(number, "join_policy", values["join_policy"][:40], "bad_join_policy"))
        if name and unit_id is not None:
            key = (unit_id, name)
            if key in existing:
                errors.append(RowError(number, "name", name, "team_exists"))
            elif key in seen:
                errors.append(RowError(number, "name", name, "duplicate_in_file", {"row": seen[key]}))
            else:
                seen[key] = number
        if len(errors) == before:
            plan.append({"name": name, "unit_id": unit_id, "description": description,
                         "contact_name": contact_name, "contact_phone": contact_phone or None,
                         "join_policy": policy})
        if progress and done % PROGRESS_EVERY == 0:
            progress("validating", done, len(table.rows))
    return result, plan


def _validate_volunteers(session: Session, table: Table, scope: str | None, progress: Progress | None):
    result = ImportResult("volunteers", total_rows=len(table.rows), ignored_columns=table.ignored)
    units = _units(session, scope)
    unit_paths = {unit_id: path for unit_id, (path, _level) in units["by_id"].items()}
    registered = set(session.exec(select(Volunteer.phone).where(Volunteer.phone.is_not(None))).all())
    teams: dict[str, list[tuple[int, int]]] = {}
    for team_id, name, unit_id in session.exec(
        select(Team.id, Team.name, Team.unit_id).where(Team.status == "active")
    ).all():
        teams.setdefault(name, []).append((team_id, unit_id))
    seen: dict[str, int] = {}
    plan = []
    has_team = "team" in table.columns
    for done, (number, cells) in enumerate(table.rows, start=1):
        values = _cells(table, cells)
        errors = result.errors
        before = len(errors)
        name = _check_name(values["name"], number, "name", errors)
        phone = None
        raw_phone = values["phone"]
        if not raw_phone:
            errors.append(RowError(number, "phone", "", "missing"))
        else:
            phone = normalise_phone(raw_phone)
            if phone is None:
                errors.append(RowError(number, "phone", raw_phone[:40], "bad_phone"))
            elif phone in registered:
                errors.append(RowError(number, "phone", raw_phone[:40], "phone_registered"))
            elif phone in seen:
                errors.append(RowError(number, "phone", raw_phone[:40], "duplicate_in_file", {"row": seen[phone]}))
            else:
                seen[phone] = number
        unit_id = _check_unit(units, values["unit"], number, errors, community_only=True)
        team_id = None
        team_name = values.get("team", "") if has_team else ""
        if team_name:
            candidates = teams.get(team_name, [])
            if len(candidates) == 1:
                team_id = candidates[0][0]
            elif not candidates:
                errors.append(RowError(number, "team", team_name[:40], "unknown_team"))
            elif unit_id is not None:
                # Same name in several units: take the one in this person's community, street or district.
                ancestors = {int(p) for p in unit_paths.get(unit_id, "").strip("/").split("/") if p.isdigit()}
                inside = [t for t, u in candidates if u in ancestors]
                if len(inside) == 1:
                    team_id = inside[0]
                else:
                    errors.append(RowError(number, "team", team_name[:40], "ambiguous_team"))
        role = ROLE_VALUES.get(values.get("role", "").lower())
        if role is None:
            errors.append(RowError(number, "role", values["role"][:40], "bad_role"))
        if len(errors) == before:
            plan.append((name, phone, unit_id, team_id, role))
        if progress and done % PROGRESS_EVERY == 0:
            progress("validating", done, len(table.rows))
    return result, plan


def _units(session: Session, scope: str | None) -> dict:
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    by_id: dict[int, tuple[str, str]] = {}
    statement = select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.path)
    if scope is not None:
        statement = statement.where(Unit.id.in_(units_in_scope(scope)))
    for unit_id, code, name, level, path in session.exec(statement).all():
        by_code[code.upper()] = unit_id
        by_name.setdefault(name, []).append(unit_id)
        by_id[unit_id] = (path, level)
    return {"by_code": by_code, "by_name": by_name, "by_id": by_id}


def _check_unit(units: dict, raw: str, number: int, errors: list, *, community_only: bool) -> int | None:
    if not raw:
        errors.append(RowError(number, "unit", "", "missing"))
        return None
    unit_id = units["by_code"].get(raw.upper())
    if unit_id is None:
        named = units["by_name"].get(raw, [])
        if community_only:
            named = [u for u in named if units["by_id"][u][1] == "community"]
        if len(named) > 1:
            errors.append(RowError(number, "unit", raw[:40], "ambiguous_unit"))
            return None
        unit_id = named[0] if named else None
    if unit_id is None:
        errors.append(RowError(number, "unit", raw[:40], "unknown_unit"))
        return None
    if community_only and units["by_id"][unit_id][1] != "community":
        errors.append(RowError(number, "unit", raw[:40], "not_community"))
        return None
    return unit_id


def _check_name(raw: str, number: int, column: str, errors: list) -> str | None:
    from ...accounts.service import AccountError, clean_name

    if not raw:
        errors.append(RowError(number, column, "", "missing"))
        return None
    try:
        return clean_name(raw)
    except AccountError:
        errors.append(RowError(number, column, raw[:NAME_MAX + 10], "bad_name"))
        return None


def _write_teams(session: Session, plan: list[dict], actor_id: int | None, result: ImportResult) -> None:
    now = utcnow()
    rows = [dict(row, status="active", status_reason=None, applied_by_id=None, decided_by_id=actor_id,
                 decided_at=now, invite_nonce=secrets.token_hex(8), invite_expires_at=None, created_at=now)
            for row in plan]
    before = session.exec(select(func.coalesce(func.max(Team.id), 0))).one()
    session.execute(insert(Team.__table__), rows)
    created = session.exec(select(Team.id).where(Team.id > before).order_by(Team.id)).all()
    audit.record_many(session=session, events=[
        {"action": "team.import", "object_type": "team", "object_id": team_id, "team_id": team_id,
         "actor_id": actor_id, "data": {"new": {"status": "active"}}}
        for team_id in created
    ])
    result.created = len(rows)


def _write_volunteers(session: Session, plan: list[tuple], actor_id: int | None, result: ImportResult) -> None:
    """The volunteers, their memberships, and an audit event for each of both (whatever the file's columns)."""
    now = utcnow()
    before = session.exec(select(func.coalesce(func.max(Volunteer.id), 0))).one()
    session.execute(insert(Volunteer.__table__), [
        {"name": name, "phone": phone, "phone_tail": phone[-4:], "password_hash": NO_PASSWORD, "role": "volunteer",
         "home_unit_id": unit_id, "office_unit_id": None, "is_active": True, "session_version": 1,
         "consent_at": None, "created_at": now, "deleted_at": None}
        for name, phone, unit_id, _team, _role in plan
    ])
    result.created = len(plan)
    planned = {phone for _n, phone, _u, _t, _r in plan}
    ids = {phone: vid for vid, phone in session.exec(
        select(Volunteer.id, Volunteer.phone).where(Volunteer.id > before)).all() if phone in planned}
    events = [
        {"action": "volunteer.import", "object_type": "volunteer", "object_id": ids[phone], "actor_id": actor_id,
         "data": {"new": {"home_unit_id": unit_id}}}
        for _n, phone, unit_id, _t, _r in plan
    ]
    numbers.assign_many(session=session, volunteer_ids=list(ids.values()))
    if any(team_id is not None for _n, _p, _u, team_id, _r in plan):
        first_membership = session.exec(select(func.coalesce(func.max(Membership.id), 0))).one()
        session.execute(insert(Membership.__table__), [
            {"team_id": team_id, "volunteer_id": ids[phone], "role": role, "status": "active", "created_at": now,
             "joined_at": now, "updated_at": now}
            for _n, phone, _u, team_id, role in plan if team_id is not None
        ])
        new_ids = set(ids.values())
        created = [row for row in session.exec(
            select(Membership.id, Membership.team_id, Membership.volunteer_id, Membership.role)
            .where(Membership.id > first_membership).order_by(Membership.id)).all() if row[2] in new_ids]
        events += [
            {"action": "membership.import", "object_type": "membership", "object_id": mid, "team_id": team_id,
             "actor_id": actor_id,
             "data": {"old": None, "new": {"role": role, "status": "active"}, "volunteer_id": volunteer_id}}
            for mid, team_id, volunteer_id, role in created
        ]
        result.memberships = len(created)
    audit.record_many(session=session, events=events)


def row_message(error: dict) -> str:
    template = ROW_MESSAGES.get(error.get("code"), _l("This value is not accepted."))
    params = error.get("params") or {}
    return str(template) % params if params else str(template)
