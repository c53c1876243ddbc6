"""A team's life: application, the office's queue and decisions, edits by leaders, suspension."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from volunteer_app.models import AuditEvent, Membership, Team
from volunteer_app.teams import service
from volunteer_app.teams.service import TeamError


def fresh(session):
    session.rollback()
    session.expire_all()


def apply(client, world, **overrides):
    data = {"name": "清和社区敬老队", "community": str(world.community.id), "description": "陪伴独居老人",
            "contact_name": "孙志愿", "contact_phone": "139 1111 2222"}
    data.update(overrides)
    return client.post("/teams/apply", data=data)


def test_volunteer_applies_and_office_approves(client, auth, world, session):
    auth.login(world.volunteer.phone)
    assert apply(client, world).status_code == 303
    fresh(session)
    team = session.exec(select(Team).where(Team.name == "清和社区敬老队")).one()
    assert team.status == "pending" and team.applied_by_id == world.volunteer.id
    assert team.contact_phone == "13911112222"
    assert "等待文明办审核" in client.get("/teams").get_data(as_text=True)
    auth.logout()

    auth.login(world.office.phone)
    queue = client.get("/office/teams").get_data(as_text=True)
    assert "清和社区敬老队" in queue
    detail = client.get(f"/office/teams/{team.id}").get_data(as_text=True)
    assert "139****2222" in detail and "13911112222" not in detail  # the office sees contact numbers masked
    assert "138****0005" in detail  # the applicant, masked
    assert client.post(f"/office/teams/{team.id}/approve", data={"reason": ""}).status_code == 303
    fresh(session)
    team = session.get(Team, team.id)
    assert team.status == "active" and team.decided_by_id == world.office.id
    leader = session.exec(select(Membership).where(Membership.team_id == team.id)).one()
    assert (leader.volunteer_id, leader.role, leader.status) == (world.volunteer.id, "leader", "active")
    actions = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.team_id == team.id))}
    assert {"team.apply", "team.approve", "membership.leader_on_approval"} <= actions
    auth.logout()

    auth.login(world.volunteer.phone)
    assert client.get(f"/teams/{team.id}").status_code == 200
    assert "清和社区敬老队" in client.get("/").get_data(as_text=True)


def test_reject_needs_a_reason(client, auth, world, session):
    team = service.apply_for_team(session=session, applicant_id=world.volunteer.id, name="新队", unit_id=world.community.id)
    session.commit()
    auth.login(world.office.phone)
    page = client.post(f"/office/teams/{team.id}/reject", data={"reason": "  "}, follow_redirects=True)
    assert "请填写理由" in page.get_data(as_text=True)
    fresh(session)
    assert session.get(Team, team.id).status == "pending"
    client.post(f"/office/teams/{team.id}/reject", data={"reason": "名称不规范"})
    fresh(session)
    team = session.get(Team, team.id)
    assert team.status == "rejected" and team.status_reason == "名称不规范"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "team.reject")).one()
    assert event.reason == "名称不规范" and json.loads(event.data)["new"]["status"] == "rejected"
    # deciding twice
    page = client.post(f"/office/teams/{team.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "此申请已经处理" in page
    fresh(session)
    assert session.exec(select(Membership).where(Membership.team_id == team.id)).first() is None


def test_office_suspends_and_reactivates(client, auth, world, session):
    auth.login(world.office.phone)
    client.post(f"/office/teams/{world.team_a.id}/suspend", data={"reason": "多次虚报时长"})
    fresh(session)
    team = session.get(Team, world.team_a.id)
    assert team.status == "suspended" and team.status_reason == "多次虚报时长"
    assert client.post(f"/office/teams/{world.team_a.id}/suspend", data={"reason": "x"},
                       follow_redirects=True).status_code == 200
    client.post(f"/office/teams/{world.team_a.id}/reactivate")
    fresh(session)
    assert session.get(Team, world.team_a.id).status == "active"
    assert [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))] == ["team.suspend",
                                                                                           "team.reactivate"]


def test_district_office_sees_only_its_district(client, auth, world):
    auth.login(world.office_district2.phone)
    page = client.get("/office/teams?status=active").get_data(as_text=True)
    assert world.team_b.name in page and world.team_a.name not in page
    assert client.get(f"/office/teams/{world.team_a.id}").status_code == 404
    assert client.post(f"/office/teams/{world.team_a.id}/suspend", data={"reason": "x"}).status_code == 404
    assert client.get(f"/office/teams/{world.team_b.id}").status_code == 200


@pytest.mark.parametrize("name, code", [
    ("", "bad_name"), ("a" * 41, "bad_name"), ("队\u200d伍", "bad_name"), ("清和社区志愿服务队", "name_taken"),
])
def test_application_rules(world, session, name, code):
    with pytest.raises(TeamError) as excinfo:
        service.apply_for_team(session=session, applicant_id=world.volunteer.id, name=name, unit_id=world.community.id)
    assert excinfo.value.code == code


def test_application_form_errors_are_shown(client, auth, world):
    auth.login(world.volunteer.phone)
    response = apply(client, world, contact_phone="12345")
    assert response.status_code == 400 and "请输入11位中国大陆手机号" in response.get_data(as_text=True)
    for unit in ("999999", "abc", "", "１"):
        response = apply(client, world, community=unit)
        assert response.status_code == 400 and "请选择队伍所属单位" in response.get_data(as_text=True)
    response = apply(client, world, name="清和社区志愿服务队")
    assert response.status_code == 400 and "该单位已有同名队伍" in response.get_data(as_text=True)
    response = apply(client, world, description="长" * 10_000)
    assert response.status_code == 400


def test_office_accounts_do_not_apply(client, auth, world):
    auth.login(world.office.phone)
    assert client.get("/teams/apply").status_code == 404


def test_leader_edits_the_team(client, auth, world, session):
    auth.login(world.leader_a.phone)
    page = client.get(f"/teams/{world.team_a.id}/edit").get_data(as_text=True)
    assert world.team_a.name in page
    response = client.post(f"/teams/{world.team_a.id}/edit", data={
        "name": "清和社区红马甲", "description": "新的简介", "contact_name": "李队长", "contact_phone": "13800000001",
        "join_policy": "auto"})
    assert response.status_code == 303
    fresh(session)
    team = session.get(Team, world.team_a.id)
    assert (team.name, team.join_policy, team.contact_phone) == ("清和社区红马甲", "auto", "13800000001")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "team.edit")).one()


def test_edit_refuses_bad_values_without_saving(client, auth, world, session):
    auth.login(world.leader_a.phone)
    response = client.post(f"/teams/{world.team_a.id}/edit", data={
        "name": "  ", "description": "", "contact_name": "", "contact_phone": "", "join_policy": "approve"})
    assert response.status_code == 400
    response = client.post(f"/teams/{world.team_a.id}/edit", data={
        "name": "x", "description": "", "contact_name": "", "contact_phone": "+86 12", "join_policy": "approve"})
    assert response.status_code == 400
    fresh(session)
    assert session.get(Team, world.team_a.id).name == "清和社区志愿服务队"


def test_leader_of_b_cannot_edit_a(client, auth, world):
    auth.login(world.leader_b.phone)
    assert client.get(f"/teams/{world.team_a.id}/edit").status_code == 404
    assert client.post(f"/teams/{world.team_a.id}/edit", data={"name": "x"}).status_code == 404


def test_a_rejected_name_can_be_applied_for_again(world, session):
    team = service.apply_for_team(session=session, applicant_id=world.volunteer.id, name="新队", unit_id=world.community.id)
    service.decide_team(session=session, team=team, approve=False, office_id=world.office.id, reason="材料不全")
    again = service.apply_for_team(session=session, applicant_id=world.member_a.id, name="新队",
                                   unit_id=world.community.id, description="补充了材料")
    assert again.id == team.id and again.status == "pending" and again.applied_by_id == world.member_a.id
    assert again.status_reason is None and again.decided_by_id is None
    with pytest.raises(TeamError) as excinfo:  # a pending or active name stays taken
        service.apply_for_team(session=session, applicant_id=world.volunteer.id, name="新队", unit_id=world.community.id)
    assert excinfo.value.code == "name_taken"
