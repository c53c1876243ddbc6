"""Roster import speed: 166,000 volunteer rows (XLSX and CSV) into a fresh SQLite database.

    .venv/bin/python benchmarks/import_bench.py                 # 166,000 rows, XLSX then CSV
    .venv/bin/python benchmarks/import_bench.py --rows 20000 --formats csv

Builds a city (16 districts × 8 streets × 13 communities = 1,664 communities) and 660 active teams,
writes the roster files (every row valid, 4 in 5 people in a team, one leader per team), then runs
the same code path as `volunteer-app import volunteers FILE` (read, check every row, one transaction
with the memberships and their chained audit events) on a fresh copy of the database per format.
Prints one Markdown table row per format for docs/PERFORMANCE.md and checks what was written.
Local only: temp files, no network.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["姓名", "手机号", "社区编码", "队伍名称", "角色"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def build_city(engine) -> tuple[list[str], list[tuple[str, str]]]:
    """Units and teams; returns community codes and (team name, its community code)."""
    from sqlmodel import Session, SQLModel

    from volunteer_app.models import Team, Unit
    from volunteer_app.schema import ensure_reference_data

    SQLModel.metadata.create_all(engine)
    communities, teams = [], []
    with Session(engine) as session:
        ensure_reference_data(session)
        for d in range(16):
            district = Unit(level="district", name=f"第{d + 1}区", code=f"D{d:02d}", path="")
            session.add(district)
            session.flush()
            district.path = f"/{district.id}/"
            for s in range(8):
                street = Unit(parent_id=district.id, level="street", name=f"第{d + 1}区第{s + 1}街道",
                              code=f"D{d:02d}-S{s:02d}", path="")
                session.add(street)
                session.flush()
                street.path = f"{district.path}{street.id}/"
                for c in range(13):
                    code = f"D{d:02d}-S{s:02d}-C{c:02d}"
                    community = Unit(parent_id=street.id, level="community", name=f"{street.name}第{c + 1}社区",
                                     code=code, path="")
                    session.add(community)
                    session.flush()
                    community.path = f"{street.path}{community.id}/"
                    communities.append((code, community.id))
        rng = random.Random(7)
        for i, (code, unit_id) in enumerate(rng.sample(communities, 660)):
            name = f"志愿服务队{i + 1:03d}"
            session.add(Team(name=name, unit_id=unit_id, status="active", invite_nonce=os.urandom(8).hex()))
            teams.append((name, code))
        session.commit()
    return [code for code, _id in communities], teams


def roster_rows(count: int, communities: list[str], teams: list[tuple[str, str]]) -> list[list]:
    rng = random.Random(42)
    phones = rng.sample(range(10**9), count)
    rows, led = [], set()
    for i, number in enumerate(phones):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        phone = f"13{number:09d}"
        if rng.random() < 0.8:
            team, code = teams[i % len(teams)]
            role = "队长" if team not in led else "队员"
            led.add(team)
        else:
            team, code, role = "", rng.choice(communities), ""
        rows.append([name, phone, code, team, role])
    return rows


def write_xlsx(path: Path, rows) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("volunteers")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_csv(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)


def import_file(db_path: Path, file_path: Path) -> tuple[float, float, object]:
    from volunteer_app import create_app
    from volunteer_app.db import get_engine, session_scope
    from volunteer_app.teams.roster_import.jobs import create_job, run_job

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{db_path}"})
    with app.app_context():
        data = file_path.read_bytes()
        started, cpu_started = time.perf_counter(), time.process_time()
        with session_scope(get_engine()) as session:
            job_id = create_job(session=session, kind="volunteers", filename=file_path.name, actor_id=None)
        result = run_job(job_id=job_id, kind="volunteers", filename=file_path.name, data=data, actor_id=None,
                         scope=None)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    app.extensions["db_engine"].dispose()
    return elapsed, cpu, result


def check(db_path: Path, rows: int) -> tuple[int, int, int]:
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        volunteers = conn.execute("SELECT count(*) FROM volunteer").fetchone()[0]
        members = conn.execute("SELECT count(*) FROM membership").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    finally:
        conn.close()
    assert volunteers == rows, (volunteers, rows)
    return volunteers, members, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=166_000)
    parser.add_argument("--formats", default="xlsx,csv")
    args = parser.parse_args()
    from sqlalchemy import create_engine

    work = Path(tempfile.mkdtemp(prefix="rv-import-bench-"))
    try:
        template = work / "city.db"
        engine = create_engine(f"sqlite:///{template}")
        communities, teams = build_city(engine)
        engine.dispose()
        rows = roster_rows(args.rows, communities, teams)
        print("| rows | file | file size | wall time (read + check + write) | CPU time | load avg | volunteers "
              "| memberships | audit events |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for fmt in args.formats.split(","):
            path = work / f"roster.{fmt}"
            (write_xlsx if fmt == "xlsx" else write_csv)(path, rows)
            db_path = work / f"run-{fmt}.db"
            shutil.copy(template, db_path)
            elapsed, cpu, result = import_file(db_path, path)
            load = os.getloadavg()[0]
            assert result is not None and result.ok, result.errors[:5] if result else "file error"
            volunteers, members, events = check(db_path, args.rows)
            size = path.stat().st_size / 1e6
            print(f"| {args.rows:,} | {fmt.upper()} | {size:.1f} MB | {elapsed:.1f} s | {cpu:.1f} s | {load:.1f} "
                  f"| {volunteers:,} | {members:,} | {events:,} |", flush=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak memory of the benchmark process (files, rows and the import): {peak:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
