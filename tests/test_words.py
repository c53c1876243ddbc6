"""Words a Chinese reader sees (issue 17 point 4): full-width punctuation, one word for one thing, and the office's
count of team applications waiting on its 队伍 menu entry."""
from __future__ import annotations

import csv
import io
import re

from volunteer_app.teams.service import decide_team

from . import factories
from .test_i18n import load_catalogs, singular

CJK = r"[\u3400-\u4dbf\u4e00-\u9fff]"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-+ #0]*\d*(?:\.\d+)?[sdf]|%[sd]")
HALF_WIDTH_NEXT_TO_CHINESE = re.compile(rf"{CJK}[,;:?!()]|[,;:?!()]{CJK}")


def chinese_strings() -> list[tuple[str, str, str]]:
    """(area, msgid, msgstr) of every translation."""
    found = []
    for area, catalog in load_catalogs().items():
        for message in catalog:
            if message.id:
                strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
                found += [(area, singular(message), text) for text in strings if text]
    return found


def test_chinese_uses_full_width_punctuation():
    wrong = [f"{area}: {msgid!r} -> {text!r}" for area, msgid, text in chinese_strings()
             if HALF_WIDTH_NEXT_TO_CHINESE.search(PLACEHOLDER.sub("X", text))]
    assert not wrong, "use ，。：；？！（） in Chinese:\n  " + "\n  ".join(wrong)


def test_the_punctuation_check_can_fail():
    assert HALF_WIDTH_NEXT_TO_CHINESE.search("请先登录,再签到")
    assert not HALF_WIDTH_NEXT_TO_CHINESE.search(PLACEHOLDER.sub("X", "%(name)s（%(phone)s）"))


def test_one_word_for_one_thing():
    words = {msgid: text for _area, msgid, text in chinese_strings()}
    assert words["Log out"] == "退出登录" and words["Leave"] == "退出队伍"
    assert "退出" not in {text for _area, _msgid, text in chinese_strings()}  # a bare 退出 says neither
    assert words["Open now"] == words["open"] and words["Upcoming"] == words["upcoming"]
    texts = " ".join(text for _area, _msgid, text in chinese_strings())
    for translationese in ("数字背后", "考勤", "本视图", "成员身份"):
        assert translationese not in texts


def pending_badge(client) -> str | None:
    match = re.search(r'<span class="badge" id="pending-teams">(\d+)</span>', client.get("/").get_data(as_text=True))
    return match.group(1) if match else None


def test_the_office_sees_how_many_team_applications_wait(client, auth, session, world):
    first = factories.make_team(session, "新建队一", world.community, status="pending")
    factories.make_team(session, "新建队二", world.community, status="pending")
    factories.make_team(session, "河西新队", world.community2, status="pending")
    session.commit()
    auth.login(world.office.phone)
    assert pending_badge(client) == "3"
    page = client.get("/office").get_data(as_text=True)
    assert 'aria-label="队伍，3\u00a0支待审核"' in page
    decide_team(session=session, team=first, approve=False, office_id=world.office.id, reason="材料不全")
    session.commit()
    assert pending_badge(client) == "2"


def test_a_district_office_counts_only_its_district(client, auth, session, world):
    factories.make_team(session, "新建队一", world.community, status="pending")
    factories.make_team(session, "河西新队", world.community2, status="pending")
    session.commit()
    auth.login(world.office_district2.phone)
    assert pending_badge(client) == "1"


def test_no_count_when_nothing_waits_and_none_for_volunteers(client, auth, session, world):
    factories.make_team(session, "新建队一", world.community, status="pending")
    session.commit()
    auth.login(world.leader_a.phone)
    assert pending_badge(client) is None
    client.post("/logout")


def test_no_badge_for_an_office_with_nothing_waiting(client, auth, world):
    auth.login(world.office.phone)
    assert pending_badge(client) is None


def test_the_offices_exports_name_themes_and_how_recorded_in_chinese(client, auth, session, world):
    from . import reports_data
    from .reports_data import RANGE

    reports_data.build(session, world)
    auth.login(world.office.phone)
    for kind in ("records", "tallies"):
        client.set_cookie("lang", "en")  # the office's exports are Chinese whatever the page language
        text = client.get("/office/export.csv", query_string={**RANGE, "kind": kind}).get_data().decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        cells = {cell for row in table for cell in row}
        assert "文明交通" in cells, kind
        assert not cells & {"civilized_traffic", "sanitation", "self_scan", "leader_scan", "leader_manual", "retro_log"}
        if kind == "records":
            header = table[0]
            assert header[2] == "服务主题" and "记录方式" in header
            assert {row[header.index("记录方式")] for row in table[1:]} <= {"自助扫码", "队长扫码", "队长手工登记", "事后补录"}
