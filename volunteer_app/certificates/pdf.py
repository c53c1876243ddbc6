"""The certificate as an A4 PDF in Chinese (fpdf2), whatever the reader's language: it is an official paper.

Layout: title, who and what period, a table of every service (date, activity, place, content, hours, team,
person in charge, how it was recorded), totals with the share recorded live on site, the issuing body, and a
QR code with the short code that open the public verification page. Every page carries the number.
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from ..qr import qr_png
from . import fonts
from .service import ServiceRow, display_code

FONT = "cert"
MARGIN = 15
LINE = 4.2  # mm per line of table text at 8 pt
MAX_LINES = 3
# (heading, width in mm, field of ServiceRow or a function of it)
COLUMNS = (
    ("日期", 17, lambda r, m: f"{r.day:%Y-%m-%d}"),
    ("活动名称", 36, lambda r, m: r.title),
    ("服务地点", 30, lambda r, m: r.place),
    ("服务内容", 17, lambda r, m: r.theme),
    ("小时", 10, lambda r, m: hours(r.minutes)),
    ("组织队伍", 37, lambda r, m: r.team),
    ("负责人", 15, lambda r, m: r.in_charge),
    ("记录方式", 18, lambda r, m: m.get(r.method, r.method)),
)


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on a certificate."""

    number: str
    code: str
    name: str
    volunteer_no: str
    period_start: date
    period_end: date
    issued_on: date
    issuer: str
    team: str | None
    rows: list[ServiceRow]
    total_minutes: int
    live_minutes: int
    verify_url: str  # what the QR code opens
    verify_page: str  # where to type the short code
    method_labels: dict[str, str]


def hours(minutes: int) -> str:
    """Minutes as hours with at most two decimals, as the pages show them (90 -> 1.5)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def render(doc: CertificateDocument) -> bytes:
    """The PDF's bytes."""
    cells = [[column(row, doc.method_labels) for _h, _w, column in COLUMNS] for row in doc.rows]
    texts = _texts(doc)
    everything = "".join(texts) + "".join(h for h, _w, _c in COLUMNS) + "".join("".join(c) for c in cells)
    # fpdf2 reads fonts from files only, and reads them again when it writes the PDF: the file lives until then.
    with tempfile.NamedTemporaryFile(suffix=".ttf") as font_file:
        font_file.write(fonts.font_bytes(everything + "0123456789第页共/.-…　"))
        font_file.flush()
        pdf = _Pdf(doc.number)
        pdf.add_font(FONT, fname=font_file.name)
        return _draw(pdf, doc, cells, texts)


def _draw(pdf: FPDF, doc: CertificateDocument, cells: list[list[str]], texts: tuple[str, ...]) -> bytes:
    pdf.set_title(f"志愿服务记录证明 {doc.number}")
    pdf.set_author(doc.issuer)
    pdf.set_creator("Red Vest")
    pdf.add_page()
    title, intro, totals, issuer, dated, verify_hint = texts
    pdf.set_font(FONT, size=20)
    pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 6, f"证明编号：{doc.number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, intro, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, cells)
    pdf.ln(3)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, totals, new_x="LMARGIN", new_y="NEXT")
    if pdf.get_y() > pdf.h - MARGIN - 52:
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(doc.verify_url, box_size=8, border=2)), x=MARGIN, y=top, w=36, h=36)
    pdf.set_xy(MARGIN + 42, top)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, f"{issuer}\n{dated}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(MARGIN + 42)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, verify_hint, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _texts(doc: CertificateDocument) -> tuple[str, ...]:
    count = len(doc.rows)
    share = round(100 * doc.live_minutes / doc.total_minutes) if doc.total_minutes else 0
    scope = f"在{doc.team}" if doc.team else ""
    issuer = f"出具单位：{doc.issuer}" + (f"、{doc.team}" if doc.team else "")
    return (
        "志愿服务记录证明",
        f"兹证明{doc.name}（志愿者编号：{doc.volunteer_no}）于{_day(doc.period_start)}至{_day(doc.period_end)}"
        f"期间{scope}参加志愿服务{count}次，累计服务时长{hours(doc.total_minutes)}小时。服务记录如下：",
        f"合计：{count}次，{hours(doc.total_minutes)}小时；其中现场扫码签到记录{hours(doc.live_minutes)}小时，"
        f"占{share}%。以上仅统计已结束且未作废的服务记录。",
        issuer,
        f"出具日期：{_day(doc.issued_on)}",
        f"扫描二维码，或访问 {doc.verify_page} 输入验证码 {display_code(doc.code)}，可核验本证明的真伪与当前状态。",
    )


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _table(pdf: FPDF, cells: list[list[str]]) -> None:
    widths = [w for _h, w, _c in COLUMNS]
    pdf.set_font(FONT, size=8)
    pdf.set_draw_color(120)
    pdf.set_line_width(0.2)
    measure = _Measure(pdf)
    header = [measure.wrap(h, w) for (h, w, _c) in COLUMNS]
    _row(pdf, header, widths, fill=True)
    for row in cells:
        lines = [measure.wrap(text, width) for text, width in zip(row, widths)]
        height = max(len(x) for x in lines) * LINE + 2
        if pdf.get_y() + height > pdf.h - MARGIN - 8:
            pdf.add_page()
            _row(pdf, header, widths, fill=True)
        _row(pdf, lines, widths)


def _row(pdf: FPDF, lines: list[list[str]], widths: list[int], fill: bool = False) -> None:
    x, y = MARGIN, pdf.get_y()
    height = max(len(x) for x in lines) * LINE + 2
    if fill:
        pdf.set_fill_color(235)
    for cell, width in zip(lines, widths):
        pdf.rect(x, y, width, height, style="DF" if fill else "D")
        for i, text in enumerate(cell):
            pdf.text(x + 1, y + 1 + LINE * (i + 1) - 1.1, text)
        x += width
    pdf.set_y(y + height)


class _Measure:
    """Wraps text to a column, measuring each character once."""

    def __init__(self, pdf: FPDF):
        self.pdf = pdf
        self.widths: dict[str, float] = {}

    def wrap(self, text: str, width: float) -> list[str]:
        room = width - 2
        lines, current, used = [], "", 0.0
        for char in text.replace("\n", " "):
            w = self.widths.get(char)
            if w is None:
                w = self.widths[char] = self.pdf.get_string_width(char)
            if used + w > room and current:
                lines.append(current)
                current, used = "", 0.0
            current += char
            used += w
        lines.append(current)
        if len(lines) > MAX_LINES:
            lines = lines[:MAX_LINES]
            lines[-1] = lines[-1][:-1] + "…"
        return lines


class _Pdf(FPDF):
    def __init__(self, number: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.number = number
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.set_compression(True)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"证明编号 {self.number}　第{self.page_no()}页 共{{nb}}页", align="C")
