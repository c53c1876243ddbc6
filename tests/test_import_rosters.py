"""Roster onboarding: every row checked, all or nothing, row-by-row report; web upload in the background; CLI."""
from __future__ import annotations

import csv
import io
import time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.audit import verify
from volunteer_app.models import AuditEvent, ImportJob, Membership, Team, Volunteer
from volunteer_app.teams.roster_import.apply import validate_and_write
from volunteer_app.teams.roster_import.parse import ImportFileError, read_table

VOLUNTEER_HEADER = ["姓名", "手机号", "社区编码", "队伍名称", "角色"]
TEAM_HEADER = ["队伍名称", "单位编码", "队伍简介", "联系人", "联系电话", "加入方式"]


def xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def run(session, kind, filename, data, scope=None, actor_id=None):
    table = read_table(kind, filename, data)
    result = validate_and_write(session=session, kind=kind, table=table, actor_id=actor_id, scope=scope)
    session.commit()
    return result


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def good_volunteers(world):
    return [VOLUNTEER_HEADER,
            ["周一", "13900000001", "D01-S01-C01", world.team_a.name, "队员"],
            ["周二", "+86 139-0000-0002", "清和社区", world.team_a.name, "队长"],
            ["周三", "１３９０００００００３", "D02-S01-C01", "", ""]]


def test_good_volunteer_file_is_written_in_one_go(world, session):
    before = count(session, AuditEvent)
    result = run(session, "volunteers", "名册.xlsx", xlsx(good_volunteers(world)), actor_id=world.office.id)
    assert result.ok and (result.created, result.memberships) == (3, 2)
    people = {v.name: v for v in session.exec(select(Volunteer).where(Volunteer.name.like("周%")))}
    assert people["周二"].phone == "13900000002" and people["周三"].home_unit_id == world.community2.id
    assert people["周一"].password_hash == "!"  # no password until a reset link
    roles = dict(session.exec(select(Membership.volunteer_id, Membership.role).where(
        Membership.volunteer_id.in_([p.id for p in people.values()]))).all())
    assert roles == {people["周一"].id: "member", people["周二"].id: "leader"}
    assert count(session, AuditEvent) - before == 5  # 3 volunteers, 2 memberships
    assert verify(session=session) is None


def test_one_bad_row_writes_nothing_and_reports_every_problem(world, session):
    rows = good_volunteers(world) + [
        ["", "13900000004", "D01-S01-C01", "", ""],  # missing name
        ["周五", "1390000000", "D01-S01-C01", "", ""],  # 10 digits
        ["周六", "13900000001", "D01-S01-C01", "", ""],  # duplicate in the file
        ["周七", "138 0000 0003", "D01-S01-C01", "", ""],  # already registered, other format
        ["周八", "13900000008", "NOPE", "", ""],  # unknown unit
        ["周九", "13900000009", "D01-S01", "", ""],  # a street, not a community
        ["周十", "13900000010", "D01-S01-C01", "没有的队", ""],  # unknown team
        ["周十一", "13900000011", "D01-S01-C01", "", "会长"],  # bad role
        ["周\u200b二", "13900000012", "D01-S01-C01", "", ""],  # zero-width in the name
    ]
    result = run(session, "volunteers", "bad.csv", csv_bytes(rows))
    assert not result.ok
    found = {(e.row, e.column, e.code) for e in result.errors}
    assert found == {
        (5, "name", "missing"), (6, "phone", "bad_phone"), (7, "phone", "duplicate_in_file"),
        (8, "phone", "phone_registered"), (9, "unit", "unknown_unit"), (10, "unit", "not_community"),
        (11, "team", "unknown_team"), (12, "role", "bad_role"), (13, "name", "bad_name"),
    }
    assert next(e for e in result.errors if e.code == "duplicate_in_file").params == {"row": 2}
    assert count(session, Volunteer, Volunteer.name.like("周%")) == 0


def test_formulas_are_data(world, session):
    rows = [VOLUNTEER_HEADER, ["=HYPERLINK(\"http://x\")", "13900000001", "D01-S01-C01", "", ""],
            ["@SUM(1)", "13900000002", "D01-S01-C01", "", ""], ["+1", "13900000003", "D01-S01-C01", "", ""]]
    result = run(session, "volunteers", "f.xlsx", xlsx(rows))
    assert result.ok
    names = set(session.exec(select(Volunteer.name).where(Volunteer.phone.like("139000000%"))).all())
    assert names == {"=HYPERLINK(\"http://x\")", "@SUM(1)", "+1"}


def test_numeric_phone_cells(world, session):
    rows = [VOLUNTEER_HEADER, ["周一", 13900000001, "D01-S01-C01", None, None],
            ["周二", 13900000002.0, "D01-S01-C01", None, None]]
    assert run(session, "volunteers", "n.xlsx", xlsx(rows)).ok


def test_gb18030_csv_from_excel(world, session):
    rows = [VOLUNTEER_HEADER, ["周一", "13900000001", "清和社区", "", ""]]
    assert run(session, "volunteers", "excel.csv", csv_bytes(rows, "gb18030")).ok


