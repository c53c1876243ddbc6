"""Column headers and value labels of the personal data download, in the reader's language.

The JSON download keeps the stable codes (data a program can read back) and adds the words beside them; the CSV
files are for people opening them in a spreadsheet, so their headers and values are words (Chinese for a Chinese
reader), the way the office's own exports are. How an attendance was recorded comes from labels.py, the one table.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..labels import METHOD_LABELS, SIGNUP_LABELS

HEADERS = {
    "name": _l("Name"),
    "phone": _l("Mobile number"),
    "role": _l("Account"),
    "home_unit": _l("Community"),
    "registered_at": _l("Registered"),
    "consent_at": _l("Agreed to the privacy notice"),
    "team": _l("Team"),
    "status": _l("Status"),
    "applied_at": _l("Asked to join"),
    "joined_at": _l("Joined"),
    "activity": _l("Activity"),
    "theme": _l("Service theme"),
    "place": _l("Place"),
    "activity_starts_at": _l("Activity starts"),
    "activity_ends_at": _l("Activity ends"),
    "checked_in_at": _l("Checked in"),
    "checked_out_at": _l("Checked out"),
    "credited_minutes": _l("Credited minutes"),
    "method": _l("How recorded"),
    "voided": _l("Voided"),
    "void_reason": _l("Reason for voiding"),
    "signed_up_at": _l("Signed up"),
    "decided_at": _l("Decided"),
    "reason": _l("Reason"),
    "kind": _l("Notice"),
    "details": _l("Details"),
    "sent_at": _l("Sent"),
    "read_at": _l("Read"),
    "number": _l("Certificate number"),
    "verification_code": _l("Verification code"),
    "period_start": _l("Period starts"),
    "period_end": _l("Period ends"),
    "total_minutes": _l("Minutes certified"),
    "live_minutes": _l("Of which recorded live (minutes)"),
    "services": _l("Services"),
    "issued_at": _l("Issued"),
    "revoked_at": _l("Revoked"),
    "revoke_reason": _l("Reason for revoking"),
}
VALUES = {
    "role": {"volunteer": _l("volunteer"), "office": _l("Civilization Office"), "member": _l("member"),
             "leader": _l("leader")},
    # Memberships, sign-ups and certificates share the column; their status codes do not clash.
    "status": {"pending": _l("waiting for approval"), "active": _l("in the team"), "left": _l("left the team"),
               "rejected": _l("not approved"), **{k: v for k, v in SIGNUP_LABELS.items() if k != "pending"},
               "valid": _l("valid"), "revoked": _l("revoked"), "superseded": _l("superseded")},
    "kind": {"signup_admitted": _l("admitted"), "signup_declined": _l("sign-up not accepted"),
             "signup_waitlisted": _l("on the waiting list"), "signup_promoted": _l("admitted from the waiting list"),
             "activity_changed": _l("activity changed"), "activity_cancelled": _l("activity cancelled"),
             "reminder_day": _l("reminder the day before"), "reminder_hour": _l("reminder within the hour"),
             "join_approved": _l("joined a team")},
    "method": METHOD_LABELS,
    "voided": {True: _l("yes"), False: _l("no")},
}


def header(field: str) -> str:
    """A column's header in the current language (the code itself for a field without one)."""
    return str(HEADERS.get(field, field))


def value(field: str, raw):
    """A cell in words: codes become labels in the current language; anything else stays as it is."""
    labels = VALUES.get(field)
    if labels is not None and raw in labels:
        return str(labels[raw])
    return raw
