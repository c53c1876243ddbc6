"""The office dashboard: tallies with charts, drill-down to records, signals, exports.

Every route is for office accounts only; anyone else gets 404, the same answer as for a page
that does not exist. A district-limited account's filter is checked against its district by
parse_filter, so editing the URL cannot widen what it sees.
"""
from __future__ import annotations

import base64
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import Session, select

from ..db import get_engine, get_session, reads_first, write_transaction
from ..extensions import limiter
from ..i18n import current_language, minutes_to_hours, theme_name
from ..labels import AUTO_CHECKOUT_LABEL, METHOD_LABELS, method_labels_in
from ..models import LIVE_METHODS, Team, Theme, Unit
from ..web import office_required, page_arg, wants_fragment
from . import bp, charts, drilldown, export, queries, recruitment, signals
from .filters import FilterError, ReportFilter, parse_filter

PER_PAGE = 50
SIGNAL_TITLES = {
    "overlap": _l("One volunteer in two overlapping activities"),
    "device_burst": _l("Many self check-ins from one device within minutes"),
    "overlong": _l("Credited minutes longer than the activity"),
    "late_entry": _l("Records entered more than 10 working days after the activity"),
    "retro_no_photo": _l("Activities logged afterwards without photos"),
    "repeated_roster": _l("The same roster week after week"),
}
TEAM_CHOICES_MAX = 150  # beyond this many teams the team filter is reached through the team tables


@bp.app_template_filter("hours_grouped")
def hours_grouped(minutes: int | None) -> str:
    """Minutes as hours with thousands separators: the one `hours` filter (i18n.py), under the name reports use."""
    return minutes_to_hours(minutes)


@bp.app_template_filter("percent")
def percent(share: float | None) -> str:
    """A share as a whole percentage, or a dash when there is nothing to divide by."""
    return "–" if share is None else f"{share * 100:.0f}%"


@bp.get("")
@office_required
def dashboard():
    """Headline figures and breakdowns (theme, month, unit, teams) with charts, for the filter in the URL."""
    session = get_session()
    context = {"error": None, "raw": request.args}
    status = 200
    try:
        f = current_filter()
    except FilterError as exc:
        context["error"] = exc.message
        f = None
        status = 400
    if f is not None:
        data = queries.dashboard(session=session, f=f, language=current_language())
        context.update(
            f=f,
            head=data.head,
            themes=data.themes,
            months=data.months,
            units=data.units,
            top_teams=data.top_teams,
            bottom_teams=data.bottom_teams,
            teams_count=len(data.teams),
            live_total=(data.live, data.recorded),
            recruit=data.recruit,
            recruit_teams=data.recruit_teams,
            definitions=recruitment.DEFINITIONS,
            charts={
                "theme": charts.bars(data.themes, "attendances"),
                "month": charts.line(data.months, "attendances"),
                "unit": charts.bars(data.units, "attendances"),
                "top": charts.bars(data.top_teams, "attendances"),
            },
        )
    context.update(filter_choices(f))
    context["presets"] = presets(f) if f is not None else []
    template = "reports/_dashboard.html" if wants_fragment() else "reports/dashboard.html"
    return render_template(template, **context), status


@bp.get("/team-tallies")
@office_required
def teams():
    """Every team of the view with its figures, the share recorded live and its sign-ups, ranked by 人次."""
    f = current_filter()
    data = queries.dashboard(session=get_session(), f=f, language=current_language())
    return render_template("reports/teams.html", f=f, rows=data.teams, labels=filter_labels(f),
                           definitions=recruitment.DEFINITIONS)


