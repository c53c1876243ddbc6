"""The activity page and its live parts: the rotating QR, the count, the roster and manual check-in, the poster."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlmodel import select

from ..checkin import service as checkin
from .. import tokens
from ..db import get_session
from ..errors import DomainError
from ..extensions import limiter
from ..models import Activity, Attendance, Membership, Photo, Signup, Team, Theme, Volunteer, utcnow
from ..qr import cached_qr_png
from ..teams.rules import active_member, is_active_leader, is_active_member
from ..web import loads, wants_fragment
from . import bp, corrections, reading, signup_roster
from . import photos as photo_service
from .forms import AddMissedForm
from .view_helpers import member_choices

LIVE_POLL_SECONDS = 5
ROSTER_LIMIT = 20


@bp.get("/activities/<int:activity_id>")
@login_required
@loads("seen_activity")
def detail(activity: Activity):
    """The activity page: live QR and count while open; summary, corrections and photos after."""
    session = get_session()
    is_leader = is_active_leader(session, activity.team_id, current_user.id)
    team = session.get(Team, activity.team_id)
    rows = reading.attendances_with_people(session=session, activity_id=activity.id)
    correction_block = corrections.may_correct(session=session, activity=activity, actor_id=current_user.id)
    add_form = AddMissedForm(prefix="add")
    add_form.volunteer.choices = member_choices(activity, exclude={a.volunteer_id for a, _v in rows})
    return render_template(
        "activities/detail.html",
        activity=activity, team=team, team_active=team.status == "active", theme=session.get(Theme, activity.theme_id),
        is_leader=is_leader, rows=rows, live=_live_context(activity), correction_block=correction_block,
        add_form=add_form, photos=_photo_list(activity.id), max_photos=photo_service.MAX_PHOTOS,
        qr=_qr_context(activity) if is_leader and activity.status == "open" else None,
    )


@bp.get("/activities/<int:activity_id>/screen")
@login_required
@loads("led_activity")
def screen(activity: Activity):
    """The live code full screen, large and high-contrast, for a crowd to scan (leaders; open activities)."""
    team = get_session().get(Team, activity.team_id)
    if activity.status != "open" or team.status != "active":
        flash(_("The code is shown while the activity is open."), "info")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    return render_template("activities/screen.html", activity=activity, team=team, qr=_qr_context(activity),
                           live=_live_context(activity))


@bp.get("/activities/<int:activity_id>/qr")
@login_required
@loads("led_activity")
def qr_fragment(activity: Activity):
    """The current rotating code (the page swaps this in place every ~15 s)."""
    if activity.status != "open":
        return render_template("activities/_qr_closed.html", activity=activity)
    return render_template("activities/_qr.html", activity=activity, qr=_qr_context(activity))


@bp.get("/activities/<int:activity_id>/qr/<token>.png")
@login_required
@loads("led_activity")
def qr_png(activity: Activity, token: str):
    """The PNG of one token of this activity; drawn once per token, then cached."""
    try:
        parsed = tokens.parse_activity_token(token)
        if parsed.activity_id != activity.id:
            abort(404)
        if parsed.kind == "poster":  # printed ahead of the activity: only its signature must hold
            if token != _poster_token(activity):
                abort(404)
        else:
            tokens.verify_activity_token(parsed, secret_key=current_app.config["SECRET_KEY"],
                                         activity_secret=activity.secret, scanned_at=utcnow(),
                                         starts_at=activity.starts_at, ends_at=activity.ends_at)
    except DomainError:
        abort(404)
    png = cached_qr_png(url_for("checkin.scan", token=token, _external=True))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=60" if token.startswith("r") else "private, max-age=3600"
    return response


@bp.get("/activities/<int:activity_id>/live")
@login_required
@loads("seen_activity")
def live(activity: Activity):
    """The live count and the list of who is in (polled by the leader's page)."""
    return render_template("activities/_live.html", activity=activity, live=_live_context(activity))


@bp.get("/activities/<int:activity_id>/roster")
@login_required
@loads("led_activity")
def roster(activity: Activity):
    """Find a member by name or the last four digits of the phone, for manual check-in."""
    query = (request.args.get("q") or "").strip()[:40]
    people = _roster_search(activity, query) if query else []
    attendance = {}
    if people:
        attendance = {a.volunteer_id: a for a in get_session().exec(
            select(Attendance).where(Attendance.activity_id == activity.id,
                                     Attendance.volunteer_id.in_([p.id for p in people])))}
    context = {"activity": activity, "people": people, "query": query, "attendance": attendance}
    if wants_fragment():
        return render_template("activities/_roster.html", **context)
    return render_template("activities/roster.html", **context)


@bp.post("/activities/<int:activity_id>/manual")
@login_required
@limiter.limit("240 per minute", key_func=lambda: f"user:{current_user.id}")
@loads("led_activity")
def manual(activity: Activity):
    """Check in (or out) a member without a smartphone: method leader_manual.

    The person is looked up on the team's roster or among those admitted to the activity (anyone else: 404, as
    the page's search offers only them);
    the service judges whether they may take part (checkin/participation.py).
    """
    session = get_session()
    try:
        volunteer_id = int(request.form.get("volunteer", ""))
    except ValueError:
        abort(404)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not (is_active_member(session, activity.team_id, volunteer_id)
                                 or signup_roster.is_admitted(session=session, activity_id=activity.id,
                                                        volunteer_id=volunteer_id)):
        abort(404)
    try:
        if request.form.get("action") == "out":
            checkin.check_out(session=session, activity_id=activity.id, volunteer_id=volunteer_id,
                              recorded_by_id=current_user.id)
            flash(_("%(name)s is checked out.", name=volunteer.name), "success")
        else:
            checkin.check_in(session=session, activity_id=activity.id, volunteer_id=volunteer_id,
                             method="leader_manual", recorded_by_id=current_user.id)
            flash(_("%(name)s is checked in.", name=volunteer.name), "success")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#manual", code=303)


@bp.get("/activities/<int:activity_id>/poster")
@login_required
@loads("led_activity")
def poster(activity: Activity):
    """A printable A4 poster with the poster code (valid only during the activity, with a margin)."""
    if activity.status in ("closed", "cancelled"):
        abort(404)
    token = _poster_token(activity)
    return render_template("activities/poster.html", activity=activity, team=get_session().get(Team, activity.team_id),
                           token=token, margin=int(tokens.POSTER_MARGIN.total_seconds() // 60))


@bp.get("/activities/<int:activity_id>/poster.png")
@login_required
@loads("led_activity")
def poster_png(activity: Activity):
    """The poster code as a PNG download (e.g. for a group chat or a print shop)."""
    if activity.status in ("closed", "cancelled"):
        abort(404)
    png = cached_qr_png(url_for("checkin.scan", token=_poster_token(activity), _external=True), 20)
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="activity-{activity.id}-qr.png"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- helpers ------------------------------------------------------------------------------


def _qr_context(activity: Activity) -> dict:
    secret_key = current_app.config["SECRET_KEY"]
    if activity.qr_mode == "poster":
        token = _poster_token(activity)
    else:
        token = tokens.rotating_token(secret_key=secret_key, activity_id=activity.id, activity_secret=activity.secret)
    return {"token": token, "url": url_for("checkin.scan", token=token, _external=True),
            "src": url_for("activities.qr_png", activity_id=activity.id, token=token),
            "refresh": tokens.STEP_SECONDS if activity.qr_mode == "rotating" else 300}


def _poster_token(activity: Activity) -> str:
    return tokens.poster_token(secret_key=current_app.config["SECRET_KEY"], activity_id=activity.id,
                               activity_secret=activity.secret)


def _live_context(activity: Activity) -> dict:
    session = get_session()
    total, still_in = reading.live_count(session=session, activity_id=activity.id)
    # Each with their sign-up's status (None: they came without signing up, a walk-in).
    recent = session.exec(
        select(Attendance, Volunteer, Signup.status).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .outerjoin(Signup, (Signup.activity_id == Attendance.activity_id) & (Signup.volunteer_id == Volunteer.id))
        .where(Attendance.activity_id == activity.id, Attendance.voided_at.is_(None))
        .order_by(Attendance.checked_in_at.desc(), Attendance.id.desc()).limit(50)
    ).all()
    recruited = activity.admitted_count > 0 or session.exec(
        select(Signup.id).where(Signup.activity_id == activity.id).limit(1)).first() is not None
    return {"total": total, "still_in": still_in, "recent": recent, "poll": LIVE_POLL_SECONDS, "recruited": recruited}


def _roster_search(activity: Activity, query: str) -> list[Volunteer]:
    session = get_session()
    condition = Volunteer.phone_tail == query if query.isdigit() and len(query) == 4 \
        else Volunteer.name.contains(query, autoescape=True)
    # The team's members, and those admitted to this activity from outside the team (walk-ins use their code).
    member = select(Membership.id).where(*active_member(team=activity.team_id, volunteer=Volunteer.id)).exists()
    statement = select(Volunteer).where(
        or_(member, signup_roster.admitted_clause(activity.id)), Volunteer.deleted_at.is_(None), condition,
    ).order_by(Volunteer.name).limit(ROSTER_LIMIT)
    return list(session.exec(statement).all())


def _photo_list(activity_id: int) -> list[Photo]:
    return list(get_session().exec(
        select(Photo.id, Photo.width, Photo.height).where(Photo.activity_id == activity_id).order_by(Photo.id)
    ).all())
