"""The record (志愿服务记录): my record's rows, a row's details, a person's record for the office and leaders,
and the volunteer's correction requests."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..activities import correction_requests as requests_service
from ..activities.correction_requests import RequestError
from ..db import get_session
from ..labels import AUTO_CHECKOUT_LABEL, METHOD_LABELS
from ..models import Activity
from ..units import unit_label
from ..web import loads, page_arg, paginate, parse_id, register_lookup, wants_fragment
from .record import attendance_for_viewer, record_access, record_rows
from .record_forms import AskCorrectionForm, AskMissingForm

bp = Blueprint("record", __name__)

register_lookup("record_row", "attendance_id", attendance_for_viewer)  # a row of a record the user may open


@bp.app_template_global()
def recorded_how(attendance) -> str:
    """How an attendance was recorded, in the reader's words (labels.py), e.g. on the record's rows."""
    label = str(METHOD_LABELS.get(attendance.method, attendance.method))
    return f"{label} · {AUTO_CHECKOUT_LABEL}" if attendance.checkout_auto else label


@bp.get("/people/<int:volunteer_id>")
@login_required
def person(volunteer_id: int):
    """A person's record: the office over its area, a leader for their team's members (that team's rows)."""
    session = get_session()
    if volunteer_id == current_user.id:
        return redirect(url_for("accounts.my_record_page"))
    access = record_access(session=session, viewer=current_user.volunteer, person_id=volunteer_id)
    if access is None:
        abort(404)
    history = paginate(session=session, statement=record_rows(access), page=page_arg(),
                       per_page=current_app.config["PAGE_SIZE"])
    context = {"person": access.person, "history": history, "limited": access.team_ids is not None,
               "pager_endpoint": "record.person", "pager_args": {"volunteer_id": volunteer_id},
               "home_unit": unit_label(session=session, unit_id=access.person.home_unit_id)}
    if wants_fragment():
        return render_template("accounts/_history.html", **context)
    return render_template("record/person.html", **context)


@bp.get("/record/<int:attendance_id>")
@login_required
@loads("record_row")
def attendance(detail):
    """One record row: times in and out, how and by whom it was recorded, its corrections. Who may see the record."""
    return render_template("record/attendance.html", d=detail, mine=detail.person.id == current_user.id)


@bp.route("/record/<int:attendance_id>/correction", methods=["GET", "POST"])
@login_required
@loads("record_row")
def ask_fix(detail):
    """Ask for a correction of one of my record rows ("this is wrong"). The person whose record it is."""
    if detail.person.id != current_user.id:
        abort(404)
    form = AskCorrectionForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            requests_service.ask(
                session=session, volunteer_id=current_user.id, activity_id=detail.activity.id,
                attendance_id=detail.attendance.id, reason=form.reason.data,
                minutes=requests_service.hours_to_minutes(form.hours.data, detail.activity))
        except RequestError as exc:
            (form.hours if exc.code == "bad_minutes" else form.reason).errors.append(exc.message)
        else:
            flash(_("Your request is sent to the team's leader."), "success")
            return redirect(url_for("record.my_requests"), code=303)
    status = 400 if form.errors else 200
    return render_template("record/ask.html", form=form, d=detail, missing=False), status


@bp.route("/me/corrections/missing", methods=["GET", "POST"])
@login_required
def ask_missing():
    """"I was there but I'm missing": an activity of one of my teams from the last 10 working days. Volunteers."""
    session = get_session()
    choices = requests_service.missing_choices(session=session, volunteer_id=current_user.id)
    form = AskMissingForm()
    form.activity.choices = [("", _("Choose…"))] + [
        (str(a.id), f"{a.title} · {t.name}") for a, t in choices]
    if form.validate_on_submit():
        activity = session.get(Activity, parse_id(form.activity.data) or 0)
        try:
            if activity is None:
                raise RequestError("not_a_member")
            requests_service.ask(session=session, volunteer_id=current_user.id, activity_id=activity.id,
                                 reason=form.reason.data,
                                 minutes=requests_service.hours_to_minutes(form.hours.data, activity))
        except RequestError as exc:
            target = {"bad_minutes": form.hours, "reason_required": form.reason}.get(exc.code, form.activity)
            target.errors.append(exc.message)
        else:
            flash(_("Your request is sent to the team's leader."), "success")
            return redirect(url_for("record.my_requests"), code=303)
    status = 400 if form.errors else 200
    return render_template("record/ask.html", form=form, d=None, missing=True, choices=choices), status


@bp.get("/me/corrections")
@login_required
def my_requests():
    """My correction requests and their answers. Logged-in people."""
    rows = requests_service.requests_of(session=get_session(), volunteer_id=current_user.id)
    return render_template("record/requests.html", rows=rows)
