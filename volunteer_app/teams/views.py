"""Teams pages: applying, the office's decisions, invites, membership, rosters.

Who may use each route is said in its docstring and checked by looking the object up through what
the person may see: a leader of team A asking for team B gets the same 404 as for a missing team.
The office's roster import pages (roster_import/views.py) are on the same blueprint.
"""
from __future__ import annotations

import base64

from flask import abort, current_app, flash, redirect, render_template, request, session as http_session, \
    url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from ..accounts.views import render_reset_link
from ..activities.finding import team_upcoming
from ..db import get_session
from ..extensions import limiter
from ..models import TEAM_STATUSES, Membership, Team, Volunteer
from ..qr import qr_png
from ..units import deepest_choice, office_scope, unit_choices, unit_label
from ..web import (loads, office_or_404, office_required, page_arg, paginate, parse_id, register_lookup,
                   wants_fragment)
from . import bp
from .forms import InviteForm, ReasonForm, TeamApplyForm, TeamEditForm
from .membership import (decide_request, issue_member_reset, join_team, leave_team, member_actions, member_minutes,
                         membership_in_team, memberships_of, own_membership, remove_member, resettable_by_leader,
                         roster, set_leader, team_for_member, team_leader_names)
from .rules import is_active_leader
from .service import (TeamError, active_leader_count, active_member_counts, applications_of, apply_for_team,
                      decide_team, edit_team, invite_token, office_teams, pending_team_count, renew_invite,
                      set_team_suspended, team_for_invite, team_for_leader, team_for_office)

MEMBER_ACTIONS = ("approve", "reject", "remove", "promote", "demote", "reset")
MEMBER_PAGE_UPCOMING = 10  # the member's team page shows the next few; the team's activity list has them all


def _team_for_office(*, session, volunteer_id: int, team_id: int) -> Team | None:
    """The team if the logged-in office account's area holds it (volunteer_id is that account)."""
    if not current_user.is_office:
        return None
    return team_for_office(session=session, team_id=team_id, scope=office_scope(session=session,
                                                                                 office=current_user.volunteer))


register_lookup("led_team", "team_id", team_for_leader)  # a team the user leads (any status)
register_lookup("member_team", "team_id", team_for_member)  # a team the user is an active member of (or leads)
register_lookup("office_team", "team_id", _team_for_office)  # a team in the office account's area


# --- volunteers ---------------------------------------------------------------------------------


@bp.get("/teams")
@login_required
def my_teams():
    """My teams, my pending requests and team applications. Any logged-in volunteer (office: 404)."""
    _volunteer_or_404()
    session = get_session()
    return render_template("teams/mine.html", memberships=memberships_of(session=session, volunteer_id=current_user.id),
                           applications=applications_of(session=session, volunteer_id=current_user.id),
                           form=ReasonForm())


@bp.route("/teams/apply", methods=["GET", "POST"])
@login_required
def apply():
    """Apply to register a new team; the office decides. Any logged-in volunteer (office: 404)."""
    _volunteer_or_404()
    session = get_session()
    form = TeamApplyForm()
    district_id, street_id = parse_id(request.form.get("district")), parse_id(request.form.get("street"))
    community_id = parse_id(request.form.get("community"))
    unit_errors: list[str] = []
    if form.validate_on_submit():
        try:
            team = apply_for_team(session=session, applicant_id=current_user.id, name=form.name.data,
                                  unit_id=deepest_choice(session=session, district_id=district_id, street_id=street_id,
                                                         community_id=community_id),
                                  description=form.description.data or "",
                                  contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "")
        except TeamError as exc:
            if exc.code == "bad_unit":
                unit_errors.append(exc.message)
            else:
                _field_for(form, exc.code).errors.append(exc.message)
        else:
            flash(_("Your application for %(name)s was sent to the Civilization Office.", name=team.name), "success")
            return redirect(url_for("teams.my_teams"), code=303)
    elif request.method == "POST" and deepest_choice(session=session, district_id=district_id, street_id=street_id,
                                                     community_id=community_id) is None:
        unit_errors.append(TeamError("bad_unit").message)
    status = 400 if request.method == "POST" else 200
    return render_template("teams/apply.html", form=form, unit_errors=unit_errors, selected=community_id,
                           choices=unit_choices(session=session, district_id=district_id, street_id=street_id)), status


