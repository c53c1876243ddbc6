"""Finding activities to join (issue 14, points 2 and 8): the domain by plain calls, the pages through HTTP.

The cast: the world's district 1 holds street 南市 (communities 清和, the volunteer's home, and 安乐) and street
东风 (community 花园); district 2 holds 永安 (team B). Each place has a team with upcoming activities.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from volunteer_app.activities import finding
from volunteer_app.models import Signup, utcnow

from . import factories

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.fixture
def city(session, world):
    """Teams around the volunteer's home: same street (安乐), same district (花园), another district (team B)."""
    w = world
    anle = factories.make_unit(session, "安乐社区", "community", w.street)
    dongfeng = factories.make_unit(session, "东风街道", "street", w.district)
    huayuan = factories.make_unit(session, "花园社区", "community", dongfeng)
    team_street = factories.make_team(session, "安乐社区志愿服务队", anle)
    team_district = factories.make_team(session, "花园社区志愿服务队", huayuan)
    session.commit()
    return {"world": w, "anle": anle, "dongfeng": dongfeng, "huayuan": huayuan, "team_street": team_street,
            "team_district": team_district}


def upcoming(session, team, title, *, hours_ahead: float, now=NOW, audience="city", **fields):
    """A scheduled activity starting hours_ahead after now, open to audience."""
    if audience != "team":
        fields.setdefault("members_only", False)
    return factories.make_activity(session, team, title=title, starts_at=now + timedelta(hours=hours_ahead),
                                   audience=audience, **fields)


def titles(session, volunteer, f=None, now=NOW, **kwargs) -> list[str]:
    f = f or finding.FindFilter(zone=ZONE)
    page = finding.find_activities(session=session, volunteer_id=volunteer.id, f=f, now=now, per_page=100, **kwargs)
    return [item.activity.title for item in page.items]


def parse(session, **args):
    return finding.parse_filter(MultiDict(args), session=session, zone=ZONE)


# --- the domain -----------------------------------------------------------------------------------


def test_nearest_first_by_the_unit_tree_then_soonest(session, city):
    w = city["world"]
    upcoming(session, w.team_b, "别区", hours_ahead=1)
    upcoming(session, city["team_district"], "同区", hours_ahead=2)
    upcoming(session, city["team_street"], "同街道", hours_ahead=3)
    upcoming(session, w.team_a, "本社区-后", hours_ahead=30)
    upcoming(session, w.team_a, "本社区-先", hours_ahead=5)
    session.commit()
    assert titles(session, w.volunteer) == ["本社区-先", "本社区-后", "同街道", "同区", "别区"]
    page = finding.find_activities(session=session, volunteer_id=w.volunteer.id, f=finding.FindFilter(zone=ZONE),
                                   now=NOW)
    assert [item.distance for item in page.items] == [0, 0, 1, 2, 3]
    # Without a home unit everything is "elsewhere": soonest first.
    homeless = factories.make_volunteer(session, "无家")
    session.commit()
    assert titles(session, homeless) == ["别区", "同区", "同街道", "本社区-先", "本社区-后"]


def test_audiences_team_only_for_members_unit_for_those_living_inside_city_for_all(session, city):
    w = city["world"]
    upcoming(session, w.team_a, "A队内部", hours_ahead=1, audience="team")
    upcoming(session, w.team_b, "B队内部", hours_ahead=1, audience="team")
    upcoming(session, w.team_b, "面向和平区", hours_ahead=2, audience="unit", audience_unit_id=w.district.id)
    upcoming(session, w.team_a, "面向河西区", hours_ahead=2, audience="unit", audience_unit_id=w.district2.id)
    upcoming(session, city["team_district"], "面向南市街道", hours_ahead=3, audience="unit",
             audience_unit_id=w.street.id)
    upcoming(session, city["team_district"], "面向东风街道", hours_ahead=3, audience="unit",
             audience_unit_id=city["dongfeng"].id)
    upcoming(session, w.team_b, "全市", hours_ahead=4)
    session.commit()
    # The volunteer lives in 清和 (南市街道, 和平区) and is in no team.
    assert set(titles(session, w.volunteer)) == {"面向和平区", "面向南市街道", "全市"}
    # member_a lives there too and is in team A: A's own activities whatever their audience.
    assert set(titles(session, w.member_a)) == {"A队内部", "面向和平区", "面向河西区", "面向南市街道", "全市"}
    # member_b and leader_b (team B, 永安 in 河西区): their own team's activities (面向和平区 too), never team A's
    # members-only one.
    assert set(titles(session, w.member_b)) == {"B队内部", "面向和平区", "面向河西区", "全市"}
    assert set(titles(session, w.leader_b)) == {"B队内部", "面向和平区", "面向河西区", "全市"}


