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
    """Record a past activity with attendees picked from the roster, minutes each, and optional photos.

    The roster is searched as one types (static/activities_pick.js); without script, the form's search button
    posts everything typed so far and the page comes back with the matching members (and those picked).
    """
    session = get_session()
    form = RetroForm()
    form.theme.choices = theme_choices()
    members = team_members(team.id)
    searching = request.method == "POST" and "search" in request.form
    query = (request.values.get("q") or "").strip()[:40]
    picked, same_minutes, errors = _picked_attendees(members, searching)
    if request.method == "POST" and not searching and form.validate_on_submit() and not errors:
        starts_at = to_utc(datetime.combine(form.day.data, form.start.data))
        ends_at = to_utc(datetime.combine(form.day.data, form.end.data))
        try:
            activity = log_retro(session=session, team_id=team.id, actor_id=current_user.id,
                                 theme_id=form.theme.data, title=form.title.data, place=form.place.data,
                                 starts_at=starts_at, ends_at=ends_at, attendees=list(picked.items()),
                                 same_minutes=same_minutes)
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
    # The server narrows the rows only for a search (the page's script filters what it was given).
    narrowed = query and (searching or request.method == "GET")
    shown = [v for v in members if v.id in picked or _matches(v, query)] if narrowed else members
    status = 400 if request.method == "POST" and not searching else 200
    return render_template("activities/retro.html", form=form, team=team, members=shown, total=len(members),
                           picked=picked, same_minutes=same_minutes, query=query,
                           errors=[] if searching else errors), status


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


def _picked_attendees(members: list[Volunteer], searching: bool) -> tuple[dict[int, int | None], int | None, list[str]]:
    """({volunteer id: own minutes or None}, the same minutes for all or None, errors) from the roster rows.

    Only members of the team count; which minutes a picked attendee gets is the service's rule (log_retro).
    """
    if request.method != "POST":
        return {}, None, []
    allowed = {v.id for v in members}
    picked: dict[int, int | None] = {}
    errors: list[str] = []
    same_minutes = _whole_minutes(request.form.get("same_minutes"), errors)
    for raw in request.form.getlist("attendee")[:2000]:
        try:
            volunteer_id = int(raw)
        except ValueError:
            continue
        if volunteer_id in allowed:
            picked[volunteer_id] = _whole_minutes(request.form.get(f"minutes_{volunteer_id}"), errors)
    if not picked and not searching:
        errors.append(str(service.ActivityError.messages["no_attendees"]))
    return picked, same_minutes, list(dict.fromkeys(errors))


def _whole_minutes(raw: str | None, errors: list[str]) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.append(_("Enter whole minutes for every picked attendee."))
        return None


def _matches(volunteer: Volunteer, query: str) -> bool:
    """The roster search of the no-script page: a part of the name, or the last four digits of the phone."""
    if len(query) == 4 and query.isdigit():
        return volunteer.phone_tail == query
    return query.casefold() in volunteer.name.casefold()
