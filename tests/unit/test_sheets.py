"""Reading the shop's old spreadsheet: headers in two languages, cells as Excel stores them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook

from bot.domain import sheets

TODAY = date(2026, 3, 18)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_cells_as_excel_stores_them() -> None:
    data = _xlsx(
        [
            ["ФИО", "Тел.", "Дата рождения", "Пол", "Бонусы", "Дата согласия", "Заметки"],
            ["Анна", 79161234567, datetime(1990, 3, 25), "Ж", 150.0, datetime(2024, 2, 1), "x"],
            [None, None, None, None, None, None, None],  # an empty row is skipped
            ["Олег", "+7 (916) 222-33-44", "25/03/90", "m", None, None, "y"],
        ]
    )
    rows = sheets.read_table(data)
    assert [row.number for row in rows] == [2, 4]
    anna, oleg = (sheets.person(row, TODAY) for row in rows)
    assert anna == sheets.Person(
        2,
        "+79161234567",
        "Анна",
        date(1990, 3, 25),
        "female",
        None,
        150,
        datetime(2024, 2, 1, tzinfo=UTC),
    )
    assert isinstance(oleg, sheets.Person)
    assert (oleg.phone, oleg.birthday, oleg.gender, oleg.points) == (
        "+79162223344",
        date(1990, 3, 25),
        "male",
        0,
    )


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Name", "name"),
        ("PHONE NUMBER", "phone"),
        ("Date of birth", "birthday"),
        ("Город", "city"),
        ("Баллы", "points"),
        ("Consent date", "consent"),
        ("Телефон:", "phone"),
    ],
)
def test_headers_in_russian_and_english(header: str, field: str) -> None:
    rows = sheets.read_table(f"{header};Phone\nvalue;+79161234567\n".encode())
    assert rows[0].cells.get(field) in ("value", "+79161234567")


def test_windows_1251_csv_with_commas() -> None:
    data = "Имя,Телефон\nВера,89165556677\n".encode("cp1251")
    assert sheets.read_table(data)[0].cells == {"name": "Вера", "phone": "89165556677"}


def test_a_file_without_a_phone_column_is_refused_whole() -> None:
    with pytest.raises(sheets.SheetError) as error:
        sheets.read_table(b"Name;City\nAnna;Moscow\n")
    assert error.value.reason == "no_phone_column"


def test_our_own_neutralised_cells_read_back_as_typed() -> None:
    rows = sheets.read_table(sheets.write_csv(("Имя", "Телефон"), [["=2+2", "+79161234567"]]))
    assert rows[0].cells == {"name": "=2+2", "phone": "+79161234567"}
