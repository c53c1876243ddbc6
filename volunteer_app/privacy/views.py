"""My data: download it (JSON, CSV) and delete the account. Only ever the logged-in person's own data."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import func
from sqlmodel import select

from ..db import get_session
from ..i18n import current_language
from ..extensions import limiter
from ..models import Attendance, Certificate, Membership, Notice, Signup
from .forms import DeleteAccountForm, ExportForm
from .service import (
    EXPORT_KINDS,
    PrivacyError,
    delete_account,
    export_csv,
    personal_data,
    record_export,
    sole_leader_of,
)

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.get("")
@login_required
def index():
    """What is held about me, the downloads, and the way to delete my account."""
    session = get_session()
    me = current_user.id
    counts = {
        "memberships": session.exec(select(func.count(Membership.id)).where(Membership.volunteer_id == me)).one(),
        "attendances": session.exec(select(func.count(Attendance.id)).where(Attendance.volunteer_id == me)).one(),
        "signups": session.exec(select(func.count(Signup.id)).where(Signup.volunteer_id == me)).one(),
        "notices": session.exec(select(func.count(Notice.id)).where(Notice.volunteer_id == me)).one(),
        "certificates": session.exec(select(func.count(Certificate.id)).where(Certificate.volunteer_id == me)).one(),
    }
    return render_template("privacy/index.html", form=ExportForm(), counts=counts, kinds=EXPORT_KINDS)


@bp.post("/export/<kind>")
@login_required
@limiter.limit("20 per hour")
def export(kind: str):
    """Download my data; the audit log notes that I did (not what it contained)."""
    if kind not in EXPORT_KINDS:
        abort(404)
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    data = personal_data(session=session, volunteer_id=current_user.id,
                         zone=current_app.config["DISPLAY_TIMEZONE"], language=current_language())
    record_export(session=session, volunteer_id=current_user.id, kind=kind)
    if kind == "json":
        body, mimetype = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    else:
        body, mimetype = export_csv(data, kind.removesuffix(".csv")), "text/csv"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="red-vest-my-data-{kind.replace(".csv", "")}.' \
                                              f'{"json" if kind == "json" else "csv"}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("5 per minute; 20 per hour", methods=["POST"])
def delete():
    """Delete my account: confirm with the password; my attendances stay as nameless counts."""
    session = get_session()
    form = DeleteAccountForm()
    blocked = sole_leader_of(session=session, volunteer_id=current_user.id)
    if form.validate_on_submit():
        try:
            delete_account(session=session, volunteer_id=current_user.id, password=form.password.data)
        except PrivacyError as exc:
            form.password.errors.append(exc.message)
        else:
            logout_user()
            http_session.clear()
            flash(_("Your account has been deleted. Your service hours stay in the city's totals without your name."),
                  "success")
            return redirect(url_for("accounts.login"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("privacy/delete.html", form=form, blocked=blocked), status
