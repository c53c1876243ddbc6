"""The certificate PDF: Chinese text a machine can read back (pypdf), the embedded font subset, no missing
glyphs, and a QR code that opens the verification page (decoded from the embedded image with zxing-cpp)."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlmodel import select

from volunteer_app.certificates import fonts
from volunteer_app.certificates.pdf import CertificateDocument, render
from volunteer_app.certificates.service import ServiceRow
from volunteer_app.models import Certificate, utcnow

from . import factories


@pytest.fixture
def issued(client, auth, session, world):
    now = utcnow().replace(microsecond=0)
    first = factories.make_activity(session, world.team_a, status="closed", title="路口文明劝导",
                                    starts_at=now - timedelta(days=10), created_by=world.leader_a,
                                    place="人民路与解放路口")
    second = factories.make_activity(session, world.team_a, status="closed", title="社区环境清扫",
                                     theme_code="sanitation", starts_at=now - timedelta(days=4))
    factories.make_attendance(session, first, world.member_a, minutes=90, method="self_scan")
    factories.make_attendance(session, second, world.member_a, minutes=45, method="retro_log")
    session.commit()
    auth.login(world.member_a.phone)
    client.post("/me/certificates", data={"preset": "this_year" if now.month > 1 else "last_3_years",
                                          "team": str(world.team_a.id)})
    certificate = session.exec(select(Certificate)).one()
    response = client.get(f"/me/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    return certificate, response.data


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_reads_back_in_chinese(issued, world, session):
    certificate, data = issued
    text = _text(data)
    session.refresh(world.member_a)
    for expected in ("志愿服务记录证明", "赵小红", world.member_a.volunteer_no, certificate.number,
                     "路口文明劝导", "人民路与解放路口", "文明交通", "环境卫生", "清和社区志愿服务队", "李队长",
                     "现场扫码签到记录1.5小时", "累计服务时长2.25小时", "出具单位：市文明办、清和社区志愿服务队",
                     f"{certificate.code[:5]}-{certificate.code[5:]}", "自助扫码", "事后补录"):
        assert expected in text, expected
    assert "\x00" not in text and "13800000003" not in text


def test_the_font_is_an_embedded_subset(issued):
    _certificate, data = issued
    reader = PdfReader(io.BytesIO(data))
    font = reader.pages[0]["/Resources"]["/Font"]
    names = [f.get_object()["/BaseFont"] for f in font.values()]
    assert any(re.match(r"/[A-Z]{6}\+NotoSansSC", str(name)) for name in names)
    descendant = next(f.get_object()["/DescendantFonts"][0].get_object() for f in font.values())
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded TrueType outlines
    assert len(data) < 200_000


def test_the_qr_code_opens_the_verification_page(issued):
    certificate, data = issued
    page = PdfReader(io.BytesIO(data)).pages[-1]
    images = list(page.images)
    assert images
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(images[0].data)).convert("L"))
    assert decoded and decoded[0].text.endswith(f"/verify/{certificate.code}")


def test_every_character_has_a_glyph():
    assert not fonts.missing("志愿服务记录证明（）：、。王*红 0-9 ABC 兹于至期间次累计其中现场扫码签到占出具单位日期堃龑…　")
    assert fonts.missing("a\ue000b") == {"\ue000"}  # the check can fail: a private-use character has no glyph


def test_a_long_record_spans_pages_with_the_number_on_each():
    rows = [ServiceRow(i, date(2024, 1, 1) + timedelta(days=i), "很长的活动名称" * 5, "某某街道某某社区广场东门",
                       "文明交通", 60, "self_scan", "某某社区志愿服务队", "张三") for i in range(120)]
    doc = CertificateDocument(
        number="330100-2026-000042", code="ABCDE12345", name="王小红", volunteer_no="330100000000123",
        period_start=date(2024, 1, 1), period_end=date(2026, 12, 3), issued_on=date(2026, 12, 3), issuer="市文明办",
        team=None, rows=rows, total_minutes=7200, live_minutes=7200, verify_url="http://x/verify/ABCDE12345",
        verify_page="http://x/verify", method_labels={"self_scan": "本人扫码"})
    reader = PdfReader(io.BytesIO(render(doc)))
    assert len(reader.pages) > 2
    for page in reader.pages:
        assert "330100-2026-000042" in page.extract_text()
    assert f"共{len(reader.pages)}页" in reader.pages[0].extract_text()
