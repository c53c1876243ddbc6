"""Issue 12, point 1: a leader issues a password reset link only to a plain member of the team.

Never to a co-leader, to anyone who leads a team anywhere, or to an office account: those are the office's
to reset (a leader's account opens the full phone numbers of every team they lead). Both backends.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from volunteer_app.models import AuditEvent, Membership, PasswordReset
from volunteer_app.teams import membership as membership_service
from volunteer_app.teams.service import TeamError

from . import factories


def fresh(session):
    session.commit()
    session.expire_all()


def membership_of(session, team, volunteer):
    return session.exec(select(Membership).where(Membership.team_id == team.id,
                                                 Membership.volunteer_id == volunteer.id)).one()


def reset_path(team, membership):
    return f"/teams/{team.id}/members/{membership.id}/reset"


@pytest.fixture
def cast(session, world):
    """Team B's roster holds: the leader of team A as a plain member, a co-leader, an office account, a member."""
    factories.add_member(session, world.team_b, world.leader_a)
    co_leader = factories.make_volunteer(session, "周副队", home_unit=world.community2)
    factories.add_member(session, world.team_b, co_leader, role="leader")
    factories.add_member(session, world.team_b, world.office)
    session.commit()
    return {
        "other_teams_leader": membership_of(session, world.team_b, world.leader_a),
        "co_leader": membership_of(session, world.team_b, co_leader),
        "office": membership_of(session, world.team_b, world.office),
        "plain": membership_of(session, world.team_b, world.member_b),
    }


@pytest.mark.parametrize("who", ["other_teams_leader", "co_leader", "office"])
def test_a_leader_cannot_issue_a_reset_link_for_a_leader_or_an_office_account(client, auth, session, world, cast,
                                                                              who):
    """The takeover of the probe: leader B resets the demo leader's password through team B's roster."""
    auth.login(world.leader_b.phone)
    response = client.post(reset_path(world.team_b, cast[who]))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "只有文明办可以为队长或文明办账号生成重置链接" in page
    fresh(session)
    assert session.exec(select(PasswordReset)).first() is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "password_reset.issue")).first() is None


def test_the_roster_offers_the_reset_button_only_for_plain_members(client, auth, session, world, cast):
    auth.login(world.leader_b.phone)
    page = client.get(f"/teams/{world.team_b.id}/members").get_data(as_text=True)
    for who, membership in cast.items():
        assert (reset_path(world.team_b, membership) in page) == (who == "plain"), who


def test_a_plain_member_gets_a_link_and_the_log_says_who_issued_it_for_whom(client, auth, session, world, cast):
    auth.login(world.leader_b.phone)
    response = client.post(reset_path(world.team_b, cast["plain"]))
    assert response.status_code == 200 and 'id="reset-url"' in response.get_data(as_text=True)
    fresh(session)
    reset = session.exec(select(PasswordReset)).one()
    assert reset.volunteer_id == world.member_b.id and reset.issued_by_id == world.leader_b.id
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "password_reset.issue")).one()
    assert (event.actor_id, event.object_type, event.object_id, event.team_id) == \
        (world.leader_b.id, "volunteer", world.member_b.id, world.team_b.id)


@pytest.mark.parametrize("who, code", [("other_teams_leader", "reset_office_only"), ("co_leader", "reset_office_only"),
                                       ("office", "reset_office_only"), ("plain", None)])
def test_issue_member_reset_called_directly(session, world, cast, who, code):
    if code is None:
        token = membership_service.issue_member_reset(session=session, membership=cast[who], actor_id=world.leader_b.id)
        assert token and session.exec(select(PasswordReset)).one().volunteer_id == world.member_b.id
        return
    with pytest.raises(TeamError) as excinfo:
        membership_service.issue_member_reset(session=session, membership=cast[who], actor_id=world.leader_b.id)
    assert excinfo.value.code == code
    assert session.exec(select(PasswordReset)).first() is None


def test_a_member_who_left_gets_no_link(session, world, cast):
    membership = cast["plain"]
    membership.status = "left"
    session.commit()
    with pytest.raises(TeamError) as excinfo:
        membership_service.issue_member_reset(session=session, membership=membership, actor_id=world.leader_b.id)
    assert excinfo.value.code == "not_member"
