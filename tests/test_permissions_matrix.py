"""The permission matrix: every route of the app, tried by every kind of person.

A test walks `app.url_map` and fails for any route (endpoint and method) without a row in MATRIX, so a
new route cannot ship without saying who may use it. Each row says what seven people get:

    anon       not logged in
    volunteer  logged in, in no team
    member     a member (not leader) of team A
    leader_a   the leader of team A, whose objects the row's URL names
    leader_b   the leader of team B (another district)
    office     the city-wide Civilization Office
    office_d2  an office limited to team B's district (team A is outside it)

Outcomes: LOGIN (302 to the login page), NF (404: "not yours" and "does not exist" look the same),
OK (allowed: a page, a redirect or, for a POST, the form's own answer — anything but a refusal),
REDIRECT (302/303 elsewhere), or a number. People who are refused go first, and a refused POST must
leave the database exactly as it was; then the allowed people try. A GET never writes, whoever asks.

A second test turns CSRF protection on and sends every POST route without a token: each is refused (400).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.accounts.service import issue_password_reset
from volunteer_app.certificates.service import issue_certificate
from volunteer_app import tokens
from volunteer_app.models import (
    Activity,
    Attendance,
    AuditEvent,
    Certificate,
    CorrectionRequest,
    ImportJob,
    Membership,
    Notice,
    PasswordReset,
    Photo,
    Signup,
    Team,
    Volunteer,
    utcnow,
)
from volunteer_app.teams.service import invite_token

from . import factories

SECRET = "test-secret-key-not-for-production"
ROLES = ("anon", "volunteer", "member", "leader_a", "leader_b", "office", "office_d2")
LOGIN, NF, OK, REDIRECT = "login", 404, "ok", "redirect"


def row(**outcomes) -> dict[str, object]:
    """Outcomes for the seven people; `rest=` fills the ones not named."""
    rest = outcomes.pop("rest", None)
    filled = {role: outcomes.get(role, rest) for role in ROLES}
    missing = [role for role, outcome in filled.items() if outcome is None]
    assert not missing, f"no outcome for {missing}"
    return filled


PUBLIC = row(rest=OK)
LOGGED_IN = row(anon=LOGIN, rest=OK)
VOLUNTEERS = row(anon=LOGIN, office=NF, office_d2=NF, rest=OK)  # people with a record; office staff have none
LEADER_A = row(anon=LOGIN, leader_a=OK, rest=NF)
VIEWER_A = row(anon=LOGIN, leader_a=OK, office=OK, rest=NF)  # team A's leaders, and the office over its area
OFFICE_ANY = row(anon=LOGIN, office=OK, office_d2=OK, rest=NF)
OFFICE_A = row(anon=LOGIN, office=OK, rest=NF)  # an object in district 1: the district-2 office gets 404
ANONYMOUS_ONLY = row(anon=OK, rest=REDIRECT)
RECORD_OF_A = row(anon=LOGIN, member=OK, leader_a=OK, office=OK, rest=NF)  # member_a's record
OWNER_A = row(anon=LOGIN, member=OK, rest=NF)  # member_a only
# A members-only activity's code: the page for anyone not logged in (log in first), members get the button,
# everyone else a translated "members only" refusal (403, counted).
MEMBERS_ONLY_SCAN = row(anon=OK, member=OK, leader_a=OK, rest=403)
MEMBERS_A = row(anon=LOGIN, member=OK, leader_a=OK, rest=NF)  # team A's members and leaders


@dataclass
class Try:
    """One route and method: how to call it and what each person gets."""

    path: Callable[[dict], str]
    outcomes: dict[str, object]
    data: Callable[[dict], dict] = field(default=lambda s: {})
    headers: dict[str, str] = field(default_factory=dict)


MATRIX: dict[tuple[str, str], Try] = {
    # --- home, language, health --------------------------------------------------------------
    ("home.index", "GET"): Try(lambda s: "/", LOGGED_IN),
    ("i18n.switch", "GET"): Try(lambda s: "/lang/en?next=/", row(rest=REDIRECT)),
    # large text: anyone (a visitor's choice is a cookie, a logged-in person's is kept on the account too)
    ("text_size.switch", "POST"): Try(lambda s: "/text-size", row(rest=REDIRECT),
                                      data=lambda s: {"size": "large", "next": "/"}),
    ("checkin.healthz", "GET"): Try(lambda s: "/healthz", PUBLIC),
    # --- accounts ------------------------------------------------------------------------------
    ("accounts.login", "GET"): Try(lambda s: "/login", ANONYMOUS_ONLY),
    ("accounts.login", "POST"): Try(lambda s: "/login", ANONYMOUS_ONLY,
                                    data=lambda s: {"phone": "13900000000", "password": "wrong password"}),
    ("accounts.logout", "POST"): Try(lambda s: "/logout", LOGGED_IN),
    ("accounts.logout_everywhere", "POST"): Try(lambda s: "/me/logout-everywhere", LOGGED_IN),
    ("accounts.register", "GET"): Try(lambda s: "/register", ANONYMOUS_ONLY),
    ("accounts.register", "POST"): Try(lambda s: "/register", ANONYMOUS_ONLY, data=lambda s: {"name": ""}),
    # Codes by SMS: the pages that send one answer everyone alike; the outbox is the office's (demo only).
    ("codes.register_code", "POST"): Try(lambda s: "/register/code", ANONYMOUS_ONLY, data=lambda s: {"phone": ""}),
    ("codes.forgot", "GET"): Try(lambda s: "/forgot", PUBLIC),
    ("codes.forgot", "POST"): Try(lambda s: "/forgot", PUBLIC, data=lambda s: {"phone": ""}),
    ("codes.forgot_verify", "GET"): Try(lambda s: "/forgot/verify", row(rest=REDIRECT)),
    ("codes.forgot_verify", "POST"): Try(lambda s: "/forgot/verify", PUBLIC, data=lambda s: {"code": "1"}),
    ("codes.claim", "GET"): Try(lambda s: "/claim", PUBLIC),
    ("codes.claim", "POST"): Try(lambda s: "/claim", PUBLIC, data=lambda s: {"phone": ""}),
    ("codes.claim_verify", "GET"): Try(lambda s: "/claim/verify", row(rest=REDIRECT)),
    ("codes.claim_verify", "POST"): Try(lambda s: "/claim/verify", PUBLIC, data=lambda s: {"code": "1"}),
    ("codes.outbox_page", "GET"): Try(lambda s: "/office/sms-outbox", OFFICE_ANY),
    ("accounts.unit_picker", "GET"): Try(lambda s: f"/register/units?district={s['district']}", PUBLIC,
                                         headers={"HX-Request": "true"}),
    ("accounts.reset_password", "GET"): Try(lambda s: f"/reset/{s['reset_token']}", PUBLIC),
    ("accounts.reset_password", "POST"): Try(lambda s: f"/reset/{s['reset_token']}", PUBLIC,
                                             data=lambda s: {"password": "short"}),
    ("accounts.my_record_page", "GET"): Try(lambda s: "/me", LOGGED_IN),  # office staff see their own (empty) record
    ("accounts.people_search", "GET"): Try(lambda s: "/office/people", OFFICE_ANY),
    ("accounts.people_search", "POST"): Try(lambda s: "/office/people", OFFICE_ANY, data=lambda s: {"q": "赵"}),
    ("accounts.office_issue_reset", "POST"): Try(lambda s: f"/office/people/{s['member_id']}/reset", OFFICE_A),
    # --- the record and correction requests ------------------------------------------------------
    # member_a's record: member_a (their own; /people/<self> redirects to /me), team A's leader, the office
    # over district 1; nobody else
    ("record.person", "GET"): Try(lambda s: f"/people/{s['member_id']}", RECORD_OF_A),
    ("record.attendance", "GET"): Try(lambda s: f"/record/{s['attendance']}", RECORD_OF_A),
    ("record.ask_fix", "GET"): Try(lambda s: f"/record/{s['attendance']}/correction", OWNER_A),
    ("record.ask_fix", "POST"): Try(lambda s: f"/record/{s['attendance']}/correction", OWNER_A,
                                    data=lambda s: {"hours": "abc", "reason": "签退时间不对"}),
    ("record.ask_missing", "GET"): Try(lambda s: "/me/corrections/missing", LOGGED_IN),
    ("record.ask_missing", "POST"): Try(lambda s: "/me/corrections/missing", LOGGED_IN,
                                        data=lambda s: {"activity": s["closed"], "hours": "1", "reason": "漏签"}),
    ("record.my_requests", "GET"): Try(lambda s: "/me/corrections", LOGGED_IN),
    ("activities.team_requests", "GET"): Try(lambda s: f"/teams/{s['team_a']}/corrections", VIEWER_A),
    ("activities.request_page", "GET"): Try(lambda s: f"/corrections/{s['request']}", VIEWER_A),
    ("activities.resolve", "POST"): Try(lambda s: f"/corrections/{s['request']}/decline", VIEWER_A,
                                        data=lambda s: {"answer": "当天没有看到你"}),
    # --- privacy -------------------------------------------------------------------------------
    ("privacy.index", "GET"): Try(lambda s: "/privacy", LOGGED_IN),
    ("privacy.export", "POST"): Try(lambda s: "/privacy/export/json", LOGGED_IN),
    ("privacy.delete", "GET"): Try(lambda s: "/privacy/delete", LOGGED_IN),
    ("privacy.delete", "POST"): Try(lambda s: "/privacy/delete", LOGGED_IN,
                                    data=lambda s: {"password": "wrong password", "confirm": "y"}),
    # --- teams ---------------------------------------------------------------------------------
    ("teams.my_teams", "GET"): Try(lambda s: "/teams", VOLUNTEERS),
    ("teams.apply", "GET"): Try(lambda s: "/teams/apply", VOLUNTEERS),
    ("teams.apply", "POST"): Try(lambda s: "/teams/apply", VOLUNTEERS, data=lambda s: {"name": "", "district": "x"}),
    ("teams.leave", "POST"): Try(lambda s: f"/teams/{s['team_a']}/leave", row(anon=LOGIN, member=OK, leader_a=OK,
                                                                            rest=NF)),
    ("teams.join", "GET"): Try(lambda s: f"/join/{s['invite']}", row(office=NF, office_d2=NF, rest=OK)),
    ("teams.join", "POST"): Try(lambda s: f"/join/{s['invite']}", row(office=NF, office_d2=NF, rest=OK)),  # anon: "log in first"
    ("teams.team_home", "GET"): Try(lambda s: f"/teams/{s['team_a']}", MEMBERS_A),  # members: the member's page
    ("teams.edit", "GET"): Try(lambda s: f"/teams/{s['team_a']}/edit", LEADER_A),
    ("teams.edit", "POST"): Try(lambda s: f"/teams/{s['team_a']}/edit", LEADER_A, data=lambda s: {"name": ""}),
    ("teams.invite", "GET"): Try(lambda s: f"/teams/{s['team_a']}/invite", LEADER_A),
    ("teams.invite", "POST"): Try(lambda s: f"/teams/{s['team_a']}/invite", LEADER_A, data=lambda s: {"days": "7"}),
    ("teams.members", "GET"): Try(lambda s: f"/teams/{s['team_a']}/members", LEADER_A),
    ("teams.member_action", "POST"): Try(
        lambda s: f"/teams/{s['team_a']}/members/{s['membership_b_in_a']}/approve", LEADER_A),
    ("teams.office_list", "GET"): Try(lambda s: "/office/teams", OFFICE_ANY),
    ("teams.office_team", "GET"): Try(lambda s: f"/office/teams/{s['team_a']}", OFFICE_A),
    ("teams.office_decide", "POST"): Try(lambda s: f"/office/teams/{s['team_a']}/suspend", OFFICE_A,
                                         data=lambda s: {"reason": "核查台账"}),
    ("teams.import_upload", "GET"): Try(lambda s: "/office/import", OFFICE_ANY),
    ("teams.import_upload", "POST"): Try(lambda s: "/office/import", OFFICE_ANY, data=lambda s: {"kind": "volunteers"}),
    ("teams.import_job", "GET"): Try(lambda s: f"/office/import/{s['job']}", row(anon=LOGIN, office=OK, rest=NF)),
    ("teams.import_report", "GET"): Try(lambda s: f"/office/import/{s['job']}/report.csv",
                                        row(anon=LOGIN, office=OK, rest=NF)),
    ("teams.import_template", "GET"): Try(lambda s: "/office/import/template/volunteers.csv", OFFICE_ANY),
    # --- activities ----------------------------------------------------------------------------
    ("activities.team_list", "GET"): Try(lambda s: f"/teams/{s['team_a']}/activities", MEMBERS_A),
    ("activities.find", "GET"): Try(lambda s: "/activities/find", VOLUNTEERS),
    # a members-only activity of team A: its team; a public one is tested in test_recruit_find.py
    ("activities.info", "GET"): Try(lambda s: f"/activities/{s['scheduled']}/info", MEMBERS_A),
    ("activities.create", "GET"): Try(lambda s: f"/teams/{s['team_a']}/activities/new", LEADER_A),
    ("activities.create", "POST"): Try(lambda s: f"/teams/{s['team_a']}/activities/new", LEADER_A,
                                       data=lambda s: {"title": ""}),
    ("activities.edit", "GET"): Try(lambda s: f"/activities/{s['scheduled']}/edit", LEADER_A),
    ("activities.edit", "POST"): Try(lambda s: f"/activities/{s['scheduled']}/edit", LEADER_A,
                                     data=lambda s: {"title": ""}),
    ("activities.open_", "POST"): Try(lambda s: f"/activities/{s['scheduled']}/open", LEADER_A),
    ("activities.cancel", "POST"): Try(lambda s: f"/activities/{s['scheduled']}/cancel", LEADER_A,
                                       data=lambda s: {"reason": "下雨"}),
    ("activities.close", "GET"): Try(lambda s: f"/activities/{s['open']}/close", LEADER_A),  # the closing dialog
    ("activities.close", "POST"): Try(lambda s: f"/activities/{s['open']}/close", LEADER_A),
    ("activities.screen", "GET"): Try(lambda s: f"/activities/{s['open']}/screen", LEADER_A),  # full-screen code
    ("activities.regenerate", "POST"): Try(lambda s: f"/activities/{s['open']}/regenerate", LEADER_A),
    ("activities.detail", "GET"): Try(lambda s: f"/activities/{s['closed']}", VIEWER_A),
    ("activities.qr_fragment", "GET"): Try(lambda s: f"/activities/{s['open']}/qr", LEADER_A),
    ("activities.qr_png", "GET"): Try(lambda s: f"/activities/{s['open']}/qr/{s['token']}.png", LEADER_A),
    ("activities.live", "GET"): Try(lambda s: f"/activities/{s['open']}/live", VIEWER_A),
    ("activities.roster", "GET"): Try(lambda s: f"/activities/{s['open']}/roster", LEADER_A),
    ("activities.manual", "POST"): Try(lambda s: f"/activities/{s['open']}/manual", LEADER_A,
                                       data=lambda s: {"volunteer": s["member_id"]}),
    ("activities.poster", "GET"): Try(lambda s: f"/activities/{s['poster']}/poster", LEADER_A),
    ("activities.poster_png", "GET"): Try(lambda s: f"/activities/{s['poster']}/poster.png", LEADER_A),
    ("activities.adjust", "POST"): Try(lambda s: f"/attendances/{s['attendance']}/adjust", VIEWER_A,
                                       data=lambda s: {"minutes": "30", "reason": "补录"}),
    ("activities.void", "POST"): Try(lambda s: f"/attendances/{s['attendance']}/void", VIEWER_A,
                                     data=lambda s: {"reason": "代签"}),
    ("activities.add_missed", "POST"): Try(lambda s: f"/activities/{s['closed']}/add-missed", VIEWER_A,
                                           data=lambda s: {"volunteer": s["leader_a"], "minutes": "30",
                                                           "reason": "漏签"}),
    ("activities.retro", "GET"): Try(lambda s: f"/teams/{s['team_a']}/retro", LEADER_A),
    ("activities.retro", "POST"): Try(lambda s: f"/teams/{s['team_a']}/retro", LEADER_A, data=lambda s: {"title": ""}),
    ("activities.upload_photos", "POST"): Try(lambda s: f"/activities/{s['closed']}/photos", LEADER_A,
                                              data=lambda s: {"photos": (io.BytesIO(b"not an image"), "x.jpg")}),
    ("activities.photo", "GET"): Try(lambda s: f"/photos/{s['photo']}.jpg", VIEWER_A),
    ("activities.photo_thumb", "GET"): Try(lambda s: f"/photos/{s['photo']}/thumb.jpg", VIEWER_A),
    # --- sign-ups: the service answers who may sign up (403 with the reason: not a member, office account...);
    # cancelling a sign-up one does not have is the form's own answer (409, "not signed up")
    ("activities.signup", "POST"): Try(lambda s: f"/activities/{s['scheduled']}/signup",
                                       row(anon=LOGIN, member=OK, leader_a=OK, rest=403)),
    ("activities.signup_cancel", "POST"): Try(lambda s: f"/activities/{s['recruiting']}/signup/cancel", LOGGED_IN),
    ("activities.signups_page", "GET"): Try(lambda s: f"/activities/{s['recruiting']}/signups", LEADER_A),
    ("activities.signups_decide", "POST"): Try(lambda s: f"/activities/{s['recruiting']}/signups/decide", LEADER_A,
                                               data=lambda s: {"decision": "admit", "signup": s["signup"]}),
    # --- check-in ------------------------------------------------------------------------------
    ("checkin.scan", "GET"): Try(lambda s: f"/c/{s['token']}", MEMBERS_ONLY_SCAN),
    ("checkin.scan_post", "POST"): Try(lambda s: f"/c/{s['token']}", row(anon=LOGIN, member=OK, leader_a=OK, rest=403),
                                       data=lambda s: {"action": "in", "activity": s["open"]}),
    ("checkin.report_refusal", "POST"): Try(lambda s: "/c/not-a-real-token/refusal", PUBLIC),
    ("checkin.result", "GET"): Try(lambda s: f"/c/result/{s['open']}", row(anon=LOGIN, member=OK, rest=NF)),
    ("checkin.my_qr", "GET"): Try(lambda s: "/me/qr.png", LOGGED_IN),
    ("checkin.volunteer_code", "GET"): Try(lambda s: f"/v/{s['personal']}", PUBLIC),
    ("checkin.volunteer_code_post", "POST"): Try(lambda s: f"/v/{s['personal']}", LEADER_A,
                                                 data=lambda s: {"activity": s["open"], "action": "in"}),
    # --- notices -------------------------------------------------------------------------------
    ("notices.index", "GET"): Try(lambda s: "/notices", LOGGED_IN),
    ("notices.read", "POST"): Try(lambda s: f"/notices/{s['notice']}/read", row(anon=LOGIN, member=OK, rest=NF)),
    ("notices.read_all", "POST"): Try(lambda s: "/notices/read-all", LOGGED_IN),
    # an admitted volunteer (member_a) and the team's leaders
    ("notices.calendar", "GET"): Try(lambda s: f"/activities/{s['scheduled']}/calendar.ics",
                                     row(anon=LOGIN, member=OK, leader_a=OK, rest=NF)),
    # --- certificates (志愿服务记录证明) ---------------------------------------------------------
    ("certificates.mine", "GET"): Try(lambda s: "/me/certificates", VOLUNTEERS),
    ("certificates.mine", "POST"): Try(lambda s: "/me/certificates", VOLUNTEERS, data=lambda s: {"preset": "custom"}),
    ("certificates.download", "GET"): Try(lambda s: f"/me/certificates/{s['certificate']}.pdf",
                                          row(anon=LOGIN, member=OK, rest=NF)),  # the holder only
    ("certificates.verify_form", "GET"): Try(lambda s: "/verify", PUBLIC),
    ("certificates.verify", "GET"): Try(lambda s: f"/verify/{s['certificate_code']}", PUBLIC),
    ("certificates.office_find", "GET"): Try(lambda s: f"/office/certificates?number={s['certificate_number']}",
                                             OFFICE_ANY),
    ("certificates.office_revoke", "POST"): Try(lambda s: f"/office/certificates/{s['certificate']}/revoke",
                                                OFFICE_A, data=lambda s: {"reason": "核查不实"}),
    # --- the office's reports ------------------------------------------------------------------
    ("reports.dashboard", "GET"): Try(lambda s: "/office", OFFICE_ANY),
    ("reports.activities", "GET"): Try(lambda s: "/office/activities", OFFICE_ANY),
    ("reports.teams", "GET"): Try(lambda s: "/office/team-tallies", OFFICE_ANY),
    ("reports.activity", "GET"): Try(lambda s: f"/office/activities/{s['closed']}", OFFICE_A),
    ("reports.signals_page", "GET"): Try(lambda s: "/office/signals", OFFICE_ANY),
    ("reports.signals_refresh", "POST"): Try(lambda s: "/office/signals/refresh", OFFICE_ANY),
    ("reports.export_csv", "GET"): Try(lambda s: "/office/export.csv?kind=records", OFFICE_ANY),
    ("reports.export_xlsx", "GET"): Try(lambda s: "/office/export.xlsx?kind=tallies", OFFICE_ANY),
}
NOT_IN_MATRIX = {"static"}  # files from static/, the same for everyone


def app_routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_IN_MATRIX
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_row(app):
    routes = app_routes(app)
    missing = sorted(routes - set(MATRIX))
    assert not missing, "routes without a row in MATRIX (say who may use them):\n  " + \
        "\n  ".join(f"{endpoint} {method}" for endpoint, method in missing)
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.fixture
def scene(session, world) -> dict:
    """Objects of team A (district 1) for the URLs, and the people by role."""
    now = utcnow().replace(microsecond=0)
    open_ = factories.make_activity(session, world.team_a, status="open", starts_at=now - timedelta(minutes=20),
                                    created_by=world.leader_a)
    poster = factories.make_activity(session, world.team_a, status="open", qr_mode="poster",
                                     starts_at=now - timedelta(minutes=20), title="海报签到")
    scheduled = factories.make_activity(session, world.team_a, status="scheduled",
                                        starts_at=now + timedelta(days=2), title="周末清扫")
    closed = factories.make_activity(session, world.team_a, status="closed", starts_at=now - timedelta(days=1),
                                      title="昨日活动", closed_at=now - timedelta(hours=20))
    factories.make_attendance(session, open_, world.member_a, minutes=0)
    attendance = factories.make_attendance(session, closed, world.member_a, minutes=60)
    for activity in (open_, closed):
        rows = session.exec(select(Attendance).where(Attendance.activity_id == activity.id)).all()
        activity.attendee_count = len(rows)
        activity.total_minutes = sum(a.credited_minutes for a in rows)
    photo = Photo(activity_id=closed.id, uploaded_by_id=world.leader_a.id, width=1, height=1, size_bytes=3,
                  image=b"\xff\xd8\xff", thumbnail=b"\xff\xd8\xff")
    session.add(photo)
    recruiting = factories.make_activity(session, world.team_a, status="scheduled", audience="city", capacity=5,
                                         admission="leader", starts_at=now + timedelta(days=3), title="招募中")
    signup = Signup(activity_id=recruiting.id, volunteer_id=world.member_a.id, status="pending")
    session.add(signup)
    waiting = factories.add_member(session, world.team_a, world.member_b, status="pending")
    job = ImportJob(kind="volunteers", status="done", filename="roster.csv", created_by_id=world.office.id)
    session.add(job)
    session.flush()
    reset_token = issue_password_reset(session=session, volunteer=world.member_a, issued_by_id=world.leader_a.id)
    certificate = issue_certificate(session=session, volunteer=world.member_a, start=now.date() - timedelta(days=3),
                                    end=now.date(), team_id=world.team_a.id, city_code="330100")
    session.add(Signup(activity_id=scheduled.id, volunteer_id=world.member_a.id, status="admitted"))
    notice = Notice(volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=scheduled.id)
    session.add(notice)
    request = CorrectionRequest(volunteer_id=world.member_a.id, activity_id=closed.id, team_id=world.team_a.id,
                                attendance_id=attendance.id, kind="fix", minutes=90, reason="我待了一个半小时")
    session.add(request)
    session.flush()
    session.commit()
    return {
        "team_a": world.team_a.id, "district": world.district.id, "member_id": world.member_a.id,
        "leader_a": world.leader_a.id, "open": open_.id, "poster": poster.id, "scheduled": scheduled.id,
        "closed": closed.id, "attendance": attendance.id, "photo": photo.id, "membership_b_in_a": waiting.id,
        "job": job.id, "reset_token": reset_token, "recruiting": recruiting.id, "signup": signup.id,
        "notice": notice.id, "request": request.id, "certificate": certificate.id,
        "certificate_code": certificate.code,
        "certificate_number": certificate.number,
        "invite": invite_token(world.team_a, secret_key=SECRET),
        "token": tokens.rotating_token(secret_key=SECRET, activity_id=open_.id, activity_secret=open_.secret),
        "personal": tokens.personal_token(secret_key=SECRET, volunteer_id=world.member_a.id, session_version=1),
        "people": {"volunteer": world.volunteer, "member": world.member_a, "leader_a": world.leader_a,
                   "leader_b": world.leader_b, "office": world.office, "office_d2": world.office_district2},
    }


def fingerprint(session) -> tuple:
    """What a refused request must not change."""
    session.rollback()
    session.expire_all()
    count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    return (
        count(AuditEvent), count(Attendance), count(Photo), count(PasswordReset), count(ImportJob), count(Team),
        count(Volunteer),
        tuple(session.exec(select(Activity.id, Activity.status, Activity.secret, Activity.attendee_count,
                                  Activity.total_minutes, Activity.title, Activity.admitted_count,
                                  Activity.waitlist_count).order_by(Activity.id)).all()),
        tuple(session.exec(select(Membership.id, Membership.role, Membership.status).order_by(Membership.id)).all()),
        tuple(session.exec(select(Team.id, Team.status, Team.name, Team.invite_nonce).order_by(Team.id)).all()),
        tuple(session.exec(select(Attendance.id, Attendance.credited_minutes, Attendance.voided_at,
                                  Attendance.checked_out_at).order_by(Attendance.id)).all()),
        tuple(session.exec(select(Volunteer.id, Volunteer.name, Volunteer.password_hash, Volunteer.session_version)
                           .order_by(Volunteer.id)).all()),
        tuple(session.exec(select(Notice.id, Notice.volunteer_id, Notice.read_at).order_by(Notice.id)).all()),
        tuple(session.exec(select(Signup.id, Signup.status).order_by(Signup.id)).all()),
        tuple(session.exec(select(Certificate.id, Certificate.status).order_by(Certificate.id)).all()),
        tuple(session.exec(select(CorrectionRequest.id, CorrectionRequest.status).order_by(CorrectionRequest.id)).all()),
    )


def client_for(app, role: str, people: dict):
    client = app.test_client()
    if role != "anon":
        person = people[role]
        with client.session_transaction() as http_session:
            http_session["_user_id"] = f"{person.id}:{person.session_version}"
            http_session["_fresh"] = True
    return client


def outcome_of(response, method: str) -> object:
    """What a response means, in the matrix's words."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 302 and "/login" in location:
        return LOGIN
    if status == 404:
        return NF
    if status in (401, 403, 405) or status >= 500:
        return status
    if status in (301, 302, 303, 307, 308):
        return REDIRECT
    return OK


