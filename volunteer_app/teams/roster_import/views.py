"""The office's roster import pages: upload, progress, report, templates (routes on the teams blueprint)."""
from __future__ import annotations

import csv
import io

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from ...accounts.paging import wants_fragment
from ...accounts.units import office_scope
from ...db import commit, get_session
from ...models import ImportJob, Volunteer
from .. import bp
from ..forms import ImportForm
from .apply import row_message
from .jobs import as_shown, create_job, job_report, start_job, sweep_stale_jobs
from .parse import COLUMNS, ImportFileError, column_label, inert, template_rows

REPORT_ON_PAGE = 200
FINISHED = ("done", "failed")


@bp.route("/office/import", methods=["GET", "POST"])
@login_required
def import_upload():
    """Upload an XLSX or CSV of teams or volunteers; it is checked and written in the background. Office."""
    office = _office_or_404()
    session = get_session()
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = (upload.filename or "").strip()
        if form.kind.data not in COLUMNS:
            form.kind.errors.append(_("Choose what the file contains."))
        elif not filename.lower().endswith((".xlsx", ".csv")):
            form.file.errors.append(ImportFileError("bad_type").message)
        else:
            data = upload.read()
            scope = office_scope(session=session, office=office)
            sweep_stale_jobs(session=session)  # jobs of a server that stopped; listed below as failed
            job_id = create_job(session=session, kind=form.kind.data, filename=filename, actor_id=office.id)
            # Committed now: the job's thread writes its progress from its own connections.
            commit()
            start_job(current_app._get_current_object(), job_id=job_id, kind=form.kind.data, filename=filename,
                      data=data, actor_id=office.id, scope=scope)
            return redirect(url_for("teams.import_job", job_id=job_id), code=303)
    jobs = [as_shown(job) for job in session.exec(_visible_jobs(office).order_by(ImportJob.id.desc()).limit(10))]
    status = 400 if request.method == "POST" else 200
    return render_template("teams/import.html", form=form, jobs=jobs, columns=COLUMNS), status


@bp.get("/office/import/<int:job_id>")
@login_required
def import_job(job_id: int):
    """An import's progress (polled by htmx until it ends) and its row-by-row report. Office."""
    job = _job_or_404(job_id)
    report = job_report(job)
    context = {"job": job, "report": report, "finished": job.status in FINISHED,
               "errors": report["errors"][:REPORT_ON_PAGE], "column_label": column_label, "row_message": row_message,
               "file_error": _file_error_message(report)}
    if wants_fragment():
        return render_template("teams/_import_job.html", **context)
    return render_template("teams/import_job.html", **context)


@bp.get("/office/import/<int:job_id>/report.csv")
@login_required
def import_report(job_id: int):
    """The row-by-row report as CSV (UTF-8 with BOM, so Excel shows the Chinese; cells never formulas). Office."""
    job = _job_or_404(job_id)
    report = job_report(job)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem")])
    file_error = _file_error_message(report)
    if file_error:
        writer.writerow(["", "", "", inert(file_error)])
    for error in report["errors"]:
        writer.writerow([error["row"], inert(column_label(job.kind, error["column"])), inert(str(error["value"])),
                         inert(row_message(error))])
    response = current_app.response_class("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="import-{job.id}-report.csv"'
    return response


@bp.get("/office/import/template/<kind>.<fmt>")
@login_required
def import_template(kind: str, fmt: str):
    """An empty template with the Chinese headers and one example row, as XLSX or CSV. Office."""
    _office_or_404()
    if kind not in COLUMNS or fmt not in ("xlsx", "csv"):
        abort(404)
    rows = template_rows(kind)
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        body, mimetype = ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv"
    else:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = kind
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[2]:
            cell.number_format = "@"  # phone numbers and codes stay text
            cell.data_type = "s"
        buffer = io.BytesIO()
        workbook.save(buffer)
        body = buffer.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.{fmt}"'
    return response


def _office_or_404() -> Volunteer:
    if not current_user.is_office:
        abort(404)
    return current_user.volunteer


def _visible_jobs(office):
    statement = select(ImportJob)
    if office.office_unit_id is not None:  # a district office sees its own imports only
        statement = statement.where(ImportJob.created_by_id == office.id)
    return statement


def _job_or_404(job_id: int) -> ImportJob:
    """The job as shown (a stale one as failed), if this office may see it."""
    office = _office_or_404()
    job = get_session().exec(_visible_jobs(office).where(ImportJob.id == job_id)).first()
    if job is None:
        abort(404)
    return as_shown(job)


def _file_error_message(report: dict) -> str | None:
    error = report.get("file_error")
    if not error:
        return None
    return ImportFileError(error.get("code", "unreadable"), **(error.get("params") or {})).message
