"""A volunteer's personal code: the QR on the profile (/me/qr.png) and what a leader who scans it gets (/v/<token>:
"check X in to <open activity>", method leader_scan)."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from .. import tokens
from ..db import get_session
from ..errors import DomainError
from ..extensions import limiter
from ..models import Activity, Attendance, Membership, Volunteer
from ..qr import cached_qr_png
from ..teams.rules import active_leader
from . import bp, participation, scan_key, service


@bp.get("/me/qr.png")
@login_required
def my_qr():
    """The logged-in volunteer's personal QR code (a leader scans it to check them in)."""
    volunteer = current_user.volunteer
    token = tokens.personal_token(secret_key=current_app.config["SECRET_KEY"], volunteer_id=volunteer.id,
                                  session_version=volunteer.session_version)
    png = cached_qr_png(url_for("checkin.volunteer_code", token=token, _external=True))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/v/<token>")
def volunteer_code(token: str):
    """A volunteer's personal code: a leader gets "check X in to <activity>"; anyone else a harmless page."""
    session = get_session()
    volunteer = _volunteer_for(token)
    if volunteer is None:
        return render_template("checkin/volunteer_code.html", choices=[], volunteer=None), 404
    choices = _leader_choices(volunteer) if current_user.is_authenticated else []
    if not choices:
        return render_template("checkin/volunteer_code.html", choices=[], volunteer=None)
    return render_template("checkin/volunteer_code.html", choices=choices, volunteer=volunteer, token=token,
                           session=session)


@bp.post("/v/<token>")
@login_required
@limiter.limit("120 per minute", key_func=scan_key)
def volunteer_code_post(token: str):
    """A leader checks the volunteer in (or out) of one of the leader's open activities: method leader_scan."""
    session = get_session()
    volunteer = _volunteer_for(token)
    if volunteer is None:
        abort(404)
    try:
        activity_id = int(request.form.get("activity", ""))
    except ValueError:
        abort(404)
    from ..activities.service import activity_for_leader

    activity = activity_for_leader(session=session, volunteer_id=current_user.id, activity_id=activity_id)
    if activity is None:
        abort(404)
    try:
        if request.form.get("action") == "out":
            service.check_out(session=session, activity_id=activity.id, volunteer_id=volunteer.id,
                              recorded_by_id=current_user.id)
            flash(_("%(name)s is checked out.", name=volunteer.name), "success")
        else:
            service.check_in(session=session, activity_id=activity.id, volunteer_id=volunteer.id,
                             method="leader_scan", recorded_by_id=current_user.id)
            flash(_("%(name)s is checked in.", name=volunteer.name), "success")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("checkin.volunteer_code", token=token), code=303)


def _volunteer_for(token: str) -> Volunteer | None:
    try:
        volunteer_id, version = tokens.read_personal_token(token, secret_key=current_app.config["SECRET_KEY"])
    except tokens.TokenError:
        return None
    volunteer = get_session().get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.session_version != version or not volunteer.is_active \
            or volunteer.deleted_at is not None:
        return None
    return volunteer


def _leader_choices(volunteer: Volunteer) -> list[tuple[Activity, Attendance | None]]:
    """Open activities of the teams the current user leads that this volunteer may join, with their attendance."""
    session = get_session()
    activities = session.exec(
        select(Activity)
        .join(Membership, Membership.team_id == Activity.team_id)
        .where(*active_leader(volunteer=current_user.id), Activity.status == "open")
        .order_by(Activity.starts_at)
    ).all()
    choices = []
    for activity in activities:
        if participation.refusal_for(session, team_id=activity.team_id, volunteer_id=volunteer.id,
                                     members_only=activity.members_only, method="leader_scan",
                                     activity_id=activity.id) is not None:
            continue
        choices.append((activity, service.attendance_of(session=session, activity_id=activity.id,
                                                        volunteer_id=volunteer.id)))
    return choices