@bp.post("/teams/<int:team_id>/leave")
@login_required
def leave(team_id: int):
    """Leave a team or withdraw a request. A member of that team (others: 404)."""
    session = get_session()
    membership = own_membership(session=session, volunteer_id=current_user.id, team_id=team_id)
    if membership is None or not ReasonForm().validate_on_submit():
        abort(404 if membership is None else 400)
    team = session.get(Team, team_id)
    try:
        leave_team(session=session, membership=membership)
    except TeamError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("teams.my_teams"), code=303)
    flash(_("You left %(name)s.", name=team.name), "info")
    return redirect(url_for("teams.my_teams"), code=303)


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit("60 per minute; 600 per hour", methods=["POST"])  # a room joining at once shares one address
@limiter.limit("120 per minute")
def join(token: str):
    """"Join team X" from an invite link or QR. Anyone with a valid invite (not logged in: log in or register first)."""
    session = get_session()
    try:
        team = team_for_invite(session=session, token=token, secret_key=current_app.config["SECRET_KEY"])
    except TeamError as exc:
        if http_session.get("pending_invite") == token:
            http_session.pop("pending_invite")
        return render_template("teams/join_invalid.html", message=exc.message), 404
    if not current_user.is_authenticated:
        http_session["pending_invite"] = token
        return render_template("teams/join.html", team=team, unit=unit_label(session=session, unit_id=team.unit_id),
                               membership=None, form=None)
    # Arrived: a kept invite has done its job (it must not send every later login back here).
    http_session.pop("pending_invite", None)
    if current_user.is_office:
        abort(404)
    form = ReasonForm()
    membership = session.exec(select(Membership).where(
        Membership.team_id == team.id, Membership.volunteer_id == current_user.id)).first()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            membership = join_team(session=session, team=team, volunteer_id=current_user.id)
        except TeamError as exc:
            session.rollback()
            flash(exc.message, "info")
            return redirect(url_for("teams.my_teams"), code=303)
        if membership.status == "active":
            flash(_("Welcome to %(name)s!", name=team.name), "success")
        else:
            flash(_("Your request to join %(name)s was sent to its leaders.", name=team.name), "success")
        return redirect(url_for("home.index"), code=303)
    return render_template("teams/join.html", team=team, unit=unit_label(session=session, unit_id=team.unit_id),
                           membership=membership, form=form)


# --- leaders --------------------------------------------------------------------------------------


