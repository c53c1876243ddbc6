"""Certificates of service: issue (domain and HTTP), verification (valid, revoked, superseded, not found),
the office's revoke, privacy (export, deleted holder), and who may download what."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from volunteer_app.certificates.service import (CODE_LENGTH, CertificateError, find_by_code, issue_certificate,
                                                 mask_name, normalise_code, preset_period, revoke, verify)
from volunteer_app.models import Activity, Attendance, AuditEvent, Certificate, Volunteer, utcnow

from . import factories

CITY = "330100"


@pytest.fixture
def served(session, world):
    """member_a served three times: two closed activities of team A (one scanned live, one entered by the
    leader), one of team B's; plus one open activity and one voided record, which do not count."""
    now = utcnow().replace(microsecond=0)
    first = factories.make_activity(session, world.team_a, status="closed", title="路口文明劝导",
                                    starts_at=now - timedelta(days=10), created_by=world.leader_a, place="人民路口")
    second = factories.make_activity(session, world.team_a, status="closed", title="社区清扫",
                                     theme_code="sanitation", starts_at=now - timedelta(days=5))
    third = factories.make_activity(session, world.team_b, status="closed", title="河边捡拾垃圾",
                                    theme_code="ecology", starts_at=now - timedelta(days=3), created_by=world.leader_b)
    running = factories.make_activity(session, world.team_a, status="open", title="正在进行",
                                      starts_at=now - timedelta(minutes=30))
    voided_activity = factories.make_activity(session, world.team_a, status="closed", title="作废的记录",
                                              starts_at=now - timedelta(days=2))
    factories.make_attendance(session, first, world.member_a, minutes=90, method="self_scan")
    factories.make_attendance(session, second, world.member_a, minutes=60, method="leader_manual")
    factories.make_attendance(session, third, world.member_a, minutes=45, method="leader_scan")
    factories.make_attendance(session, running, world.member_a, minutes=30)
    voided = factories.make_attendance(session, voided_activity, world.member_a, minutes=120)
    voided.voided_at = now
    voided.void_reason = "代签"
    session.commit()
    return {"first": first, "second": second, "third": third}


def _issue(session, volunteer, *, team_id=None, start=None, end=None):
    today = utcnow().date()
    certificate = issue_certificate(session=session, volunteer=volunteer, start=start or today - timedelta(days=30),
                                    end=end or today, team_id=team_id, city_code=CITY)
    session.commit()
    return certificate


# --- domain -------------------------------------------------------------------------------------


def test_issue_counts_only_closed_unvoided_services_and_assigns_a_number(session, world, served):
    world.member_a.volunteer_no = None  # an account from before volunteer numbers: issuing assigns one
    session.add(world.member_a)
    session.commit()
    certificate = _issue(session, world.member_a)
    assert (certificate.total_minutes, certificate.row_count, certificate.live_minutes) == (195, 3, 135)
    assert certificate.number.startswith(f"{CITY}-") and certificate.number.endswith(f"{certificate.id:06d}")
    assert len(certificate.code) == CODE_LENGTH and certificate.status == "valid"
    assert world.member_a.volunteer_no is not None and world.member_a.volunteer_no.startswith(CITY)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.issue")).one()
    assert event.object_id == certificate.id


def test_a_one_team_certificate_lists_only_that_team(session, world, served):
    certificate = _issue(session, world.member_a, team_id=world.team_b.id)
    assert (certificate.total_minutes, certificate.row_count) == (45, 1)


def test_issuing_again_gives_a_new_certificate(session, world, served):
    first = _issue(session, world.member_a)
    second = _issue(session, world.member_a)
    assert first.id != second.id and first.number != second.number and first.code != second.code
    assert first.status == "valid"  # same rows: the first still holds


@pytest.mark.parametrize("problem, code", [
    ("future", "bad_period"), ("reversed", "bad_period"), ("empty", "nothing_to_certify"), ("team", "not_your_team"),
])
def test_issue_refusals(session, world, served, problem, code):
    today = utcnow().date()
    start, end, team = today - timedelta(days=30), today, None
    if problem == "future":
        end = today + timedelta(days=3)
    elif problem == "reversed":
        start, end = today, today - timedelta(days=3)
    elif problem == "empty":
        start, end = date(2020, 1, 1), date(2020, 12, 31)
    else:
        team = world.team_b.id + 1000
    with pytest.raises(CertificateError) as excinfo:
        issue_certificate(session=session, volunteer=world.member_a, start=start, end=end, team_id=team,
                          city_code=CITY)
    assert excinfo.value.code == code


def test_a_later_correction_supersedes_and_shows_the_new_figure(session, world, served):
    certificate = _issue(session, world.member_a)
    assert verify(session=session, certificate=certificate).state == "valid"
    attendance = session.exec(select(Attendance).where(Attendance.activity_id == served["second"].id)).one()
    attendance.credited_minutes = 30
    session.commit()
    result = verify(session=session, certificate=certificate)
    assert (result.state, result.current_minutes) == ("superseded", 165)
    newer = _issue(session, world.member_a)  # the same period again: the old one is marked superseded
    session.refresh(certificate)
    assert certificate.status == "superseded" and certificate.superseded_by_id == newer.id


