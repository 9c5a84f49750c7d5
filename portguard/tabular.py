"""Spreadsheets in and out (CSV and XLSX), kept at this edge.

Files are read with every cell as text, so an ID number such as ``001…`` keeps its
leading zeros, and handed on as plain dicts numbered as a person sees the rows in the
spreadsheet: the header is row 1, the first data row is row 2. Every upload (crew
lists, lab results, rosters) is read here, so the limits hold for all of them: the
file's size, its rows and columns, and what an XLSX may unpack to.
"""

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import IO

import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from portguard.collation import fold_place
from portguard.domain import InvalidFile

Rows = list[tuple[int, dict[str, str]]]

MAX_COLUMNS = 100
# An XLSX file is a zip archive: a small one can unpack into gigabytes (a zip bomb).
# What its entries declare is checked before the workbook is opened; Python's zipfile
# never inflates an entry past its declared size (a lie fails the CRC check), so the
# declared sizes bound the bytes actually read. A workbook at the row limit with every
# lab column filled unpacks to about 10 MB; openpyxl reads 2 to 4 MB of XML a second.
MAX_XLSX_ENTRIES = 1000
XLSX_UNPACKED_PER_MB = 2
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .xls files
# A cell starting with these is run as a formula by a spreadsheet (CSV injection).
FORMULA_START = ("=", "@")
SIGN_START = ("+", "-")
EXPORT_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def problem(row: int, column: str, message: str) -> dict:
    return {"row": row, "column": column, "message": message}


def header_key(text: str) -> str:
    """``"Họ và tên"`` → ``"ho_va_ten"``: how a header cell is matched to a column."""
    return re.sub(r"[\s\-/.]+", "_", fold_place(str(text))).strip("_")


def max_bytes() -> int:
    return settings.PORTGUARD_UPLOAD_MAX_MB * 1024 * 1024


