"""The shapes of the demo city: its scales, the demo logins, teams and activities as planned, row layouts.

Planted padding cases, `planted` of each per scale, findable by: PLANTED_OVERLAP_PHONES (one person in two
overlapping activities), PLANTED_DEVICE_HASHES (one device, many people), credited minutes over the window,
retro logs 15-30 working days late, retro activities without photos, and the teams led by
PLANTED_ROSTER_LEADER_PHONES (the same 12 people every Saturday for 10 weeks). Everything else obeys the
check-in rules; tests/test_seed.py checks both.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from .content import MONTH_FACTOR, holidays_calendar

DEMO_PASSWORD = "redvest2026"
# werkzeug.security.generate_password_hash(DEMO_PASSWORD), computed once; checked at the start of every seed.
DEMO_PASSWORD_HASH = (
    "scrypt:32768:8:1$JGC5fSYCaMemqolp$f0bf09069503ff45e5746874d5e88d5913554e87ae5cf08f37845e46a14b43ea"
    "dc25ea3d5a039e2f4cf53fce62a46957dbdfc99e2ede63b585ef838a1f857570"
)
OFFICE_PHONE = "19900000001"
DISTRICT_OFFICE_PHONE = "19900000002"
LEADER_PHONE = "19900000003"
VOLUNTEER_PHONE = "19900000004"
PLANTED_OVERLAP_PHONES = ("19900000011", "19900000012", "19900000013")
PLANTED_ROSTER_LEADER_PHONES = ("19900000021", "19900000022", "19900000023")
PLANTED_DEVICE_HASHES = tuple(
    hashlib.sha256(f"red-vest-planted-device-{i}".encode()).hexdigest()[:32] for i in (1, 2, 3)
)
CHINA = ZoneInfo("Asia/Shanghai")
LOCAL_OFFSET = 8 * 3600  # China has no daylight saving time: local = UTC + 8 h all year


@dataclass(frozen=True)
class Scale:
    """How big the city is."""

    districts: int
    streets_per_district: tuple[int, int]
    communities_per_street: tuple[int, int]
    teams: int
    street_teams: int
    pending_teams: int
    suspended_teams: int
    volunteers: int
    activities: int  # past activities over the last 12 months
    attendances: int  # target; the real number comes out a little lower (busy volunteers are skipped)
    planted: int  # cases of each planted kind
    roster_teams: int
    pending_requests: int
    chunk: int
    upcoming: int  # scheduled activities over the next 14 days, open for sign-up


SCALES = {
    "city": Scale(6, (9, 11), (8, 12), 660, 59, 8, 4, 166_000, 40_000, 1_230_000, 3, 3, 120, 5_000, 1_500),
    "small": Scale(2, (2, 2), (2, 2), 6, 1, 1, 1, 200, 150, 1_500, 2, 1, 6, 500, 12),
}


@dataclass
class TeamPlan:
    """A team as planned: where it is, who is in it (a block of ids plus people from other teams), how keen."""

    id: int
    unit_id: int
    district: int  # index
    community_ids: list[int]  # where its members live
    name: str
    kind: str
    status: str = "active"
    size: int = 0
    first_member: int = 0
    created: int = 0
    suspended_at: int = 0
    manual_share: float = 0.07  # leader_manual share among live records
    leaders: list[int] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)


@dataclass
class ActivitySpec:
    """An activity as planned, with the planted flags that shape its attendances."""

    team: TeamPlan
    theme: str
    start: int
    end: int
    status: str = "closed"
    k: float = 0.0  # attendees wanted
    is_retro: bool = False
    title: str = ""
    place: str = ""
    reason: str | None = None
    forced: list[int] = field(default_factory=list)  # attendees planted regardless of other activities
    roster: bool = False  # only the forced attendees, typed in by the leader
    device: str | None = None  # planted shared device
    long_credit: bool = False
    late: bool = False
    no_photo: bool = False
    photos: int = 0
    logged: int = 0  # when a retro log was written
    id: int = 0
    audience: str = "team"  # who may sign up or check in: team, unit (recruit.audience_unit) or city
    recruit: Recruit | None = None  # set on upcoming activities and on recent ones that took sign-ups


@dataclass(slots=True)
class Recruit:
    """An activity's recruitment (seed/recruit.py); kept apart so the 40,000 other specs stay small."""

    audience_unit: int | None = None
    capacity: int | None = None
    deadline: int | None = None
    admission: str = "auto"
    admitted_only: bool = False
    meeting_point: str = ""
    meeting_at: tuple[float, float] | None = None
    requirements: str = ""
    admitted: int = 0  # sign-ups admitted (admitted_count), and in line (waitlist_count), once written
    waitlisted: int = 0