def test_revoke_is_audited_and_needs_a_reason(session, world, served):
    certificate = _issue(session, world.member_a)
    with pytest.raises(CertificateError) as excinfo:
        revoke(session=session, certificate=certificate, office=world.office, reason="  ")
    assert excinfo.value.code == "reason_required"
    revoke(session=session, certificate=certificate, office=world.office, reason="时长有误")
    session.commit()
    assert verify(session=session, certificate=certificate).state == "revoked"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.revoke")).one()
    assert (event.object_id, event.reason, event.actor_id) == (certificate.id, "时长有误", world.office.id)
    with pytest.raises(CertificateError) as excinfo:
        revoke(session=session, certificate=certificate, office=world.office, reason="again")
    assert excinfo.value.code == "already_revoked"


def test_names_are_masked_and_codes_forgiving(session, world, served):
    assert [mask_name(n) for n in ("王小红", "王红", "欧阳小红", "王")] == ["王*红", "王*", "欧**红", "*"]
    certificate = _issue(session, world.member_a)
    typed = f"{certificate.code[:5].lower()}-{certificate.code[5:]} "
    assert normalise_code(typed) == certificate.code
    assert find_by_code(session=session, code=typed).id == certificate.id
    assert find_by_code(session=session, code="not a code") is None


def test_presets():
    today = date(2026, 12, 3)
    assert preset_period("this_year", today) == (date(2026, 1, 1), today)
    assert preset_period("last_year", today) == (date(2025, 1, 1), date(2025, 12, 31))
    assert preset_period("last_3_years", today) == (date(2024, 1, 1), today)
    assert preset_period("custom", today) is None


# --- HTTP ---------------------------------------------------------------------------------------


