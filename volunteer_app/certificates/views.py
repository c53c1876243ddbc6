"""Certificate pages: mine (issue, list, download), the public verification page, the office's find and revoke."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..db import get_session
from ..extensions import limiter
from ..labels import method_labels_in
from ..models import Team, Volunteer
from ..units import office_scope
from ..web import loads, office_or_404, office_required, parse_id, register_lookup
from . import bp
from .forms import FindForm, IssueForm, RevokeForm
from .pdf import CertificateDocument, hours, render
from .service import (CertificateError, certificate_in_scope, certificates_of, content_hash, display_code,
                      find_by_code, find_for_office, issue_certificate, local_today, own_certificate, preset_period,
                      revoke, service_rows, teams_served)
from .service import verify as verify_certificate

register_lookup("own_certificate", "certificate_id", own_certificate)

VERIFY_LIMIT = "30 per minute; 300 per hour"


def _user_id() -> object:
    """The logged-in account's id for a rate-limit key (the limiter may ask before login is checked)."""
    return getattr(current_user, "id", None)


def _verify_limit_message() -> str:
    return _("Too many verifications from this network. Please wait a minute and try again.")


@bp.route("/me/certificates", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"], key_func=lambda: f"certificate-issue:{_user_id()}")
def mine():
    """My certificates and the form to issue one. Volunteers (office staff have no record)."""
    if current_user.is_office:
        abort(404)
    session = get_session()
    form = IssueForm()
    teams = teams_served(session=session, volunteer_id=current_user.id)
    form.team.choices = [SelectChoice("", _("All teams"))] + [SelectChoice(str(t.id), t.name) for t in teams]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            today = local_today()
            start, end = preset_period(form.preset.data, today) or (form.start.data, form.end.data)
            try:
                certificate = issue_certificate(
                    session=session, volunteer=current_user.volunteer, start=start, end=end,
                    team_id=parse_id(form.team.data or None), city_code=current_app.config["CITY_CODE"])
            except CertificateError as error:
                form.form_errors.append(error.message)
            else:
                flash(_("Certificate %(number)s is ready.", number=certificate.number), "success")
                return redirect(url_for("certificates.mine", new=certificate.id), 303)
        status = 400
    return render_template("certificates/mine.html", form=form, new=parse_id(request.args.get("new")),
                           certificates=certificates_of(session=session, volunteer_id=current_user.id),
                           display_code=display_code, exact_hours=hours), status


@bp.get("/me/certificates/<int:certificate_id>.pdf")
@login_required
@limiter.limit("60 per hour", key_func=lambda: f"certificate-pdf:{_user_id()}")
@loads("own_certificate")
def download(certificate):
    """The PDF of one of my certificates, drawn again from the record (it must still match). The holder only."""
    session = get_session()
    if certificate.status == "revoked":
        raise CertificateError("revoked_download")
    rows = service_rows(session=session, volunteer_id=certificate.volunteer_id, start=certificate.period_start,
                        end=certificate.period_end, team_id=certificate.team_id)
    if certificate.status == "superseded" or content_hash(rows) != certificate.content_hash:
        raise CertificateError("changed_since")
    volunteer = session.get(Volunteer, certificate.volunteer_id)
    team = session.get(Team, certificate.team_id) if certificate.team_id else None
    document = CertificateDocument(
        number=certificate.number, code=certificate.code, name=volunteer.name,
        volunteer_no=volunteer.volunteer_no or "", period_start=certificate.period_start,
        period_end=certificate.period_end, issued_on=local_today(certificate.created_at),
        issuer=current_app.config["CITY_OFFICE_NAME"], team=team.name if team else None, rows=rows,
        total_minutes=certificate.total_minutes, live_minutes=certificate.live_minutes,
        verify_url=url_for("certificates.verify", code=certificate.code, _external=True),
        verify_page=url_for("certificates.verify_form", _external=True),
        method_labels=method_labels_in("zh_CN"))
    response = Response(render(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{certificate.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verify")
@limiter.limit(VERIFY_LIMIT, error_message=_verify_limit_message)
def verify_form():
    """Type the short code printed under the QR code. Anyone."""
    code = (request.args.get("code") or "").strip()
    if code:
        certificate = find_by_code(session=get_session(), code=code)
        if certificate is None:
            return render_template("certificates/verify_form.html", code=code[:32], not_found=True), 404
        return redirect(url_for("certificates.verify", code=certificate.code))
    return render_template("certificates/verify_form.html", code="", not_found=False)


@bp.get("/verify/<code>")
@limiter.limit(VERIFY_LIMIT, error_message=_verify_limit_message)
def verify(code: str):
    """What a certificate says and whether it still holds: valid, revoked or superseded. Anyone, no login."""
    session = get_session()
    certificate = find_by_code(session=session, code=code)
    if certificate is None:
        return render_template("certificates/verify_form.html", code=code[:32], not_found=True), 404
    result = verify_certificate(session=session, certificate=certificate)
    return render_template("certificates/verify.html", result=result, issuer=current_app.config["CITY_OFFICE_NAME"],
                           display_code=display_code, exact_hours=hours)


@bp.get("/office/certificates")
@office_required
def office_find():
    """Find a certificate by its number, within the office's area. Office staff."""
    office = office_or_404()
    session = get_session()
    form = FindForm(request.args)
    found = None
    if request.args and form.validate():
        found = find_for_office(session=session, number=form.number.data,
                                scope=office_scope(session=session, office=office))
    return render_template("certificates/office.html", form=form, found=found, revoke_form=RevokeForm(),
                           display_code=display_code, exact_hours=hours), 400 if form.errors else 200


@bp.post("/office/certificates/<int:certificate_id>/revoke")
@office_required
def office_revoke(certificate_id: int):
    """Revoke a certificate with a reason (audited). Office staff, within their area."""
    office = office_or_404()
    session = get_session()
    certificate = certificate_in_scope(session=session, certificate_id=certificate_id,
                                       scope=office_scope(session=session, office=office))
    if certificate is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            revoke(session=session, certificate=certificate, office=office, reason=form.reason.data)
        except CertificateError as error:
            flash(error.message, "error")
        else:
            flash(_("Certificate %(number)s is revoked.", number=certificate.number), "success")
        return redirect(url_for("certificates.office_find", number=certificate.number), 303)
    flash(" ".join(str(e) for e in form.reason.errors) or _("The form has expired. Please try again."), "error")
    return redirect(url_for("certificates.office_find", number=certificate.number), 303)
