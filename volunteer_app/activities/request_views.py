"""Correction requests as the team's leaders (and the office over its area) see them: the list, one request,
accept or decline."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.record_forms import ResolveForm
from ..db import get_session
from ..errors import DomainError
from ..models import Activity, Attendance, CorrectionRequest, Team, Volunteer
from ..teams.service import team_for_leader, team_for_office
from ..units import office_scope
from ..web import loads, register_lookup
from . import bp
from . import correction_requests as requests_service


def _team_for_resolver(*, session, volunteer_id: int, team_id: int) -> Team | None:
    """A team the user leads, or (office) one in the office account's area."""
    if current_user.is_office:
        return team_for_office(session=session, team_id=team_id,
                               scope=office_scope(session=session, office=current_user.volunteer))
    return team_for_leader(session=session, volunteer_id=volunteer_id, team_id=team_id)


register_lookup("resolver_team", "team_id", _team_for_resolver)
register_lookup("resolvable_request", "request_id", requests_service.request_for_resolver)


@bp.get("/teams/<int:team_id>/corrections")
@login_required
@loads("resolver_team")
def team_requests(team: Team):
    """A team's open correction requests (oldest first) and the latest answered. Its leaders; the office."""
    session = get_session()
    answered = [row for status in ("accepted", "declined")
                for row in requests_service.team_requests(session=session, team_id=team.id, status=status, limit=10)]
    return render_template(
        "activities/requests.html", team=team,
        open_rows=requests_service.team_requests(session=session, team_id=team.id),
        answered=sorted(answered, key=lambda row: row[0].resolved_at, reverse=True)[:10])


@bp.get("/corrections/<int:request_id>")
@login_required
@loads("resolvable_request")
def request_page(request: CorrectionRequest):
    """One request with the record it is about and the answer form. Its team's leaders; the office."""
    return _page(request, ResolveForm(), 200)


@bp.post("/corrections/<int:request_id>/<any(accept, decline):action>")
@login_required
@loads("resolvable_request")
def resolve(request: CorrectionRequest, action: str):
    """Accept (the change goes through the corrections service) or decline with a reason."""
    form = ResolveForm()
    if not form.validate_on_submit():
        return _page(request, form, 400)
    session = get_session()
    activity = session.get(Activity, request.activity_id)
    try:
        if action == "accept":
            minutes = requests_service.hours_to_minutes(form.hours.data, activity)
            requests_service.accept(session=session, request_id=request.id, actor_id=current_user.id,
                                    minutes=minutes, answer=form.answer.data)
        else:
            requests_service.decline(session=session, request_id=request.id, actor_id=current_user.id,
                                     answer=form.answer.data)
    except DomainError as exc:
        session.rollback()
        (form.hours if exc.code == "bad_minutes" else form.answer).errors.append(exc.message)
        return _page(session.get(CorrectionRequest, request.id), form, 400)
    flash(_("The request is accepted and the record corrected.") if action == "accept"
          else _("The request is declined; the volunteer is told why."), "success")
    return redirect(url_for("activities.team_requests", team_id=request.team_id), code=303)


def _page(request: CorrectionRequest, form: ResolveForm, status: int):
    session = get_session()
    activity = session.get(Activity, request.activity_id)
    attendance = session.get(Attendance, request.attendance_id) if request.attendance_id else None
    if not form.hours.data and request.status == "open":
        current = attendance.credited_minutes if attendance else None
        wanted = request.minutes if request.minutes is not None else current
        form.hours.data = f"{wanted / 60:g}" if wanted is not None else ""
    return render_template("activities/request.html", req=request, activity=activity, attendance=attendance,
                           person=session.get(Volunteer, request.volunteer_id),
                           team=session.get(Team, request.team_id), form=form), status