def satisfies(actual: object, expected: object, method: str) -> bool:
    if expected == OK:
        # allowed: the page, a redirect after success, or (POST) the form's own refusal of bad input
        return actual in (OK, REDIRECT)
    return actual == expected


@pytest.mark.parametrize("endpoint, method", sorted(MATRIX))
def test_each_person_gets_what_the_matrix_says(app, session, scene, endpoint, method):
    attempt = MATRIX[(endpoint, method)]
    order = sorted(ROLES, key=lambda role: attempt.outcomes[role] == OK)  # refused people first
    wrong = []
    for role in order:
        expected = attempt.outcomes[role]
        # A refused POST changes nothing, and a GET never writes, whoever asks (DESIGN.md).
        before = fingerprint(session) if method == "GET" or expected != OK else None
        client = client_for(app, role, scene["people"])
        data = attempt.data(scene)
        response = client.open(attempt.path(scene), method=method, data=data, headers=attempt.headers,
                               content_type="multipart/form-data" if any(isinstance(v, tuple) for v in data.values())
                               else None)
        response.get_data()
        response.close()
        actual = outcome_of(response, method)
        if not satisfies(actual, expected, method):
            wrong.append(f"{role}: expected {expected}, got {actual} ({response.status_code} "
                         f"{response.headers.get('Location', '')})")
        if before is not None and fingerprint(session) != before:
            wrong.append(f"{role}: {'a GET' if method == 'GET' else f'was refused ({actual}) but'} "
                         f"changed the database")
    assert not wrong, f"{method} {attempt.path(scene)}:\n  " + "\n  ".join(wrong)


