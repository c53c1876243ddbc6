"""Exports of the office's view: the tallies, and the attendance records behind them, as CSV or XLSX.

Headers are Chinese (the office's reports are). CSV starts with a UTF-8 BOM so that Excel reads
it as UTF-8. Record exports are generators reading the database in batches: a year of the city
(1.2 million rows) never sits in memory. XLSX goes through openpyxl's write-only mode into a
spooled temporary file that is then streamed in chunks. Every text cell that a spreadsheet could
read as a formula (= + - @ tab CR) is neutralised with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import Session, select

from ..accounts.phone import mask_phone
from ..models import Activity, Attendance, Team, Theme, Unit, Volunteer
from .filters import ReportFilter, activity_conditions
from .queries import Headline, Tally
from .recruitment import Recruitment

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000
CHUNK = 64 * 1024
SPOOL_BYTES = 8 * 1024 * 1024  # an XLSX larger than this spills to disk

RECORD_HEADERS = ("活动编号", "活动名称", "服务主题", "队伍", "所属单位", "活动开始", "活动结束", "志愿者编号", "志愿者",
                  "手机号（脱敏）", "签到时间", "签退时间", "认定时长（分钟）", "记录方式", "录入时间")
TALLY_HEADERS = ("名称", "场次", "人次", "时长（小时）", "现场记录占比")
RECRUIT_HEADERS = ("报名人次", "满员率", "爽约率")  # by theme, area and team (reports/recruitment.py)
SECTION_TITLES = {"theme": "按服务主题", "month": "按月份", "unit": "按区域", "teams": "各队伍（按人次排序）"}


def neutralise(value):
    """A cell value that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def headline_rows(f: ReportFilter, head: Headline, filter_labels: dict, recruit: Recruitment) -> list[tuple]:
    """The summary sheet: what was filtered, then the headline figures and the recruitment figures."""
    return [
        ("指标", "数值"),
        ("起始日期", f.start.isoformat()),
        ("截止日期", f.end.isoformat()),
        ("区域", filter_labels.get("unit") or "全市"),
        ("服务主题", filter_labels.get("theme") or "全部"),
        ("队伍", filter_labels.get("team") or "全部"),
        ("注册志愿者", head.registered),
        ("活跃志愿者", head.active_volunteers),
        ("活跃队伍", head.active_teams),
        ("场次", head.activities),
        ("人次", head.attendances),
        ("人数", head.volunteers),
        ("时长（小时）", round(head.minutes / 60, 1)),
        ("报名人次", recruit.signups),
        ("满员率", _percent(recruit.fill_rate)),
        ("爽约率", _percent(recruit.no_show_rate)),
    ]


def tally_rows(rows: list[Tally]) -> list[tuple]:
    """One breakdown as a table with a header row; with the recruitment figures when its rows have them."""
    with_recruit = any(row.recruit is not None for row in rows)
    out = [TALLY_HEADERS + (RECRUIT_HEADERS if with_recruit else ())]
    for row in rows:
        values = (row.label, row.activities, row.attendances, round(row.minutes / 60, 1), _percent(row.live_share))
        if with_recruit:
            recruit = row.recruit or Recruitment()
            values += (recruit.signups, _percent(recruit.fill_rate), _percent(recruit.no_show_rate))
        out.append(values)
    return out


def _percent(share: float | None) -> str:
    """A share as a whole percentage; empty when there is nothing to divide by."""
    return "" if share is None else f"{share * 100:.0f}%"


def tallies_csv(summary: list[tuple], sections: dict[str, list[Tally]]) -> Iterator[str]:
    """The tallies as one CSV: the summary, then each breakdown under its title."""
    yield "\ufeff"
    yield _csv_lines(summary)
    for key, rows in sections.items():
        yield _csv_lines([(), (SECTION_TITLES[key],)] + tally_rows(rows))


def tallies_xlsx(summary: list[tuple], sections: dict[str, list[Tally]]) -> Iterator[bytes]:
    """The tallies as a workbook: a summary sheet and one sheet per breakdown."""
    sheets = [("汇总", summary)] + [(SECTION_TITLES[key], tally_rows(rows)) for key, rows in sections.items()]
    return _xlsx(sheets)


def records_statement(f: ReportFilter):
    """Every non-voided attendance of the filtered activities, in activity order."""
    return (
        select(Activity.id, Activity.title, Theme.name_zh, Team.name, Unit.name, Activity.starts_at,
               Activity.ends_at, Volunteer.id, Volunteer.name, Volunteer.phone, Attendance.checked_in_at,
               Attendance.checked_out_at, Attendance.credited_minutes, Attendance.method, Attendance.created_at)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .join(Team, Team.id == Activity.team_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .join(Unit, Unit.id == Activity.unit_id)
        .where(*activity_conditions(f), Attendance.voided_at.is_(None))
        .order_by(Activity.starts_at, Activity.id, Attendance.id)
    )


def record_rows(session: Session, f: ReportFilter, method_names: dict[str, str]) -> Iterator[tuple]:
    """The records as export rows, read in batches (a server-side cursor on PostgreSQL).

    method_names: how each was recorded, in the export's language (labels.method_labels_in).
    """
    zone = f.zone
    result = session.exec(records_statement(f).execution_options(yield_per=BATCH))
    for (activity_id, title, theme, team, unit, starts_at, ends_at, volunteer_id, name, phone, checked_in,
         checked_out, minutes, method, created_at) in result:
        yield (activity_id, title, theme, team, unit, _local(starts_at, zone), _local(ends_at, zone), volunteer_id,
               name, mask_phone(phone), _local(checked_in, zone), _local(checked_out, zone), minutes,
               method_names.get(method, method), _local(created_at, zone))


def records_csv(rows: Iterable[tuple]) -> Iterator[str]:
    """Records as CSV text chunks of about BATCH rows."""
    yield "\ufeff"
    yield _csv_lines([RECORD_HEADERS])
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield _csv_lines(batch)
            batch = []
    if batch:
        yield _csv_lines(batch)


def records_xlsx(rows: Iterable[tuple]) -> Iterator[bytes]:
    """Records as a one-sheet workbook."""
    return _xlsx([("记录", _prepend(RECORD_HEADERS, rows))])


def _prepend(first: tuple, rows: Iterable[tuple]) -> Iterator[tuple]:
    yield first
    yield from rows


def _csv_lines(rows: Iterable[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue()


def _xlsx(sheets: list[tuple[str, Iterable[tuple]]]) -> Iterator[bytes]:
    """Write the workbook (write-only: rows go straight to disk) and stream the file in chunks.

    A generator, so that the workbook is built when the response starts streaming, and the
    temporary file is closed when the stream ends or is abandoned.
    """
    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title=title)
        for row in rows:
            sheet.append([neutralise(value) for value in row])
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""
