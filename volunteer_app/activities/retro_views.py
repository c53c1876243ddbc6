"""Past activities logged afterwards (retro log) and an activity's photos."""
from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..db import get_session
from ..errors import DomainError
from ..models import Activity, Photo, Team, Volunteer
from ..web import found_or_404, loads
from . import bp, service
from . import photos as photo_service
from .forms import RetroForm, to_utc
from .retro import log_retro
from .view_helpers import team_members, theme_choices


@bp.route("/teams/<int:team_id>/retro", methods=["GET", "POST"])
@login_required
@loads("active_team")
def retro(team: Team):
    """Record a past activity with attendees picked from the roster, minutes each, and optional photos."""
    session = get_session()
    form = RetroForm()
    form.theme.choices = theme_choices()
    members = team_members(team.id)
    picked, errors = _picked_attendees(members) if request.method == "POST" else ({}, [])
    if form.validate_on_submit() and not errors:
        starts_at = to_utc(datetime.combine(form.day.data, form.start.data))
        ends_at = to_utc(datetime.combine(form.day.data, form.end.data))
        try:
            activity = log_retro(session=session, team_id=team.id, actor_id=current_user.id,
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
@loads("led_activity")
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
    found_or_404("seen_activity", photo.activity_id)
    data = photo.thumbnail if request.endpoint == "activities.photo_thumb" else photo.image
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


# --- helpers ------------------------------------------------------------------------------


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