def test_the_matrix_check_can_fail():
    assert not satisfies(NF, OK, "GET") and not satisfies(OK, NF, "GET") and not satisfies(500, OK, "POST")
    assert satisfies(REDIRECT, OK, "POST") and satisfies(LOGIN, LOGIN, "GET")


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_every_post_without_a_csrf_token_is_refused(csrf_app, session, scene):
    posts = sorted(key for key in MATRIX if key[1] == "POST")
    assert {key for key in app_routes(csrf_app) if key[1] == "POST"} == set(posts)
    wrong = []
    for endpoint, method in posts:
        attempt = MATRIX[(endpoint, method)]
        allowed = [role for role in ROLES if attempt.outcomes[role] == OK] or ["anon"]
        for role in {allowed[0], "anon"}:
            before = fingerprint(session)
            client = client_for(csrf_app, role, scene["people"])
            data = attempt.data(scene)
            response = client.post(attempt.path(scene), data=data,
                                   content_type="multipart/form-data"
                                   if any(isinstance(v, tuple) for v in data.values()) else None)
            refused = response.status_code == 400 or (role == "anon" and outcome_of(response, "POST") == LOGIN)
            if not refused:
                wrong.append(f"{endpoint} as {role}: {response.status_code}")
            if fingerprint(session) != before:
                wrong.append(f"{endpoint} as {role}: the database changed without a CSRF token")
    assert not wrong, "POSTs accepted without a CSRF token:\n  " + "\n  ".join(wrong)
