"""Property tests of the roster importer (teams/roster_import/): any bytes give a table or a clear file
error; any rows are written all or nothing, exactly as validated, with the audit chain intact."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from volunteer_app import audit
from volunteer_app.accounts.phone import normalise_phone
from volunteer_app.db import _bind
from volunteer_app.models import Membership, Volunteer
from volunteer_app.teams.roster_import.apply import ROW_MESSAGES, validate_and_write
from volunteer_app.teams.roster_import.parse import ImportFileError, read_table

HEADER = ["姓名", "手机号", "社区编码", "队伍名称", "角色"]
DB_SETTINGS = settings(max_examples=40, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

valid_phones = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"),
                         st.text(alphabet="0123456789", min_size=9, max_size=9))
phones = st.one_of(
    valid_phones,
    valid_phones.map(lambda p: f"+86 {p[:3]} {p[3:7]} {p[7:]}"),
    valid_phones.map(lambda p: p.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    st.sampled_from(["", "12345", "1380013800", "138001380001", "=1+1", "abc", "1" * 200]),
)
names = st.one_of(
    st.sampled_from(["张三", "  李四  ", "=HYPERLINK(\"x\")", "+赵六", "<script>x</script>", "", "王" * 41,
                     "孙\u200b七", "Ahmed \u202eevil"]),
    st.text(max_size=12),
)
units = st.sampled_from(["D01-S01-C01", "d01-s01-c01", "清和社区", "D01", "D01-S01", "NOPE", ""])
teams = st.sampled_from(["", "", "清和社区志愿服务队", "永安社区志愿服务队", "不存在的队"])
roles = st.sampled_from(["", "队员", "队长", "member", "boss"])
rows = st.lists(st.tuples(names, phones, units, teams, roles), min_size=1, max_size=8)


def as_csv(table_rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(table_rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(table_rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in table_rows:  # a worksheet cannot hold control characters at all; a CSV can
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["roster.csv", "roster.xlsx", "roster.xls", "roster", ""]))
@example(b"", "roster.csv")
@example(b"PK\x03\x04" + b"\x00" * 60, "roster.xlsx")  # a zip header with nothing behind it
@example(b"\xef\xbb\xbf\xe5\xa7\x93\xe5\x90\x8d\n", "roster.csv")  # only a header
@example("姓名,手机号,社区编码\n张三,13800000000,D01\n".encode("gb18030"), "roster.csv")
def test_any_bytes_give_a_table_or_a_file_error(data, filename):
    try:
        table = read_table("volunteers", filename, data)
    except ImportFileError as exc:
        assert exc.code in ImportFileError.messages
    else:
        assert table.rows and {"name", "phone", "unit"} <= set(table.columns)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=8), max_size=6), max_size=6), st.permutations(HEADER))
def test_any_csv_cells_give_a_table_or_a_file_error(cells, header):
    data = as_csv([header[:3], *cells]) if cells else as_csv([])
    try:
        read_table("volunteers", "x.csv", data)
    except ImportFileError as exc:
        assert exc.code in ImportFileError.messages


@pytest.fixture
def importer(app, world):
    """Run one import the way the job does: validate and write in one transaction, commit only if clean."""
    engine = app.extensions["db_engine"]

    def run(data: bytes, filename: str = "roster.csv"):
        with Session(bind=_bind(engine, True), expire_on_commit=False) as session:
            table = read_table("volunteers", filename, data)
            result = validate_and_write(session=session, kind="volunteers", table=table, actor_id=world.office.id)
            if result.ok:
                session.commit()
            else:
                session.rollback()
            return table, result

    def counts():
        with Session(engine) as session:
            return (session.exec(select(func.count(Volunteer.id))).one(),
                    session.exec(select(func.count(Membership.id))).one())

    def verify_chain():
        with Session(engine) as session:
            return audit.verify(session=session)

    run.counts, run.verify_chain, run.engine = counts, verify_chain, engine
    return run


@DB_SETTINGS
@given(rows, st.sampled_from(["csv", "xlsx"]))
def test_rows_are_written_all_or_nothing_exactly_as_validated(importer, table_rows, fmt):
    data = as_csv(table_rows) if fmt == "csv" else as_xlsx(table_rows)
    volunteers_before, memberships_before = importer.counts()
    try:
        table, result = importer(data, f"roster.{fmt}")
    except ImportFileError as exc:  # e.g. a NUL byte: the file is refused as a whole
        assert exc.code in ImportFileError.messages
        assert importer.counts() == (volunteers_before, memberships_before)
        return
    volunteers_after, memberships_after = importer.counts()
    numbers = {number for number, _cells in table.rows}
    assert all(error.row in numbers and error.code in ROW_MESSAGES for error in result.errors)
    if result.errors:
        assert (volunteers_after, memberships_after) == (volunteers_before, memberships_before)
        return
    assert volunteers_after - volunteers_before == result.created == len(table.rows)
    assert memberships_after - memberships_before == result.memberships
    with Session(importer.engine) as session:
        for number, cells in table.rows:
            phone = normalise_phone(cells[1])
            stored = session.exec(select(Volunteer).where(Volunteer.phone == phone)).one()
            assert stored.name == cells[0].strip()  # text stays text: "=1+1" is a name, never a formula
            assert stored.phone_tail == phone[-4:]
    assert importer.verify_chain() is None


@DB_SETTINGS
@given(rows, st.data())
def test_the_same_person_twice_in_a_file_writes_nothing(importer, table_rows, data):
    duplicate_phone = data.draw(valid_phones)
    written_differently = f"{duplicate_phone[:3]}-{duplicate_phone[3:7]}-{duplicate_phone[7:]}"
    table_rows = [*table_rows, ("甲", duplicate_phone, "D01-S01-C01", "", ""),
                  ("乙", written_differently, "D01-S01-C01", "", "")]
    before = importer.counts()
    try:
        _table, result = importer(as_csv(table_rows))
    except ImportFileError:  # refused as a whole (a NUL byte): nothing written either
        assert importer.counts() == before
        return
    assert not result.ok
    assert {e.code for e in result.errors} & {"duplicate_in_file", "phone_registered"}
    assert importer.counts() == before


@DB_SETTINGS
@given(st.lists(valid_phones, min_size=1, max_size=5, unique=True))
def test_importing_a_file_twice_writes_it_once(importer, numbers):
    data = as_csv([(f"队员{i}", n, "D01-S01-C01", "清和社区志愿服务队", "队员") for i, n in enumerate(numbers)])
    before = importer.counts()
    _table, first = importer(data)
    if not first.ok:  # a number an earlier example already registered
        assert {e.code for e in first.errors} == {"phone_registered"}
        return
    middle = importer.counts()
    assert middle == (before[0] + len(numbers), before[1] + len(numbers))
    _table, second = importer(data)
    assert {e.code for e in second.errors} == {"phone_registered"} and importer.counts() == middle
    assert importer.verify_chain() is None
