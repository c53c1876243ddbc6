"""Activity pages for leaders (create, run, close, correct, photos, retro log) and the office (view, correct).

Every view looks the activity up through what the user may see (activity_for_leader / activity_for_viewer,
team_for_leader) and answers 404 for "not yours" and "does not exist" alike: `@_loads(kind)` hands the view
the object instead of the id in its URL; `_found_or_404(kind, id)` for ids found elsewhere.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlmodel import select
from wtforms import SelectChoice

from ..checkin import service as checkin
from ..checkin import tokens
from ..checkin.qr import cached_qr_png
from ..db import get_session
from ..errors import DomainError
from ..extensions import limiter
from ..models import Activity, Attendance, Membership, Photo, Team, Theme, Volunteer, utcnow
from ..teams.rules import is_active_leader, is_active_member
from ..teams.service import team_for_leader
from . import photos as photo_service
from . import service
from .forms import ActivityForm, AddMissedForm, AdjustForm, ReasonForm, RetroForm, to_local_naive, to_utc

bp = Blueprint("activities", __name__)

LIVE_POLL_SECONDS = 5
ROSTER_LIMIT = 20
METHOD_LABELS = {
    "self_scan": _l("self scan"),
    "leader_scan": _l("scanned by leader"),
    "leader_manual": _l("entered by leader"),
    "retro_log": _l("logged afterwards"),
}
STATUS_LABELS = {
    "scheduled": _l("upcoming"),
    "open": _l("open"),
    "closed": _l("closed"),
    "cancelled": _l("cancelled"),
}


@bp.context_processor
def _labels() -> dict:
    return {"method_names": METHOD_LABELS, "status_names": STATUS_LABELS}


def _htmx_fragment() -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def _active_team_for_leader(*, session, volunteer_id: int, team_id: int) -> Team | None:
    team = team_for_leader(session=session, volunteer_id=volunteer_id, team_id=team_id)
    return team if team is not None and team.status == "active" else None


# What a view may act on: the URL parameter it comes from, and the look-up through what the user may see.
_LOOKUPS = {
    "team": ("team_id", _active_team_for_leader),  # an active team the user leads
    "led_activity": ("activity_id", service.activity_for_leader),  # an activity of a team the user leads
    "seen_activity": ("activity_id", service.activity_for_viewer),  # ... or one the office may see
}


def _found_or_404(kind: str, object_id: int):
    """The team or activity the current user may act on, else 404 ("not yours" and "missing" alike)."""
    param, lookup = _LOOKUPS[kind]
    found = lookup(session=get_session(), volunteer_id=current_user.id, **{param: object_id})
    if found is None:
        abort(404)
    return found


def _loads(kind: str):
    """Decorator (below @login_required): the view gets the object of `kind` instead of its id from the URL."""
    param, _lookup = _LOOKUPS[kind]

    def decorate(view):
        @wraps(view)
        def wrapper(**view_args):
            return view(_found_or_404(kind, view_args.pop(param)), **view_args)

        return wrapper

    return decorate


# --- lists and editing --------------------------------------------------------------------


@bp.get("/teams/<int:team_id>/activities")
@login_required
@_loads("team")
def team_list(team: Team):
    """A team's activities: open, upcoming, closed, cancelled."""
    groups = service.team_activities(session=get_session(), team_id=team.id)
    return render_template("activities/list.html", team=team, groups=groups)


