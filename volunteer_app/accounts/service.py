"""Accounts: registration, passwords and one-time reset links, and a volunteer's own record."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, tokens
from ..errors import DomainError
from ..models import Activity, Attendance, Membership, PasswordReset, Team, Theme, Unit, Volunteer, utcnow
from ..teams.rules import active_member
from ..units import community, units_in_scope
from . import numbers
from .codes import use_code
from .phone import mask_phone, normalise_phone

# Checked against when the phone is unknown, so that a wrong phone costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")

NAME_MAX = 40
PASSWORD_MIN = 8
PASSWORD_MAX = 128
RESET_VALID = timedelta(hours=24)
# Accounts created by a roster import have no password until a leader or the office issues a reset link.
NO_PASSWORD = "!"
# Categories refused in names: control, format (zero-width, bidi overrides), private use, unassigned, separators.
_BAD_NAME_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}


class AccountError(DomainError):
    messages = {
        "bad_credentials": _l("Phone number or password is wrong."),
        "bad_phone": _l("Enter an 11-digit mainland mobile number."),
        "phone_taken": _l("This phone number is already registered. Log in instead."),
        "bad_name": _l("Enter a name of 1 to 40 characters, without invisible or control characters."),
        "weak_password": _l("The password needs 8 to 128 characters."),
        "bad_unit": _l("Choose your community from the list."),
        "consent_required": _l("Please agree to the privacy notice to register."),
        "reset_invalid": _l("This reset link is not valid. Ask your team leader for a new one."),
        "reset_expired": _l("This reset link has expired. Ask your team leader for a new one."),
        "reset_used": _l("This reset link has already been used. Ask your team leader for a new one."),
        "bad_text_size": _l("Choose normal or large text."),
    }


TEXT_SIZES = ("normal", "large")


def set_text_size(*, session: Session, volunteer: Volunteer, size: str) -> None:
    """Remember the type size a person chose, for every device they log in on."""
    if size not in TEXT_SIZES:
        raise AccountError("bad_text_size")
    volunteer.text_size = size
    session.add(volunteer)
    session.flush()


def clean_name(raw: str | None) -> str:
    """A person's or team's name, trimmed; AccountError('bad_name') if empty, too long or with hidden characters."""
    name = (raw or "").strip()
    if not name or len(name) > NAME_MAX or any(unicodedata.category(ch) in _BAD_NAME_CATEGORIES for ch in name):
        raise AccountError("bad_name")
    return name


def check_password_rules(password: str | None) -> str:
    """The password if long enough (and not absurdly long), else AccountError('weak_password')."""
    if password is None or not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
        raise AccountError("weak_password")
    return password


def authenticate(*, session: Session, phone: str, password: str) -> Volunteer:
    """The volunteer with this phone and password, or AccountError('bad_credentials')."""
    number = normalise_phone(phone)
    volunteer = session.exec(select(Volunteer).where(Volunteer.phone == number)).first() if number else None
    if volunteer is None or not volunteer.is_active or volunteer.deleted_at is not None:
        check_password_hash(_DUMMY_HASH, password)
        raise AccountError("bad_credentials")
    if not check_password_hash(volunteer.password_hash, password):
        raise AccountError("bad_credentials")
    return volunteer


def create_volunteer(
    *,
    session: Session,
    name: str,
    phone: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: str = "volunteer",
    home_unit_id: int | None = None,
    office_unit_id: int | None = None,
    consent: bool = False,
) -> Volunteer:
    """Create a volunteer (or office account); the phone must be new."""
    number = normalise_phone(phone)
    if number is None:
        raise AccountError("bad_phone")
    if session.exec(select(Volunteer.id).where(Volunteer.phone == number)).first() is not None:
        raise AccountError("phone_taken")
    volunteer = Volunteer(
        name=name.strip(),
        phone=number,
        phone_tail=number[-4:],
        password_hash=password_hash or generate_password_hash(password or ""),
        role=role,
        home_unit_id=home_unit_id,
        office_unit_id=office_unit_id,
        consent_at=utcnow() if consent else None,
    )
    try:
        # Two registrations of one number at once: the unique index decides, the loser gets phone_taken.
        with session.begin_nested():
            session.add(volunteer)
            session.flush()
    except IntegrityError:
        raise AccountError("phone_taken") from None
    numbers.assign(session=session, volunteer=volunteer)
    return volunteer


def register_volunteer(
    *, session: Session, name: str, phone: str, password: str, community_id: int | None, consent: bool,
    code: str | None, secret_key: str, now: datetime | None = None,
) -> Volunteer:
    """Self-registration: every rule checked, in the order a person reads the form, then the SMS code that proves
    the phone is theirs (codes.py). A number that has an account is refused only after its code is right, so a
    stranger who typed someone else's number learns nothing."""
    clean = clean_name(name)
    if normalise_phone(phone) is None:
        raise AccountError("bad_phone")
    check_password_rules(password)
    if community(session=session, unit_id=community_id) is None:
        raise AccountError("bad_unit")
    if not consent:
        raise AccountError("consent_required")
    use_code(session=session, purpose="register", phone=phone, code=code, secret_key=secret_key, now=now)
    return create_volunteer(
        session=session, name=clean, phone=phone, password=password, home_unit_id=community_id, consent=True
    )


