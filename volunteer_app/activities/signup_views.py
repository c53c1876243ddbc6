"""Sign-ups over HTTP: the volunteer's one-tap sign-up and cancel, the leader's list and bulk decisions.

The volunteer's box (`activities/_signup_box.html`, given `activity` and `signup`) is included by the
activity's page for volunteers and returned alone to htmx; the leader's list (`_signups.html`) likewise.
A refused sign-up answers 409 (403 when the person may not join at all) with its translated message (in the box
for htmx, on an error page otherwise) and writes nothing. Sign-up and cancel are @reads_first: their writes are
one short transaction (db.write_transaction), committed before the answer is rendered.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..db import get_session, reads_first, write_transaction
from ..errors import DomainError, error_response
from ..labels import SIGNUP_LABELS
from ..models import SIGNUP_STATUSES, Activity, utcnow
from ..web import loads, parse_id, register_lookup, wants_fragment
from . import bp, signup_roster, signups
from .forms import DecideForm

# What the volunteer is told after tapping "sign up", by the sign-up's status.
SIGNED_UP = {
    "admitted": _l("You are signed up and admitted."),
    "waitlisted": _l("The activity is full: you are on the waiting list and move up when a place frees up."),
    "pending": _l("You are signed up; the leader will decide and tell you."),
}


def _activity_to_sign_up_for(*, session, volunteer_id: int, activity_id: int) -> Activity | None:
    """Any activity: whether this person may sign up is the service's answer, with its reason."""
    return session.get(Activity, activity_id)


register_lookup("signup_activity", "activity_id", _activity_to_sign_up_for)


# Template globals for every blueprint: the box is included by pages outside this module.
@bp.app_template_global()
def signup_status_name(status: str) -> str:
    """A sign-up's status in words."""
    return str(SIGNUP_LABELS.get(status, status))


@bp.app_template_global()
def signup_deadline(activity: Activity):
    """When sign-ups close (the deadline set, else the start)."""
    return signups.deadline(activity)


@bp.app_template_global()
def signup_open(activity: Activity) -> bool:
    """Whether sign-ups and cancels are taken now."""
    return activity.status == "scheduled" and utcnow() < signups.deadline(activity)


@bp.post("/activities/<int:activity_id>/signup")
@reads_first
@login_required
@loads("signup_activity")
def signup(activity: Activity):
    """Sign up with one tap."""
    return _act(activity, lambda session: SIGNED_UP[signups.signup(session=session, activity_id=activity.id,
                                                                   volunteer_id=current_user.id).status])


@bp.post("/activities/<int:activity_id>/signup/cancel")
@reads_first
@login_required
@loads("signup_activity")
def signup_cancel(activity: Activity):
    """Withdraw a sign-up before the deadline."""
    def cancel(session):
        signups.cancel(session=session, activity_id=activity.id, volunteer_id=current_user.id)
        return _l("Your sign-up is cancelled.")

    return _act(activity, cancel)


@bp.get("/activities/<int:activity_id>/signups")
@login_required
@loads("led_activity")
def signups_page(activity: Activity):
    """The leader's list of sign-ups, filtered by status."""
    status = request.args.get("status", "")
    status = status if status in SIGNUP_STATUSES else ""
    return _list(activity, status, DecideForm(formdata=None))


@bp.post("/activities/<int:activity_id>/signups/decide")
@login_required
@loads("led_activity")
def signups_decide(activity: Activity):
    """Admit or decline the ticked sign-ups, with one reason."""
    session = get_session()
    form = DecideForm()
    status = request.form.get("status", "")
    status = status if status in SIGNUP_STATUSES else ""
    if not form.validate_on_submit():
        return _list(activity, status, form, code=400)
    ids = [i for i in (parse_id(raw) for raw in request.form.getlist("signup")[:2000]) if i is not None]
    try:
        done = signups.decide(session=session, activity_id=activity.id, actor_id=current_user.id, signup_ids=ids,
                              decision=form.decision.data, reason=form.reason.data)
    except DomainError as exc:
        session.rollback()
        form.form_errors.append(exc.message)
        return _list(activity, status, form, code=exc.status)
    message = _l("Admitted %(admitted)d, waiting list %(waitlisted)d, declined %(declined)d, unchanged %(unchanged)d.",
                 admitted=len(done.admitted), waitlisted=len(done.waitlisted), declined=len(done.declined),
                 unchanged=len(done.unchanged))
    if wants_fragment():
        return _list(activity, status, DecideForm(formdata=None), notice=str(message))
    flash(str(message), "success")
    return redirect(url_for("activities.signups_page", activity_id=activity.id, status=status or None), code=303)


# --- helpers ------------------------------------------------------------------------------


def _act(activity: Activity, action):
    """Run a sign-up or cancel as one short write transaction (a crowd queues on the activity's row only for
    the few statements of the service, not while the answer is rendered); nothing is written on a refusal."""
    try:
        with write_transaction() as session:
            success = action(session)
    except DomainError as exc:
        if not wants_fragment():
            return error_response(exc.status, exc.message, exc.code)
        return _box(activity, error=exc.message, code=exc.status)
    if wants_fragment():
        return _box(activity, notice=str(success))
    flash(str(success), "success")
    return redirect(_back(activity), code=303)


def _box(activity: Activity, *, error: str | None = None, notice: str | None = None, code: int = 200):
    session = get_session()
    session.expire_all()
    fresh = session.get(Activity, activity.id)
    mine = signups.signup_of(session=session, activity_id=activity.id, volunteer_id=current_user.id)
    return render_template("activities/_signup_box.html", activity=fresh, signup=mine, box_error=error,
                           box_notice=notice), code


def _list(activity: Activity, status: str, form, *, code: int = 200, notice: str | None = None):
    session = get_session()
    session.expire_all()
    fresh = session.get(Activity, activity.id)
    rows = signup_roster.roster(session=session, activity=fresh, status=status or None)
    template = "activities/_signups.html" if wants_fragment() else "activities/signups.html"
    return render_template(template, activity=fresh, rows=rows, status=status, form=form, statuses=SIGNUP_STATUSES,
                           list_notice=notice), code


def _back(activity: Activity) -> str:
    """Where the volunteer came from: the activity's page for volunteers if the app has one, else home."""
    if "activities.info" in current_app.view_functions:
        return url_for("activities.info", activity_id=activity.id)
    return url_for("home.index")