def test_extra_columns_are_ignored_and_named(world, session):
    rows = [["序号"] + VOLUNTEER_HEADER, [1, "周一", "13900000001", "D01-S01-C01", "", ""]]
    result = run(session, "volunteers", "x.xlsx", xlsx(rows))
    assert result.ok and result.ignored_columns == ["序号"]


@pytest.mark.parametrize("filename, data, code", [
    ("a.xlsx", b"%PDF-1.4 not a workbook", "unreadable"),
    ("a.csv", b"", "empty"),
    ("a.csv", "姓名,手机号,社区编码\n".encode(), "empty"),
    ("a.pdf", b"whatever", "bad_type"),
    ("a.csv", "姓名,社区编码\n张三,D01-S01-C01\n".encode(), "missing_columns"),
    ("a.csv", "姓名,手机号,手机,社区编码\n张三,1,1,D01\n".encode(), "duplicate_columns"),
    ("a.csv", b"\x00\x01\x02binary", "unreadable"),
])
def test_file_level_problems(filename, data, code):
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", filename, data)
    assert excinfo.value.code == code


def test_teams_file(world, session):
    rows = [TEAM_HEADER,
            ["南市街道应急队", "D01-S01", "应急救援", "王五", "13900000001", "自动"],
            ["永安社区文明劝导队", "D02-S01-C01", "", "", "", ""]]
    result = run(session, "teams", "teams.xlsx", xlsx(rows), actor_id=world.office.id)
    assert result.ok and result.created == 2
    team = session.exec(select(Team).where(Team.name == "南市街道应急队")).one()
    assert (team.status, team.join_policy, team.unit_id, team.contact_phone) == ("active", "auto", world.street.id,
                                                                                 "13900000001")
    assert team.invite_nonce and team.decided_by_id == world.office.id
    assert verify(session=session) is None


def test_bad_teams_file(world, session):
    rows = [TEAM_HEADER,
            [world.team_a.name, "D01-S01-C01", "", "", "", ""],  # exists
            ["新队", "D01-S01-C01", "", "", "", ""],
            ["新队", "D01-S01-C01", "", "", "", ""],  # duplicate in the file
            ["另一队", "D01-S01-C01", "", "", "123", "随便"]]
    result = run(session, "teams", "t.csv", csv_bytes(rows))
    assert {(e.row, e.code) for e in result.errors} == {(2, "team_exists"), (4, "duplicate_in_file"),
                                                        (5, "bad_phone"), (5, "bad_join_policy")}
    assert count(session, Team) == 2


def test_district_office_imports_only_into_its_district(world, session):
    rows = [VOLUNTEER_HEADER, ["周一", "13900000001", "D01-S01-C01", "", ""]]
    table = read_table("volunteers", "x.csv", csv_bytes(rows))
    scope = f"/{world.district2.id}/"
    result = validate_and_write(session=session, kind="volunteers", table=table, actor_id=None, scope=scope)
    assert [e.code for e in result.errors] == ["unknown_unit"]


# --- the web upload --------------------------------------------------------------------------------


