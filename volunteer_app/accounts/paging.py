"""Pagination of a select statement, and the htmx fragment-or-page rule."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import func
from sqlmodel import Session, select


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
    """?page=N from the query string; anything odd (text, negative, huge) is page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def wants_fragment() -> bool:
    """htmx asked for a part of the page (boosted navigation wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
