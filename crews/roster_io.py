"""Spreadsheets in and out (CSV and XLSX), with pandas kept at this edge.

Files are read with every cell as text, so an ID number such as ``001…`` keeps its
leading zeros, and handed on as plain dicts numbered as a person sees the rows in the
spreadsheet: the header is row 1, the first data row is row 2.
"""

import csv
import io
import re
from collections.abc import Sequence
from typing import IO

import pandas as pd
from django.utils.translation import gettext as _

from portguard.domain import InvalidFile

MAX_BYTES = 10 * 1024 * 1024

Table = list[tuple[int, dict[str, str]]]


def problem(row: int, column: str, message: str) -> dict:
    return {"row": row, "column": column, "message": message}


def read_table(upload: IO[bytes], columns: Sequence[str]) -> Table:
    """The rows of a CSV or XLSX file with at least ``columns``, as ``(row number,
    {column: text})``; blank rows are skipped. Raises ``InvalidFile`` naming what is
    wrong when the file cannot be read, lacks a column or has no rows."""
    name = (getattr(upload, "name", "") or "").lower()
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidFile(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)}, [])
    if not data.strip():
        raise InvalidFile(
            _("The file is empty."), [problem(1, "", _("Expected a header row: %s.") % ", ".join(columns))]
        )
    frame = _read_xlsx(data) if _is_xlsx(name, data) else _read_csv(name, data)
    header = [str(cell).strip().lower() for cell in frame.iloc[0]] if len(frame) else []
    missing = [c for c in columns if c not in header]
    if missing:
        raise InvalidFile(
            _("The file lacks the columns %(columns)s.") % {"columns": ", ".join(missing)},
            [problem(1, column, _("Missing column.")) for column in missing],
        )
    positions = {c: header.index(c) for c in columns}
    rows: Table = []
    for index in range(1, len(frame)):
        cells = frame.iloc[index]
        values = {c: str(cells.iloc[p]).strip() for c, p in positions.items()}
        if any(values.values()):
            rows.append((index + 1, values))
    if not rows:
        raise InvalidFile(_("The file has no rows under its header."), [problem(2, "", _("No rows."))])
    return rows


def _is_xlsx(name: str, data: bytes) -> bool:
    return name.endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04")


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_excel(io.BytesIO(data), header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception:  # openpyxl and zipfile raise many kinds for a damaged file
        raise InvalidFile(_("This is not a readable XLSX file."), []) from None


def _read_csv(name: str, data: bytes) -> pd.DataFrame:
    if (name and not name.endswith((".csv", ".txt"))) or b"\x00" in data:
        raise InvalidFile(_("Upload a CSV or XLSX file."), [])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidFile(_("The CSV file is not in UTF-8: save it as “CSV UTF-8”."), []) from None
    first_line = text.split("\n", 1)[0]
    separator = ";" if ";" in first_line and "," not in first_line else ","
    try:
        # No header: the first line is read as data so pandas never guesses an index
        # column when a row is longer than the header.
        return pd.read_csv(
            io.StringIO(text), sep=separator, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
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


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Vietnamese diacritics. A column a
    row lacks is left empty."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[dict], columns: Sequence[str], sheet: str) -> bytes:
    """One sheet, every value written as given (text stays text: no lost zeros)."""
    buffer = io.BytesIO()
    frame = pd.DataFrame(list(rows), columns=list(columns))
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        worksheet = writer.sheets[sheet[:31]]
        for position, column in enumerate(columns):
            width = max([len(str(column)), *(len(str(row.get(column, ""))) for row in rows)])
            worksheet.column_dimensions[worksheet.cell(1, position + 1).column_letter].width = min(width + 2, 60)
    return buffer.getvalue()
