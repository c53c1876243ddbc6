"""Results of the dashboard's heavy queries, remembered per filter and per version of the data.

Distinct volunteers and the share recorded live need the attendance table (a year of the city:
1.2 million rows, about a second on SQLite even from a covering index). Their results are kept
in process memory and reused only while the data they were computed from is unchanged: the key
holds the filter, and the stored value is valid only for the same *data version* — the filtered
activities' count and sums (every new, voided or re-credited attendance changes an activity's
denormalised counts), the newest attendance, volunteer and membership ids, and the newest audit event
id (every change to attendances, memberships and team status is audited). The version is one indexed aggregate,
so a warm dashboard costs that query and the rendering.

Each app process has its own cache; several servers stay correct because each checks the version.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import Activity, Attendance, AuditEvent, Membership, Volunteer
from .filters import ReportFilter

T = TypeVar("T")
MAX_ENTRIES = 256

_entries: OrderedDict[Hashable, tuple[tuple, object]] = OrderedDict()
_lock = threading.Lock()


def data_version(*, session: Session, f: ReportFilter, sums: tuple | None = None) -> tuple:
    """A fingerprint of everything the filter's figures are computed from. `sums`: the activity part, when
    the caller has it already (queries.version_sums), else it is queried."""
    from .queries import activity_conditions

    activities = sums if sums is not None else session.exec(select(
        func.count(Activity.id), func.coalesce(func.sum(Activity.attendee_count), 0),
        func.coalesce(func.sum(Activity.total_minutes), 0), func.coalesce(func.sum(Activity.team_id), 0),
        func.coalesce(func.sum(Activity.theme_id), 0), func.coalesce(func.sum(Activity.unit_id), 0),
    ).where(*activity_conditions(f))).one()
    newest = tuple(session.exec(select(func.max(model.id))).one() for model in (Attendance, AuditEvent, Volunteer,
                                                                                Membership))
    database = session.get_bind().url.render_as_string(hide_password=True)  # tests run several databases
    return (database,) + tuple(int(value) for value in activities) + newest


def filter_key(f: ReportFilter) -> tuple:
    return (f.area.id if f.area else None, f.start, f.end, f.theme.id if f.theme else None,
            f.team.id if f.team else None)


def remember(kind: str, key: tuple, version: tuple, compute: Callable[[], T]) -> T:
    """The cached value of (kind, key) if it was computed at this data version, else compute and keep it."""
    full_key = (kind,) + key
    with _lock:
        hit = _entries.get(full_key)
        if hit is not None and hit[0] == version:
            _entries.move_to_end(full_key)
            return hit[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[full_key] = (version, value)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget everything (tests, and the benchmark's cold runs)."""
    with _lock:
        _entries.clear()
