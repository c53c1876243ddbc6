"""The notice centre's pages: my notices, marking them read, an admitted activity's calendar file.

Only ever the logged-in person's own notices: another person's notice answers 404, like a missing one.
With htmx, marking read swaps the notice (or the list) in place and updates the bell out of band.
"""
from __future__ import annotations

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..db import get_session
from ..models import Activity, Notice, utcnow
from ..web import loads, page_arg, paginate, register_lookup, wants_fragment
from . import bp
from .calendar import activity_for_calendar, activity_ics
from .render import render_notices
from .service import PER_PAGE, mark_all_read, mark_read, notice_for_reader, notices_of, unread_count

register_lookup("own_notice", "notice_id", notice_for_reader)  # a notice of the logged-in person
register_lookup("calendar_activity", "activity_id", activity_for_calendar)  # admitted to it, or its leader


@bp.get("/notices")
@login_required
def index():
    """My notices, newest first, a page at a time. Anyone logged in (only their own)."""
    return _list_response(page_arg())


@bp.post("/notices/<int:notice_id>/read")
@login_required
@loads("own_notice")
def read(notice: Notice):
    """Mark one of my notices read; with `go`, then open what it is about. Only the person's own (else 404)."""
    session = get_session()
    mark_read(session=session, notice=notice)
    if request.form.get("go"):
        item = render_notices(session=session, notices=[notice], reader_id=current_user.id)[0]
        return redirect(item.link, code=303)
    if wants_fragment():
        item = render_notices(session=session, notices=[notice], reader_id=current_user.id)[0]
        return render_template("notices/_item_swap.html", item=item, notice_unread=_unread())
    return redirect(url_for("notices.index", page=request.form.get("page", "1")), code=303)


@bp.post("/notices/read-all")
@login_required
def read_all():
    """Mark all my notices read. Anyone logged in (only their own)."""
    mark_all_read(session=get_session(), volunteer_id=current_user.id)
    if wants_fragment():
        return _list_response(page_arg(), oob_bell=True)
    return redirect(url_for("notices.index"), code=303)


@bp.get("/activities/<int:activity_id>/calendar.ics")
@login_required
@loads("calendar_activity")
def calendar(activity: Activity):
    """The activity as a calendar file. A volunteer admitted to it, or a leader of its team (else 404)."""
    body = activity_ics(
        session=get_session(), activity=activity, now=utcnow(),
        url=url_for("notices.calendar", activity_id=activity.id, _external=True),
        zone=current_app.config["DISPLAY_TIMEZONE"],
        labels={"team": _("Team"), "meeting_point": _("Meeting point"), "requirements": _("What to bring")})
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="activity-{activity.id}.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _list_response(page: int, oob_bell: bool = False):
    session = get_session()
    listing = paginate(session=session, statement=notices_of(volunteer_id=current_user.id), page=page,
                       per_page=PER_PAGE)
    items = render_notices(session=session, notices=listing.items, reader_id=current_user.id)
    unread = _unread()
    template = "notices/_list.html" if wants_fragment() else "notices/list.html"
    return make_response(render_template(template, listing=listing, items=items, notice_unread=unread, oob_bell=oob_bell))


def _unread() -> int:
    return unread_count(session=get_session(), volunteer_id=current_user.id)
