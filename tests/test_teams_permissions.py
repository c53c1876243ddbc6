"""Who may use each route of accounts and teams: a table of role × route, every answer asserted.

ROUTES is module-level so that a global permission matrix can reuse it: (method, url template,
expected status per role, extra request arguments). Placeholders are filled by `placeholders(world)`.
Anonymous visitors of a login-only page are sent to the login page (302).
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from volunteer_app.accounts.service import issue_password_reset
from volunteer_app.models import ImportJob, Membership
from volunteer_app.teams.service import invite_token

from . import factories

ROLES = ("anonymous", "volunteer", "leader_b", "office", "leader_a")  # the one who may change state goes last

LOGIN = 302
HX = {"headers": {"HX-Request": "true"}}


def only(role: str, status: int, others: int = 404, anonymous: int = LOGIN) -> dict:
    expected = {r: others for r in ROLES}
    expected["anonymous"] = anonymous
    expected[role] = status
    return expected


def every(status: int, anonymous: int = LOGIN, office: int | None = None) -> dict:
    expected = {r: status for r in ROLES}
    expected["anonymous"] = anonymous
    if office is not None:
        expected["office"] = office
    return expected


MEMBER = "/teams/{team_a}/members/{membership_a}"
ROUTES: list[tuple[str, str, dict, dict]] = [
    # accounts
    ("GET", "/login", every(302, anonymous=200), {}),
    ("POST", "/login", every(302, anonymous=400), {"data": {"phone": "13900000000", "password": "wrong"}}),
    ("POST", "/logout", every(303), {}),
    ("POST", "/me/logout-everywhere", every(303), {}),
    ("GET", "/register", every(302, anonymous=200), {}),
    ("POST", "/register", every(302, anonymous=400), {"data": {}}),
    ("GET", "/register/units", every(200, anonymous=200), HX),
    ("GET", "/reset/{reset_token}", every(200, anonymous=200), {}),
    ("POST", "/reset/{reset_token}", every(400, anonymous=400), {"data": {"password": "x"}}),
    ("GET", "/me", every(200), {}),
    ("GET", "/office/people", only("office", 200), {}),
    ("POST", "/office/people", only("office", 200), {"data": {"q": "赵小红"}}),
    ("POST", "/office/people/{member_a}/reset", only("office", 200), {}),
    # teams: volunteers
    ("GET", "/teams", every(200, office=404), {}),
    ("GET", "/teams/apply", every(200, office=404), {}),
    ("POST", "/teams/apply", every(400, office=404), {"data": {}}),
    ("POST", "/teams/{team_a}/leave", only("leader_a", 303), {}),
    ("GET", "/join/{invite_a}", every(200, anonymous=200, office=404), {}),
    ("POST", "/join/{invite_a}", every(303, anonymous=200, office=404), {}),
    # teams: leaders of team A
    ("GET", "/teams/{team_a}", only("leader_a", 200), {}),
    ("GET", "/teams/{team_a}/edit", only("leader_a", 200), {}),
    ("POST", "/teams/{team_a}/edit", only("leader_a", 400), {"data": {"name": ""}}),
    ("GET", "/teams/{team_a}/invite", only("leader_a", 200), {}),
    ("POST", "/teams/{team_a}/invite", only("leader_a", 303), {"data": {"valid_days": "7"}}),
    ("GET", "/teams/{team_a}/members", only("leader_a", 200), {}),
    ("GET", "/teams/{team_a}/members", only("leader_a", 200), {"query_string": {"q": "0003"}, **HX}),
    ("POST", MEMBER + "/approve", only("leader_a", 303), {}),
    ("POST", MEMBER + "/reject", only("leader_a", 303), {}),
    ("POST", MEMBER + "/remove", only("leader_a", 303), {}),
    ("POST", MEMBER + "/promote", only("leader_a", 303), {}),
    ("POST", MEMBER + "/demote", only("leader_a", 303), {}),
    ("POST", MEMBER + "/reset", only("leader_a", 200), {}),
    ("POST", MEMBER + "/unknown", only("leader_a", 404), {}),
    # the office
    ("GET", "/office/teams", only("office", 200), {}),
    ("GET", "/office/teams/{team_a}", only("office", 200), {}),
    ("POST", "/office/teams/{team_a}/approve", only("office", 303), {}),
    ("POST", "/office/teams/{team_a}/reject", only("office", 303), {"data": {"reason": "x"}}),
    ("POST", "/office/teams/{team_a}/suspend", only("office", 303), {"data": {"reason": "x"}}),
    ("POST", "/office/teams/{team_a}/reactivate", only("office", 303), {}),
    ("POST", "/office/teams/{team_a}/unknown", only("office", 404), {}),
    ("GET", "/office/import", only("office", 200), {}),
    ("POST", "/office/import", only("office", 400), {"data": {}}),
    ("GET", "/office/import/{job}", only("office", 200), {}),
    ("GET", "/office/import/{job}", only("office", 200), HX),
    ("GET", "/office/import/{job}/report.csv", only("office", 200), {}),
    ("GET", "/office/import/template/volunteers.xlsx", only("office", 200), {}),
    ("GET", "/office/import/template/teams.csv", only("office", 200), {}),
]


def placeholders(world, session, secret_key: str) -> dict:
    """Ids and tokens the url templates need, made in the world's database."""
    membership_a = session.exec(select(Membership).where(Membership.team_id == world.team_a.id,
                                                         Membership.volunteer_id == world.member_a.id)).one()
    job = ImportJob(kind="volunteers", filename="x.xlsx", status="done", created_by_id=world.office.id)
    session.add(job)
    session.flush()
    reset_token = issue_password_reset(session=session, volunteer=world.volunteer, issued_by_id=world.office.id)
    values = {"team_a": world.team_a.id, "team_b": world.team_b.id, "membership_a": membership_a.id,
              "member_a": world.member_a.id, "job": job.id, "reset_token": reset_token,
              "invite_a": invite_token(world.team_a, secret_key=secret_key)}
    session.commit()
    return values


