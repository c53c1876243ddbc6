"""Large text for older volunteers (issue 17 point 7): chosen once, remembered for the account and the device."""
from __future__ import annotations

import pytest
from sqlmodel import select

from volunteer_app.accounts.service import AccountError, set_text_size
from volunteer_app.models import Volunteer

from .factories import PASSWORD

LARGE_CSS = "/static/large-text."


def large(client, path: str = "/login") -> bool:
    return LARGE_CSS in client.get(path).get_data(as_text=True)


def stored_size(session, volunteer) -> str | None:
    session.rollback()  # a fresh read: the app committed in its own session
    session.expire_all()
    return session.exec(select(Volunteer.text_size).where(Volunteer.id == volunteer.id)).one()


def test_normal_text_by_default_with_a_switch_for_visitors(client):
    page = client.get("/login").get_data(as_text=True)
    assert LARGE_CSS not in page and 'id="text-size-switch"' in page and 'value="large"' in page


def test_a_visitor_chooses_large_text_for_this_device(client):
    response = client.post("/text-size", data={"size": "large", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    cookie = client.get_cookie("text_size")
    assert cookie.value == "large" and cookie.http_only and cookie.max_age >= 365 * 24 * 3600
    page = client.get("/login").get_data(as_text=True)
    assert LARGE_CSS in page and 'value="normal"' in page
    client.post("/text-size", data={"size": "normal", "next": "/login"})
    assert not large(client)


def test_a_logged_in_choice_is_kept_on_the_account_and_follows_the_person(app, client, auth, session, world):
    auth.login(world.member_a.phone)
    client.post("/text-size", data={"size": "large", "next": "/me"})
    assert stored_size(session, world.member_a) == "large"
    assert large(client, "/me")
    auth.logout()

    other_phone = app.test_client()  # another device, no cookie
    assert not large(other_phone)
    other_phone.post("/login", data={"phone": world.member_a.phone, "password": PASSWORD})
    assert large(other_phone, "/me") and large(other_phone, "/")


def test_the_account_choice_wins_over_the_device(app, client, auth, session, world):
    set_text_size(session=session, volunteer=session.get(Volunteer, world.member_a.id), size="normal")
    session.commit()
    client.post("/text-size", data={"size": "large"})
    assert large(client)
    auth.login(world.member_a.phone)
    assert not large(client, "/me")  # chosen on the account before: normal
    assert stored_size(session, world.member_a) == "normal"


def test_a_choice_made_before_logging_in_becomes_the_accounts(client, auth, session, world):
    client.post("/text-size", data={"size": "large"})
    assert stored_size(session, world.member_b) is None
    auth.login(world.member_b.phone)
    assert stored_size(session, world.member_b) == "large"
    assert large(client, "/me")


def test_bad_size_and_foreign_next(client):
    response = client.post("/text-size", data={"size": "huge"})
    assert response.status_code == 400 and "请选择" in response.get_data(as_text=True)
    response = client.post("/text-size", data={"size": "large", "next": "https://evil.example/"})
    assert response.status_code == 303 and "evil" not in response.headers["Location"]


def test_service_refuses_unknown_sizes(session, world):
    with pytest.raises(AccountError) as excinfo:
        set_text_size(session=session, volunteer=session.get(Volunteer, world.member_a.id), size="xl")
    assert excinfo.value.code == "bad_text_size"
