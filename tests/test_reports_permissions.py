"""Every dashboard and export route: office only; 404 for volunteers and leaders; areas hold for district offices."""
from __future__ import annotations

import pytest

from . import reports_data
from .reports_data import EXPECTED, RANGE


@pytest.fixture
def data(session, world, client):
    client.set_cookie("lang", "en")
    return reports_data.build(session, world)


def routes(data) -> list[str]:
    activity = data["a1"].id
    return [
        "/office",
        "/office/activities",
        "/office/team-tallies",
        f"/office/activities/{activity}",
        "/office/signals",
        "/office/export.csv?kind=tallies",
        "/office/export.csv?kind=records",
        "/office/export.xlsx?kind=tallies",
        "/office/export.xlsx?kind=records",
    ]


@pytest.mark.parametrize("who", ["volunteer", "member_a", "leader_a", "leader_b"])
def test_volunteers_and_leaders_get_404_everywhere(client, auth, world, data, who):
    auth.login(getattr(world, who).phone)
    for url in routes(data):
        assert client.get(url).status_code == 404, url


def test_anonymous_is_sent_to_login(client, world, data):
    for url in routes(data):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_office_reaches_every_route(client, auth, world, data):
    auth.login(world.office.phone)
    for url in routes(data):
        assert client.get(url).status_code == 200, url


def test_district_office_sees_only_its_district(client, auth, world, data):
    auth.login(world.office_district2.phone)
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    assert "河西区" in html
    assert world.team_a.name not in html and "和平区" not in html
    assert f"<strong>{EXPECTED['district2']['activities']}</strong>" in html
    for url in routes(data):
        assert client.get(url).status_code in (200, 404), url
    assert client.get(f"/office/activities/{data['a1'].id}").status_code == 404  # team A is in the other district
    assert client.get(f"/office/activities/{data['a3'].id}").status_code == 200


@pytest.mark.parametrize("param", ["unit", "team"])
def test_district_office_cannot_widen_its_view_by_editing_the_url(client, auth, world, data, param):
    auth.login(world.office_district2.phone)
    value = {"unit": world.district.id, "team": world.team_a.id}[param]
    for url in ("/office", "/office/activities", "/office/team-tallies", "/office/signals", "/office/export.csv",
                "/office/export.xlsx"):
        response = client.get(url, query_string={**RANGE, param: value})
        assert response.status_code == 400, url
        assert world.team_a.name.encode() not in response.get_data()
    also_by_code = client.get("/office", query_string={**RANGE, "unit": world.district.code})
    assert also_by_code.status_code == 400
    own = client.get("/office", query_string={**RANGE, "unit": world.community2.code})
    assert own.status_code == 200
