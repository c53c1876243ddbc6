"""The members list on a phone (issue 17 point 3): one actions menu per row, nothing senseless on oneself,
each member's credited hours with the team (one grouped query), and the team application's cascading unit
picker. Both backends."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from volunteer_app.models import Membership, Team, utcnow
from volunteer_app.teams import membership as membership_service
from volunteer_app.teams.service import TeamError
from volunteer_app.units import deepest_choice

from . import factories


def membership(session, team, person):
    session.expire_all()
    return session.exec(select(Membership).where(Membership.team_id == team.id,
                                                 Membership.volunteer_id == person.id)).one()


def row(page: str, membership_id: int) -> str:
    start = page.index(f'id="member-{membership_id}"')
    end = page.find("</li>", start)
    return page[start:end]


@contextmanager
def counted(app):
    statements = []
    engine = app.extensions["db_engine"]

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_member_actions_never_offer_nonsense_on_oneself(session, world):
    own = membership(session, world.team_a, world.leader_a)
    other = membership(session, world.team_a, world.member_a)
    actions = membership_service.member_actions
    assert actions(membership=own, actor_id=world.leader_a.id, leader_count=1, resettable=False) == ()
    assert actions(membership=own, actor_id=world.leader_a.id, leader_count=2, resettable=False) == ("demote",)
    assert actions(membership=other, actor_id=world.leader_a.id, leader_count=1, resettable=True) == \
        ("promote", "reset", "remove")
    assert actions(membership=other, actor_id=world.leader_a.id, leader_count=1, resettable=False) == \
        ("promote", "remove")
    other.role = "leader"
    assert actions(membership=other, actor_id=world.leader_a.id, leader_count=2, resettable=False) == \
        ("demote", "remove")


def test_the_service_refuses_removing_oneself_and_the_last_leader(session, world):
    own = membership(session, world.team_a, world.leader_a)
    with pytest.raises(TeamError) as excinfo:
        membership_service.remove_member(session=session, membership=own, actor_id=world.leader_a.id)
    assert excinfo.value.code == "last_leader"
    with pytest.raises(TeamError) as excinfo:
        membership_service.set_leader(session=session, membership=own, leader=False, actor_id=world.leader_a.id)
    assert excinfo.value.code == "last_leader"
    second = membership(session, world.team_a, world.member_a)
    membership_service.set_leader(session=session, membership=second, leader=True, actor_id=world.leader_a.id)
    own = membership(session, world.team_a, world.leader_a)
    with pytest.raises(TeamError) as excinfo:  # one leaves from My teams, not by removing oneself
        membership_service.remove_member(session=session, membership=own, actor_id=world.leader_a.id)
    assert excinfo.value.code == "not_on_self"
    assert membership(session, world.team_a, world.leader_a).status == "active"


def test_members_list_one_menu_per_row_and_none_on_the_sole_leader(client, auth, session, world):
    auth.login(world.leader_a.phone)
    own = membership(session, world.team_a, world.leader_a)
    other = membership(session, world.team_a, world.member_a)
    page = client.get(f"/teams/{world.team_a.id}/members").get_data(as_text=True)
    mine = row(page, own.id)
    assert "row-menu" not in mine and "/demote" not in mine and "/remove" not in mine and "本人" in mine
    theirs = row(page, other.id)
    assert theirs.count("<details") == 1 and "/promote" in theirs and "/remove" in theirs and "/demote" not in theirs


def test_members_list_shows_each_members_hours_with_this_team(client, auth, session, world):
    team_a = session.get(Team, world.team_a.id)
    team_b = session.get(Team, world.team_b.id)
    factories.add_member(session, team_b, world.member_a)
    here = factories.make_activity(session, team_a, status="closed", starts_at=utcnow() - timedelta(days=2))
    factories.make_attendance(session, here, world.member_a, minutes=90)
    voided = factories.make_attendance(session, factories.make_activity(session, team_a, status="closed"),
                                       world.member_a, minutes=600)
    voided.voided_at = utcnow()
    elsewhere = factories.make_activity(session, team_b, status="closed")
    factories.make_attendance(session, elsewhere, world.member_a, minutes=300)
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}/members").get_data(as_text=True)
    other = membership(session, world.team_a, world.member_a)
    own = membership(session, world.team_a, world.leader_a)
    assert re.search(r'class="member-hours"[^>]*>1\.5\s小时<', row(page, other.id))
    assert re.search(r'class="member-hours"[^>]*>0\.0\s小时<', row(page, own.id))


def test_members_list_hours_take_one_query_whatever_the_page_size(app, client, auth, session, world):
    team = session.get(Team, world.team_a.id)
    activity = factories.make_activity(session, team, status="closed")
    session.commit()
    auth.login(world.leader_a.phone)
    with counted(app) as few:
        client.get(f"/teams/{team.id}/members")
    for i in range(15):
        person = factories.make_volunteer(session, f"队员{i:02d}", phone=f"1370000{i:04d}")
        factories.add_member(session, team, person)
        factories.make_attendance(session, activity, person, minutes=30 + i)
    session.commit()
    with counted(app) as many:
        page = client.get(f"/teams/{team.id}/members").get_data(as_text=True)
    assert page.count('class="member-hours"') == 17
    assert len(many) == len(few)


# --- the team application: the cascading unit picker ---------------------------------------------------


def apply(client, **fields):
    data = {"name": "新时代宣讲队", "description": "", "contact_name": "", "contact_phone": ""}
    data.update(fields)
    return client.post("/teams/apply", data=data)


def test_application_uses_the_cascading_picker_of_registration(client, auth, world):
    auth.login(world.volunteer.phone)
    page = client.get("/teams/apply").get_data(as_text=True)
    assert 'id="unit-picker"' in page and 'hx-get="/register/units"' in page
    assert 'name="purpose" value="team"' in page and 'name="unit"' not in page
    fragment = client.get(f"/register/units?district={world.district.id}&purpose=team",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="purpose" value="team"' in fragment and "南市街道" in fragment and "友谊路街道" not in fragment


@pytest.mark.parametrize("fields, unit", [
    ({"community": "community"}, "community"),
    ({"district": "district", "street": "street"}, "street"),
    ({"district": "district"}, "district"),
    ({"district": "district", "street": "street", "community": "community"}, "community"),
    ({"district": "district2", "community": "community"}, "district2"),  # a community outside the district
])
def test_application_belongs_to_the_deepest_choice(client, auth, session, world, fields, unit):
    auth.login(world.volunteer.phone)
    data = {key: str(getattr(world, value).id) for key, value in fields.items()}
    assert apply(client, **data).status_code == 303
    session.expire_all()
    team = session.exec(select(Team).where(Team.name == "新时代宣讲队")).one()
    assert team.unit_id == getattr(world, unit).id


def test_application_without_a_unit_says_so_beside_the_picker(client, auth, world):
    auth.login(world.volunteer.phone)
    for fields in ({}, {"street": "999999"}, {"community": "abc"}, {"district": str(world.community.id)}):
        response = apply(client, **fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and 'id="community-error"' in page and "请选择队伍所属单位" in page


def test_deepest_choice_checks_levels(session, world):
    assert deepest_choice(session=session, district_id=world.community.id, street_id=None, community_id=None) is None
    assert deepest_choice(session=session, district_id=None, street_id=None, community_id=world.street.id) is None
    assert deepest_choice(session=session, district_id=None, street_id=world.street.id,
                          community_id=world.community2.id) == world.street.id


def test_a_co_leader_steps_down_from_the_menu_and_lands_home(client, auth, session, world):
    team = session.get(Team, world.team_a.id)
    factories.add_member(session, team, factories.make_volunteer(session, "周副队长"), role="leader")
    session.commit()
    own = membership(session, world.team_a, world.leader_a)
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{team.id}/members").get_data(as_text=True)
    mine = row(page, own.id)
    assert "/demote" in mine and "卸任队长" in mine and "/remove" not in mine
    response = client.post(f"/teams/{team.id}/members/{own.id}/demote")
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    session.commit()  # end the test session's read transaction: it must see what the request committed
    assert membership(session, world.team_a, world.leader_a).role == "member"
