"""How an attendance was recorded, in words: one table for every page and export.

The codes are Attendance.method (models.ATTENDANCE_METHODS) and Attendance.checkout_auto. Pages show the
labels in the reader's language; the office's exports are in Chinese (`method_labels_in("zh_CN")`).
Personal data downloads show them in the reader's language too, the JSON beside the codes (privacy/labels.py).
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

METHOD_LABELS = {
    "self_scan": _l("self scan"),
    "leader_scan": _l("scanned by leader"),
    "leader_manual": _l("entered by leader"),
    "retro_log": _l("logged afterwards"),
}
AUTO_CHECKOUT_LABEL = _l("checked out at close")  # checkout_auto: checked out by closing the activity


def method_labels_in(language: str) -> dict[str, str]:
    """The method labels as plain strings in one language (needs an app context), e.g. for a streamed export."""
    with force_locale(language):
        return {code: str(label) for code, label in METHOD_LABELS.items()}


SIGNUP_LABELS = {  # Signup.status (models.SIGNUP_STATUSES), as the volunteer reads it
    "pending": _l("waiting for the leader"),
    "admitted": _l("admitted"),
    "waitlisted": _l("on the waiting list"),
    "declined": _l("not admitted"),
    "cancelled": _l("cancelled"),
    "no_show": _l("did not come"),
}