@bp.route("/teams/<int:team_id>/activities/new", methods=["GET", "POST"])
@login_required
@_loads("team")
def create(team: Team):
    """Create a scheduled activity."""
    session = get_session()
    form = ActivityForm()
    form.theme.choices = _theme_choices()
    if request.method == "GET":
        start = to_local_naive(utcnow()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        form.starts_at.data, form.ends_at.data = start, start + timedelta(hours=2)
    if form.validate_on_submit():
        try:
            activity = service.create_activity(session=session, team_id=team.id, actor_id=current_user.id,
                                               **_activity_fields(form))
        except service.ActivityError as exc:
            _form_error(form, exc)
        else:
            flash(_("Activity created. Open it when it starts."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("activities/edit.html", form=form, team=team, activity=None), status


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
@_loads("led_activity")
def edit(activity: Activity):
    """Change an activity that has not opened yet."""
    session = get_session()
    team = session.get(Team, activity.team_id)
    if activity.status != "scheduled":
        flash(str(service.ActivityError.messages["not_editable"]), "error")
        return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    form = ActivityForm(obj=None if request.method == "POST" else _form_data(activity))
    form.theme.choices = _theme_choices()
    if form.validate_on_submit():
        try:
            service.update_activity(session=session, activity_id=activity.id, actor_id=current_user.id,
                                    **_activity_fields(form))
        except service.ActivityError as exc:
            _form_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("activities/edit.html", form=form, team=team, activity=activity), status


@bp.post("/activities/<int:activity_id>/open")
@login_required
@_loads("led_activity")
def open_(activity: Activity):
    _run(lambda: service.open_activity(session=get_session(), activity_id=activity.id, actor_id=current_user.id),
         _("The activity is open. Show the code to the volunteers."))
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.post("/activities/<int:activity_id>/cancel")
@login_required
@_loads("led_activity")
def cancel(activity: Activity):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for cancelling."), "error")
    else:
        _run(lambda: service.cancel_activity(session=get_session(), activity_id=activity.id,
                                             actor_id=current_user.id, reason=form.reason.data),
             _("The activity is cancelled."))
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.post("/activities/<int:activity_id>/close")
@login_required
@_loads("led_activity")
def close(activity: Activity):
    try:
        summary = service.close_activity(session=get_session(), activity_id=activity.id, actor_id=current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Closed: %(people)d people, %(hours)s hours.", people=summary.attendee_count,
                hours=f"{summary.total_minutes / 60:.1f}"), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.post("/activities/<int:activity_id>/regenerate")
@login_required
@_loads("led_activity")
def regenerate(activity: Activity):
    """Revoke every code of this activity shown or printed so far."""
    _run(lambda: service.regenerate_secret(session=get_session(), activity_id=activity.id,
                                           actor_id=current_user.id),
         _("All earlier codes of this activity no longer work. Print the poster again if you use one."))
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


# --- the activity page, live parts ---------------------------------------------------------


@bp.get("/activities/<int:activity_id>")
@login_required
@_loads("seen_activity")
def detail(activity: Activity):
    """The activity page: live QR and count while open; summary, corrections and photos after."""
    session = get_session()
    is_leader = is_active_leader(session, activity.team_id, current_user.id)
    team = session.get(Team, activity.team_id)
    rows = service.attendances_with_people(session=session, activity_id=activity.id)
    correction_block = service.may_correct(session=session, activity=activity, actor_id=current_user.id)
    add_form = AddMissedForm(prefix="add")
    add_form.volunteer.choices = _member_choices(activity, exclude={a.volunteer_id for a, _v in rows})
    return render_template(
        "activities/detail.html",
        activity=activity, team=team, team_active=team.status == "active", theme=session.get(Theme, activity.theme_id),
        is_leader=is_leader, rows=rows, live=_live_context(activity), correction_block=correction_block,
        add_form=add_form, photos=_photo_list(activity.id), max_photos=photo_service.MAX_PHOTOS,
        qr=_qr_context(activity) if is_leader and activity.status == "open" else None,
    )


@bp.get("/activities/<int:activity_id>/qr")
@login_required
@_loads("led_activity")
def qr_fragment(activity: Activity):
    """The current rotating code (the page swaps this in place every ~15 s)."""
    if activity.status != "open":
        return render_template("activities/_qr_closed.html", activity=activity)
    return render_template("activities/_qr.html", activity=activity, qr=_qr_context(activity))


@bp.get("/activities/<int:activity_id>/qr/<token>.png")
@login_required
@_loads("led_activity")
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
@_loads("seen_activity")
def live(activity: Activity):
    """The live count and the list of who is in (polled by the leader's page)."""
    return render_template("activities/_live.html", activity=activity, live=_live_context(activity))


@bp.get("/activities/<int:activity_id>/roster")
@login_required
@_loads("led_activity")
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
    if _htmx_fragment():
        return render_template("activities/_roster.html", **context)
    return render_template("activities/roster.html", **context)


@bp.post("/activities/<int:activity_id>/manual")
@login_required
@limiter.limit("240 per minute", key_func=lambda: f"user:{current_user.id}")
@_loads("led_activity")
def manual(activity: Activity):
    """Check in (or out) a member without a smartphone: method leader_manual.

    The person is looked up on the team's roster (anyone else: 404, as the page's search offers only members);
    the service judges whether they may take part (checkin/participation.py).
    """
    session = get_session()
    try:
        volunteer_id = int(request.form.get("volunteer", ""))
    except ValueError:
        abort(404)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not is_active_member(session, activity.team_id, volunteer_id):
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
@_loads("led_activity")
def poster(activity: Activity):
    """A printable A4 poster with the poster code (valid only during the activity, with a margin)."""
    if activity.status in ("closed", "cancelled"):
        abort(404)
    token = _poster_token(activity)
    return render_template("activities/poster.html", activity=activity, team=get_session().get(Team, activity.team_id),
                           token=token, margin=int(tokens.POSTER_MARGIN.total_seconds() // 60))


@bp.get("/activities/<int:activity_id>/poster.png")
@login_required
@_loads("led_activity")
def poster_png(activity: Activity):
    """The poster code as a PNG download (e.g. for a group chat or a print shop)."""
    if activity.status in ("closed", "cancelled"):
        abort(404)
    png = cached_qr_png(url_for("checkin.scan", token=_poster_token(activity), _external=True), 20)
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="activity-{activity.id}-qr.png"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- corrections --------------------------------------------------------------------------


@bp.post("/attendances/<int:attendance_id>/adjust")
@login_required
def adjust(attendance_id: int):
    activity, _attendance = _correctable_or_404(attendance_id)
    form = AdjustForm(prefix=f"a{attendance_id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    else:
        _run(lambda: service.adjust_minutes(session=get_session(), attendance_id=attendance_id,
                                            minutes=form.minutes.data, reason=form.reason.data,
                                            actor_id=current_user.id),
             _("Minutes changed; the old value is kept in the audit log."))
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#attendances", code=303)


@bp.post("/attendances/<int:attendance_id>/void")
@login_required
def void(attendance_id: int):
    activity, _attendance = _correctable_or_404(attendance_id)
    form = ReasonForm(prefix=f"v{attendance_id}")
    if not form.validate_on_submit():
        flash(str(service.ActivityError.messages["reason_required"]), "error")
    else:
        _run(lambda: service.void_attendance(session=get_session(), attendance_id=attendance_id,
                                             reason=form.reason.data, actor_id=current_user.id),
             _("The attendance is voided; it stays in the records with your reason."))
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#attendances", code=303)


@bp.post("/activities/<int:activity_id>/add-missed")
@login_required
@_loads("seen_activity")
def add_missed(activity: Activity):
    form = AddMissedForm(prefix="add")
    form.volunteer.choices = _member_choices(activity, exclude=set())
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    else:
        _run(lambda: service.add_missed(session=get_session(), activity_id=activity.id,
                                        volunteer_id=form.volunteer.data, minutes=form.minutes.data,
                                        reason=form.reason.data, actor_id=current_user.id),
             _("The missed volunteer is recorded."))
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#attendances", code=303)


# --- retro log ----------------------------------------------------------------------------


@bp.route("/teams/<int:team_id>/retro", methods=["GET", "POST"])
@login_required
@_loads("team")
def retro(team: Team):
    """Record a past activity with attendees picked from the roster, minutes each, and optional photos."""
    session = get_session()
    form = RetroForm()
    form.theme.choices = _theme_choices()
    members = _team_members(team.id)
    picked, errors = _picked_attendees(members) if request.method == "POST" else ({}, [])
    if form.validate_on_submit() and not errors:
        starts_at = to_utc(datetime.combine(form.day.data, form.start.data))
        ends_at = to_utc(datetime.combine(form.day.data, form.end.data))
        try:
            activity = service.log_retro(session=session, team_id=team.id, actor_id=current_user.id,
                                         theme_id=form.theme.data, title=form.title.data, place=form.place.data,
                                         starts_at=starts_at, ends_at=ends_at, attendees=list(picked.items()))
            for upload in request.files.getlist("photos")[:photo_service.MAX_PHOTOS]:
                if upload and upload.filename:
                    photo_service.add_photo(session=session, activity_id=activity.id, data=upload.read(),
                                            uploaded_by_id=current_user.id)
        except DomainError as exc:
            session.rollback()
            errors.append(exc.message)
        else:
            flash(_("The past activity is recorded."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("activities/retro.html", form=form, team=team, members=members, picked=picked,
                           errors=errors), status


# --- photos -------------------------------------------------------------------------------


@bp.post("/activities/<int:activity_id>/photos")
@login_required
@_loads("led_activity")
def upload_photos(activity: Activity):
    session = get_session()
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        flash(_("Choose at least one photo."), "error")
    added = 0
    for upload in files:
        try:
            with session.begin_nested():
                photo_service.add_photo(session=session, activity_id=activity.id,
                                        data=upload.read(photo_service.MAX_BYTES + 1), uploaded_by_id=current_user.id)
            added += 1
        except photo_service.PhotoError as exc:
            flash(f"{upload.filename[:80]}: {exc.message}", "error")
    if added:
        flash(_("%(count)d photo(s) added.", count=added), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#photos", code=303)


@bp.get("/photos/<int:photo_id>.jpg")
@bp.get("/photos/<int:photo_id>/thumb.jpg", endpoint="photo_thumb")
@login_required
def photo(photo_id: int):
    """A photo, only for the team's leaders and the office."""
    session = get_session()
    photo = session.get(Photo, photo_id)
    if photo is None:
        abort(404)
    _found_or_404("seen_activity", photo.activity_id)
    data = photo.thumbnail if request.endpoint == "activities.photo_thumb" else photo.image
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


# --- helpers ------------------------------------------------------------------------------


def _run(action, success: str) -> bool:
    try:
        action()
    except DomainError as exc:
        get_session().rollback()
        flash(exc.message, "error")
        return False
    flash(success, "success")
    return True


def _form_error(form, exc: DomainError) -> None:
    target = {"bad_window": form.ends_at, "too_long": form.ends_at, "too_far_ahead": form.starts_at,
              "bad_theme": form.theme, "bad_fence": form.radius_m, "bad_headcount": form.expected_headcount}
    field = target.get(exc.code)
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def _theme_choices() -> list[SelectChoice]:
    from ..i18n import theme_name

    return [SelectChoice(t.id, theme_name(t)) for t in service.themes(session=get_session())]


def _activity_fields(form: ActivityForm) -> dict:
    return {
        "theme_id": form.theme.data, "title": form.title.data, "place": form.place.data,
        "starts_at": to_utc(form.starts_at.data), "ends_at": to_utc(form.ends_at.data),
        "expected_headcount": form.expected_headcount.data, "members_only": form.members_only.data,
        "qr_mode": form.qr_mode.data, "lat": form.lat.data, "lng": form.lng.data, "radius_m": form.radius_m.data,
    }


def _form_data(activity: Activity):
    from types import SimpleNamespace

    return SimpleNamespace(theme=activity.theme_id, title=activity.title, place=activity.place,
                           starts_at=to_local_naive(activity.starts_at), ends_at=to_local_naive(activity.ends_at),
                           expected_headcount=activity.expected_headcount, members_only=activity.members_only,
                           qr_mode=activity.qr_mode, lat=activity.lat, lng=activity.lng, radius_m=activity.radius_m)


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
    total, still_in = service.live_count(session=session, activity_id=activity.id)
    recent = session.exec(
        select(Attendance, Volunteer).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .where(Attendance.activity_id == activity.id, Attendance.voided_at.is_(None))
        .order_by(Attendance.checked_in_at.desc(), Attendance.id.desc()).limit(50)
    ).all()
    return {"total": total, "still_in": still_in, "recent": recent, "poll": LIVE_POLL_SECONDS}


def _roster_search(activity: Activity, query: str) -> list[Volunteer]:
    session = get_session()
    condition = Volunteer.phone_tail == query if query.isdigit() and len(query) == 4 \
        else Volunteer.name.contains(query, autoescape=True)
    statement = select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id).where(
        Membership.team_id == activity.team_id, Membership.status == "active", Volunteer.deleted_at.is_(None),
        or_(condition),
    ).order_by(Volunteer.name).limit(ROSTER_LIMIT)
    return list(session.exec(statement).all())


def _team_members(team_id: int) -> list[Volunteer]:
    return list(get_session().exec(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.team_id == team_id, Membership.status == "active", Volunteer.deleted_at.is_(None))
        .order_by(Volunteer.name).limit(2000)
    ).all())


def _member_choices(activity: Activity, exclude: set[int]) -> list[SelectChoice]:
    from ..accounts.phone import mask_phone

    return [SelectChoice(v.id, f"{v.name} {mask_phone(v.phone)}") for v in _team_members(activity.team_id)
            if v.id not in exclude]


def _picked_attendees(members: list[Volunteer]) -> tuple[dict[int, int], list[str]]:
    """{volunteer id: minutes} from the roster checkboxes; only members of the team count."""
    allowed = {v.id for v in members}
    picked: dict[int, int] = {}
    errors: list[str] = []
    for raw in request.form.getlist("attendee")[:2000]:
        try:
            volunteer_id = int(raw)
        except ValueError:
            continue
        if volunteer_id not in allowed:
            continue
        try:
            minutes = int(request.form.get(f"minutes_{volunteer_id}", ""))
        except ValueError:
            errors.append(_("Enter whole minutes for every picked attendee."))
            break
        picked[volunteer_id] = minutes
    if not picked and not errors:
        errors.append(str(service.ActivityError.messages["no_attendees"]))
    return picked, errors


def _photo_list(activity_id: int) -> list[Photo]:
    return list(get_session().exec(
        select(Photo.id, Photo.width, Photo.height).where(Photo.activity_id == activity_id).order_by(Photo.id)
    ).all())


def _correctable_or_404(attendance_id: int) -> tuple[Activity, Attendance]:
    attendance = get_session().get(Attendance, attendance_id)
    if attendance is None:
        abort(404)
    activity = _found_or_404("seen_activity", attendance.activity_id)
    return activity, attendance