def test_only_what_can_still_be_joined(session, city):
    w = city["world"]
    upcoming(session, w.team_a, "可报名", hours_ahead=5)
    upcoming(session, w.team_a, "已结束", hours_ahead=-3)
    upcoming(session, w.team_a, "进行中未设截止", hours_ahead=-1, status="open")  # sign-ups closed at the start
    upcoming(session, w.team_a, "进行中可报名", hours_ahead=-1, status="open", signup_deadline=NOW + timedelta(hours=1))
    upcoming(session, w.team_a, "已截止", hours_ahead=5, signup_deadline=NOW - timedelta(minutes=1))
    upcoming(session, w.team_a, "已取消", hours_ahead=5, status="cancelled")
    upcoming(session, w.team_a, "已关闭", hours_ahead=5, status="closed")
    suspended = factories.make_team(session, "停用队", w.community, status="suspended")
    upcoming(session, suspended, "停用队的活动", hours_ahead=5)
    session.commit()
    assert titles(session, w.volunteer) == ["进行中可报名", "可报名"]


def test_places_left(session, city):
    w = city["world"]
    some = upcoming(session, w.team_a, "有名额", hours_ahead=5, capacity=10, admitted_count=7)
    full = upcoming(session, w.team_a, "已满", hours_ahead=6, capacity=10, admitted_count=10, waitlist_count=2)
    free = upcoming(session, w.team_a, "不限", hours_ahead=7)
    session.commit()
    assert (finding.places_left(some), finding.places_left(full), finding.places_left(free)) == (3, 0, None)
    page = finding.find_activities(session=session, volunteer_id=w.volunteer.id, f=finding.FindFilter(zone=ZONE),
                                   now=NOW)
    assert [item.places_left for item in page.items] == [3, 0, None]


def test_filters_theme_dates_and_area(session, city):
    w = city["world"]
    upcoming(session, w.team_a, "交通-今天", hours_ahead=2)  # 2026-03-04 12:00 local
    upcoming(session, w.team_a, "卫生-明天", hours_ahead=24, theme_code="sanitation")
    upcoming(session, city["team_district"], "交通-东风-后天", hours_ahead=48)
    upcoming(session, w.team_b, "交通-河西-晚上", hours_ahead=13)  # 2026-03-04 23:00 local: still the 4th
    session.commit()
    v = w.volunteer
    assert titles(session, v, parse(session, theme="sanitation")) == ["卫生-明天"]
    assert titles(session, v, parse(session, **{"from": "2026-03-04", "to": "2026-03-04"})) == \
        ["交通-今天", "交通-河西-晚上"]
    assert titles(session, v, parse(session, **{"from": "2026-03-05"})) == ["卫生-明天", "交通-东风-后天"]
    assert titles(session, v, parse(session, area=str(w.district2.id))) == ["交通-河西-晚上"]
    assert titles(session, v, parse(session, area=str(city["dongfeng"].id))) == ["交通-东风-后天"]
    assert titles(session, v, parse(session, area=str(w.district.id), theme="civilized_traffic")) == \
        ["交通-今天", "交通-东风-后天"]
    f = parse(session, theme="sanitation", area=str(w.district.id), **{"from": "2026-03-05"})
    assert f.args() == {"theme": "sanitation", "area": str(w.district.id), "from": "2026-03-05"}


