"""Roster imports: a workbook that declares a huge sheet is refused after bounded work, and every import is
audited whatever its columns (issue 12, points 3 and 6)."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.audit import verify
from volunteer_app.models import AuditEvent, ImportJob, Volunteer
from volunteer_app.teams.roster_import import parse
from volunteer_app.teams.roster_import.apply import validate_and_write
from volunteer_app.teams.roster_import.parse import ImportFileError, read_table

from .test_import_rosters import upload, wait_for

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def crafted_xlsx(rows: list[str], dimension: str = "A1:XFD1048576") -> bytes:
    """A workbook written by hand: the sheet declares `dimension` and holds the given <row> elements."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="{dimension}"/><sheetData>{"".join(rows)}</sheetData></worksheet>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


HEADER_ROW = ('<row r="1">' + _cell("A1", "姓名") + _cell("B1", "手机号") + _cell("C1", "社区编码") + "</row>")
LAST_ROW = '<row r="1048576">' + _cell("A1048576", "周一") + _cell("XFD1048576", "x") + "</row>"
# The whole sheet may be looked at, but never more cells than the budget allows.
CELL_BUDGET = (parse.MAX_SHEET_ROWS + 1) * parse.MAX_COLUMNS


@pytest.fixture
def counted_cells(monkeypatch):
    """Counts the cells the reader hands over, and stops the test if they pass the budget (without the
    bound, the crafted workbook below would keep a worker busy for many minutes)."""
    seen = {"rows": 0, "cells": 0}
    original = parse._xlsx_rows

    def counting(data):
        for number, cells in original(data):
            seen["rows"] += 1
            seen["cells"] += len(cells)
            assert seen["cells"] <= CELL_BUDGET, f"read {seen['cells']} cells: the sheet's work is not bounded"
            yield number, cells

    monkeypatch.setattr(parse, "_xlsx_rows", counting)
    return seen


def test_a_sheet_declaring_every_cell_is_refused_within_the_budget(counted_cells):
    data = crafted_xlsx([HEADER_ROW, LAST_ROW])
    assert len(data) < 5_000
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", "crafted.xlsx", data)
    assert excinfo.value.code == "sheet_too_large"
    assert counted_cells["rows"] <= parse.MAX_SHEET_ROWS + 1
    assert counted_cells["cells"] <= CELL_BUDGET


def test_wide_rows_are_read_only_as_far_as_the_column_bound(counted_cells):
    rows = [HEADER_ROW] + [f'<row r="{n}">' + _cell(f"A{n}", f"周{n}") + _cell(f"B{n}", f"139{n:08d}")
                           + _cell(f"C{n}", "D01-S01-C01") + _cell(f"XFD{n}", "far") + "</row>"
                           for n in range(2, 3002)]
    table = read_table("volunteers", "wide.xlsx", crafted_xlsx(rows))
    assert len(table.rows) == 3000 and table.rows[0] == (2, ["周2", "13900000002", "D01-S01-C01"])
    assert counted_cells["cells"] == 3001 * parse.MAX_COLUMNS


def test_a_declared_dimension_smaller_than_the_data_does_not_hide_rows():
    rows = [HEADER_ROW, '<row r="2">' + _cell("A2", "周一") + _cell("B2", "13900000001")
            + _cell("C2", "D01-S01-C01") + "</row>"]
    table = read_table("volunteers", "small.xlsx", crafted_xlsx(rows, dimension="A1:A1"))
    assert [cells for _number, cells in table.rows] == [["周一", "13900000001", "D01-S01-C01"]]


def test_the_crafted_upload_fails_with_a_clear_message_and_writes_nothing(client, auth, world, session,
                                                                          counted_cells):
    auth.login(world.office.phone)
    before = session.exec(select(func.count()).select_from(Volunteer)).one()
    response = upload(client, "volunteers", "crafted.xlsx", crafted_xlsx([HEADER_ROW, LAST_ROW]))
    assert response.status_code == 303
    page = wait_for(client, response.headers["Location"])
    assert "工作表过大或格式有误" in page
    session.rollback()
    assert session.exec(select(func.count()).select_from(Volunteer)).one() == before
    job = session.exec(select(ImportJob)).one()
    assert (job.status, job.created_count) == ("failed", 0)


CSV_HEADER = "姓名,手机号,社区编码\n"