def people(world) -> dict:
    return {"volunteer": world.volunteer, "leader_a": world.leader_a, "leader_b": world.leader_b,
            "office": world.office}


@pytest.mark.parametrize("method, template, expected, extra", ROUTES,
                         ids=[f"{m} {t}" + (" htmx" if "headers" in x else "") for m, t, _e, x in ROUTES])
def test_each_role_on_each_route(app, world, session, method, template, expected, extra):
    values = placeholders(world, session, app.config["SECRET_KEY"])
    url = template.format(**values)
    answers = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"phone": people(world)[role].phone,
                                               "password": factories.PASSWORD}).status_code == 302
        response = client.open(url, method=method, **extra)
        answers[role] = response.status_code
        if response.status_code >= 500:
            pytest.fail(f"{role} {method} {url}: {response.status_code}")
    assert answers == expected


def test_the_table_covers_every_route_of_accounts_and_teams(app):
    covered = {(m, _rule_of(app, t)) for m, t, _e, _x in ROUTES}
    wanted = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("accounts", "teams")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert wanted <= covered, sorted(wanted - covered)


def _rule_of(app, template: str) -> str:
    """The url rule a template matches (placeholders filled with plausible values)."""
    sample = template.format(team_a=1, team_b=2, membership_a=3, member_a=4, job=5, reset_token="t", invite_a="t")
    adapter = app.url_map.bind("localhost")
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(sample, method=method)
        except Exception:
            continue
        return next(r.rule for r in app.url_map.iter_rules(endpoint))
    return template


TEAM_ROUTES = [(m, t, x) for m, t, e, x in ROUTES if "{team_a}" in t and t.startswith("/teams/{team_a}")
               and e["leader_a"] != 404]


@pytest.mark.parametrize("method, template, extra", TEAM_ROUTES, ids=[f"{m} {t}" for m, t, _x in TEAM_ROUTES])
def test_leader_of_a_gets_the_same_404_for_team_b_as_for_a_missing_team(app, world, session, method, template,
                                                                         extra):
    values = placeholders(world, session, app.config["SECRET_KEY"])
    membership_b = session.exec(select(Membership).where(Membership.team_id == world.team_b.id,
                                                         Membership.volunteer_id == world.member_b.id)).one()
    client = app.test_client()
    client.post("/login", data={"phone": world.leader_a.phone, "password": factories.PASSWORD})
    other = client.open(template.format(**{**values, "team_a": world.team_b.id, "membership_a": membership_b.id}),
                        method=method, **extra)
    missing = client.open(template.format(**{**values, "team_a": 999999, "membership_a": 999999}),
                          method=method, **extra)
    assert other.status_code == missing.status_code == 404
    assert _main(other) == _main(missing)  # the page around it only differs by the link back to this very URL


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]
