"""Corrections of an activity's attendances by its leaders or the office: minutes, voiding, a missed volunteer."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..db import get_session
from ..models import Activity, Attendance
from ..web import found_or_404, loads
from . import bp, corrections, service
from .forms import AddMissedForm, AdjustForm, ReasonForm
from .view_helpers import member_choices, run_action


@bp.post("/attendances/<int:attendance_id>/adjust")
@login_required
def adjust(attendance_id: int):
    activity, _attendance = _correctable_or_404(attendance_id)
    form = AdjustForm(prefix=f"a{attendance_id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    else:
        run_action(lambda: corrections.adjust_minutes(session=get_session(), attendance_id=attendance_id,
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
        run_action(lambda: corrections.void_attendance(session=get_session(), attendance_id=attendance_id,
                                                       reason=form.reason.data, actor_id=current_user.id),
                   _("The attendance is voided; it stays in the records with your reason."))
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#attendances", code=303)


@bp.post("/activities/<int:activity_id>/add-missed")
@login_required
@loads("seen_activity")
def add_missed(activity: Activity):
    form = AddMissedForm(prefix="add")
    form.volunteer.choices = member_choices(activity, exclude=set())
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    else:
        run_action(lambda: corrections.add_missed(session=get_session(), activity_id=activity.id,
                                                  volunteer_id=form.volunteer.data, minutes=form.minutes.data,
                                                  reason=form.reason.data, actor_id=current_user.id),
                   _("The missed volunteer is recorded."))
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#attendances", code=303)


def _correctable_or_404(attendance_id: int) -> tuple[Activity, Attendance]:
    attendance = get_session().get(Attendance, attendance_id)
    if attendance is None:
        abort(404)
    activity = found_or_404("seen_activity", attendance.activity_id)
    return activity, attendance