def wait_for(client, url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        if 'data-status="done"' in page or 'data-status="failed"' in page:
            return page
        assert time.monotonic() < deadline, "the import job did not finish"
        time.sleep(0.1)


def upload(client, kind, filename, data):
    return client.post("/office/import", data={"kind": kind, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_web_upload_with_a_bad_row_shows_the_report(client, auth, world, session):
    auth.login(world.office.phone)
    rows = good_volunteers(world) + [["周九", "12345", "D01-S01-C01", "", ""]]
    response = upload(client, "volunteers", "名册.xlsx", xlsx(rows))
    assert response.status_code == 303
    url = response.headers["Location"]
    page = wait_for(client, url)
    assert "未写入" in page and "不是11位中国大陆手机号" in page and "12345" in page
    report = client.get(url + "/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["行号", "列", "值", "问题"] and rows[1][0] == "5" and rows[1][2] == "12345"
    session.rollback()
    assert count(session, Volunteer, Volunteer.name.like("周%")) == 0
    job = session.exec(select(ImportJob)).one()
    assert (job.status, job.error_count, job.created_count) == ("failed", 1, 0)


def test_web_upload_of_a_good_file_shows_the_counts(client, auth, world, session):
    auth.login(world.office.phone)
    response = upload(client, "volunteers", "good.csv", csv_bytes(good_volunteers(world)))
    page = wait_for(client, response.headers["Location"])
    assert "已导入3名志愿者，其中2人已加入队伍" in page
    full = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in full and "import-result" in full
    listing = client.get("/office/import").get_data(as_text=True)
    assert "good.csv" in listing


def test_report_csv_cells_are_never_formulas(client, auth, world):
    auth.login(world.office.phone)
    rows = [VOLUNTEER_HEADER, ["=1+1", "=cmd|' /C calc'!A0", "D01-S01-C01", "", ""]]
    response = upload(client, "volunteers", "evil.csv", csv_bytes(rows))
    wait_for(client, response.headers["Location"])
    text = client.get(response.headers["Location"] + "/report.csv").get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and not any(c.startswith(("=", "+", "@")) for c in cells)


def test_web_upload_refuses_other_files(client, auth, world):
    auth.login(world.office.phone)
    response = upload(client, "volunteers", "x.pdf", b"%PDF")
    assert response.status_code == 400 and "请上传 .xlsx 或 .csv 文件" in response.get_data(as_text=True)
    assert client.post("/office/import", data={"kind": "volunteers"}).status_code == 400
    response = upload(client, "people", "x.csv", b"a,b")
    assert response.status_code == 400 and "请选择文件内容" in response.get_data(as_text=True)
    response = upload(client, "volunteers", "x.xlsx", b"%PDF renamed")
    page = wait_for(client, response.headers["Location"])
    assert "无法读取此文件" in page


def test_templates_download(client, auth, world):
    auth.login(world.office.phone)
    workbook = load_workbook(io.BytesIO(client.get("/office/import/template/volunteers.xlsx").data))
    assert [c.value for c in workbook.active[1]] == VOLUNTEER_HEADER
    text = client.get("/office/import/template/teams.csv").get_data(as_text=True)
    assert text.lstrip("\ufeff").splitlines()[0] == ",".join(TEAM_HEADER)
    assert client.get("/office/import/template/other.csv").status_code == 404
    assert client.get("/office/import/template/teams.pdf").status_code == 404


def test_district_office_sees_only_its_own_jobs(client, auth, world, session):
    job = ImportJob(kind="volunteers", filename="city.xlsx", status="done", created_by_id=world.office.id)
    session.add(job)
    session.commit()
    auth.login(world.office_district2.phone)
    assert client.get(f"/office/import/{job.id}").status_code == 404
    assert client.get(f"/office/import/{job.id}/report.csv").status_code == 404
    auth.logout()
    auth.login(world.office.phone)
    assert client.get(f"/office/import/{job.id}").status_code == 200


# --- the command line --------------------------------------------------------------------------------


def test_cli_imports_teams_then_volunteers(runner, world, session, tmp_path):
    teams = tmp_path / "teams.xlsx"
    teams.write_bytes(xlsx([TEAM_HEADER, ["南市街道应急队", "D01-S01", "", "", "", ""]]))
    result = runner.invoke(args=["import", "teams", str(teams), "--as", world.office.phone])
    assert result.exit_code == 0, result.output
    assert "Imported 1 teams" in result.output
    people = tmp_path / "people.csv"
    people.write_bytes(csv_bytes([VOLUNTEER_HEADER, ["周一", "13900000001", "D01-S01-C01", "南市街道应急队", "队长"]]))
    result = runner.invoke(args=["import", "volunteers", str(people)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 volunteers, 1 memberships" in result.output
    session.rollback()
    team = session.exec(select(Team).where(Team.name == "南市街道应急队")).one()
    assert session.exec(select(Membership).where(Membership.team_id == team.id)).one().role == "leader"


def test_cli_reports_bad_rows_and_writes_nothing(runner, world, session, tmp_path):
    people = tmp_path / "people.csv"
    people.write_bytes(csv_bytes([VOLUNTEER_HEADER, ["周一", "13900000001", "D01-S01-C01", "", ""],
                                  ["周二", "bad", "D01-S01-C01", "", ""]]))
    result = runner.invoke(args=["import", "volunteers", str(people)])
    assert result.exit_code != 0
    assert "row 3" in result.output and "Nothing imported" in result.output
    session.rollback()
    assert count(session, Volunteer, Volunteer.name.like("周%")) == 0


def test_progress_is_reported_while_reading_checking_and_writing(app, world, session):
    from volunteer_app.db import session_scope
    from volunteer_app.teams.roster_import.jobs import create_job, run_job

    rows = [VOLUNTEER_HEADER] + [[f"批量{i}", f"1370{i:07d}", "D01-S01-C01", "", ""] for i in range(6000)]
    seen = []
    with app.app_context():
        with session_scope() as scoped:
            job_id = create_job(session=scoped, kind="volunteers", filename="big.csv", actor_id=None)
        result = run_job(job_id=job_id, kind="volunteers", filename="big.csv", data=csv_bytes(rows), actor_id=None,
                         scope=None, progress=lambda *p: seen.append(p))
    assert result.ok and result.created == 6000
    assert ("validating", 5000, 0) in seen  # reading, total not known yet
    assert ("validating", 5000, 6000) in seen  # checking
    assert ("writing", 6000, 6000) in seen and seen[-1] == ("done", 6000, 6000)
    session.rollback()
    job = session.get(ImportJob, job_id)
    assert (job.status, job.created_count, job.processed_rows) == ("done", 6000, 6000)


def test_decompression_bomb_is_refused_before_parsing(monkeypatch):
    from volunteer_app.teams.roster_import import parse

    data = xlsx([VOLUNTEER_HEADER, ["周一", "13900000001", "D01-S01-C01", "", ""]])
    monkeypatch.setattr(parse, "MAX_UNPACKED_BYTES", 1000)  # the same check, at a size a test can build
    with pytest.raises(ImportFileError) as excinfo:
        read_table("volunteers", "bomb.xlsx", data)
    assert excinfo.value.code == "too_large"
