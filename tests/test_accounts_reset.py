"""One-time password reset links issued by a leader or the office, and the office's audited person search."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from volunteer_app.accounts import service
from volunteer_app.accounts.service import AccountError
from volunteer_app.models import AuditEvent, Membership, PasswordReset, Volunteer, utcnow

from . import factories


def fresh(session):
    session.rollback()
    session.expire_all()


def membership_of(session, team, volunteer):
    return session.exec(select(Membership).where(Membership.team_id == team.id,
                                                 Membership.volunteer_id == volunteer.id)).one()


def issue_as_leader(client, auth, world, session):
    target = membership_of(session, world.team_a, world.member_a)
    auth.login(world.leader_a.phone)
    response = client.post(f"/teams/{world.team_a.id}/members/{target.id}/reset")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="reset-qr"' in page and response.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="reset-url"[^>]*value="([^"]+)"', page).group(1)
    auth.logout()
    return url.replace("http://localhost", "")


def test_leader_issues_a_link_the_member_uses_once(client, auth, world, session):
    path = issue_as_leader(client, auth, world, session)
    token = path.rsplit("/", 1)[1]
    fresh(session)
    stored = session.exec(select(PasswordReset)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert timedelta(hours=23) < stored.expires_at - stored.created_at <= timedelta(hours=24)
    page = client.get(path).get_data(as_text=True)
    assert "138****0003" in page
    response = client.post(path, data={"password": "brand new pass", "password2": "brand new pass"})
    assert response.status_code == 303
    assert client.get("/").status_code == 200  # logged in as the member
    auth.logout()
    assert auth.login(world.member_a.phone, "brand new pass").status_code == 302
    auth.logout()
    again = client.get(path)
    assert again.status_code == 404 and "已被使用" in again.get_data(as_text=True)
    fresh(session)
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["password_reset.issue", "password_reset.use"]


def test_reset_ends_old_sessions(client, auth, world, session, app):
    other = app.test_client()
    other.post("/login", data={"phone": world.member_a.phone, "password": factories.PASSWORD})
    assert other.get("/").status_code == 200
    path = issue_as_leader(client, auth, world, session)
    client.post(path, data={"password": "brand new pass", "password2": "brand new pass"})
    assert other.get("/").status_code == 302


def test_a_new_link_revokes_the_older_one(world, session):
    first = service.issue_password_reset(session=session, volunteer=world.member_a, issued_by_id=world.leader_a.id)
    second = service.issue_password_reset(session=session, volunteer=world.member_a, issued_by_id=world.leader_a.id)
    with pytest.raises(AccountError) as excinfo:
        service.reset_for_token(session=session, token=first)
    assert excinfo.value.code == "reset_expired"
    assert service.reset_for_token(session=session, token=second)[1].id == world.member_a.id


def test_expired_after_24_hours(world, session):
    token = service.issue_password_reset(session=session, volunteer=world.member_a, issued_by_id=world.leader_a.id)
    with pytest.raises(AccountError) as excinfo:
        service.use_password_reset(session=session, token=token, password="long enough",
                                   now=utcnow() + timedelta(hours=24, seconds=1))
    assert excinfo.value.code == "reset_expired"


@pytest.mark.parametrize("token", ["", "abc", "x" * 500, "🙂", "a\u200bb", "1", "%00"])
def test_bad_reset_tokens(client, world, token):
    response = client.get(f"/reset/{token}")
    if token == "%00":  # control characters are refused for every URL, before any view
        assert response.status_code == 400
    else:
        assert response.status_code == 404
    if token and token != "%00":
        assert "重置链接无效" in response.get_data(as_text=True)


def test_weak_or_mismatched_passwords_are_refused(client, auth, world, session):
    path = issue_as_leader(client, auth, world, session)
    assert client.post(path, data={"password": "short", "password2": "short"}).status_code == 400
    assert client.post(path, data={"password": "long enough 1", "password2": "other 1234"}).status_code == 400
    fresh(session)
    assert session.exec(select(PasswordReset)).one().used_at is None


def test_imported_person_without_consent_must_agree(world, session):
    person = factories.make_volunteer(session, "导入的人", phone="13700001111", home_unit=world.community)
    person.consent_at = None
    person.password_hash = service.NO_PASSWORD
    token = service.issue_password_reset(session=session, volunteer=person, issued_by_id=world.office.id)
    with pytest.raises(AccountError) as excinfo:
        service.use_password_reset(session=session, token=token, password="long enough")
    assert excinfo.value.code == "consent_required"
    service.use_password_reset(session=session, token=token, password="long enough", consent=True)
    assert person.consent_at is not None
    assert service.authenticate(session=session, phone="13700001111", password="long enough").id == person.id


def test_accounts_without_password_cannot_log_in(world, session):
    person = factories.make_volunteer(session, "导入的人", phone="13700001112")
    person.password_hash = service.NO_PASSWORD
    with pytest.raises(AccountError):
        service.authenticate(session=session, phone="13700001112", password="")
    with pytest.raises(AccountError):
        service.authenticate(session=session, phone="13700001112", password="!")


def test_leader_cannot_issue_for_another_team_or_a_pending_member(client, auth, world, session):
    auth.login(world.leader_b.phone)
    target = membership_of(session, world.team_a, world.member_a)
    assert client.post(f"/teams/{world.team_a.id}/members/{target.id}/reset").status_code == 404
    assert client.post(f"/teams/{world.team_b.id}/members/{target.id}/reset").status_code == 404
    pending = factories.add_member(session, world.team_b, world.volunteer, status="pending")
    session.commit()
    page = client.post(f"/teams/{world.team_b.id}/members/{pending.id}/reset", follow_redirects=True)
    assert "不是该队伍的在队成员" in page.get_data(as_text=True)
    fresh(session)
    assert session.exec(select(PasswordReset)).first() is None


# --- the office looks for a person -------------------------------------------------------------


def test_office_search_is_audited_and_masked(client, auth, world, session):
    auth.login(world.office.phone)
    page = client.get("/office/people").get_data(as_text=True)
    assert 'name="q"' in page and "赵小红" not in page  # nobody is listed before a search
    for query in ("赵小红", "0003", "138-0000-0003"):
        response = client.post("/office/people", data={"q": query})
        page = response.get_data(as_text=True)
        assert "赵小红" in page and "138****0003" in page and "13800000003" not in page, query
    fresh(session)
    searches = session.exec(select(AuditEvent).where(AuditEvent.action == "person.search")).all()
    assert len(searches) == 3 and all(e.actor_id == world.office.id for e in searches)


def test_district_office_finds_only_its_district(client, auth, world):
    auth.login(world.office_district2.phone)
    assert "钱小明" in client.post("/office/people", data={"q": "钱小明"}).get_data(as_text=True)
    page = client.post("/office/people", data={"q": "赵小红"}).get_data(as_text=True)
    assert "赵小红" not in page.split('id="main"')[1] or 'id="no-people"' in page
    assert client.post(f"/office/people/{world.member_a.id}/reset").status_code == 404
    assert client.post(f"/office/people/{world.member_b.id}/reset").status_code == 200


def test_search_needs_a_query(client, auth, world):
    auth.login(world.office.phone)
    assert client.post("/office/people", data={"q": ""}).status_code == 400
    assert client.post("/office/people", data={"q": "%"}).status_code == 400  # one character
    assert client.post("/office/people", data={"q": "%_"}).status_code == 200


def test_volunteers_and_leaders_cannot_search(client, auth, world):
    auth.login(world.leader_a.phone)
    assert client.get("/office/people").status_code == 404
    assert client.post("/office/people", data={"q": "赵小红"}).status_code == 404
    assert client.post(f"/office/people/{world.member_a.id}/reset").status_code == 404


def test_office_accounts_are_not_found_as_people(world, session):
    hits = service.search_people(session=session, office=world.office, query="文明办", scope=None)
    assert hits == []
    assert session.get(Volunteer, world.office.id)


def test_phone_numbers_typed_into_the_search_are_logged_masked(client, auth, world, session):
    auth.login(world.office.phone)
    client.post("/office/people", data={"q": "13800000003"})
    fresh(session)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "person.search")).one()
    assert "13800000003" not in event.data and "138****0003" in event.data


def test_using_reset_links_is_rate_limited(limited_config, client, world, session):
    token = service.issue_password_reset(session=session, volunteer=world.member_a, issued_by_id=world.leader_a.id)
    session.commit()
    answers = [client.post(f"/reset/{token}", data={"password": "x", "password2": "y"}).status_code
               for _ in range(11)]
    assert answers[:10] == [400] * 10 and answers[10] == 429
    assert "尝试次数过多" in client.post(f"/reset/{token}").get_data(as_text=True)