@bp.get("/activities")
@office_required
def activities():
    """First drill-down: the activities that make up the figures of the filter."""
    session = get_session()
    f = current_filter()
    page = page_arg()
    statement = drilldown.activities_statement(f)
    head = queries.cached_headline(session=session, f=f)
    pages = max(1, -(-head.activities // PER_PAGE))
    page = min(page, pages)
    rows = session.exec(statement.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    live = drilldown.live_counts_for(session=session, activity_ids=[row[0].id for row in rows])
    return render_template("reports/activities.html", f=f, head=head, rows=rows, live=live, page=page, pages=pages,
                           labels=filter_labels(f))


@bp.get("/activities/<int:activity_id>")
@office_required
def activity(activity_id: int):
    """Second drill-down: one activity's attendances, how each was recorded, credited minutes, photos."""
    session = get_session()
    f = current_filter()
    row = drilldown.activity_in_area(session=session, area=f.scope, activity_id=activity_id)
    if row is None:
        abort(404)
    records = drilldown.activity_records(session=session, activity_id=activity_id)
    counted = [attendance for attendance, _v, _r in records if attendance.voided_at is None]
    photos = [(photo_id, base64.b64encode(thumbnail).decode("ascii"), created_at)
              for photo_id, thumbnail, created_at in drilldown.activity_photos(session=session, activity_id=activity_id)]
    return render_template("reports/activity.html", f=f, row=row, records=records, photos=photos,
                           counted=len(counted), counted_minutes=sum(a.credited_minutes for a in counted),
                           live=sum(1 for a in counted if a.method in LIVE_METHODS), method_labels=METHOD_LABELS,
                           auto_checkout_label=AUTO_CHECKOUT_LABEL)


@bp.get("/signals")
@office_required
def signals_page():
    """Signals of padded numbers for the filter, each with links to the records behind it.

    Reads the findings stored by the last refresh (reports/signals.py): the detectors themselves take
    seconds over a city year, so they run from cron, after the seed, or when an office user asks.
    """
    f = current_filter()
    stored = signals.stored_signals(session=get_session(), f=f)
    return render_template("reports/signals.html", f=f, findings=stored.findings, run=stored.run,
                           labels=filter_labels(f), limit=signals.LIMIT, titles=SIGNAL_TITLES)


@bp.post("/signals/refresh")
@reads_first
@office_required
@limiter.limit("2 per minute; 20 per hour", key_func=lambda: f"signals-refresh:user:{_user_id()}",
               error_message=lambda: _("Signals were refreshed a moment ago. Please wait a few minutes."))
@limiter.limit("6 per minute; 60 per hour", key_func=lambda: "signals-refresh",
               error_message=lambda: _("Signals are being refreshed often right now. Please wait a few minutes."))
def signals_refresh():
    """Run every detector now (seconds over a city year) and store the findings; back to the signals page.

    The detectors read in the request's read transaction (no writer lock is held meanwhile), and the
    findings are replaced in one short write transaction. CSRF-protected and rate-limited.
    """
    f = current_filter()  # the page to return to; a district office's limits hold here as on the page
    computed = signals.compute(session=get_session(), zone=f.zone, workers=signals.REFRESH_WORKERS)
    with write_transaction() as session:
        stored = signals.store(session=session, computed=computed)
    if stored:
        flash(_("Signals refreshed: %(count)d findings in %(seconds).1f s.", count=len(computed.rows),
                seconds=computed.seconds), "success")
    else:
        flash(_("Another refresh finished first; its findings are shown."), "info")
    return redirect(url_for("reports.signals_page", **f.params()), 303)


@bp.get("/export.csv")
@office_required
def export_csv():
    """The current view's tallies, or its attendance records, as CSV (UTF-8 with BOM, Chinese headers)."""
    return _export("csv")


@bp.get("/export.xlsx")
@office_required
def export_xlsx():
    """The current view's tallies, or its attendance records, as an Excel workbook."""
    return _export("xlsx")


def _export(fmt: str) -> Response:
    session = get_session()
    f = current_filter()
    kinds = [value for value in request.args.getlist("kind") if value]
    if len(set(kinds)) > 1:
        raise FilterError("repeated_param", name="kind")
    kind = kinds[0] if kinds else "tallies"
    if kind not in ("tallies", "records"):
        abort(400)
    if kind == "records":
        body = _streamed_records(get_engine(), f, fmt, method_labels_in("zh_CN"))
        name = f"records-{f.start.isoformat()}-{f.end.isoformat()}"
    else:
        data = queries.dashboard(session=session, f=f, language="zh_CN")
        sections = {"theme": data.themes, "month": data.months, "unit": data.units, "teams": data.teams}
        summary = export.headline_rows(f, data.head, filter_labels(f, language="zh_CN"), data.recruit)
        body = export.tallies_csv(summary, sections) if fmt == "csv" else export.tallies_xlsx(summary, sections)
        name = f"tallies-{f.start.isoformat()}-{f.end.isoformat()}"
    if fmt == "csv":
        mimetype = "text/csv; charset=utf-8"
        chunks = (chunk.encode("utf-8") for chunk in body)
    else:
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        chunks = body
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _streamed_records(engine, f: ReportFilter, fmt: str, method_names: dict[str, str]):
    """The record export, read through a session of its own that the generator closes when it ends.

    The rows stream after the view has returned, so the request's session (committed and closed
    with the request) cannot be used; if the download is abandoned, closing the generator still
    ends the transaction and releases the server-side cursor.
    """
    with Session(engine) as session:
        rows = export.record_rows(session, f, method_names)
        yield from (export.records_csv(rows) if fmt == "csv" else export.records_xlsx(rows))


# --- helpers -------------------------------------------------------------------------------


def _user_id() -> object:
    """The logged-in account's id for a rate-limit key (the limiter may ask before login is checked)."""
    return getattr(current_user, "id", None)


def current_filter() -> ReportFilter:
    """The request's filter for the logged-in office account (FilterError on bad input)."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return parse_filter(request.args, session=get_session(), office=current_user.volunteer, zone=zone,
                        today=datetime.now(zone).date())


def presets(f: ReportFilter) -> list[tuple[str, dict, bool]]:
    """This month / this quarter / this year, as filter changes, and whether each is the current range."""
    today = datetime.now(f.zone).date()
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    choices = [
        (_("This month"), today.replace(day=1)),
        (_("This quarter"), quarter_start),
        (_("This year"), date(today.year, 1, 1)),
    ]
    return [(label, {"from": start.isoformat(), "to": today.isoformat()}, f.start == start and f.end == today)
            for label, start in choices]


def filter_labels(f: ReportFilter, language: str | None = None) -> dict:
    """Names of what is filtered, for headings and the export's summary."""
    chinese = (language or current_language()) != "en"
    labels = {}
    if f.area is not None:
        labels["unit"] = f.area.name
    if f.theme is not None:
        labels["theme"] = f.theme.name_zh if chinese else f.theme.name_en
    if f.team is not None:
        labels["team"] = f.team.name
    return labels


def filter_choices(f: ReportFilter | None) -> dict:
    """Options of the filter form: themes; the unit's ancestors and children; the area's teams when few."""
    session = get_session()
    scope = session.get(Unit, current_user.volunteer.office_unit_id) if current_user.volunteer.office_unit_id else None
    area = f.area if f is not None else scope
    themes = session.exec(select(Theme).where(Theme.is_active.is_(True)).order_by(Theme.sort_order, Theme.id)).all()
    lineage = []
    if area is not None:
        ids = [int(part) for part in area.path.strip("/").split("/") if part]
        known = {unit.id: unit for unit in session.exec(select(Unit).where(Unit.id.in_(ids)))}
        lineage = [known[i] for i in ids if i in known and (scope is None or known[i].path.startswith(scope.path))]
    children = session.exec(
        select(Unit).where(Unit.parent_id == area.id if area is not None else Unit.parent_id.is_(None))
        .order_by(Unit.code)).all()
    teams = []
    if area is not None or (f is not None and f.team is not None):
        team_filter = Team.unit_id.in_(select(Unit.id).where(Unit.path.startswith(area.path))) if area else True
        count = session.exec(select(func.count(Team.id)).where(team_filter)).one()
        if count <= TEAM_CHOICES_MAX:
            teams = session.exec(select(Team).where(team_filter).order_by(Team.name)).all()
    if f is not None and f.team is not None and all(team.id != f.team.id for team in teams):
        teams = [f.team] + list(teams)
    return {"theme_choices": themes, "unit_lineage": lineage, "unit_children": children, "team_choices": teams,
            "scope": scope, "theme_label": theme_name}
