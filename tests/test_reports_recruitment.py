"""The office's recruitment figures (issue 14 point 6): sign-ups, fill rate and no-show rate by theme, area and
team, against hand-made sign-ups on the reports test data; the domain by direct calls, the page and the export
over HTTP."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from volunteer_app.models import Signup, Theme
from volunteer_app.reports import recruitment
from volunteer_app.reports.filters import ReportFilter

from . import reports_data
from .reports_data import RANGE

# Sign-ups per activity of reports_data (a1: team A, traffic, limit 4; a3: team B, traffic, no limit;
# a2: team A, sanitation, limit 2; the scheduled one is not counted).
SIGNUPS = {
    "a1": [("member_a", "admitted"), ("leader_a", "admitted"), ("volunteer", "no_show"), ("member_b", "declined"),
           ("leader_b", "cancelled")],
    "a3": [("member_b", "admitted"), ("leader_b", "admitted"), ("volunteer", "admitted"), ("member_a", "no_show")],
    "a2": [("member_a", "admitted")],
    "scheduled": [("member_a", "admitted"), ("volunteer", "pending")],
}
LIMITS = {"a1": 4, "a2": 2, "a3": None, "scheduled": 10}
# What follows from them (cancelled ones are not sign-ups; no-shows were admitted):
TOTAL = {"signups": 9, "admitted": 8, "no_shows": 2, "places": 6, "filled": 4}  # fill 67%, no-show 25%
TRAFFIC = {"signups": 8, "admitted": 7, "no_shows": 2, "places": 4, "filled": 3}  # 75%, 29%
SANITATION = {"signups": 1, "admitted": 1, "no_shows": 0, "places": 2, "filled": 1}  # 50%, 0%
TEAM_A = {"signups": 5, "admitted": 4, "no_shows": 1, "places": 6, "filled": 4}  # 67%, 25%
TEAM_B = {"signups": 4, "admitted": 4, "no_shows": 1, "places": 0, "filled": 0}  # –, 25%


def add_signups(session: Session, world, activities: dict) -> None:
    for key, rows in SIGNUPS.items():
        activity = activities[key]
        activity.capacity = LIMITS[key]
        for who, status in rows:
            session.add(Signup(activity_id=activity.id, volunteer_id=getattr(world, who).id, status=status))
        activity.admitted_count = sum(1 for _w, status in rows if status == "admitted")
        session.add(activity)
    session.commit()


@pytest.fixture
def data(session, world):
    activities = reports_data.build(session, world)
    add_signups(session, world, activities)
    return activities


def city_filter(**changes) -> ReportFilter:
    return ReportFilter(date(2026, 3, 1), date(2026, 4, 30), ZoneInfo("Asia/Shanghai"), None, None, **changes)


def figures(row: recruitment.Recruitment) -> dict:
    return {"signups": row.signups, "admitted": row.admitted, "no_shows": row.no_shows, "places": row.places,
            "filled": row.filled}


# --- the domain ---------------------------------------------------------------------------------


def test_totals_count_closed_activities_only_without_cancelled_sign_ups(session, data):
    groups = recruitment.recruitment_groups(session=session, f=city_filter())
    whole = recruitment.total(groups)
    assert figures(whole) == TOTAL
    assert whole.fill_rate == pytest.approx(4 / 6) and whole.no_show_rate == pytest.approx(2 / 8)


def test_by_theme_and_by_team(session, world, data):
    groups = recruitment.recruitment_groups(session=session, f=city_filter())
    themes = {session.get(Theme, theme_id).code: row for theme_id, row in recruitment.by_theme(groups).items()}
    assert figures(themes["civilized_traffic"]) == TRAFFIC and figures(themes["sanitation"]) == SANITATION
    teams = recruitment.by_team(groups)
    assert figures(teams[world.team_a.id]) == TEAM_A and figures(teams[world.team_b.id]) == TEAM_B
    assert teams[world.team_b.id].fill_rate is None  # no activity of team B set a limit


def test_by_area_one_level_down(session, world, data):
    groups = recruitment.recruitment_groups(session=session, f=city_filter())
    areas = recruitment.by_child_unit(session=session, f=city_filter(), groups=groups,
                                      children=[world.district.id, world.district2.id])
    assert figures(areas[world.district.id]) == TEAM_A and figures(areas[world.district2.id]) == TEAM_B


def test_filters_narrow_the_figures(session, world, data):
    sanitation = session.exec(Theme.__table__.select().where(Theme.code == "sanitation")).first()
    theme = session.get(Theme, sanitation.id)
    assert figures(recruitment.total(recruitment.recruitment_groups(session=session, f=city_filter(theme=theme)))) \
        == SANITATION
    assert figures(recruitment.total(recruitment.recruitment_groups(
        session=session, f=city_filter(team=world.team_b)))) == TEAM_B
    april = ReportFilter(date(2026, 4, 1), date(2026, 4, 30), ZoneInfo("Asia/Shanghai"), None, None)
    assert figures(recruitment.total(recruitment.recruitment_groups(session=session, f=april))) == SANITATION
    district2 = ReportFilter(date(2026, 3, 1), date(2026, 4, 30), ZoneInfo("Asia/Shanghai"), world.district2, None)
    assert figures(recruitment.total(recruitment.recruitment_groups(session=session, f=district2))) == TEAM_B


def test_nothing_to_divide_by_gives_no_rate(session, world):
    reports_data.build(session, world)  # activities, no sign-ups
    whole = recruitment.total(recruitment.recruitment_groups(session=session, f=city_filter()))
    assert whole.signups == 0 and whole.fill_rate is None and whole.no_show_rate is None


# --- the page and the export ---------------------------------------------------------------------


def shown(html: str, figure_id: str) -> str:
    return re.search(rf'id="{figure_id}".*?<strong>([^<]*)</strong>', html, re.S).group(1).strip()


def table_row(html: str, table_id: str, key) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}">(.*?)</table>', html, re.S).group(1)
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', table, re.S).group(1)
    return [cell.strip() for cell in re.findall(r'<td class="num">([^<]*)</td>', row)]


def test_dashboard_shows_the_figures_with_their_definitions(client, auth, world, data):
    client.set_cookie("lang", "en")
    auth.login(world.office.phone)
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    assert shown(html, "fig-signups") == "9"
    assert shown(html, "fig-fill-rate") == "67%" and shown(html, "fig-no-show-rate") == "25%"
    assert table_row(html, "recruit-theme", "civilized_traffic") == ["8", "75%", "29%"]
    assert table_row(html, "recruit-theme", "sanitation") == ["1", "50%", "0%"]
    assert table_row(html, "recruit-unit", world.district.id) == ["5", "67%", "25%"]
    assert table_row(html, "recruit-team", world.team_b.id) == ["4", "–", "25%"]
    for key, definition in recruitment.DEFINITIONS.items():
        figure_id = "fig-" + key.replace("_", "-")
        assert f'id="{figure_id}-def">{definition}</span>' in html.replace("&amp;", "&")
        assert re.search(rf'tabindex="0" id="{figure_id}" aria-describedby="{figure_id}-def"', html)


def test_a_district_office_sees_its_district_only(client, auth, world, data):
    auth.login(world.office_district2.phone)
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    assert shown(html, "fig-signups") == "4" and shown(html, "fig-fill-rate") == "–"
    assert f'<tr data-key="{world.team_a.id}">' not in html


def test_the_figures_follow_a_new_sign_up_past_the_cache(client, auth, world, data, session):
    auth.login(world.office.phone)
    assert shown(client.get("/office", query_string=RANGE).get_data(as_text=True), "fig-signups") == "9"
    session.add(Signup(activity_id=data["a3"].id, volunteer_id=world.office_district2.id, status="declined"))
    session.commit()
    assert shown(client.get("/office", query_string=RANGE).get_data(as_text=True), "fig-signups") == "10"


def test_chinese_labels_by_default(client, auth, world, data):
    auth.login(world.office.phone)
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    for text in ("报名与到岗", "报名人次", "满员率", "爽约率", "报名最多的队伍", "录用后直到活动结束都没有签到的人数"):
        assert text in html


def test_the_tallies_export_carries_the_figures(client, auth, world, data):
    auth.login(world.office.phone)
    response = client.get("/office/export.csv", query_string={**RANGE, "kind": "tallies"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["报名人次"] == "9" and summary["满员率"] == "67%" and summary["爽约率"] == "25%"
    theme_header = rows.index(["按服务主题"]) + 1
    assert rows[theme_header][-3:] == ["报名人次", "满员率", "爽约率"]
    traffic = next(row for row in rows[theme_header:] if row[0] == "文明交通")
    assert traffic[-3:] == ["8", "75%", "29%"]
    month_header = rows.index(["按月份"]) + 1
    assert "报名人次" not in rows[month_header]  # sign-ups are not broken down by month


def test_a_check_in_leaves_the_sign_up_figures_cached_and_a_closing_does_not(client, auth, world, data, session,
                                                                              monkeypatch):
    from .factories import make_activity, make_attendance
    from volunteer_app.reports import cache

    cache.clear()
    reads = []
    original = recruitment.recruitment_groups
    monkeypatch.setattr(recruitment, "recruitment_groups", lambda **kw: reads.append(1) or original(**kw))
    auth.login(world.office.phone)
    client.get("/office", query_string=RANGE)
    assert len(reads) == 1
    open_now = make_activity(session, world.team_a, status="open")
    make_attendance(session, open_now, world.member_b)  # a check-in elsewhere: the tallies' version moves
    session.commit()
    client.get("/office", query_string=RANGE)
    assert len(reads) == 1
    data["a1"].status = "cancelled"  # a counted activity leaves the view: read again
    session.add(data["a1"])
    session.commit()
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    assert len(reads) == 2 and shown(html, "fig-signups") == "5"


def test_every_team_of_the_view_with_its_sign_up_figures(client, auth, world, data):
    client.set_cookie("lang", "en")
    auth.login(world.office.phone)
    html = client.get("/office/team-tallies", query_string=RANGE).get_data(as_text=True)
    row = re.search(rf'<tr data-key="{world.team_a.id}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[-3:] == ["5", "67%", "25%"]
    assert str(recruitment.DEFINITIONS["no_show_rate"]) in html.replace("&amp;", "&")