# --- one-time password reset links ---------------------------------------------------------


def end_sessions(*, session: Session, volunteer_id: int) -> None:
    """End every session of this person, on every device (their logins carry the old session version).

    One UPDATE that adds one, so two logouts at once cannot end on the same version."""
    session.execute(update(Volunteer).where(Volunteer.id == volunteer_id)
                    .values(session_version=Volunteer.session_version + 1))


def issue_password_reset(
    *, session: Session, volunteer: Volunteer, issued_by_id: int, team_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new reset token for volunteer (valid 24 h, single use); earlier unused links stop working.

    Only the token's SHA-256 is stored; the caller shows the token once as a link and QR code.
    """
    now = now or utcnow()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.volunteer_id == volunteer.id, PasswordReset.used_at.is_(None),
               PasswordReset.expires_at > now)
        .values(expires_at=now)
    )
    token, token_hash = tokens.new_hashed_token()
    reset = PasswordReset(volunteer_id=volunteer.id, token_hash=token_hash, issued_by_id=issued_by_id,
                          created_at=now, expires_at=now + RESET_VALID)
    session.add(reset)
    session.flush()
    audit.record(session=session, action="password_reset.issue", object_type="volunteer", object_id=volunteer.id,
                 actor_id=issued_by_id, team_id=team_id, data={"reset_id": reset.id})
    return token


def reset_for_token(*, session: Session, token: str, now: datetime | None = None) -> tuple[PasswordReset, Volunteer]:
    """The usable reset behind a token, or AccountError(reset_invalid / reset_expired / reset_used)."""
    if not token or len(token) > 100 or not token.isascii():
        raise AccountError("reset_invalid")
    reset = session.exec(select(PasswordReset).where(PasswordReset.token_hash == tokens.token_hash(token))).first()
    volunteer = session.get(Volunteer, reset.volunteer_id) if reset else None
    if reset is None or volunteer is None or volunteer.deleted_at is not None or not volunteer.is_active:
        raise AccountError("reset_invalid")
    if reset.used_at is not None:
        raise AccountError("reset_used")
    if reset.expires_at <= (now or utcnow()):
        raise AccountError("reset_expired")
    return reset, volunteer


def use_password_reset(
    *, session: Session, token: str, password: str, consent: bool = False, now: datetime | None = None
) -> Volunteer:
    """Set a new password through a reset link; every old session of that person ends."""
    now = now or utcnow()
    reset, volunteer = reset_for_token(session=session, token=token, now=now)
    check_password_rules(password)
    if volunteer.consent_at is None and not consent:
        raise AccountError("consent_required")
    # The conditional update is the single-use guard when two phones submit the same link at once.
    claimed = session.execute(
        update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise AccountError("reset_used")
    set_new_password(session=session, volunteer=volunteer, password=password, now=now)
    audit.record(session=session, action="password_reset.use", object_type="volunteer", object_id=volunteer.id,
                 actor_id=volunteer.id, data={"reset_id": reset.id})
    return volunteer


# --- the office looks for a person -------------------------------------------------------------


@dataclass(frozen=True)
class PersonHit:
    volunteer: Volunteer
    unit_name: str
    teams: list[str]


def search_people(
    *, session: Session, office: Volunteer, query: str, scope: str | None, limit: int = 20
) -> list[PersonHit]:
    """People matching a name, a volunteer number, a full phone number or its last four digits, inside the office's scope; audited."""
    text = query.strip()
    number = normalise_phone(text)
    statement = select(Volunteer).where(Volunteer.deleted_at.is_(None), Volunteer.role == "volunteer")
    if numbers.is_valid(text):
        statement = statement.where(Volunteer.volunteer_no == numbers.normalise(text))
    elif number:
        statement = statement.where(Volunteer.phone == number)
    elif len(text) == 4 and text.isdigit():
        statement = statement.where(Volunteer.phone_tail == text)
    else:
        statement = statement.where(Volunteer.name.contains(text, autoescape=True))
    if scope is not None:
        in_scope_teams = select(Membership.volunteer_id).join(Team, Team.id == Membership.team_id).where(
            Team.unit_id.in_(units_in_scope(scope)), *active_member())
        statement = statement.where(
            Volunteer.home_unit_id.in_(units_in_scope(scope)) | Volunteer.id.in_(in_scope_teams))
    people = list(session.exec(statement.order_by(Volunteer.name, Volunteer.id).limit(limit)))
    # The log says who looked for whom; a number typed as the query is kept masked like everywhere else.
    audit.record(session=session, action="person.search", object_type="volunteer", object_id=None,
                 actor_id=office.id, data={"query": mask_phone(number) if number else text[:64],
                                           "results": [p.id for p in people]})
    if not people:
        return []
    ids = [p.id for p in people]
    units = {u.id: u.name for u in session.exec(select(Unit).where(Unit.id.in_([p.home_unit_id for p in people
                                                                               if p.home_unit_id])))}
    teams: dict[int, list[str]] = {}
    for volunteer_id, team_name in session.exec(
        select(Membership.volunteer_id, Team.name).join(Team, Team.id == Membership.team_id)
        .where(*active_member(), Membership.volunteer_id.in_(ids)).order_by(Team.name)
    ):
        teams.setdefault(volunteer_id, []).append(team_name)
    return [PersonHit(p, units.get(p.home_unit_id, ""), teams.get(p.id, [])) for p in people]


def person_in_scope(*, session: Session, volunteer_id: int, scope: str | None) -> Volunteer | None:
    """A volunteer the office may act on (issue a reset link), or None (callers answer 404)."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.deleted_at is not None or volunteer.role != "volunteer":
        return None
    if scope is None:
        return volunteer
    home_ok = volunteer.home_unit_id is not None and session.exec(
        units_in_scope(scope).where(Unit.id == volunteer.home_unit_id)).first() is not None
    team_ok = session.exec(
        select(Membership.id).join(Team, Team.id == Membership.team_id)
        .where(*active_member(volunteer=volunteer_id),
               Team.unit_id.in_(units_in_scope(scope)))
    ).first() is not None
    return volunteer if home_ok or team_ok else None


# --- my record -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeHours:
    theme: Theme
    sessions: int
    minutes: int


@dataclass(frozen=True)
class MyRecord:
    minutes: int
    sessions: int
    by_theme: list[ThemeHours]
    stars: int
    next_star_hours: int | None


def my_record(*, session: Session, volunteer_id: int, star_hours: tuple[int, ...]) -> MyRecord:
    """Credited hours and sessions (voided records excluded), per theme, and the star level they earn."""
    rows = session.exec(
        select(Theme, func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .join(Activity, Activity.theme_id == Theme.id)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(Attendance.volunteer_id == volunteer_id, Attendance.voided_at.is_(None))
        .group_by(Theme.id)
        .order_by(Theme.sort_order)
    ).all()
    by_theme = [ThemeHours(theme, int(count), int(minutes)) for theme, count, minutes in rows]
    minutes = sum(t.minutes for t in by_theme)
    sessions = sum(t.sessions for t in by_theme)
    stars, next_hours = star_level(minutes, star_hours)
    return MyRecord(minutes, sessions, by_theme, stars, next_hours)


def star_level(minutes: int, star_hours: tuple[int, ...]) -> tuple[int, int | None]:
    """(stars earned, hours needed for the next star or None at the top) for credited minutes."""
    thresholds = sorted(star_hours)
    stars = sum(1 for hours in thresholds if minutes >= hours * 60)
    return stars, thresholds[stars] if stars < len(thresholds) else None


def attendance_history(volunteer_id: int):
    """A statement of (Attendance, Activity, Theme, Team), newest first; the view paginates it."""
    return (
        select(Attendance, Activity, Theme, Team)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .join(Team, Team.id == Activity.team_id)
        .where(Attendance.volunteer_id == volunteer_id)
        .order_by(Attendance.checked_in_at.desc(), Attendance.id.desc())
    )


def set_new_password(*, session: Session, volunteer: Volunteer, password: str, now: datetime) -> None:
    """A proven owner's new password (reset link or SMS code): older logins and personal codes end, and a first
    password records the consent given with it."""
    volunteer.password_hash = generate_password_hash(password)
    volunteer.session_version += 1
    if volunteer.consent_at is None:
        volunteer.consent_at = now
    session.add(volunteer)
    session.flush()
