"""What closing an activity now would do, for the closing dialog: who is still in, and whether it is early.

The closing itself is service.close_activity (credit those still in until now or until the planned end).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from ..models import Activity, utcnow
from .reading import live_count

EARLY_WARNING = timedelta(minutes=15)  # closing earlier than this before the planned end is worth a warning


@dataclass(frozen=True)
class ClosePreview:
    """The closing dialog's facts: checked in so far, still in, and how long before the planned end it is."""

    total: int
    still_in: int
    early_by: timedelta  # zero once the planned end has passed

    @property
    def early(self) -> bool:
        """Closing more than EARLY_WARNING before the planned end."""
        return self.early_by > EARLY_WARNING

    @property
    def choice(self) -> bool:
        """Whether "until now" and "until the planned end" credit differently (someone is in, the end is ahead)."""
        return self.still_in > 0 and self.early_by > timedelta(0)


def close_preview(*, session: Session, activity: Activity, at: datetime | None = None) -> ClosePreview:
    """What closing the activity at `at` would meet."""
    at = at or utcnow()
    total, still_in = live_count(session=session, activity_id=activity.id)
    return ClosePreview(total=total, still_in=still_in, early_by=max(activity.ends_at - at, timedelta(0)))