@pytest.mark.parametrize("args, code", [
    ({"from": "yesterday"}, "bad_date"),
    ({"to": "2026-02-30"}, "bad_date"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "range_reversed"),
    ({"from": "2026-01-01", "to": "2027-06-01"}, "range_too_long"),
    ({"theme": "no_such_theme"}, "unknown_theme"),
    ({"area": "abc"}, "unknown_area"),
    ({"area": "99999"}, "unknown_area"),
    ({"area": "-1"}, "unknown_area"),
])
def test_bad_filters_are_refused_with_a_code(session, city, args, code):
    with pytest.raises(finding.FindError) as excinfo:
        parse(session, **args)
    assert excinfo.value.code == code


def test_a_community_is_not_an_area_to_filter_by(session, city):
    with pytest.raises(finding.FindError) as excinfo:
        parse(session, area=str(city["world"].community.id))
    assert excinfo.value.code == "unknown_area"


def test_paging(session, city):
    w = city["world"]
    for n in range(5):
        upcoming(session, w.team_a, f"活动{n}", hours_ahead=n + 1)
    session.commit()
    f = finding.FindFilter(zone=ZONE)
    second = finding.find_activities(session=session, volunteer_id=w.volunteer.id, f=f, now=NOW, page=2, per_page=2)
    assert (second.total, second.pages, [i.activity.title for i in second.items]) == (5, 3, ["活动2", "活动3"])
    beyond = finding.find_activities(session=session, volunteer_id=w.volunteer.id, f=f, now=NOW, page=9, per_page=2)
    assert beyond.page == 3 and [i.activity.title for i in beyond.items] == ["活动4"]


def test_who_may_see_an_activity_page(session, city):
    w = city["world"]
    team_only = upcoming(session, w.team_a, "A队内部", hours_ahead=1, audience="team")
    street_only = upcoming(session, city["team_district"], "面向东风街道", hours_ahead=1, audience="unit",
                           audience_unit_id=city["dongfeng"].id)
    public = upcoming(session, w.team_b, "全市", hours_ahead=1)
    session.commit()

    def sees(volunteer, activity):
        return finding.visible_activity(session=session, volunteer_id=volunteer.id, activity_id=activity.id) \
            is not None

    assert sees(w.member_a, team_only) and sees(w.leader_a, team_only)
    assert not sees(w.volunteer, team_only) and not sees(w.member_b, team_only) and not sees(w.leader_b, team_only)
    assert not sees(w.volunteer, street_only) and sees(w.volunteer, public)
    assert not sees(w.office, public)  # the office has its own pages
    # Someone signed up keeps seeing it (e.g. after moving house).
    session.add(Signup(activity_id=street_only.id, volunteer_id=w.volunteer.id, status="admitted"))
    session.commit()
    assert sees(w.volunteer, street_only)
    assert finding.visible_activity(session=session, volunteer_id=w.volunteer.id, activity_id=999999) is None


def test_my_upcoming_admitted_first_then_pending_then_waitlisted(session, city):
    w = city["world"]
    now = utcnow()
    rows = {}
    for title, hours, status in [("候补", 1, "waitlisted"), ("待录用", 2, "pending"), ("已录用-后", 30, "admitted"),
                                 ("已录用-先", 3, "admitted"), ("已取消", 1, "cancelled"), ("未录用", 1, "declined")]:
        rows[title] = upcoming(session, w.team_b, title, hours_ahead=hours, now=now)
        session.add(Signup(activity_id=rows[title].id, volunteer_id=w.volunteer.id, status=status))
    past = upcoming(session, w.team_b, "已结束", hours_ahead=-5, now=now)
    session.add(Signup(activity_id=past.id, volunteer_id=w.volunteer.id, status="admitted"))
    session.commit()
    mine = finding.my_upcoming(session=session, volunteer_id=w.volunteer.id)
    assert [item.activity.title for item in mine] == ["已录用-先", "已录用-后", "待录用", "候补"]
    assert [item.signup.status for item in mine] == ["admitted", "admitted", "pending", "waitlisted"]