@pytest.fixture
def counted_records(monkeypatch):
    """Counts the records the csv module builds and the widest of them (the module cannot stop inside one)."""
    seen = {"records": 0, "widest": 0}
    original = parse.csv.reader

    def counting(*args, **kwargs):
        for cells in original(*args, **kwargs):
            seen["records"] += 1
            seen["widest"] = max(seen["widest"], len(cells))
            yield cells

    monkeypatch.setattr(parse.csv, "reader", counting)
    return seen


def test_a_csv_line_of_commas_is_refused_before_the_csv_module_builds_it(counted_records):
    data = (CSV_HEADER + "周一,13900000001,D01-S01-C01" + "," * 1_000_000 + "\n").encode()
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", "commas.csv", data)
    assert excinfo.value.code == "sheet_too_large"
    assert counted_records["widest"] <= parse.MAX_CSV_DELIMITERS + 1


def test_a_csv_record_over_several_lines_shares_one_bound(counted_records):
    # One record: a quoted field holds the line breaks, so each line alone stays under the bound.
    line = "," * (parse.MAX_CSV_DELIMITERS // 2)
    data = (CSV_HEADER + '周一,13900000001,"D01\n' + line + '\n' + line + '\n' + line + '"\n').encode()
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", "multiline.csv", data)
    assert excinfo.value.code == "sheet_too_large"
    assert counted_records["records"] == 1  # the header; the long record was never built


def test_a_csv_within_the_bound_is_read_as_far_as_the_header(counted_records):
    far = "," * (parse.MAX_COLUMNS + 10) + "far"
    data = (CSV_HEADER + '周一,13900000001,D01-S01-C01' + far + '\n"周,二",13900000002,D01-S01-C01\n').encode()
    table = read_table("volunteers", "wide.csv", data)
    assert [cells for _number, cells in table.rows] == [["周一", "13900000001", "D01-S01-C01"],
                                                         ["周,二", "13900000002", "D01-S01-C01"]]


def test_a_csv_is_read_one_record_at_a_time_and_stops_at_the_row_bound(counted_records):
    data = (CSV_HEADER + "\n" * (parse.MAX_SHEET_ROWS + 10_000)).encode()
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", "blank.csv", data)
    assert excinfo.value.code == "sheet_too_large"
    assert counted_records["records"] == parse.MAX_SHEET_ROWS + 1


def test_the_crafted_csv_upload_fails_with_the_same_message(client, auth, world, session):
    auth.login(world.office.phone)
    data = (CSV_HEADER + "周一" + "," * 100_000 + "\n").encode()
    response = upload(client, "volunteers", "commas.csv", data)
    assert response.status_code == 303
    assert "工作表过大或格式有误" in wait_for(client, response.headers["Location"])


def test_a_volunteer_file_without_a_team_column_is_audited(world, session):
    data = ("姓名,手机号,社区编码\n周一,13900000001,D01-S01-C01\n周二,13900000002,D01-S01-C01\n"
            .encode("utf-8"))
    before = session.exec(select(func.max(AuditEvent.id))).one() or 0
    result = validate_and_write(session=session, kind="volunteers", table=read_table("volunteers", "v.csv", data),
                                actor_id=world.office.id)
    session.commit()
    assert result.ok and result.created == 2 and result.memberships == 0
    people = dict(session.exec(select(Volunteer.phone, Volunteer.id).where(
        Volunteer.phone.in_(["13900000001", "13900000002"]))).all())
    events = session.exec(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_type, e.object_id, e.actor_id) for e in events] == [
        ("volunteer.import", "volunteer", people["13900000001"], world.office.id),
        ("volunteer.import", "volunteer", people["13900000002"], world.office.id)]
    assert verify(session=session) is None


def test_every_imported_volunteer_is_audited_with_or_without_a_team(world, session):
    data = (f"姓名,手机号,社区编码,队伍名称\n周一,13900000001,D01-S01-C01,{world.team_a.name}\n"
            "周二,13900000002,D01-S01-C01,\n").encode("utf-8")
    before = session.exec(select(func.max(AuditEvent.id))).one() or 0
    result = validate_and_write(session=session, kind="volunteers", table=read_table("volunteers", "v.csv", data),
                                actor_id=world.office.id)
    session.commit()
    assert result.ok and (result.created, result.memberships) == (2, 1)
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert actions == ["volunteer.import", "volunteer.import", "membership.import"]
    assert verify(session=session) is None
