"""Invites, joining, requests, removal, leaders, leaving, rosters: through HTTP and by direct service calls."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlmodel import select

from volunteer_app.audit import verify
from volunteer_app.models import AuditEvent, Membership, Team, utcnow
from volunteer_app.teams import membership as membership_service
from volunteer_app.teams import service
from volunteer_app.teams.service import TeamError

from . import factories
from .helpers import registration_code

SECRET = "test-secret-key-not-for-production"


def token_for(team: Team) -> str:
    return service.invite_token(team, secret_key=SECRET)


def membership(session, team, volunteer) -> Membership | None:
    session.rollback()  # a fresh snapshot: the app committed in another connection
    session.expire_all()
    return session.exec(select(Membership).where(Membership.team_id == team.id,
                                                 Membership.volunteer_id == volunteer.id)).first()


def events(session, action: str) -> list[AuditEvent]:
    session.rollback()
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


# --- the invite page ----------------------------------------------------------------------------


def test_leader_sees_the_invite_qr_and_link(client, auth, world):
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}/invite").get_data(as_text=True)
    assert 'id="invite-qr"' in page and "data:image/png;base64," in page
    url = re.search(r'id="invite-url"[^>]*value="([^"]+)"', page).group(1)
    assert url.startswith("http://localhost/join/")


def test_anonymous_scanner_keeps_the_invite_through_registration(client, world, session):
    token = token_for(world.team_a)
    page = client.get(f"/join/{token}").get_data(as_text=True)
    assert world.team_a.name in page and "注册成为志愿者" in page
    community, team_id = str(world.community.id), world.team_a.id
    code = registration_code(client, session, "13912340000")
    response = client.post("/register", data={
        "name": "新队员", "phone": "13912340000", "password": "good password 1", "password2": "good password 1",
        "community": community, "consent": "y", "code": code})
    assert response.status_code == 303 and response.headers["Location"] == f"/join/{token}"
    response = client.post(f"/join/{token}")
    assert response.status_code == 303
    joined = session.exec(select(Membership).join(Team).where(Team.id == team_id,
                                                              Membership.status == "pending")).all()
    assert len(joined) == 1
    with client.session_transaction() as http_session:
        assert "pending_invite" not in http_session


def test_anonymous_scanner_keeps_the_invite_through_login(client, auth, world):
    token = token_for(world.team_a)
    client.get(f"/join/{token}")
    response = auth.login(world.volunteer.phone)
    assert response.headers["Location"] == f"/join/{token}"
    page = client.get(f"/join/{token}").get_data(as_text=True)
    assert 'id="join-button"' in page


def test_auto_accept_team_joins_at_once(client, auth, world, session):
    team = session.get(Team, world.team_a.id)
    team.join_policy = "auto"
    session.commit()
    auth.login(world.volunteer.phone)
    client.post(f"/join/{token_for(team)}")
    assert membership(session, team, world.volunteer).status == "active"
    assert events(session, "membership.join")


def test_joining_twice_is_harmless(client, auth, world, session):
    auth.login(world.volunteer.phone)
    token = token_for(world.team_a)
    assert client.post(f"/join/{token}").status_code == 303
    assert client.post(f"/join/{token}").status_code == 303
    rows = session.exec(select(Membership).where(Membership.volunteer_id == world.volunteer.id)).all()
    assert len(rows) == 1 and rows[0].status == "pending"
    assert "正在等待队长审核" in client.get("/teams").get_data(as_text=True) or \
        "等待审核" in client.get("/teams").get_data(as_text=True)


def bad_tokens(world):
    good = token_for(world.team_a)
    other_key = URLSafeSerializer("another key", salt="team-invite").dumps([world.team_a.id, world.team_a.invite_nonce])
    forged_id = URLSafeSerializer(SECRET, salt="other-salt").dumps([world.team_a.id, world.team_a.invite_nonce])
    return [
        good[:-3],  # truncated
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # one character changed
        other_key,  # signed with another key
        forged_id,  # another purpose's signature
        str(world.team_a.id),  # a plain id
        "x" * 5000,  # very long
        good + "\u200b",  # zero-width
        "🙂" + good,  # emoji
        good + "==",  # padding
    ]


def test_an_invite_token_with_a_nul_is_refused(client, auth, world):
    auth.login(world.volunteer.phone)
    assert client.get(f"/join/{token_for(world.team_a)}%00").status_code == 400


def test_bad_invite_tokens_get_a_clear_404(client, auth, world):
    auth.login(world.volunteer.phone)
    for token in bad_tokens(world):
        response = client.get(f"/join/{token}")
        assert response.status_code == 404, token
        assert "邀请" in response.get_data(as_text=True)
        assert client.post(f"/join/{token}").status_code == 404


def test_renewing_the_invite_revokes_old_links(client, auth, world, session):
    old = token_for(world.team_a)
    auth.login(world.leader_a.phone)
    assert client.post(f"/teams/{world.team_a.id}/invite", data={"valid_days": "0"}).status_code == 303
    auth.logout()
    auth.login(world.volunteer.phone)
    response = client.get(f"/join/{old}")
    assert response.status_code == 404 and "此邀请链接无效" in response.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    fresh = token_for(session.get(Team, world.team_a.id))
    assert client.get(f"/join/{fresh}").status_code == 200


def test_expired_invite(client, auth, world, session):
    team = session.get(Team, world.team_a.id)
    team.invite_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    auth.login(world.volunteer.phone)
    response = client.get(f"/join/{token_for(team)}")
    assert response.status_code == 404 and "已过期" in response.get_data(as_text=True)


def test_invite_with_expiry_is_valid_until_then(world, session):
    team = session.get(Team, world.team_a.id)
    service.renew_invite(session=session, team=team, actor_id=world.leader_a.id, valid_days=7)
    token = token_for(team)
    assert service.team_for_invite(session=session, token=token, secret_key=SECRET).id == team.id
    with pytest.raises(TeamError) as excinfo:
        service.team_for_invite(session=session, token=token, secret_key=SECRET, now=utcnow() + timedelta(days=8))
    assert excinfo.value.code == "invite_expired"


def test_suspended_team_takes_nobody(client, auth, world, session):
    team = session.get(Team, world.team_a.id)
    team.status = "suspended"
    session.commit()
    auth.login(world.volunteer.phone)
    response = client.get(f"/join/{token_for(team)}")
    assert response.status_code == 404 and "不接受新成员" in response.get_data(as_text=True)


def test_office_cannot_join(client, auth, world):
    auth.login(world.office.phone)
    assert client.post(f"/join/{token_for(world.team_a)}").status_code == 404


# --- a leader decides -----------------------------------------------------------------------------


def request_to_join(session, world, volunteer=None):
    team = session.get(Team, world.team_a.id)
    result = membership_service.join_team(session=session, team=team, volunteer_id=(volunteer or world.volunteer).id)
    session.commit()
    return result


def test_leader_approves_a_request(client, auth, world, session):
    pending = request_to_join(session, world)
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}").get_data(as_text=True)
    assert world.volunteer.name in page and world.volunteer.phone in page  # the team's leaders see full numbers
    response = client.post(f"/teams/{world.team_a.id}/members/{pending.id}/approve")
    assert response.status_code == 303
    assert membership(session, world.team_a, world.volunteer).status == "active"
    event = events(session, "membership.approve")[0]
    assert event.actor_id == world.leader_a.id and event.team_id == world.team_a.id
    assert json.loads(event.data)["old"]["status"] == "pending"
    # approving again is refused with a message, not a 500
    response = client.post(f"/teams/{world.team_a.id}/members/{pending.id}/approve", follow_redirects=True)
    assert "此申请已经处理" in response.get_data(as_text=True)


def test_leader_rejects_a_request_and_the_person_may_ask_again(client, auth, world, session):
    pending = request_to_join(session, world)
    auth.login(world.leader_a.phone)
    client.post(f"/teams/{world.team_a.id}/members/{pending.id}/reject")
    assert membership(session, world.team_a, world.volunteer).status == "rejected"
    again = request_to_join(session, world)
    assert again.id == pending.id and again.status == "pending"


def test_leader_of_b_cannot_touch_a_member_of_a(client, auth, world, session):
    pending = request_to_join(session, world)
    auth.login(world.leader_b.phone)
    assert client.post(f"/teams/{world.team_a.id}/members/{pending.id}/approve").status_code == 404
    # own team id, but another team's membership id in the path
    assert client.post(f"/teams/{world.team_b.id}/members/{pending.id}/approve").status_code == 404
    assert membership(session, world.team_a, world.volunteer).status == "pending"


def test_remove_member(client, auth, world, session):
    target = membership(session, world.team_a, world.member_a)
    auth.login(world.leader_a.phone)
    assert client.post(f"/teams/{world.team_a.id}/members/{target.id}/remove").status_code == 303
    assert membership(session, world.team_a, world.member_a).status == "left"
    assert events(session, "membership.remove")


def test_promote_and_demote_never_lose_the_last_leader(client, auth, world, session):
    auth.login(world.leader_a.phone)
    own = membership(session, world.team_a, world.leader_a)
    other = membership(session, world.team_a, world.member_a)
    page = client.post(f"/teams/{world.team_a.id}/members/{own.id}/demote", follow_redirects=True).get_data(as_text=True)
    assert "队伍至少需要一名队长" in page
    assert membership(session, world.team_a, world.leader_a).role == "leader"
    assert client.post(f"/teams/{world.team_a.id}/members/{own.id}/remove").status_code == 303
    assert membership(session, world.team_a, world.leader_a).status == "active"
    client.post(f"/teams/{world.team_a.id}/members/{other.id}/promote")
    assert membership(session, world.team_a, world.member_a).role == "leader"
    client.post(f"/teams/{world.team_a.id}/members/{own.id}/demote")
    assert membership(session, world.team_a, world.leader_a).role == "member"
    # the demoted leader no longer manages the team
    assert client.get(f"/teams/{world.team_a.id}/members").status_code == 404
    assert {e.action for e in session.exec(select(AuditEvent))} >= {"membership.promote", "membership.demote"}


def test_last_leader_cannot_leave(client, auth, world, session):
    auth.login(world.leader_a.phone)
    page = client.post(f"/teams/{world.team_a.id}/leave", follow_redirects=True).get_data(as_text=True)
    assert "队伍至少需要一名队长" in page
    assert membership(session, world.team_a, world.leader_a).status == "active"


def test_volunteer_leaves_a_team(client, auth, world, session):
    auth.login(world.member_a.phone)
    assert client.post(f"/teams/{world.team_a.id}/leave").status_code == 303
    assert membership(session, world.team_a, world.member_a).status == "left"
    assert events(session, "membership.leave")
    # leaving a team one is not in: 404
    assert client.post(f"/teams/{world.team_b.id}/leave").status_code == 404


def test_withdraw_a_pending_request(client, auth, world, session):
    request_to_join(session, world)
    auth.login(world.volunteer.phone)
    client.post(f"/teams/{world.team_a.id}/leave")
    assert membership(session, world.team_a, world.volunteer).status == "left"


def test_every_membership_change_is_audited_and_the_chain_holds(world, session):
    pending = request_to_join(session, world)
    membership_service.decide_request(session=session, membership=pending, approve=True, actor_id=world.leader_a.id)
    membership_service.set_leader(session=session, membership=pending, leader=True, actor_id=world.leader_a.id)
    membership_service.set_leader(session=session, membership=pending, leader=False, actor_id=world.leader_a.id)
    membership_service.remove_member(session=session, membership=pending, actor_id=world.leader_a.id, reason="搬家")
    session.commit()
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == pending.id,
                                                                       AuditEvent.object_type == "membership")
                                              .order_by(AuditEvent.id))]
    assert actions == ["membership.request", "membership.approve", "membership.promote", "membership.demote",
                       "membership.remove"]
    assert verify(session=session) is None


def test_service_error_codes(world, session):
    leader = membership(session, world.team_a, world.leader_a)
    member = membership(session, world.team_a, world.member_a)
    with pytest.raises(TeamError) as excinfo:
        membership_service.set_leader(session=session, membership=leader, leader=False, actor_id=world.leader_a.id)
    assert excinfo.value.code == "last_leader"
    with pytest.raises(TeamError) as excinfo:
        membership_service.set_leader(session=session, membership=member, leader=False, actor_id=world.leader_a.id)
    assert excinfo.value.code == "not_leader"
    with pytest.raises(TeamError) as excinfo:
        membership_service.join_team(session=session, team=session.get(Team, world.team_a.id),
                                     volunteer_id=world.member_a.id)
    assert excinfo.value.code == "already_member"


# --- the roster -----------------------------------------------------------------------------------


def test_roster_search_by_name_and_last_four_digits(client, auth, world, session):
    team = session.get(Team, world.team_a.id)
    for i in range(25):
        factories.add_member(session, team, factories.make_volunteer(session, f"队员{i:02d}", phone=f"1370000{i:04d}"))
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{team.id}/members").get_data(as_text=True)
    assert "第 1 / 2 页" in page or "1 / 2" in page or "共 2 页" in page or "2 页" in page
    assert "27\u00a0名成员" in page
    second = client.get(f"/teams/{team.id}/members?page=2").get_data(as_text=True)
    assert "队员" in second
    hit = client.get(f"/teams/{team.id}/members?q=0007", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "队员07" in hit and "队员08" not in hit and "<html" not in hit
    named = client.get(f"/teams/{team.id}/members?q=赵小").get_data(as_text=True)
    assert "赵小红" in named and "队员01" not in named
    for odd in ("page=abc", "page=-1", "page=99999999999", "q=%25", "q=_", "page=1&page=2"):
        assert client.get(f"/teams/{team.id}/members?{odd}").status_code == 200


def test_roster_is_for_this_teams_leaders_only(client, auth, world):
    auth.login(world.member_a.phone)
    assert client.get(f"/teams/{world.team_a.id}/members").status_code == 404
    auth.logout()
    auth.login(world.leader_b.phone)
    assert client.get(f"/teams/{world.team_a.id}/members").status_code == 404
    assert client.get("/teams/999999/members").status_code == 404


def test_home_page_lists_my_teams(client, auth, world):
    auth.login(world.member_a.phone)
    page = client.get("/").get_data(as_text=True)
    assert 'id="my-teams"' in page and world.team_a.name in page and world.team_b.name not in page


def test_two_leaders_demoting_each_other_at_once_leave_one_leader(app, world, session):
    """The team row lock (PostgreSQL) or the write lock (SQLite) orders the two; the second sees the last leader."""
    import threading

    second = membership(session, world.team_a, world.member_a)
    membership_service.set_leader(session=session, membership=second, leader=True, actor_id=world.leader_a.id)
    session.commit()
    first = membership(session, world.team_a, world.leader_a)
    clients = []
    for person in (world.leader_a, world.member_a):
        client = app.test_client()
        client.post("/login", data={"phone": person.phone, "password": factories.PASSWORD})
        clients.append(client)
    barrier = threading.Barrier(2)
    answers = []

    def demote(client, target):
        barrier.wait()
        answers.append(client.post(f"/teams/{world.team_a.id}/members/{target}/demote").status_code)

    threads = [threading.Thread(target=demote, args=(clients[0], second.id)),
               threading.Thread(target=demote, args=(clients[1], first.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # whoever comes second is refused: no longer a leader (404), or the team's last leader (303 with a message)
    assert len(answers) == 2 and set(answers) <= {303, 404}
    session.rollback()
    session.expire_all()
    leaders = session.exec(select(Membership).where(Membership.team_id == world.team_a.id,
                                                    Membership.role == "leader", Membership.status == "active")).all()
    assert len(leaders) == 1


def test_many_identical_join_posts_at_once_make_one_request(app, world, session):
    import threading

    token = token_for(world.team_a)
    client = app.test_client()
    client.post("/login", data={"phone": world.volunteer.phone, "password": factories.PASSWORD})
    barrier = threading.Barrier(10)
    answers = []

    def join():
        barrier.wait()
        answers.append(client.post(f"/join/{token}").status_code)

    threads = [threading.Thread(target=join) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [303] * 10
    session.rollback()
    rows = session.exec(select(Membership).where(Membership.volunteer_id == world.volunteer.id)).all()
    assert len(rows) == 1 and rows[0].status == "pending"
    requests = session.exec(select(AuditEvent).where(AuditEvent.action == "membership.request")).all()
    assert len(requests) == 1
