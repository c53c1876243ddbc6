"""Import jobs whose server stopped: a running job silent for STALE_AFTER is shown as failed with a translated
reason (pages never write), and marked failed by the next upload and by `volunteer-app import sweep`."""
from __future__ import annotations

import io
import json
from datetime import timedelta

from sqlmodel import select

from volunteer_app.models import ImportJob, Volunteer, utcnow
from volunteer_app.teams.roster_import.jobs import STALE_AFTER, job_report, sweep_stale_jobs

INTERRUPTED_ZH = "导入已中断"


def make_job(session, world, *, status="validating", created_ago=timedelta(minutes=30), beat_ago=None, **fields):
    now = utcnow()
    report = json.dumps({"progress_at": (now - beat_ago).isoformat()}) if beat_ago is not None else "[]"
    job = ImportJob(kind="volunteers", filename="名册.xlsx", status=status, created_by_id=world.office.id,
                    created_at=now - created_ago, report=report, **fields)
    session.add(job)
    session.commit()
    return job


def status_of(session, job_id):
    session.rollback()
    job = session.get(ImportJob, job_id)
    session.refresh(job)
    return job.status


def test_a_stale_job_is_shown_failed_with_its_reason_without_writing(client, auth, world, session):
    stale = make_job(session, world, beat_ago=STALE_AFTER + timedelta(minutes=1), processed_rows=5000)
    auth.login(world.office.phone)
    page = client.get(f"/office/import/{stale.id}").get_data(as_text=True)
    assert 'data-status="failed"' in page and INTERRUPTED_ZH in page and "hx-trigger" not in page
    fragment = client.get(f"/office/import/{stale.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="failed"' in fragment
    listing = client.get("/office/import").get_data(as_text=True)
    assert "未写入" in listing
    report = client.get(f"/office/import/{stale.id}/report.csv").get_data(as_text=True)
    assert INTERRUPTED_ZH in report
    assert status_of(session, stale.id) == "validating"  # GET requests never write


def test_the_reason_in_english(client, auth, world, session):
    stale = make_job(session, world, status="queued")  # the server stopped before the thread began
    auth.login(world.office.phone)
    client.set_cookie("lang", "en")
    page = client.get(f"/office/import/{stale.id}").get_data(as_text=True)
    assert "The import was interrupted (the server was restarted)" in page


def test_a_job_that_reported_progress_recently_is_running(client, auth, world, session):
    """Created long ago but still reporting (a large file): not stale."""
    busy = make_job(session, world, status="writing", created_ago=timedelta(hours=2), beat_ago=timedelta(minutes=2))
    auth.login(world.office.phone)
    page = client.get(f"/office/import/{busy.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="writing"' in page and "hx-trigger" in page
    assert sweep_stale_jobs(session=session) == []


def test_the_sweep_command_marks_only_stale_jobs_failed(runner, world, session):
    stale = make_job(session, world, beat_ago=timedelta(minutes=20))
    queued = make_job(session, world, status="queued", created_ago=timedelta(minutes=20))
    fresh = make_job(session, world, beat_ago=timedelta(minutes=1))
    done = make_job(session, world, status="done", created_ago=timedelta(days=1))
    result = runner.invoke(args=["import", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"Marked 2 stale import job(s) failed: {stale.id}, {queued.id}." in result.output
    statuses = [status_of(session, j.id) for j in (stale, queued, fresh, done)]
    assert statuses == ["failed", "failed", "validating", "done"]
    swept = session.get(ImportJob, stale.id)
    assert job_report(swept)["file_error"] == {"code": "interrupted", "params": {}} and swept.finished_at is not None
    assert runner.invoke(args=["import", "sweep", "--minutes", "0"]).exit_code == 2


def test_the_sweep_minutes_are_an_option(runner, world, session):
    job = make_job(session, world, beat_ago=timedelta(minutes=5))
    assert "Marked 0" in runner.invoke(args=["import", "sweep"]).output
    assert status_of(session, job.id) == "validating"
    result = runner.invoke(args=["import", "sweep", "--minutes", "4"])
    assert f"Marked 1 stale import job(s) failed: {job.id}." in result.output
    assert status_of(session, job.id) == "failed"


def test_the_next_upload_marks_stale_jobs_failed(client, auth, world, session):
    stale = make_job(session, world, beat_ago=timedelta(minutes=20))
    auth.login(world.office.phone)
    response = client.post("/office/import", data={"kind": "volunteers", "file": (io.BytesIO(b"%PDF"), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert status_of(session, stale.id) == "failed"


def test_a_slow_thread_swept_as_stale_stops_and_writes_nothing(app, world, session):
    """If a job was only slow, not dead, its thread stops at the next progress report: nothing is written."""
    from volunteer_app.db import session_scope
    from volunteer_app.teams.roster_import.jobs import create_job, run_job

    rows = ["姓名,手机号,社区编码,队伍名称,角色"] + [f"慢{i},1371{i:07d},D01-S01-C01,," for i in range(6000)]
    swept = []

    def progress(phase, done, total):
        if done >= 5000 and not swept:  # meanwhile another server's sweep decides this job is dead
            with session_scope() as other:
                swept.extend(sweep_stale_jobs(session=other, now=utcnow() + STALE_AFTER * 2))

    with app.app_context():
        with session_scope() as scoped:
            job_id = create_job(session=scoped, kind="volunteers", filename="slow.csv", actor_id=None)
        result = run_job(job_id=job_id, kind="volunteers", filename="slow.csv",
                         data="\n".join(rows).encode("utf-8"), actor_id=None, scope=None, progress=progress)
    assert swept == [job_id] and result is None
    session.rollback()
    job = session.get(ImportJob, job_id)
    assert job.status == "failed" and job_report(job)["file_error"]["code"] == "interrupted"
    assert session.exec(select(Volunteer).where(Volunteer.name.like("慢%"))).first() is None
