"""Request helpers every blueprint uses: fragment or page, paging, ids from forms, look-up-or-404, office only.

A view acts on an object it looks up through what the user may see, and answers 404 for "not yours" and
"does not exist" alike. Each domain names its look-ups once (`register_lookup(kind, param, lookup)`);
`@loads(kind)` then hands the view the object instead of the id in its URL, and `found_or_404(kind, id)`
serves ids found elsewhere (a form field, a photo's activity).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import abort, request
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import Session, select

from .db import get_session


def wants_fragment() -> bool:
    """htmx asked for a part of the page (boosted navigation wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    pages: int
    total: int


def paginate(*, session: Session, statement, page: int, per_page: int) -> Page:
    """One page of statement's rows; a page number out of range shows the nearest page."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = session.exec(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), page, pages, total)


def page_arg() -> int:
    """?page=N from the query string, at least 1; anything odd (text, zero, negative, huge) is page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 and int(raw) > 0 else 1


def parse_id(raw) -> int | None:
    """An id from a form or query string; anything that is not a plain small number is None."""
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return None


def office_required(view):
    """Office accounts only; everyone else is told the page does not exist."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        office_or_404()
        return view(*args, **kwargs)

    return wrapped


def office_or_404():
    """The logged-in office account's volunteer row; anyone else gets 404."""
    if not current_user.is_office:
        abort(404)
    return current_user.volunteer


# kind -> (the URL parameter its id comes from, lookup(*, session, volunteer_id, <param>) -> object or None)
_LOOKUPS: dict[str, tuple[str, Callable]] = {}


def register_lookup(kind: str, param: str, lookup: Callable) -> None:
    """Name what a view may act on: `lookup` finds it through what the logged-in user may see, else None."""
    if _LOOKUPS.get(kind, (param, lookup)) != (param, lookup):
        raise ValueError(f"look-up {kind!r} is already registered")
    _LOOKUPS[kind] = (param, lookup)


def found_or_404(kind: str, object_id: int):
    """The object of `kind` the current user may act on, else 404 ("not yours" and "missing" alike)."""
    param, lookup = _LOOKUPS[kind]
    found = lookup(session=get_session(), volunteer_id=current_user.id, **{param: object_id})
    if found is None:
        abort(404)
    return found


def loads(kind: str):
    """Decorator (below @login_required): the view gets the object of `kind` instead of its id from the URL."""
    param, _lookup = _LOOKUPS[kind]

    def decorate(view):
        @wraps(view)
        def wrapper(**view_args):
            return view(found_or_404(kind, view_args.pop(param)), **view_args)

        return wrapper

    return decorate