VOLUNTEER_COLUMNS = ("id", "name", "phone", "phone_tail", "password_hash", "role", "home_unit_id", "office_unit_id",
                     "is_active", "session_version", "consent_at", "created_at")
TEAM_COLUMNS = ("id", "name", "unit_id", "description", "contact_name", "contact_phone", "status", "status_reason",
                "applied_by_id", "decided_by_id", "decided_at", "join_policy", "invite_nonce", "created_at")
MEMBERSHIP_COLUMNS = ("id", "team_id", "volunteer_id", "role", "status", "created_at", "joined_at", "updated_at")
ACTIVITY_COLUMNS = ("id", "team_id", "theme_id", "unit_id", "title", "place", "starts_at", "ends_at", "status",
                    "qr_mode", "members_only", "capacity", "audience", "audience_unit_id", "signup_deadline",
                    "admission", "admitted_only", "meeting_point", "meeting_lat", "meeting_lng", "requirements",
                    "admitted_count", "waitlist_count", "is_retro", "secret", "status_reason",
                    "created_by_id", "created_at", "opened_at", "closed_at", "attendee_count", "total_minutes",
                    "live_count")
ATTENDANCE_COLUMNS = ("id", "activity_id", "volunteer_id", "checked_in_at", "checked_out_at", "checkout_auto",
                      "credited_minutes", "method", "recorded_by_id", "created_at", "device_hash", "voided_at",
                      "void_reason")
ATT_VOLUNTEER, ATT_MINUTES, ATT_METHOD, ATT_CREATED, ATT_VOIDED = 2, 6, 7, 9, 11
SIGNUP_COLUMNS = ("id", "activity_id", "volunteer_id", "status", "created_at", "updated_at", "decided_by_id",
                  "decided_at", "reason")
PHOTO_COLUMNS = ("id", "activity_id", "uploaded_by_id", "created_at", "width", "height", "size_bytes", "image",
                 "thumbnail")
PHONE_BASE, PHONE_SPACE, PHONE_STEP = 100, 10**7 - 100, 7_654_321  # gcd(step, space) == 1: a bijection
assert math.gcd(PHONE_STEP, PHONE_SPACE) == 1


def _local_midnight(day: date) -> int:
    """00:00 China time on day, as UTC epoch seconds."""
    return (day - date(1970, 1, 1)).days * 86400 - LOCAL_OFFSET


def _device(vid: int, seed: int) -> str:
    """A volunteer's own pseudo device: a stable 32-hex-digit value per person."""
    return f"{(vid * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9) % (1 << 128):032x}"


def _day_weights(days: list[date]) -> list[float]:
    """How busy each day is: weekends, a big peak on 5 March (学雷锋纪念日), dips in summer, winter and holidays."""
    calendar = holidays_calendar(tuple(sorted({d.year for d in days})))
    weights = []
    for day in days:
        w = MONTH_FACTOR[day.month]
        if not calendar.is_working_day(day):
            w *= 2.2 if day not in calendar else 0.6
        name = calendar.get(day) or ""
        if "Spring Festival" in name or "New Year's Eve" in name:
            w *= 0.3
        if day.month == 3 and day.day <= 10:
            w *= 1.6
        weights.append(w)
    others = sum(w for d, w in zip(days, weights) if (d.month, d.day) not in ((3, 5), (12, 5)))
    for i, day in enumerate(days):
        if (day.month, day.day) == (3, 5):
            weights[i] = others * 0.06  # ~2,500 activities city-wide on the day
        elif (day.month, day.day) == (12, 5):
            weights[i] = others * 0.012  # International Volunteer Day
    return weights