# --- the pages --------------------------------------------------------------------------------------


def test_find_page_lists_nearest_first_with_places_and_links(client, auth, session, city):
    w = city["world"]
    now = utcnow()
    far = upcoming(session, w.team_b, "河西的活动", hours_ahead=2, now=now, capacity=5, admitted_count=1)
    near = upcoming(session, w.team_a, "清和的活动", hours_ahead=20, now=now)
    upcoming(session, w.team_b, "B队内部", hours_ahead=3, now=now, audience="team")
    session.commit()
    auth.login(w.volunteer.phone)
    html = client.get("/activities/find").get_data(as_text=True)
    assert html.index("清和的活动") < html.index("河西的活动")
    assert "B队内部" not in html
    assert f'/activities/{near.id}/info' in html and f'/activities/{far.id}/info' in html
    assert "剩余 4 个名额" in html and "不限名额" in html and "本社区" in html
    filtered = client.get(f"/activities/find?area={w.district2.id}").get_data(as_text=True)
    assert "河西的活动" in filtered and "清和的活动" not in filtered


@pytest.mark.parametrize("query, message", [
    ("from=not-a-date", "不是日期"),
    ("from=2026-03-05&to=2026-03-01", "结束日期早于开始日期"),
    ("theme=%3Cscript%3E", "没有"),
    ("area=999999", "请从列表中选择"),
    ("page=abc&area=", None),
])
def test_bad_filters_give_a_message_not_a_500(client, auth, world, query, message):
    auth.login(world.volunteer.phone)
    response = client.get(f"/activities/find?{query}")
    html = response.get_data(as_text=True)
    if message is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 400 and message in html and 'id="find-error"' in html
        assert "<script>" not in html


def test_info_page_shows_the_way_there_and_the_sign_up_state(client, auth, session, city):
    w = city["world"]
    activity = upcoming(session, w.team_a, "河边捡垃圾", hours_ahead=30, now=utcnow(), capacity=20, admitted_count=5,
                        meeting_point="东门岗亭", meeting_lat=39.1, meeting_lng=117.2, requirements="带手套\n穿运动鞋",
                        theme_code="sanitation")
    session.add(Signup(activity_id=activity.id, volunteer_id=w.volunteer.id, status="waitlisted"))
    session.commit()
    auth.login(w.volunteer.phone)
    response = client.get(f"/activities/{activity.id}/info")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("河边捡垃圾", "环境卫生", "清和社区志愿服务队", "东门岗亭", "带手套", "剩余 15/20 个名额", "候补",
                 "报名截止"):
        assert text in html, text
    assert 'href="https://uri.amap.com/marker?position=117.200000%2C39.100000' in html


def test_info_page_for_those_outside_the_audience_is_404(client, auth, session, city):
    w = city["world"]
    team_only = upcoming(session, w.team_b, "B队内部", hours_ahead=3, now=utcnow(), audience="team")
    session.commit()
    auth.login(w.volunteer.phone)
    assert client.get(f"/activities/{team_only.id}/info").status_code == 404
    auth.logout()
    auth.login(w.member_b.phone)
    assert client.get(f"/activities/{team_only.id}/info").status_code == 200