@bp.get("/teams/<int:team_id>")
@login_required
@loads("member_team")
def team_home(team: Team):
    """A team's page. Leaders: requests waiting, members, invite, details. Members: the team's public details,
    its leaders' names and upcoming activities (never other members' phones). Others: 404."""
    session = get_session()
    if not is_active_leader(session, team.id, current_user.id):
        return render_template("teams/team_member.html", team=team,
                               unit=unit_label(session=session, unit_id=team.unit_id),
                               leaders=team_leader_names(session=session, team_id=team.id),
                               upcoming=team_upcoming(session=session, team_id=team.id, limit=MEMBER_PAGE_UPCOMING))
    pending = session.exec(roster(team_id=team.id, status="pending")).all()
    counts = active_member_counts(session=session, team_ids=[team.id])
    return render_template("teams/team.html", team=team, pending=pending, member_count=counts.get(team.id, 0),
                           unit=unit_label(session=session, unit_id=team.unit_id), form=ReasonForm())


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@login_required
@loads("led_team")
def edit(team: Team):
    """Edit the team's details and join policy. Leaders of that team."""
    session = get_session()
    form = TeamEditForm(obj=team)
    if form.validate_on_submit():
        try:
            edit_team(session=session, team=team, actor_id=current_user.id, name=form.name.data,
                      description=form.description.data or "", contact_name=form.contact_name.data or "",
                      contact_phone=form.contact_phone.data or "", join_policy=form.join_policy.data)
        except TeamError as exc:
            session.rollback()
            _field_for(form, exc.code).errors.append(exc.message)
        else:
            flash(_("The team's details are saved."), "success")
            return redirect(url_for("teams.team_home", team_id=team.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("teams/edit.html", team=team, form=form), status


@bp.route("/teams/<int:team_id>/invite", methods=["GET", "POST"])
@login_required
@loads("led_team")
def invite(team: Team):
    """The team's invite as a QR code and a link; POST makes a new one (older ones stop working). Leaders."""
    session = get_session()
    form = InviteForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        renew_invite(session=session, team=team, actor_id=current_user.id, valid_days=form.valid_days.data or None)
        flash(_("A new invite is ready; the old link and QR code no longer work."), "success")
        return redirect(url_for("teams.invite", team_id=team.id), code=303)
    url = url_for("teams.join", token=invite_token(team, secret_key=current_app.config["SECRET_KEY"]),
                  _external=True)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii")
    return render_template("teams/invite.html", team=team, url=url, qr=qr, form=form)


@bp.get("/teams/<int:team_id>/members")
@login_required
@loads("led_team")
def members(team: Team):
    """The roster with full phone numbers, paginated, searchable by name or last four digits. Leaders."""
    session = get_session()
    query = (request.args.get("q") or "")[:40]
    page = paginate(session=session, statement=roster(team_id=team.id, query=query), page=page_arg(),
                    per_page=current_app.config["PAGE_SIZE"])
    pending = session.exec(roster(team_id=team.id, status="pending")).all()
    resettable = resettable_by_leader(session=session, rows=page.items)
    leader_count = active_leader_count(session=session, team_id=team.id)
    context = {"team": team, "page": page, "q": query, "pending": pending, "form": ReasonForm(),
               "actions": {m.id: member_actions(membership=m, actor_id=current_user.id, leader_count=leader_count,
                                                resettable=m.id in resettable) for m, _v in page.items},
               "minutes": member_minutes(session=session, team_id=team.id, volunteer_ids=[v.id for _m, v in page.items])}
    if wants_fragment():
        return render_template("teams/_roster.html", **context)
    return render_template("teams/members.html", **context)


@bp.post("/teams/<int:team_id>/members/<int:membership_id>/<action>")
@login_required
@loads("led_team")
def member_action(team: Team, membership_id: int, action: str):
    """Approve, reject, remove, promote, demote a member, or issue a reset link. Leaders of that team."""
    session = get_session()
    membership = membership_in_team(session=session, team=team, membership_id=membership_id)
    if membership is None or action not in MEMBER_ACTIONS:
        abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    person = session.get(Volunteer, membership.volunteer_id)
    try:
        if action in ("approve", "reject"):
            decide_request(session=session, membership=membership, approve=action == "approve",
                           actor_id=current_user.id)
        elif action == "remove":
            remove_member(session=session, membership=membership, actor_id=current_user.id,
                          reason=form.reason.data or "")
        elif action in ("promote", "demote"):
            set_leader(session=session, membership=membership, leader=action == "promote", actor_id=current_user.id)
        else:
            token = issue_member_reset(session=session, membership=membership, actor_id=current_user.id)
            return render_reset_link(person, token, back=url_for("teams.members", team_id=team.id))
    except TeamError as exc:
        session.rollback()
        flash(exc.message, "error")
    else:
        flash(_MEMBER_DONE[action]() % {"name": person.name}, "success")
    back = request.form.get("back")
    target = url_for("teams.team_home", team_id=team.id) if back == "team" else url_for("teams.members", team_id=team.id)
    if person.id == current_user.id and action == "demote":  # stepped down: the roster is no longer theirs
        target = url_for("home.index")
    return redirect(target, code=303)


_MEMBER_DONE = {
    "approve": lambda: _("%(name)s is now a member."),
    "reject": lambda: _("The request of %(name)s was declined."),
    "remove": lambda: _("%(name)s was removed from the team."),
    "promote": lambda: _("%(name)s is now a leader."),
    "demote": lambda: _("%(name)s is no longer a leader."),
}


# --- the office -----------------------------------------------------------------------------------


@bp.get("/office/teams")
@login_required
def office_list():
    """Teams by status (the pending queue first), in the office's area. Office staff."""
    office = office_or_404()
    session = get_session()
    status = request.args.get("status", "pending")
    if status not in TEAM_STATUSES:
        status = "pending"
    query = (request.args.get("q") or "")[:40]
    page = paginate(session=session, statement=office_teams(status=status, scope=office_scope(session=session,
                    office=office), query=query), page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("teams/office_list.html", page=page, status=status, statuses=TEAM_STATUSES, q=query)


@bp.get("/office/teams/<int:team_id>")
@office_required
@loads("office_team")
def office_team(team: Team):
    """One team for the office: application, contact (masked), member count, decisions. Office staff."""
    session = get_session()
    applicant = session.get(Volunteer, team.applied_by_id) if team.applied_by_id else None
    counts = active_member_counts(session=session, team_ids=[team.id])
    return render_template("teams/office_team.html", team=team, applicant=applicant,
                           member_count=counts.get(team.id, 0), unit=unit_label(session=session, unit_id=team.unit_id),
                           form=ReasonForm())


@bp.post("/office/teams/<int:team_id>/<action>")
@office_required
@loads("office_team")
def office_decide(team: Team, action: str):
    """Approve or reject an application, suspend or reactivate a team (reason required to say no). Office."""
    office = current_user.volunteer
    session = get_session()
    team_id = team.id
    if action not in ("approve", "reject", "suspend", "reactivate"):
        abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action in ("approve", "reject"):
            decide_team(session=session, team=team, approve=action == "approve", office_id=office.id,
                        reason=form.reason.data or "")
        else:
            set_team_suspended(session=session, team=team, suspended=action == "suspend", office_id=office.id,
                               reason=form.reason.data or "")
    except TeamError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("teams.office_team", team_id=team_id), code=303)
    flash(_OFFICE_DONE[action]() % {"name": team.name}, "success")
    return redirect(url_for("teams.office_team", team_id=team_id), code=303)


_OFFICE_DONE = {
    "approve": lambda: _("%(name)s is approved; the applicant is its leader."),
    "reject": lambda: _("The application of %(name)s was rejected."),
    "suspend": lambda: _("%(name)s is suspended."),
    "reactivate": lambda: _("%(name)s is active again."),
}


# --- helpers --------------------------------------------------------------------------------------


def _volunteer_or_404() -> None:
    if current_user.is_office:
        abort(404)


def _field_for(form, code: str):
    return {"bad_phone": form.contact_phone,
            "too_long": form.description}.get(code, form.name)



@bp.app_context_processor
def office_menu() -> dict:
    """`pending_teams()` for the menu: team applications waiting for this office (counted only when a page asks)."""
    def pending_teams() -> int:
        if not (current_user.is_authenticated and current_user.is_office):
            return 0
        session = get_session()
        return pending_team_count(session=session, scope=office_scope(session=session, office=current_user.volunteer))
    return {"pending_teams": pending_teams}