def test_a_volunteer_issues_lists_and_downloads(client, auth, session, world, served):
    auth.login(world.member_a.phone)
    page = client.get("/me/certificates")
    assert page.status_code == 200 and "开具证明" in page.get_data(as_text=True)
    response = client.post("/me/certificates", data={"preset": "last_3_years", "team": ""})
    assert response.status_code == 303
    certificate = session.exec(select(Certificate)).one()
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert certificate.number in listing and f"/verify/{certificate.code}" in listing
    pdf = client.get(f"/me/certificates/{certificate.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_custom_dates_are_required_and_bad_periods_explained(client, auth, world, served):
    auth.login(world.member_a.phone)
    missing = client.post("/me/certificates", data={"preset": "custom", "start": "2026-01-01"})
    assert missing.status_code == 400 and "请填写起止日期" in missing.get_data(as_text=True)
    empty = client.post("/me/certificates", data={"preset": "custom", "start": "2020-01-01", "end": "2020-02-01"})
    assert empty.status_code == 400 and "没有可以证明的服务记录" in empty.get_data(as_text=True)


def test_strangers_cannot_download_someone_elses_certificate(client, auth, session, world, served):
    certificate = _issue(session, world.member_a)
    for phone in (world.member_b.phone, world.leader_a.phone, world.office.phone):
        auth.login(phone)
        assert client.get(f"/me/certificates/{certificate.id}.pdf").status_code == 404
        client.post("/logout")
    assert client.get(f"/me/certificates/{certificate.id}.pdf").status_code == 302  # anonymous: log in first


def test_verify_valid_without_login_masks_the_name_and_never_shows_a_phone(client, session, world, served):
    certificate = _issue(session, world.member_a)
    response = client.get(f"/verify/{certificate.code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-state="valid"' in html
    assert "赵*红" in html and "赵小红" not in html and world.member_a.phone not in html
    assert certificate.number in html and "3.25" in html and "市文明办" in html


def test_verify_form_and_not_found(client, session, world, served):
    certificate = _issue(session, world.member_a)
    assert client.get("/verify").status_code == 200
    found = client.get(f"/verify?code={certificate.code[:5]}-{certificate.code[5:]}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/verify/{certificate.code}")
    for url in ("/verify/ZZZZZZZZZZ", "/verify?code=nothing", "/verify/%E4%BD%A0%E5%A5%BD"):
        missing = client.get(url)
        assert missing.status_code == 404 and "找不到验证码为" in missing.get_data(as_text=True)


def test_verify_revoked_and_superseded(client, session, world, served):
    certificate = _issue(session, world.member_a)
    attendance = session.exec(select(Attendance).where(Attendance.activity_id == served["first"].id)).one()
    attendance.credited_minutes = 120
    session.commit()
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert 'data-state="superseded"' in html and "3.75" in html
    revoke(session=session, certificate=certificate, office=world.office, reason="核查不实")
    session.commit()
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert 'data-state="revoked"' in html and "撤销：本证明不再有效" in html


def test_a_superseded_or_revoked_certificate_is_not_downloaded_again(client, auth, session, world, served):
    certificate = _issue(session, world.member_a)
    attendance = session.exec(select(Attendance).where(Attendance.activity_id == served["first"].id)).one()
    attendance.voided_at = utcnow()
    session.commit()
    auth.login(world.member_a.phone)
    response = client.get(f"/me/certificates/{certificate.id}.pdf")
    assert response.status_code == 409 and "请重新开具" in response.get_data(as_text=True)


def test_the_office_finds_and_revokes_within_its_area(client, auth, session, world, served):
    certificate = _issue(session, world.member_a)
    auth.login(world.office_district2.phone)  # member_a lives and serves in district 1 ... and served team B once
    found = client.get(f"/office/certificates?number={certificate.number}").get_data(as_text=True)
    assert 'id="none-found"' in found  # member_a lives in district 1 and is in no team of district 2
    client.post("/logout")
    auth.login(world.office.phone)
    found = client.get(f"/office/certificates?number={certificate.number}").get_data(as_text=True)
    assert 'id="found"' in found and world.member_a.name in found
    assert client.post(f"/office/certificates/{certificate.id}/revoke", data={"reason": ""}).status_code == 303
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == "valid"
    response = client.post(f"/office/certificates/{certificate.id}/revoke", data={"reason": "重复开具"})
    assert response.status_code == 303
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    revoked = session.get(Certificate, certificate.id)
    assert (revoked.status, revoked.revoke_reason, revoked.revoked_by_id) == ("revoked", "重复开具", world.office.id)


def test_the_district_office_does_not_reach_another_districts_certificate(client, auth, session, world, served):
    certificate = _issue(session, world.member_a, team_id=world.team_a.id)
    auth.login(world.office_district2.phone)
    assert client.post(f"/office/certificates/{certificate.id}/revoke",
                       data={"reason": "x"}).status_code == 404
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == "valid"


def test_export_includes_certificates_and_deletion_keeps_them_verifiable(client, auth, session, world, served):
    certificate = _issue(session, world.member_a)
    auth.login(world.member_a.phone)
    data = json.loads(client.post("/privacy/export/json").get_data(as_text=True))
    assert [c["number"] for c in data["certificates"]] == [certificate.number]
    assert data["certificates"][0]["total_minutes"] == 195
    csv_text = client.post("/privacy/export/certificates.csv").get_data(as_text=True)
    assert certificate.number in csv_text
    assert client.post("/privacy/delete", data={"password": factories.PASSWORD, "confirm": "y"}).status_code in (
        302, 303)
    session.rollback()  # a fresh snapshot: see what the requests committed
    session.expire_all()
    assert session.get(Volunteer, world.member_a.id).deleted_at is not None
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert 'data-state="valid"' in html and "已注销" in html and "赵" not in html.split('id="holder"')[1][:80]


def test_verification_is_rate_limited(limited_config, client, session, world, served):
    certificate = _issue(session, world.member_a)
    statuses = [client.get(f"/verify/{certificate.code}").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_links_from_home_and_my_record(client, auth, world, served):
    auth.login(world.member_a.phone)
    assert 'href="/me/certificates"' in client.get("/").get_data(as_text=True)
    assert 'id="my-certificates"' in client.get("/me").get_data(as_text=True)


def test_only_closed_activities_count(session, world, served):
    certificate = _issue(session, world.member_a)
    closed_ids = {a.id for a in session.exec(select(Activity).where(Activity.status == "closed"))}
    assert certificate.row_count == 3 and len(closed_ids) == 4


def test_the_pages_speak_english_on_request(client, auth, session, world, served):
    certificate = _issue(session, world.member_a)
    client.set_cookie("lang", "en")
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Valid: this certificate" in html and "Service hours on the certificate" in html
    auth.login(world.member_a.phone)
    html = client.get("/me/certificates").get_data(as_text=True)
    assert "Issue a certificate" in html and "The last 3 years" in html and "开具证明" not in html


def test_downloads_are_limited_per_person_and_strangers_are_not_counted(limited_config, client, auth, session,
                                                                        world, served):
    certificate = _issue(session, world.member_a)
    assert client.get(f"/me/certificates/{certificate.id}.pdf").status_code == 302  # anonymous: log in first
    auth.login(world.member_a.phone)
    statuses = {client.get(f"/me/certificates/{certificate.id}.pdf").status_code for _ in range(3)}
    assert statuses == {200}


def test_an_office_reaches_a_certificate_through_the_holders_team_in_its_area(session, world, served):
    from volunteer_app.certificates.service import certificate_in_scope
    from volunteer_app.units import office_scope

    certificate = _issue(session, world.member_a, team_id=world.team_a.id)
    scope_d2 = office_scope(session=session, office=world.office_district2)
    assert certificate_in_scope(session=session, certificate_id=certificate.id, scope=scope_d2) is None
    factories.add_member(session, world.team_b, world.member_a)  # now also in a team of district 2
    session.commit()
    assert certificate_in_scope(session=session, certificate_id=certificate.id, scope=scope_d2).id == certificate.id
