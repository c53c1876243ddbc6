"""An activity's life for its leaders: a team's list, create, edit, open, cancel, close, new codes."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..db import get_session
from ..errors import DomainError
from ..models import Activity, Team, utcnow
from ..teams.rules import is_active_leader
from ..web import loads
from . import bp, finding, reading, service
from .closing import close_preview
from .forms import ActivityForm, ReasonForm, to_local_naive, to_utc
from .view_helpers import audience_choices, audience_fields, run_action, theme_choices


@bp.get("/teams/<int:team_id>/activities")
@login_required
@loads("member_team")
def team_list(team: Team):
    """A team's activities. Its leaders: open, upcoming, closed, cancelled, to run them; its members: what is
    coming, with links to each activity's page. An inactive team's list: 404 (as for everyone else)."""
    session = get_session()
    if team.status != "active":
        abort(404)
    if not is_active_leader(session, team.id, current_user.id):
        return render_template("activities/team_upcoming.html", team=team,
                               upcoming=finding.team_upcoming(session=session, team_id=team.id))
    groups = reading.team_activities(session=session, team_id=team.id)
    return render_template("activities/list.html", team=team, groups=groups)


@bp.route("/teams/<int:team_id>/activities/new", methods=["GET", "POST"])
@login_required
@loads("active_team")
def create(team: Team):
    """Create a scheduled activity."""
    session = get_session()
    form = ActivityForm()
    form.theme.choices = theme_choices()
    form.audience.choices = audience_choices(team)
    if request.method == "GET":
        start = to_local_naive(utcnow()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        form.starts_at.data, form.ends_at.data = start, start + timedelta(hours=2)
    if form.validate_on_submit():
        open_now = bool(request.form.get("open_now"))
        try:
            activity = service.create_activity(session=session, team_id=team.id, actor_id=current_user.id,
                                               open_now=open_now, **_activity_fields(form))
        except DomainError as exc:  # ActivityError, or publishing.PublishError for the recruitment settings
            _form_error(form, exc)
        else:
            flash(_("The activity is open. Show the code to the volunteers.") if open_now
                  else _("Activity created. Open it when it starts."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("activities/edit.html", form=form, team=team, activity=None), status


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
@loads("led_activity")
def edit(activity: Activity):
    """Change an activity that has not opened yet."""
    session = get_session()
    team = session.get(Team, activity.team_id)
    if activity.status != "scheduled":
        flash(str(service.ActivityError.messages["not_editable"]), "error")
        return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    form = ActivityForm(obj=None if request.method == "POST" else _form_data(activity))
    form.theme.choices = theme_choices()
    form.audience.choices = audience_choices(team)
    if form.validate_on_submit():
        try:
            service.update_activity(session=session, activity_id=activity.id, actor_id=current_user.id,
                                    **_activity_fields(form))
        except DomainError as exc:  # ActivityError, or publishing.PublishError for the recruitment settings
            _form_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("activities/edit.html", form=form, team=team, activity=activity), status


@bp.post("/activities/<int:activity_id>/open")
@login_required
@loads("led_activity")
def open_(activity: Activity):
    """Open for check-in; from the home page (then=screen) straight on to the full-screen code."""
    opened = run_action(lambda: service.open_activity(session=get_session(), activity_id=activity.id,
                                                      actor_id=current_user.id),
                        _("The activity is open. Show the code to the volunteers."))
    if opened and request.form.get("then") == "screen":
        return redirect(url_for("activities.screen", activity_id=activity.id), code=303)
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.post("/activities/<int:activity_id>/cancel")
@login_required
@loads("led_activity")
def cancel(activity: Activity):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for cancelling."), "error")
    else:
        run_action(lambda: service.cancel_activity(session=get_session(), activity_id=activity.id,
                                                   actor_id=current_user.id, reason=form.reason.data),
                   _("The activity is cancelled."))
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.route("/activities/<int:activity_id>/close", methods=["GET", "POST"])
@login_required
@loads("led_activity")
def close(activity: Activity):
    """The closing dialog (how many are still in, credit until now or until the planned end), and closing."""
    session = get_session()
    if request.method == "GET":
        if activity.status != "open":
            return redirect(url_for("activities.detail", activity_id=activity.id))
        now = utcnow()
        return render_template("activities/close.html", activity=activity, now=now,
                               preview=close_preview(session=session, activity=activity, at=now))
    try:
        summary = service.close_activity(session=session, activity_id=activity.id, actor_id=current_user.id,
                                         credit_until=request.form.get("credit_until") or "now")
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Closed: %(people)d people, %(hours)s hours.", people=summary.attendee_count,
                hours=f"{summary.total_minutes / 60:.1f}"), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


@bp.post("/activities/<int:activity_id>/regenerate")
@login_required
@loads("led_activity")
def regenerate(activity: Activity):
    """Revoke every code of this activity shown or printed so far."""
    run_action(lambda: service.regenerate_secret(session=get_session(), activity_id=activity.id,
                                                 actor_id=current_user.id),
               _("All earlier codes of this activity no longer work. Print the poster again if you use one."))
    return redirect(url_for("activities.detail", activity_id=activity.id), code=303)


# --- helpers ------------------------------------------------------------------------------


def _form_error(form, exc: DomainError) -> None:
    target = {"not_starting_now": form.starts_at, "bad_window": form.ends_at, "too_long": form.ends_at, "too_far_ahead": form.starts_at,
              "bad_theme": form.theme, "bad_fence": form.radius_m, "bad_headcount": form.capacity,
              "capacity_below_admitted": form.capacity, "bad_audience": form.audience,
              "bad_deadline": form.signup_deadline, "bad_meeting_point": form.meeting_lng,
              "bad_admission": form.admission}
    field = target.get(exc.code)
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def _activity_fields(form: ActivityForm) -> dict:
    return {
        "theme_id": form.theme.data, "title": form.title.data, "place": form.place.data,
        "starts_at": to_utc(form.starts_at.data), "ends_at": to_utc(form.ends_at.data),
        "capacity": form.capacity.data, "qr_mode": form.qr_mode.data, "lat": form.lat.data, "lng": form.lng.data,
        "radius_m": form.radius_m.data, **audience_fields(form.audience.data),
        "signup_deadline": to_utc(form.signup_deadline.data), "admission": form.admission.data,
        "admitted_only": form.admitted_only.data, "meeting_point": form.meeting_point.data,
        "meeting_lat": form.meeting_lat.data, "meeting_lng": form.meeting_lng.data,
        "requirements": form.requirements.data,
    }


def _form_data(activity: Activity):
    from types import SimpleNamespace

    return SimpleNamespace(theme=activity.theme_id, title=activity.title, place=activity.place,
                           starts_at=to_local_naive(activity.starts_at), ends_at=to_local_naive(activity.ends_at),
                           capacity=activity.capacity, qr_mode=activity.qr_mode, lat=activity.lat, lng=activity.lng,
                           radius_m=activity.radius_m,
                           audience=activity.audience if activity.audience != "unit"
                           else f"unit:{activity.audience_unit_id}",
                           signup_deadline=to_local_naive(activity.signup_deadline), admission=activity.admission,
                           admitted_only=activity.admitted_only, meeting_point=activity.meeting_point,
                           meeting_lat=activity.meeting_lat, meeting_lng=activity.meeting_lng,
                           requirements=activity.requirements)
