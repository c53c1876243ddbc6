"""Reading a roster file (XLSX or CSV) into a Table of text cells, and the columns of each kind.

Cell values are data: a value starting with = + - @ is kept as text, never evaluated.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from flask_babel import lazy_gettext as _l

from ...errors import DomainError

MAX_ROWS = 200_000
# The work of reading is bounded by what is really in the file, never by what a sheet declares (a 5 KB
# workbook may declare A1:XFD1048576): at most MAX_COLUMNS cells of a row are read (the templates have 6),
# and at most MAX_SHEET_ROWS rows, empty ones included, are looked at before the file is refused.
MAX_COLUMNS = 50
MAX_SHEET_ROWS = MAX_ROWS + 50_000
# The csv module cannot stop inside a record, so a CSV record is bounded before it is parsed: it may hold at most
# MAX_CSV_DELIMITERS commas (cells <= commas + 1; quoted commas count too, hence the margin over MAX_COLUMNS),
# else the file is refused like an oversized sheet. Records are read one at a time, never all at once.
MAX_CSV_DELIMITERS = 4 * MAX_COLUMNS
MAX_UNPACKED_BYTES = 400_000_000  # a 166,000-row roster unpacks to well under 100 MB
PROGRESS_EVERY = 5_000

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header written in the template
    aliases: tuple[str, ...]
    required: bool
    label: object  # translated name for the report


TEAM_COLUMNS = (
    Column("name", "队伍名称", ("队伍名称", "队名", "name"), True, _l("Team name")),
    Column("unit", "单位编码", ("单位编码", "社区编码", "所属单位", "所属社区", "unit"), True, _l("Unit code")),
    Column("description", "队伍简介", ("队伍简介", "简介", "description"), False, _l("Description")),
    Column("contact_name", "联系人", ("联系人", "contact_name"), False, _l("Contact person")),
    Column("contact_phone", "联系电话", ("联系电话", "联系人电话", "contact_phone"), False, _l("Contact phone")),
    Column("join_policy", "加入方式", ("加入方式", "join_policy"), False, _l("How people join")),
)
VOLUNTEER_COLUMNS = (
    Column("name", "姓名", ("姓名", "name"), True, _l("Name")),
    Column("phone", "手机号", ("手机号", "手机号码", "手机", "phone"), True, _l("Mobile number")),
    Column("unit", "社区编码", ("社区编码", "所属社区", "单位编码", "unit"), True, _l("Community")),
    Column("team", "队伍名称", ("队伍名称", "所属队伍", "team"), False, _l("Team name")),
    Column("role", "角色", ("角色", "role"), False, _l("Role")),
)
COLUMNS = {"teams": TEAM_COLUMNS, "volunteers": VOLUNTEER_COLUMNS}
EXAMPLES = {
    "teams": ("清和社区志愿服务队", "D01-S01-C01", "文明劝导、环境清洁", "李明", "13800000000", "审核"),
    "volunteers": ("张三", "13800000000", "D01-S01-C01", "清和社区志愿服务队", "队员"),
}

class ImportFileError(DomainError):
    messages = {
        "bad_type": _l("Upload an .xlsx or .csv file."),
        "unreadable": _l("This file could not be read as a spreadsheet."),
        "empty": _l("The file has no rows."),
        "missing_columns": _l("Columns missing: %(columns)s. Download the template to see the expected columns."),
        "duplicate_columns": _l("A column appears twice: %(columns)s."),
        "too_many_rows": _l("The file has more than %(limit)d rows; split it."),
        "too_large": _l("The workbook unpacks to more than %(limit)d MB; save it again or split it."),
        "sheet_too_large": _l("The sheet is too large or malformed (more than %(limit)d rows, empty ones "
                              "included); copy the roster into a new workbook or split it."),
        "conflict": _l("The database changed while the file was checked (e.g. someone registered). "
                       "Nothing was written; please upload the file again."),
        "interrupted": _l("The import was interrupted (the server was restarted) and did not finish. "
                          "Please upload the file again."),
    }



# --- reading ------------------------------------------------------------------------------------


@dataclass
class Table:
    columns: dict[str, int]  # column key → index in the row
    ignored: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cell texts)


def read_table(kind: str, filename: str, data: bytes, progress: Progress | None = None) -> Table:
    """The rows of the first sheet (XLSX) or of a CSV file (UTF-8 or GB18030), as text cells.

    Reading a large workbook is the slowest step, so progress reports the rows read (total 0: unknown yet).
    """
    name = (filename or "").lower()
    if not data:
        raise ImportFileError("empty")
    if name.endswith(".xlsx"):
        raw_rows = _xlsx_rows(data)
    elif name.endswith(".csv"):
        raw_rows = _csv_rows(data)
    else:
        raise ImportFileError("bad_type")
    header: list[str] | None = None
    width = MAX_COLUMNS  # then the header's: a cell right of the last titled column is never read
    rows: list[tuple[int, list[str]]] = []
    for number, cells in raw_rows:
        if number > MAX_SHEET_ROWS:
            raise ImportFileError("sheet_too_large", limit=MAX_SHEET_ROWS)
        cells = cells[:width]
        if cells.count(None) == len(cells):  # a row missing from the sheet, read as empty: skipped cheaply
            continue
        texts = [_cell_text(value) for value in cells]
        if header is None:
            if any(texts):
                while not texts[-1]:
                    texts.pop()
                header, width = texts, len(texts)
            continue
        if not any(texts):
            continue
        rows.append((number, texts))
        if progress and len(rows) % PROGRESS_EVERY == 0:
            progress("validating", len(rows), 0)
        if len(rows) > MAX_ROWS:
            raise ImportFileError("too_many_rows", limit=MAX_ROWS)
    if header is None or not rows:
        raise ImportFileError("empty")
    columns, ignored = _match_columns(COLUMNS[kind], header)
    return Table(columns, ignored, rows)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Iterable]]:
    from openpyxl import load_workbook

    try:
        # A decompression bomb (a small file that unpacks to gigabytes) is refused before parsing.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ImportFileError("too_large", limit=MAX_UNPACKED_BYTES // 1_000_000)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        # The declared dimension is not trusted: it would pad every row to its width and its last row.
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)
        workbook.close()
    except ImportFileError:
        raise
    except Exception:  # zipfile, XML and openpyxl's own errors: a broken or disguised file
        raise ImportFileError("unreadable") from None


def _csv_rows(data: bytes) -> Iterator[tuple[int, Iterable]]:
    if b"\x00" in data[:4096]:
        raise ImportFileError("unreadable")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("unreadable")
    return _csv_records(content)


def _csv_records(content: str) -> Iterator[tuple[int, list[str]]]:
    """The records one at a time; the lines of a record are counted before the csv module sees them."""
    spent = 0  # commas in the lines of the record being read

    def lines() -> Iterator[str]:
        nonlocal spent
        for line in io.StringIO(content, newline=""):
            spent += line.count(",")
            if spent > MAX_CSV_DELIMITERS:
                raise ImportFileError("sheet_too_large", limit=MAX_SHEET_ROWS)
            yield line

    try:
        # The reader asks for a record's lines only when it is asked for that record (it never reads ahead).
        for number, cells in enumerate(csv.reader(lines()), start=1):
            yield number, cells
            spent = 0
    except csv.Error:
        raise ImportFileError("unreadable") from None


def _cell_text(value) -> str:
    """A cell as text; a number typed into a phone column (13800000000 or 1.38e10) becomes its digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _match_columns(columns: tuple[Column, ...], header: list[str]) -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    duplicates, ignored = [], []
    for index, title in enumerate(header):
        title = title.strip()
        column = next((c for c in columns if title in c.aliases), None)
        if column is None:
            if title:
                ignored.append(title)
        elif column.key in found:
            duplicates.append(title)
        else:
            found[column.key] = index
    if duplicates:
        raise ImportFileError("duplicate_columns", columns="、".join(duplicates))
    missing = [c.header for c in columns if c.required and c.key not in found]
    if missing:
        raise ImportFileError("missing_columns", columns="、".join(missing))
    return found, ignored

# --- templates and reports ------------------------------------------------------------------------


def template_rows(kind: str) -> list[tuple]:
    """Header and one example row of the template for kind."""
    return [tuple(c.header for c in COLUMNS[kind]), EXAMPLES[kind]]


def column_label(kind: str, key: str) -> str:
    column = next((c for c in COLUMNS.get(kind, ()) if c.key == key), None)
    return str(column.label) if column else key


def inert(value: str) -> str:
    """A cell that a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
