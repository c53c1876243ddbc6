"""The office dashboard over HTTP: figures, breakdowns, drill-down sums, htmx, bad parameters."""
from __future__ import annotations

import re

import pytest

from . import reports_data
from .reports_data import EXPECTED, RANGE


@pytest.fixture
def data(session, world, client):
    client.set_cookie("lang", "en")  # figures are found by their English labels
    return reports_data.build(session, world)


def figures(html: str) -> dict[str, str]:
    """The headline figures of a page: label → value, as shown."""
    return {label.strip(): value.strip() for value, label in
            re.findall(r"<strong>([^<]*)</strong>\s*<span>([^<]*)</span>", html)}


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_headline_figures_for_the_whole_city(client, auth, world, data):
    auth.login(world.office.phone)
    page = client.get("/office", query_string=RANGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = figures(html)
    assert number(shown["activities (场次)"]) == EXPECTED["activities"]
    assert number(shown["attendances (人次)"]) == EXPECTED["attendances"]
    assert number(shown["volunteers (人数)"]) == EXPECTED["volunteers"]
    assert number(shown["active volunteers"]) == EXPECTED["volunteers"]
    assert number(shown["active teams"]) == EXPECTED["teams"]
    assert number(shown["registered volunteers"]) == EXPECTED["registered"]
    assert number(shown["service hours"]) == EXPECTED["minutes"] / 60
    assert shown["recorded live (scan)"] == f"{EXPECTED['live'] / EXPECTED['attendances'] * 100:.0f}%"
    assert 'id="chart-theme"' in html and 'id="chart-month"' in html
    assert 'data-values="6,1"' in html  # 人次 by month: March 6, April 1


def test_theme_filter_separates_distinct_and_active_volunteers(client, auth, world, data):
    auth.login(world.office.phone)
    shown = figures(client.get("/office", query_string={**RANGE, "theme": "sanitation"}).get_data(as_text=True))
    assert number(shown["volunteers (人数)"]) == 1
    assert number(shown["active volunteers"]) == EXPECTED["volunteers"]
    assert number(shown["activities (场次)"]) == 1


def test_numbers_add_up_from_records_to_activities_to_theme_row(client, auth, world, data, session):
    """Dashboard theme row == activities list totals == sum over each activity's records."""
    auth.login(world.office.phone)
    params = {**RANGE, "theme": "civilized_traffic"}
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    row = re.search(r'<tr data-key="civilized_traffic">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num">(?:<a[^>]*>)?([^<]*)', row)
    assert [number(c) for c in cells[:3]] == [3, 6, 7.5]

    listing = client.get("/office/activities", query_string=params).get_data(as_text=True)
    listed = figures(listing)
    assert number(listed["activities (场次)"]) == 3
    assert number(listed["attendances (人次)"]) == 6
    ids = [int(i) for i in re.findall(r'data-activity="(\d+)"', listing)]
    assert sorted(ids) == sorted([data["a1"].id, data["a3"].id, data["a5"].id])

    attendances = minutes = 0
    for activity_id in ids:
        detail = client.get(f"/office/activities/{activity_id}", query_string=params).get_data(as_text=True)
        shown = figures(detail)
        attendances += number(shown["attendances (人次)"])
        minutes += number(shown["service hours"]) * 60
        rows = re.findall(r'<tr data-attendance="\d+"( class="voided")?>.*?<td class="num">(\d+)</td>', detail, re.S)
        assert sum(int(m) for voided, m in rows if not voided) == number(shown["service hours"]) * 60
    assert attendances == 6 and minutes == 450


def test_month_rows_and_unit_rows_add_up_to_the_headline(client, auth, world, data):
    auth.login(world.office.phone)
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    for table in ("table-month", "table-unit", "table-theme"):
        body = re.search(rf'id="{table}">(.*?)</table>', html, re.S).group(1)
        counts = [number(c) for c in re.findall(r'<td class="num"><a[^>]*>([^<]*)</a>', body)]
        assert sum(counts) == EXPECTED["activities"], table


def test_activity_detail_shows_how_recorded_masked_phones_and_voided(client, auth, world, data):
    auth.login(world.office.phone)
    html = client.get(f"/office/activities/{data['a5'].id}").get_data(as_text=True)
    assert "138****0003" in html and "13800000003" not in html
    assert 'class="voided"' in html and "录错人" in html
    assert figures(html)["attendances (人次)"] == "1"


def test_htmx_request_gets_the_fragment_and_plain_get_the_page(client, auth, world, data):
    auth.login(world.office.phone)
    fragment = client.get("/office", query_string=RANGE, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="dashboard">') and "<html" not in body
    page = client.get("/office", query_string=RANGE).get_data(as_text=True)
    assert "<html" in page and 'id="dashboard"' in page and 'hx-push-url="true"' in page
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_unit_drills_down_the_tree(client, auth, world, data):
    auth.login(world.office.phone)
    html = client.get("/office", query_string={**RANGE, "unit": world.district.code}).get_data(as_text=True)
    assert "南市街道" in re.search(r'id="table-unit">(.*?)</table>', html, re.S).group(1)
    assert number(figures(html)["activities (场次)"]) == 3


@pytest.mark.parametrize("params, message", [
    ({"theme": "no_such_theme"}, "no_such_theme"),
    ({"from": "2026-13-01"}, "2026-13-01"),
    ({"from": "2026-04-01", "to": "2026-03-01"}, None),
    ({"from": "yesterday"}, "yesterday"),
    ({"unit": "999999"}, None),
    ({"team": "999999"}, None),
    ({"from": "2020-01-01", "to": "2026-01-01"}, None),
    ({"unit": "D01\x00"}, None),
    ({"theme": "sanitation\x00"}, None),
    ({"team": "1\x00"}, None),
    ({"from": "2026-01-01\x00"}, None),
    ({"theme": "=cmd|' /C calc'!A0"}, None),
    ({"unit": "x" * 5000}, None),
    ({"team": "99999999999999999999"}, None),
])
def test_bad_parameters_answer_400_with_a_message_on_the_page(client, auth, world, data, params, message):
    auth.login(world.office.phone)
    page = client.get("/office", query_string=params)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="filter-error"' in html and 'id="filters"' in html
    if message:
        assert message in html


def test_repeated_parameter_is_refused(client, auth, world, data):
    auth.login(world.office.phone)
    page = client.get(f"/office?team={world.team_a.id}&team={world.team_b.id}")
    assert page.status_code == 400 and 'id="filter-error"' in page.get_data(as_text=True)
    assert client.get(f"/office/export.csv?team={world.team_a.id}&team={world.team_b.id}").status_code == 400


def test_errors_are_translated_to_chinese_by_default(client, auth, world, data):
    client.delete_cookie("lang")
    auth.login(world.office.phone)
    html = client.get("/office", query_string={"theme": "nope"}).get_data(as_text=True)
    assert "没有代码为" in html


def test_every_team_with_its_live_share(client, auth, world, data):
    auth.login(world.office.phone)
    html = client.get("/office/team-tallies", query_string=RANGE).get_data(as_text=True)
    body = re.search(r'id="table-teams">(.*?)</table>', html, re.S).group(1)
    assert body.index(world.team_a.name) < body.index(world.team_b.name)
    assert re.findall(r'<span class="share[^"]*">([^<]*)</span>', body) == ["50%", "100%"]
    assert "hx-get" not in body  # this page has no dashboard region to swap
