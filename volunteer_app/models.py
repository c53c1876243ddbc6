"""Every table of Red Vest, in one place so that the schema reads at a glance.

Conventions:
- Every datetime is timezone-aware UTC (`utcnow()`), stored as TIMESTAMPTZ on PostgreSQL and as UTC
  text on SQLite (SQLModel's UTCDateTime); the UI converts to Asia/Shanghai for display.
- Status and kind columns are short strings validated by the services, listed here as constants.
- Activity.attendee_count and total_minutes are its closed tally (set when it closes, kept by
  corrections); live_count and the active_months summary are kept by summary_triggers.py.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    JSON,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from .summary_triggers import register as register_summary_triggers


def utcnow() -> datetime:
    """The current time in UTC, the form every datetime column stores."""
    return datetime.now(timezone.utc)


# --- vocabularies -------------------------------------------------------------------------

UNIT_LEVELS = ("district", "street", "community")
VOLUNTEER_ROLES = ("volunteer", "office")
TEAM_STATUSES = ("pending", "active", "suspended", "rejected")
JOIN_POLICIES = ("approve", "auto")
MEMBERSHIP_ROLES = ("member", "leader")
MEMBERSHIP_STATUSES = ("pending", "active", "left", "rejected")
ACTIVITY_STATUSES = ("scheduled", "open", "closed", "cancelled")
AUDIENCES = ("team", "unit", "city")  # who may sign up: the team's members, anyone in a unit subtree, anyone
ADMISSIONS = ("auto", "leader")  # sign-ups admitted automatically, or by the leader one by one
SIGNUP_STATUSES = ("pending", "admitted", "waitlisted", "declined", "cancelled", "no_show")
QR_MODES = ("rotating", "poster")
ATTENDANCE_METHODS = ("self_scan", "leader_scan", "leader_manual", "retro_log")
LIVE_METHODS = ("self_scan", "leader_scan")
GEO_STATUSES = ("inside", "outside", "unknown")
IMPORT_KINDS = ("teams", "volunteers")
IMPORT_STATUSES = ("queued", "validating", "writing", "done", "failed")
CORRECTION_KINDS = ("fix", "missing")  # a recorded attendance is wrong; I was there but am not recorded
CORRECTION_STATUSES = ("open", "accepted", "declined")
SMS_CODE_PURPOSES = ("register", "reset", "claim")
CERTIFICATE_STATUSES = ("valid", "revoked", "superseded")


class Unit(SQLModel, table=True):
    """A place in the city tree: district (区) → street (街道) → community (社区)."""

    __table_args__ = (CheckConstraint("level IN ('district','street','community')", name="ck_unit_level"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    level: str = Field(max_length=16)
    name: str = Field(max_length=64)
    code: str = Field(max_length=32, unique=True)
    # Materialised path of ids, "/3/41/577/": a subtree is a prefix match, no recursive query needed.
    path: str = Field(max_length=64, index=True)


class Volunteer(SQLModel, table=True):
    """A person with an account: a volunteer, or office staff (optionally limited to one unit)."""

    __table_args__ = (
        CheckConstraint("role IN ('volunteer','office')", name="ck_volunteer_role"),
        Index("ix_volunteer_role_deleted", "role", "deleted_at"),  # the registered-volunteer count
        CheckConstraint("text_size IS NULL OR text_size IN ('normal','large')", name="ck_volunteer_text_size"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    # 11-digit mainland mobile number, normalised; NULL once the person deleted their account.
    phone: str | None = Field(default=None, max_length=11, unique=True)
    phone_tail: str | None = Field(default=None, max_length=4, index=True)  # last four digits, for roster search
    password_hash: str = Field(max_length=256)
    # 志愿者编号 (accounts/numbers.py): city code + id + check character; set once the id is known, never reused.
    volunteer_no: str | None = Field(default=None, max_length=15, unique=True)
    role: str = Field(default="volunteer", max_length=16)
    home_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    office_unit_id: int | None = Field(default=None, foreign_key="unit.id")  # office limited to this subtree
    is_active: bool = Field(default=True)
    # Bumped on logout-everywhere, password change and reset: invalidates old sessions and personal QR codes.
    session_version: int = Field(default=1)
    consent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # anonymised under PIPL; attendances stay as counts
    # The type size the person chose once (large text for older volunteers); NULL: never chose (the device decides).
    text_size: str | None = Field(default=None, max_length=8)


class Team(SQLModel, table=True):
    """A volunteer team (志愿服务队) belonging to a unit."""

    __table_args__ = (
        UniqueConstraint("unit_id", "name", name="uq_team_unit_name"),
        CheckConstraint("status IN ('pending','active','suspended','rejected')", name="ck_team_status"),
        CheckConstraint("join_policy IN ('approve','auto')", name="ck_team_join_policy"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str | None = Field(default=None, max_length=11)
    status: str = Field(default="pending", max_length=16, index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    applied_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    decided_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    decided_at: datetime | None = None
    join_policy: str = Field(default="approve", max_length=16)
    # Changing the nonce revokes every invite link and QR issued so far.
    invite_nonce: str = Field(max_length=32)
    invite_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A volunteer in a team, as member or leader."""

    __table_args__ = (
        UniqueConstraint("team_id", "volunteer_id", name="uq_membership_team_volunteer"),
        CheckConstraint("role IN ('member','leader')", name="ck_membership_role"),
        CheckConstraint("status IN ('pending','active','left','rejected')", name="ck_membership_status"),
        Index("ix_membership_team_status", "team_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    role: str = Field(default="member", max_length=16)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    joined_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Theme(SQLModel, table=True):
    """A service theme with a stable code used in URLs and exports."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name_zh: str = Field(max_length=40)
    name_en: str = Field(max_length=60)
    sort_order: int = Field(default=0)
    is_active: bool = Field(default=True)


class Activity(SQLModel, table=True):
    """One service session (一场活动) of one team under one theme."""

    __table_args__ = (
        CheckConstraint("status IN ('scheduled','open','closed','cancelled')", name="ck_activity_status"),
        CheckConstraint("qr_mode IN ('rotating','poster')", name="ck_activity_qr_mode"),
        CheckConstraint("ends_at > starts_at", name="ck_activity_window"),
        CheckConstraint("audience IN ('team','unit','city')", name="ck_activity_audience"),
        CheckConstraint("admission IN ('auto','leader')", name="ck_activity_admission"),
        CheckConstraint("(audience = 'unit') = (audience_unit_id IS NOT NULL)", name="ck_activity_audience_unit"),
        CheckConstraint("members_only = (audience = 'team')", name="ck_activity_members_only"),
        CheckConstraint("admitted_count >= 0 AND waitlist_count >= 0", name="ck_activity_signup_tallies"),
        CheckConstraint("capacity IS NULL OR admitted_count <= capacity", name="ck_activity_not_overbooked"),
        Index("ix_activity_starts", "starts_at"),
        Index("ix_activity_theme_starts", "theme_id", "starts_at"),
        Index("ix_activity_team_starts", "team_id", "starts_at"),
        Index("ix_activity_unit_starts", "unit_id", "starts_at"),
        Index("ix_activity_status", "status"),
        # Covers the office dashboard's tallies: a year of the city is read from the index alone.
        Index("ix_activity_tally", "status", "starts_at", "theme_id", "team_id", "unit_id", "attendee_count",
              "total_minutes", "live_count"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    theme_id: int = Field(foreign_key="theme.id")
    unit_id: int = Field(foreign_key="unit.id")  # the team's unit when the activity was created
    title: str = Field(max_length=120)
    place: str = Field(default="", max_length=200)
    lat: float | None = None
    lng: float | None = None
    radius_m: int | None = None
    starts_at: datetime
    ends_at: datetime
    status: str = Field(default="scheduled", max_length=16)
    qr_mode: str = Field(default="rotating", max_length=16)
    members_only: bool = Field(default=True)  # the check-in's form of the audience: = (audience == "team")
    capacity: int | None = None  # headcount limit of admitted sign-ups (招募人数); None: no limit
    # Recruitment (招募): who may sign up, until when, how they are admitted, and what they need to know.
    audience: str = Field(default="team", max_length=8, sa_column_kwargs={"server_default": "team"})
    audience_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    signup_deadline: datetime | None = None  # None: sign-ups close when the activity starts
    admission: str = Field(default="auto", max_length=8, sa_column_kwargs={"server_default": "auto"})
    admitted_only: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})  # only admitted check in
    meeting_point: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    meeting_lat: float | None = None
    meeting_lng: float | None = None
    requirements: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Sign-up tallies kept by the sign-up service with conditional updates (never more admitted than capacity).
    admitted_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waitlist_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    is_retro: bool = Field(default=False)  # logged after the fact, not run live
    secret: str = Field(max_length=64)  # per-activity HMAC key part; regenerating revokes every QR
    status_reason: str | None = Field(default=None, max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    # Denormalised from attendances (voided ones excluded), for fast tallies.
    attendee_count: int = Field(default=0)
    total_minutes: int = Field(default=0)
    # Of those, recorded live (self scan, leader scan): counted at close and kept while closed, by database
    # triggers (summary_triggers.py); not kept while the activity is open.
    live_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Attendance(SQLModel, table=True):
    """One volunteer at one activity; unique per (activity, volunteer)."""

    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id", name="uq_attendance_activity_volunteer"),
        CheckConstraint(
            "method IN ('self_scan','leader_scan','leader_manual','retro_log')", name="ck_attendance_method"
        ),
        CheckConstraint("credited_minutes >= 0", name="ck_attendance_minutes"),
        Index("ix_attendance_volunteer_checkin", "volunteer_id", "checked_in_at"),
        # Covers the dashboard's per-activity counts (distinct volunteers, share recorded live).
        Index("ix_attendance_tally", "activity_id", "voided_at", "method", "volunteer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id")
    volunteer_id: int = Field(foreign_key="volunteer.id")
    checked_in_at: datetime
    checked_out_at: datetime | None = None
    checkout_auto: bool = Field(default=False)  # checked out by closing the activity
    credited_minutes: int = Field(default=0)
    method: str = Field(max_length=16)
    recorded_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)  # when the record was written
    device_hash: str | None = Field(default=None, max_length=32)  # keyed hash of the scanning browser
    geo_status: str | None = Field(default=None, max_length=16)
    geo_accuracy_m: int | None = None
    voided_at: datetime | None = None
    void_reason: str | None = Field(default=None, max_length=500)


class Signup(SQLModel, table=True):
    """A volunteer's sign-up (报名) for an upcoming activity; unique per (activity, volunteer).

    Status: pending (waits for the leader), admitted (录用), waitlisted (in line, by id), declined,
    cancelled (by the volunteer, or released when the activity was cancelled), no_show (admitted, never
    checked in by the close).
    """

    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id", name="uq_signup_activity_volunteer"),
        CheckConstraint(
            "status IN ('pending','admitted','waitlisted','declined','cancelled','no_show')", name="ck_signup_status"
        ),
        Index("ix_signup_activity_status", "activity_id", "status", "id"),  # the roster; the waitlist in order
        Index("ix_signup_volunteer_status", "volunteer_id", "status"),  # my activities
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id")
    volunteer_id: int = Field(foreign_key="volunteer.id")
    status: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="volunteer.id")  # the leader who admitted/declined
    decided_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=500)  # the leader's reason for declining


class Notice(SQLModel, table=True):
    """A message to one person (通知), shown in the in-app notice centre; also sent by the other channels.

    The text is rendered from `kind` and `params` when read, in the reader's language. `dedupe_key`
    makes a notice that must go out once (a reminder) safe to send twice at once.
    """

    __table_args__ = (Index("ix_notice_volunteer_read", "volunteer_id", "read_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    kind: str = Field(max_length=30)
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    params: dict = Field(default_factory=dict, sa_type=JSON)
    dedupe_key: str | None = Field(default=None, max_length=80, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class ActiveMonths(SQLModel, table=True):
    """Which local months a volunteer attended counted (closed, non-voided) activities, per scope.

    One row per (scope, scope id, era, volunteer): scope 0 is the whole city (scope id 0), 1 a theme,
    2 a district (the one the activity's unit lies in; narrower areas count attendances); an era is
    60 months and `months` has bit m set when the volunteer attended in month era * 60 + m (months
    counted from year 0, Asia/Shanghai). 人数 of a month-aligned range is then a count of these rows
    instead of a distinct count over every attendance. Kept equal to the attendances by database
    triggers (summary_triggers.py); the seed builds it in one statement.
    """

    __tablename__ = "active_months"
    __table_args__ = (
        # Counting a scope's rows reads the key alone: on SQLite the table is its key (WITHOUT ROWID), on
        # PostgreSQL the key includes `months` (an index-only scan).
        PrimaryKeyConstraint("scope", "scope_id", "era", "volunteer_id", postgresql_include=["months"]),
        Index("ix_active_months_volunteer", "volunteer_id"),
        {"sqlite_with_rowid": False},
    )

    scope: int = Field(sa_column_kwargs={"primary_key": True, "autoincrement": False})
    scope_id: int = Field(sa_column_kwargs={"primary_key": True, "autoincrement": False})
    era: int = Field(sa_column_kwargs={"primary_key": True, "autoincrement": False})
    volunteer_id: int = Field(sa_column_kwargs={"primary_key": True, "autoincrement": False})
    months: int = Field(sa_type=BigInteger)


class SignalFinding(SQLModel, table=True):
    """One stored signal of padding (reports/signals.py), as found by the last `signals refresh`.

    The detectors read attendances (seconds for a city year), so they run from cron, at the end of the
    seed and on an office user's demand, and the signals page reads these rows filtered like the
    dashboard. A finding is filed under its primary activity (`activity_id`): the date, unit, theme and
    team the page filters by are that activity's. No foreign keys: the set is replaced as a whole by
    every refresh, and a deleted activity must not be blocked by a finding about it.
    """

    __tablename__ = "signal_finding"
    __table_args__ = (
        Index("ix_signal_finding_kind_starts", "kind", "activity_starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    at: datetime  # what the page sorts by (newest first): the detector's own time of the finding
    activity_id: int  # the primary activity: what the filter is matched against
    activity_starts_at: datetime
    unit_id: int
    theme_id: int
    team_id: int
    volunteer_id: int | None = None
    activity_ids: list = Field(sa_type=JSON)  # every activity behind the finding (links)
    figures: dict = Field(sa_type=JSON)


class SignalRun(SQLModel, table=True):
    """When the stored findings were computed: one row, replaced with them by every refresh."""

    __tablename__ = "signal_run"

    id: int | None = Field(default=None, primary_key=True)
    computed_at: datetime  # the records the findings were computed from are those committed by then
    seconds: float
    findings: int


class ScanRefusal(SQLModel, table=True):
    """A refused scan, counted by reason so the office can see what goes wrong at the door."""

    __tablename__ = "scan_refusal"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, index=True)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", index=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """An append-only record of a change, chained by hash so that tampering shows."""

    __tablename__ = "audit_event"

    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="volunteer.id")
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=30)
    object_id: int | None = None
    team_id: int | None = Field(default=None, index=True)
    reason: str | None = Field(default=None, max_length=500)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))  # JSON: old/new
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class Photo(SQLModel, table=True):
    """Photo evidence of an activity: re-encoded JPEG without EXIF, and a thumbnail.

    Stored in the database so that several stateless app servers can serve it.
    """

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)
    width: int
    height: int
    size_bytes: int
    image: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    thumbnail: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PasswordReset(SQLModel, table=True):
    """A one-time password reset link issued by a leader or the office (no SMS)."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)  # only the hash is stored
    issued_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class CorrectionRequest(SQLModel, table=True):
    """A volunteer's request to fix an attendance of theirs or to add a missing one (纠错申请).

    The team's leader (or the office) resolves it: accepted through the corrections service
    (activities/corrections.py), so every rule of a correction holds, or declined with a reason.
    """

    __tablename__ = "correction_request"
    __table_args__ = (
        CheckConstraint("kind IN ('fix','missing')", name="ck_correction_request_kind"),
        CheckConstraint("status IN ('open','accepted','declined')", name="ck_correction_request_status"),
        # a fix names its attendance; a missing one gets the attendance it adds once accepted
        CheckConstraint("kind = 'missing' OR attendance_id IS NOT NULL", name="ck_correction_request_attendance"),
        Index("ix_correction_request_team_status", "team_id", "status", "created_at"),
        Index("ix_correction_request_volunteer", "volunteer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    activity_id: int = Field(foreign_key="activity.id", index=True)
    team_id: int = Field(foreign_key="team.id")  # the activity's team, whose leaders resolve it
    attendance_id: int | None = Field(default=None, foreign_key="attendance.id")  # kind "fix"
    kind: str = Field(max_length=8)
    minutes: int | None = None  # the credited minutes the volunteer asks for (None: keep as recorded)
    reason: str = Field(max_length=500)
    status: str = Field(default="open", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    resolved_at: datetime | None = None
    resolved_minutes: int | None = None  # the credited minutes after an accepted request
    answer: str | None = Field(default=None, max_length=500)  # the leader's reason


class SmsCode(SQLModel, table=True):
    """A 6-digit code sent by SMS to prove a phone is yours (accounts/codes.py): registration, reset, claim.

    Only a keyed hash of the code is stored. The rows also count the codes sent per number and day, so the
    daily limit holds across app servers.
    """

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone_created", "phone", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=16)  # SMS_CODE_PURPOSES
    phone: str = Field(max_length=11)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    tries: int = Field(default=0)
    used_at: datetime | None = None


class SmsOutbox(SQLModel, table=True):
    """A text message kept instead of sent (development and the demo; sms/outbox.py), shown to the office."""

    __tablename__ = "sms_outbox"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=11)
    template: str = Field(max_length=30)
    params: list = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ImportJob(SQLModel, table=True):
    """A spreadsheet import: progress and row-by-row report live here, so any app server can show them."""

    __tablename__ = "import_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="queued", max_length=16)
    filename: str = Field(max_length=200)
    total_rows: int = Field(default=0)
    processed_rows: int = Field(default=0)
    error_count: int = Field(default=0)
    created_count: int = Field(default=0)
    report: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))  # JSON rows
    created_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Certificate(SQLModel, table=True):
    """A certificate of service (志愿服务记录证明): numbered, kept, verifiable by anyone at /verify/<code>.

    The verification code is random and stored as it is (a unique look-up key), so the holder can download the
    same PDF, with the same QR code, again; it opens only what the holder chose to show (certificates/service.py).
    The holder's name is not copied here: an account deleted later shows as deleted.
    """

    __table_args__ = (
        CheckConstraint("status IN ('valid','revoked','superseded')", name="ck_certificate_status"),
        CheckConstraint("period_end >= period_start", name="ck_certificate_period"),
        Index("ix_certificate_volunteer_created", "volunteer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=24, unique=True)  # set once the id is known
    code: str = Field(max_length=16, unique=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")  # None: every team
    period_start: date
    period_end: date
    total_minutes: int
    live_minutes: int  # of those, recorded live on site (self scan, leader scan)
    row_count: int
    content_hash: str = Field(max_length=64)  # SHA-256 of the rows it lists (attendance, minutes, method)
    requested_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="valid", max_length=16)
    superseded_by_id: int | None = Field(default=None, foreign_key="certificate.id")
    revoked_at: datetime | None = None
    revoked_by_id: int | None = Field(default=None, foreign_key="volunteer.id")
    revoke_reason: str | None = Field(default=None, max_length=500)


THEMES = (
    # code, Chinese name, English name
    ("civilized_traffic", "文明交通", "Civilized traffic"),
    ("sanitation", "环境卫生", "Sanitation"),
    ("elderly_disabled", "扶老助残", "Helping the elderly and disabled"),
    ("minors", "关爱未成年人", "Caring for minors"),
    ("civility_promotion", "文明宣传", "Civility promotion"),
    ("community_service", "社区服务", "Community service"),
    ("ecology", "生态环保", "Ecology"),
    ("emergency", "应急救援", "Emergency rescue"),
    ("culture", "文化服务", "Cultural service"),
)

register_summary_triggers(SQLModel.metadata)  # created with the tables (create_all), as the migrations do
