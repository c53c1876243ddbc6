"""Logging out ends the session on the server: a copied cookie stops working, on every page and at the
check-in; "log out everywhere" on the profile ends every device's login (issue 12, point 4)."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from volunteer_app import tokens
from volunteer_app.models import Attendance, Volunteer

from . import factories

SECRET = "test-secret-key-not-for-production"


def copy_of_cookie(app, client):
    """Another browser holding a copy of client's session cookie (stolen, or left on a shared computer)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_copied_cookie_no_longer_opens_the_profile_after_logout(app, client, auth, world):
    auth.login(world.member_a.phone)
    assert client.get("/me").status_code == 200
    thief = copy_of_cookie(app, client)
    assert thief.get("/me").status_code == 200
    assert auth.logout().status_code == 303
    response = thief.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/me").status_code == 302


def test_a_copied_cookie_cannot_check_in_after_logout(app, client, auth, world, session):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    thief = copy_of_cookie(app, client)
    auth.logout()
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    response = thief.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)})
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    session.commit()
    assert session.exec(select(func.count(Attendance.id))).one() == 0


def test_logging_in_again_after_logout_works(client, auth, world):
    auth.login(world.member_a.phone)
    auth.logout()
    auth.login(world.member_a.phone)
    assert client.get("/me").status_code == 200


def test_log_out_everywhere_from_the_profile(app, client, auth, world, session):
    auth.login(world.member_a.phone)
    phone = app.test_client()
    phone.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD})
    page = client.get("/me").get_data(as_text=True)
    assert 'action="/me/logout-everywhere"' in page and "在所有设备上退出登录" in page and 'class="secondary big"' in page
    version = session.get(Volunteer, world.member_a.id).session_version
    response = client.post("/me/logout-everywhere")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert "已在所有设备上退出登录" in client.get("/login").get_data(as_text=True)
    assert phone.get("/me").status_code == 302 and client.get("/me").status_code == 302
    session.expire_all()
    assert session.get(Volunteer, world.member_a.id).session_version == version + 1

