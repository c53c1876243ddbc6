"""Certificate of service: a 3-year record of 500 services, from the database to the PDF's bytes.

    .venv/bin/python benchmarks/certificate_bench.py              # 500 rows, 5 renders
    .venv/bin/python benchmarks/certificate_bench.py --rows 50 --out /tmp/certificate.pdf

Builds a temporary SQLite database with one volunteer and `--rows` closed activities over three years (every
one with an attendance), then times, in one process: the first certificate (cold: the font file is opened and
every glyph converted), then `--repeat` more (warm: the glyphs are kept by the process, as in a running
server). Each timing is the whole download path: the rows' query, the content hash and the PDF. Prints wall
and CPU time and the load average. Target (issue 15): <= 2 s for 500 rows. No network; the temporary directory
is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, SQLModel, select  # noqa: E402

from volunteer_app import create_app  # noqa: E402
from volunteer_app.certificates.pdf import CertificateDocument, render  # noqa: E402
from volunteer_app.certificates.service import content_hash, live_minutes, service_rows  # noqa: E402
from volunteer_app.db import make_engine  # noqa: E402
from volunteer_app.labels import method_labels_in  # noqa: E402
from volunteer_app.models import Activity, Attendance, Membership, Team, Theme, Unit, Volunteer, utcnow  # noqa: E402
from volunteer_app.schema import ensure_reference_data  # noqa: E402

PLACES = ["人民路与解放路口", "清和社区文化广场", "西湖区图书馆东门", "钱塘江滨江步道三号入口", "市第一人民医院门诊大厅"]
TITLES = ["路口文明劝导", "社区环境清扫", "关爱空巢老人上门探访", "图书馆文明引导", "学雷锋志愿服务日集中行动"]


def build(path: Path, rows: int) -> tuple[str, int]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    rng = random.Random(15)
    now = utcnow().replace(microsecond=0)
    with Session(engine) as session:
        ensure_reference_data(session)
        themes = session.exec(select(Theme)).all()
        unit = Unit(level="district", name="和平区", code="D01", path="/")
        session.add(unit)
        session.flush()
        person = Volunteer(name="王小红", phone="19900000004", password_hash="x", volunteer_no="330100000000017")
        leader = Volunteer(name="李队长", phone="19900000003", password_hash="x")
        session.add_all([person, leader])
        session.flush()
        teams = [Team(name=f"清和社区第{i}志愿服务队", unit_id=unit.id, status="active", invite_nonce=secrets.token_hex(8))
                 for i in range(1, 4)]
        session.add_all(teams)
        session.flush()
        session.add_all([Membership(team_id=t.id, volunteer_id=leader.id, role="leader", status="active") for t in teams])
        for i in range(rows):
            starts = now - timedelta(days=3 * 365 - 5) + timedelta(days=i * (3 * 365 - 10) / rows)
            activity = Activity(team_id=rng.choice(teams).id, theme_id=rng.choice(themes).id, unit_id=unit.id,
                                title=rng.choice(TITLES), place=rng.choice(PLACES), starts_at=starts,
                                ends_at=starts + timedelta(hours=2), status="closed", secret="s",
                                created_by_id=leader.id if i % 3 else None)
            session.add(activity)
            session.flush()
            session.add(Attendance(activity_id=activity.id, volunteer_id=person.id, checked_in_at=starts,
                                   checked_out_at=starts + timedelta(minutes=90), credited_minutes=rng.choice(
                                       (60, 90, 120, 45)), method=rng.choice(("self_scan", "leader_scan", "retro_log"))))
        session.commit()
        return url, person.id


def certificate(app, url: str, volunteer_id: int) -> bytes:
    engine = make_engine(url)
    with Session(engine) as session, app.test_request_context():
        today = utcnow().date()
        start = date(today.year - 3, today.month, 1)
        rows = service_rows(session=session, volunteer_id=volunteer_id, start=start, end=today)
        content_hash(rows)
        total = sum(r.minutes for r in rows)
        doc = CertificateDocument(
            number="330100-2026-000001", code="ABCDE12345", name="王小红", volunteer_no="330100000000017",
            period_start=start, period_end=today, issued_on=today, issuer="市文明办", team=None, rows=rows,
            total_minutes=total, live_minutes=live_minutes(rows), verify_url="https://rv.example.gov.cn/verify/ABCDE12345",
            verify_page="https://rv.example.gov.cn/verify", method_labels=method_labels_in("zh_CN"))
        data = render(doc)
    engine.dispose()
    assert len(rows) >= 1
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", help="write the PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, volunteer_id = build(Path(tmp) / "bench.db", args.rows)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
        print(f"rows={args.rows} load before={os.getloadavg()[0]:.2f}")
        timings = []
        for run in range(args.repeat + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            data = certificate(app, url, volunteer_id)
            timings.append((time.perf_counter() - wall, time.process_time() - cpu))
            label = "cold" if run == 0 else f"warm {run}"
            print(f"{label:8} wall {timings[-1][0]:.3f} s  cpu {timings[-1][1]:.3f} s  pdf {len(data):,} bytes")
        warm = sorted(t[0] for t in timings[1:])
        if warm:
            print(f"warm median wall {warm[len(warm) // 2]:.3f} s; load after={os.getloadavg()[0]:.2f}")
        if args.out:
            Path(args.out).write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
