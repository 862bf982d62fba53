"""Spreadsheets in and out: the shop's old base (XLSX or CSV) read row by row, ours written.

Pure rules, no database: which header means which field (Russian or English), how a cell
becomes a phone, a date or points, and how a cell is made safe from formula injection.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from openpyxl import Workbook, load_workbook

from bot.domain.birthday import BirthdayError, parse_birthday
from bot.domain.phone import normalize_phone

MAX_POINTS = 10_000_000
# A header, lower-cased and without punctuation, → the field it names.
HEADERS: dict[str, str] = {
    **dict.fromkeys(["имя", "фио", "клиент", "name", "full name", "first name"], "name"),
    **dict.fromkeys(
        ["телефон", "тел", "номер телефона", "мобильный", "phone", "phone number", "mobile"],
        "phone",
    ),
    **dict.fromkeys(
        ["день рождения", "дата рождения", "др", "birthday", "birth date", "date of birth", "dob"],
        "birthday",
    ),
    **dict.fromkeys(["пол", "gender", "sex"], "gender"),
    **dict.fromkeys(["город", "city"], "city"),
    **dict.fromkeys(["баллы", "бонусы", "баланс", "points", "balance", "bonus"], "points"),
    **dict.fromkeys(
        ["согласие", "дата согласия", "consent", "consent date", "consent given"], "consent"
    ),
}
_GENDERS = {
    **dict.fromkeys(["ж", "жен", "женский", "f", "female", "w", "woman"], "female"),
    **dict.fromkeys(["м", "муж", "мужской", "m", "male", "man"], "male"),
}
_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class SheetError(ValueError):
    """The file itself cannot be read: `reason` is `format` or `no_phone_column`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SheetRow:
    """One data row of the file, as text, by field; `number` is its row number in the file."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Person:
    number: int
    phone: str
    name: str | None
    birthday: date | None
    gender: str | None
    city: str | None
    points: int
    consent_at: datetime | None


@dataclass(frozen=True)
class Refused:
    number: int
    reason: str  # phone_missing, phone, birthday, points, consent
    value: str


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers pass."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # Our own export neutralised it: `'=…` back to `=…`.
    return text[1:] if text.startswith("'") and text[1:2] in _DANGEROUS else text


def _header(text: str) -> str | None:
    key = re.sub(r"[^\w ]+", " ", text.lower().replace("ё", "е")).strip()
    return HEADERS.get(re.sub(r"\s+", " ", key))


def _rows(table: list[list[object]]) -> list[SheetRow]:
    if not table:
        raise SheetError("no_phone_column")
    fields = [_header(_cell_text(cell)) for cell in table[0]]
    if "phone" not in fields:
        raise SheetError("no_phone_column")
    rows = []
    for offset, raw in enumerate(table[1:], start=2):
        cells = {
            field: _cell_text(value)
            for field, value in zip(fields, raw, strict=False)
            if field is not None
        }
        if any(cells.values()):
            rows.append(SheetRow(offset, cells))
    return rows


def read_table(data: bytes) -> list[SheetRow]:
    """Rows of an XLSX (first sheet) or CSV (UTF-8 or Windows-1251, `;` `,` or tab)."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise SheetError("format") from None
        sheet = book.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
        return _rows(table)
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("format")
    if "\x00" in text:
        raise SheetError("format")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    return _rows([list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)])


def _parse_date(text: str) -> date | None:
    match = _DATE.match(text.split(" ")[0].split("T")[0])
    if match is None:
        return None
    day, month, year, iso_year, iso_month, iso_day = match.groups()
    try:
        if iso_year:
            return date(int(iso_year), int(iso_month), int(iso_day))
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def person(row: SheetRow, today: date) -> Person | Refused:
    """The row as a customer to import, or why it cannot be taken."""
    cells = row.cells
    raw_phone = cells.get("phone", "")
    if not raw_phone:
        return Refused(row.number, "phone_missing", "")
    phone = normalize_phone(raw_phone)
    if phone is None:
        return Refused(row.number, "phone", raw_phone)
    birthday = None
    if raw := cells.get("birthday", ""):
        try:
            birthday = parse_birthday(_normal_date(raw), today)
        except BirthdayError:
            return Refused(row.number, "birthday", raw)
    points = 0
    if raw := cells.get("points", "").replace(" ", "").replace("\u00a0", ""):
        if not re.fullmatch(r"\d+([.,]0+)?", raw) or int(re.split(r"[.,]", raw)[0]) > MAX_POINTS:
            return Refused(row.number, "points", raw)
        points = int(re.split(r"[.,]", raw)[0])
    consent_at = None
    if raw := cells.get("consent", ""):
        day = _parse_date(raw)
        if day is None or day > today:
            return Refused(row.number, "consent", raw)
        consent_at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    gender = _GENDERS.get(cells.get("gender", "").lower().strip(". "))
    return Person(
        row.number,
        phone,
        cells.get("name") or None,
        birthday,
        gender,
        cells.get("city") or None,
        points,
        consent_at,
    )


def _normal_date(text: str) -> str:
    """`1990-03-25 00:00:00` from a spreadsheet date cell → `1990-03-25`."""
    return text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} ", text) else text


def write_xlsx(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(headers))
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a BOM and `;`: what Excel opens correctly in a Russian locale."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
