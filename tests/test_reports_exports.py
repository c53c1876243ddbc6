"""Exports: CSV with a BOM and Chinese headers, XLSX via openpyxl, streamed, formula-safe, masked phones."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from volunteer_app.reports.export import neutralise

from . import reports_data
from .reports_data import EXPECTED, RANGE


@pytest.fixture
def data(session, world):
    return reports_data.build(session, world)


@pytest.mark.parametrize("value", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["文明交通", "a=b", 5, None, ""])
def test_other_values_are_kept(value):
    assert neutralise(value) == value


def test_records_csv(client, auth, world, data):
    auth.login(world.office.phone)
    response = client.get("/office/export.csv", query_string={**RANGE, "kind": "records"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["活动编号", "活动名称", "服务主题"] and "认定时长（分钟）" in header
    assert len(body) == EXPECTED["attendances"]
    minutes = header.index("认定时长（分钟）")
    assert sum(int(row[minutes]) for row in body) == EXPECTED["minutes"]
    assert "'=HYPERLINK(\"x\")" in {row[1] for row in body}
    phones = {row[header.index("手机号（脱敏）")] for row in body}
    assert "138****0003" in phones and not any(p.isdigit() for p in phones)
    assert "录错人" not in raw.decode("utf-8")  # the voided record is not exported


def test_records_xlsx(client, auth, world, data):
    auth.login(world.office.phone)
    response = client.get("/office/export.xlsx", query_string={**RANGE, "kind": "records", "theme": "civilized_traffic"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "活动编号"
    assert len(rows) - 1 == EXPECTED["traffic"]["attendances"]
    assert sum(row[12] for row in rows[1:]) == EXPECTED["traffic"]["minutes"]
    assert all(not str(value).startswith("=") for row in rows for value in row if value is not None)


def test_tallies_xlsx_summary_equals_the_dashboard(client, auth, world, data):
    auth.login(world.office.phone)
    response = client.get("/office/export.xlsx", query_string=RANGE)  # kind defaults to tallies
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    assert book.sheetnames == ["汇总", "按服务主题", "按月份", "按区域", "各队伍（按人次排序）"]
    teams = list(book["各队伍（按人次排序）"].iter_rows(values_only=True))[1:]
    assert [row[0] for row in teams] == [world.team_a.name, world.team_b.name]  # ranked by 人次: 4, then 3
    assert [row[4] for row in teams] == ["50%", "100%"]
    summary = dict(book["汇总"].iter_rows(values_only=True))
    assert summary["场次"] == EXPECTED["activities"]
    assert summary["人次"] == EXPECTED["attendances"]
    assert summary["人数"] == EXPECTED["volunteers"]
    assert summary["时长（小时）"] == EXPECTED["minutes"] / 60
    months = list(book["按月份"].iter_rows(values_only=True))
    assert months[0] == ("名称", "场次", "人次", "时长（小时）", "现场记录占比")
    assert sum(row[1] for row in months[1:]) == EXPECTED["activities"]


def test_tallies_csv_has_sections(client, auth, world, data):
    auth.login(world.office.phone)
    text = client.get("/office/export.csv", query_string={**RANGE, "kind": "tallies"}).get_data().decode("utf-8-sig")
    assert "按服务主题" in text and "各队伍（按人次排序）" in text
    assert "场次,4" in text.replace("\r\n", "\n")


def test_unknown_kind_is_refused(client, auth, world, data):
    auth.login(world.office.phone)
    assert client.get("/office/export.csv", query_string={"kind": "everything"}).status_code == 400


def test_district_office_exports_only_its_district(client, auth, world, data):
    auth.login(world.office_district2.phone)
    text = client.get("/office/export.csv", query_string={**RANGE, "kind": "records"}).get_data().decode("utf-8-sig")
    body = list(csv.reader(io.StringIO(text)))[1:]
    assert len(body) == EXPECTED["district2"]["attendances"]
    assert all(row[4] == world.community2.name for row in body)
    assert client.get("/office/export.xlsx", query_string={**RANGE, "unit": world.district.id}).status_code == 400