def test_a_member_sees_the_team_page_with_leaders_names_and_no_phones(client, auth, session, city):
    w = city["world"]
    w.team_a.contact_phone = "13912345678"
    session.add(w.team_a)
    activity = upcoming(session, w.team_a, "周六义诊", hours_ahead=30, now=utcnow(), audience="team")
    session.commit()
    auth.login(w.member_a.phone)
    html = client.get(f"/teams/{w.team_a.id}").get_data(as_text=True)
    assert "李队长" in html and "周六义诊" in html and f"/activities/{activity.id}/info" in html
    assert not re.search(r"1[3-9]\d[\d*]{4}\d{4}", html), "a phone number on a member's team page"
    assert "/members" not in html and "/invite" not in html
    listing = client.get(f"/teams/{w.team_a.id}/activities")
    assert listing.status_code == 200 and f"/activities/{activity.id}/info" in listing.get_data(as_text=True)
    # Leaders keep their own pages.
    auth.logout()
    auth.login(w.leader_a.phone)
    assert f"/teams/{w.team_a.id}/members" in client.get(f"/teams/{w.team_a.id}").get_data(as_text=True)
    assert "/activities/new" in client.get(f"/teams/{w.team_a.id}/activities").get_data(as_text=True)
    # Not a member: 404, as before.
    auth.logout()
    auth.login(w.member_b.phone)
    assert client.get(f"/teams/{w.team_a.id}").status_code == 404
    assert client.get(f"/teams/{w.team_a.id}/activities").status_code == 404


def test_home_shows_my_activities_first_with_the_way_there(client, auth, session, city):
    w = city["world"]
    admitted = upcoming(session, w.team_b, "已录用的活动", hours_ahead=30, now=utcnow(), meeting_point="北门",
                        meeting_lat=39.0, meeting_lng=117.0)
    session.add(Signup(activity_id=admitted.id, volunteer_id=w.volunteer.id, status="admitted"))
    session.commit()
    auth.login(w.volunteer.phone)
    html = client.get("/").get_data(as_text=True)
    assert html.index("我的活动") < html.index("我的服务")
    assert "已录用的活动" in html and "已录用" in html and "北门" in html and "uri.amap.com" in html
    assert 'href="/activities/find"' in html and "找活动" in html


def test_english_pages(client, auth, session, city):
    w = city["world"]
    activity = upcoming(session, w.team_a, "x", hours_ahead=30, now=utcnow(), capacity=3)
    session.commit()
    client.set_cookie("lang", "en")
    auth.login(w.member_a.phone)
    assert "Find activities" in client.get("/activities/find").get_data(as_text=True)
    assert "3 of 3 places left" in client.get(f"/activities/{activity.id}/info").get_data(as_text=True)
    assert "Upcoming activities" in client.get(f"/teams/{w.team_a.id}").get_data(as_text=True)
    assert "My activities" in client.get("/").get_data(as_text=True)


def test_the_office_has_no_find_page_nor_the_menu_entry(client, auth, world):
    auth.login(world.office.phone)
    assert client.get("/activities/find").status_code == 404
    assert "/activities/find" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(world.volunteer.phone)
    assert '<li><a href="/activities/find">找活动</a></li>' in client.get("/me").get_data(as_text=True)


def test_the_date_of_a_filter_is_a_local_day():
    assert finding._local_midnight(date(2026, 3, 4), ZONE) == datetime(2026, 3, 3, 16, 0, tzinfo=timezone.utc)


def test_signups_open_says_what_the_list_says(session, city):
    w = city["world"]
    rows = [upcoming(session, w.team_a, "可报名", hours_ahead=5),
            upcoming(session, w.team_a, "已截止", hours_ahead=5, signup_deadline=NOW - timedelta(minutes=1)),
            upcoming(session, w.team_a, "进行中", hours_ahead=-1, status="open"),
            upcoming(session, w.team_a, "已取消", hours_ahead=5, status="cancelled")]
    session.commit()
    assert [finding.signups_open(a, NOW) for a in rows] == [True, False, False, False]
    assert titles(session, w.volunteer) == ["可报名"]


def test_info_page_says_when_sign_ups_are_closed(client, auth, session, city):
    w = city["world"]
    now = utcnow()
    late = upcoming(session, w.team_a, "已截止", hours_ahead=5, now=now, signup_deadline=now - timedelta(minutes=5))
    session.commit()
    auth.login(w.member_a.phone)
    html = client.get(f"/activities/{late.id}/info").get_data(as_text=True)
    assert "报名已截止" in html