def read_upload(
    upload: IO[bytes],
    required: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    plain_text: Sequence[str] = (),
) -> Rows:
    """The non-blank rows of a CSV or XLSX file as ``(row number, {column: text})`` for
    the ``required`` and ``optional`` columns (an optional column missing from the file
    reads as empty text). Header cells are matched without case or diacritics, and
    through ``aliases`` (``{"rank": "role"}``). Raises ``InvalidFile`` when the file is
    too large, unreadable, lacks a column, has no rows or too many, or holds a cell a
    spreadsheet would run as a formula: one starting with ``=`` or ``@`` anywhere, or
    with ``+`` or ``-`` in a ``plain_text`` column (names, IDs: text stored as given)."""
    limit = max_bytes()
    size = getattr(upload, "size", None)
    data = b"" if size is not None and size > limit else upload.read(limit + 1)
    if (size is not None and size > limit) or len(data) > limit:
        raise InvalidFile(
            _("The file is larger than %(mb)d MB.") % {"mb": settings.PORTGUARD_UPLOAD_MAX_MB},
            [problem(1, "", _("Split the file into smaller ones."))],
        )
    if not data.strip():
        raise _empty(required)
    if data.startswith(OLE2_MAGIC):
        raise InvalidFile(
            _(
                "This file is password-protected or in the old Excel format (.xls): "
                "save it as an Excel workbook (.xlsx) without a password."
            ),
            [],
        )
    name = (getattr(upload, "name", "") or "").lower()
    max_rows = settings.PORTGUARD_UPLOAD_MAX_ROWS
    # The header and one row more than allowed are enough to tell that a file is too long.
    read = _xlsx_cells if _is_xlsx(name, data) else _csv_cells
    cells = read(name, data, max_lines=max_rows + 2)
    if not cells:
        raise _empty(required)
    aliases = aliases or {}
    header = [aliases.get(header_key(cell), header_key(cell)) for cell in cells[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidFile(
            _("The file lacks the columns %(columns)s.") % {"columns": ", ".join(missing)},
            [problem(1, column, _("Missing column.")) for column in missing],
        )
    if len(cells) - 1 > max_rows:
        raise InvalidFile(
            _("The file has more than %(max)d rows.") % {"max": max_rows},
            [problem(max_rows + 2, "", _("Split the file into smaller ones."))],
        )
    positions = {c: header.index(c) for c in (*required, *optional) if c in header}
    absent = {c: "" for c in optional if c not in positions}
    rows: Rows = []
    for number, line in enumerate(cells[1:], start=2):
        values = {c: str(line[p]).strip() if p < len(line) else "" for c, p in positions.items()}
        if any(values.values()):
            rows.append((number, {**values, **absent}))
    if not rows:
        raise InvalidFile(_("The file has no rows under its header."), [problem(2, "", _("No rows."))])
    _refuse_formulas(rows, plain_text)
    return rows


def _empty(required: Sequence[str]) -> InvalidFile:
    return InvalidFile(_("The file is empty."), [problem(1, "", _("Expected a header row: %s.") % ", ".join(required))])


def _refuse_formulas(rows: Rows, plain_text: Sequence[str]) -> None:
    """Refuse the file, naming every such cell, if a cell would be a formula once the
    data is exported and opened in a spreadsheet; a formula cell of an XLSX file is
    read as its formula text (``=1+1``), never as a value computed from it."""
    problems = []
    for number, values in rows:
        for column, value in values.items():
            if value.startswith(FORMULA_START) or (column in plain_text and value.startswith(SIGN_START)):
                shown = value if len(value) <= 40 else value[:40] + "…"
                problems.append(
                    problem(
                        number,
                        column,
                        _(
                            "“%(value)s” starts with “%(sign)s”, so a spreadsheet would run it as a formula: "
                            "write the value itself."
                        )
                        % {"value": shown, "sign": value[0]},
                    )
                )
    if problems:
        raise InvalidFile(
            ngettext(
                "The file has %(count)d cell that a spreadsheet would run as a formula; nothing was saved.",
                "The file has %(count)d cells that a spreadsheet would run as a formula; nothing was saved.",
                len(problems),
            )
            % {"count": len(problems)},
            problems,
        )


def _is_xlsx(name: str, data: bytes) -> bool:
    return name.endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04")


def _unreadable_xlsx() -> InvalidFile:
    return InvalidFile(
        _("This is not a readable XLSX file."),
        [problem(1, "", _("Open it in Excel and save it again as an Excel workbook (.xlsx), or as CSV UTF-8."))],
    )


def _check_zip(data: bytes) -> None:
    """Refuse an XLSX file whose zip entries are too many or unpack to too much."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise _unreadable_xlsx() from None
    if len(entries) > MAX_XLSX_ENTRIES:
        raise InvalidFile(
            _("This XLSX file holds more than %(max)d parts: it is not an ordinary spreadsheet.")
            % {"max": MAX_XLSX_ENTRIES},
            [],
        )
    unpacked = settings.PORTGUARD_UPLOAD_MAX_MB * XLSX_UNPACKED_PER_MB
    if sum(e.file_size for e in entries) > unpacked * 1024 * 1024:
        raise InvalidFile(
            _("This XLSX file unpacks to more than %(mb)d MB: it is not an ordinary spreadsheet.") % {"mb": unpacked},
            [problem(1, "", _("Split the file into smaller ones."))],
        )
    if not any(e.filename == "[Content_Types].xml" for e in entries):
        raise InvalidFile(_("This zip file is not an XLSX workbook."), [])


def _xlsx_cells(name: str, data: bytes, max_lines: int) -> list[list[str]]:
    """The first sheet's first ``max_lines`` rows as text. Formulas are read as their
    text (``data_only=False``), never as the value Excel last computed."""
    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl and zipfile raise many kinds for a damaged file
        raise _unreadable_xlsx() from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a declared A1:XFD1048576 is not to be trusted
        cells = []
        # Cells right of the limit are never read: one of them per row could otherwise
        # make each row 16,384 cells wide.
        for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
            if len(cells) == max_lines:
                break
            line = [_cell_text(v) for v in values]
            while line and not line[-1]:
                line.pop()
            if len(line) > MAX_COLUMNS:
                raise _too_wide()
            cells.append(line)
    except InvalidFile:
        raise
    except Exception:
        raise _unreadable_xlsx() from None
    finally:
        book.close()
    return cells


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, ArrayFormula):
        return value.text or "="
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as Excel shows it: 1981, not 1981.0
    return str(value)


def _too_wide() -> InvalidFile:
    return InvalidFile(
        _("The file has more than %(max)d columns.") % {"max": MAX_COLUMNS},
        [problem(1, "", _("Keep only the columns of the template."))],
    )


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one (Excel's “Unicode
    Text”). Other encodings are refused rather than guessed: Windows-1258 and
    Windows-1252 share most bytes, and a wrong guess would store misspelt names."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidFile(_("This is not a readable CSV file."), []) from None
    else:
        if b"\x00" in data:
            raise InvalidFile(_("Upload a CSV or XLSX file."), [])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            row = data[: error.start].count(b"\n") + 1
            raise InvalidFile(
                _("The CSV file is not in UTF-8: save it as “CSV UTF-8”."),
                [problem(row, "", _("The first character that is not UTF-8 is on this row."))],
            ) from None
    # Decomposed letters (as some Mac and Windows tools write them) become the usual ones.
    return unicodedata.normalize("NFC", text)


def _csv_cells(name: str, data: bytes, max_lines: int) -> list[list[str]]:
    """The first ``max_lines`` lines as text."""
    if name and not name.endswith((".csv", ".txt")):
        raise InvalidFile(_("Upload a CSV or XLSX file."), [])
    text = _decode(data)
    first_line = re.match(r"[^\r\n]*", text).group()
    separator = ","
    if "," not in first_line:
        separator = ";" if ";" in first_line else "\t" if "\t" in first_line else ","
    if first_line.count(separator) >= MAX_COLUMNS:
        raise _too_wide()
    try:
        # No header: the first line is read as data so pandas never guesses an index
        # column when a row is longer than the header.
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            nrows=max_lines,
        )
    except pd.errors.EmptyDataError:  # a byte-order mark and nothing else
        return []
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = (int(g) for g in found.groups())
            message = _("This row has %(saw)d cells; the header has %(expected)d.") % {
                "saw": saw,
                "expected": expected,
            }
            raise InvalidFile(_("The file has rows of the wrong length."), [problem(line, "", message)]) from None
        raise InvalidFile(_("This is not a readable CSV file."), []) from None
    except ValueError:
        raise InvalidFile(_("This is not a readable CSV file."), []) from None
    return frame.to_numpy(dtype=object).tolist()


def _export_text(value):
    """A text cell a spreadsheet would run as a formula, behind an apostrophe: Excel
    and LibreOffice then show it as the text it is (CSV injection)."""
    if isinstance(value, str) and value.startswith(EXPORT_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Vietnamese diacritics. A column a
    row lacks is left empty; text that would be a formula is written as text."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_export_text(row.get(column, "")) for column in columns] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[dict], columns: Sequence[str], sheet: str) -> bytes:
    """One sheet, every value written as given (text stays text: no lost zeros, and
    text starting with ``=`` is a text cell, not a formula)."""
    buffer = io.BytesIO()
    frame = pd.DataFrame(list(rows), columns=list(columns))
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        worksheet = writer.sheets[sheet[:31]]
        for position, column in enumerate(columns):
            width = max([len(str(column)), *(len(str(row.get(column, ""))) for row in rows)])
            worksheet.column_dimensions[worksheet.cell(1, position + 1).column_letter].width = min(width + 2, 60)
            for number, row in enumerate(rows, start=2):
                value = row.get(column, "")
                if isinstance(value, str) and value.startswith("="):
                    worksheet.cell(number, position + 1).data_type = "s"
    return buffer.getvalue()


def refuse(problems: list[dict], columns: Sequence[str], message: Callable[[int], str]) -> None:
    """Raise ``InvalidFile`` with every problem, by row then column, if there is any;
    ``message`` says how many there are."""
    if not problems:
        return
    order = {c: i for i, c in enumerate(columns)}
    problems.sort(key=lambda p: (p["row"], order.get(p["column"], len(order))))
    raise InvalidFile(message(len(problems)), problems)


def choice(words: Mapping[str, str], value: str) -> str | None:
    """The choice a cell names, whatever its case, diacritics, spaces or underscores."""
    return words.get(folded(value))


@lru_cache(maxsize=1024)
def folded(value: str) -> str:
    # Cached: a file of thousands of rows repeats the same few words.
    return re.sub(r"[\s_\-]+", " ", fold_place(value)).strip()


def template_xlsx(
    columns: Sequence[str], sheet: str, guide: Sequence[Sequence[str]], text_columns: Iterable[str]
) -> bytes:
    """An empty sheet with the header, the ``text_columns`` formatted as text (so Excel
    keeps an ID's leading zeros), and a second sheet that explains each column."""
    book = Workbook()
    first = book.active
    first.title = sheet[:31]
    first.append(list(columns))
    for position, column in enumerate(columns, start=1):
        letter = first.cell(1, position).column_letter
        first.cell(1, position).font = Font(bold=True)
        first.column_dimensions[letter].width = max(len(column) + 4, 16)
        if column in text_columns:
            for row in range(2, 502):
                first.cell(row, position).number_format = "@"
    notes = book.create_sheet(_("Guide")[:31])
    notes.append([_("Column"), _("Required"), _("What to write")])
    for line in guide:
        notes.append(list(line))
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
