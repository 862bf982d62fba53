"""Typed amounts: plain decimal roubles in ASCII digits, at most two decimals, within MAX_AMOUNT."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.money import MAX_AMOUNT, parse_amount, plain_rub


@pytest.mark.parametrize(
    ("typed", "kopecks"),
    [
        ("1250", 1250_00),
        ("1 250", 1250_00),
        ("1\u00a0250,50", 1250_50),
        ("1250.5 ₽", 1250_50),
        ("99,90р", 99_90),
        ("0.01", 1),
        ("100000000", MAX_AMOUNT),
    ],
)
def test_what_a_cashier_types_is_read_exactly(typed: str, kopecks: int) -> None:
    assert parse_amount(typed) == kopecks


@pytest.mark.parametrize(
    "typed",
    [
        "1E-999999999",  # was 0 kopecks, then a 500 at the till
        "1e3",
        "1E2",
        "12.345",
        "0",
        "0.00",
        "-5",
        "+5",
        "100000000.01",
        "NaN",
        "Infinity",
        "1_000",
        "0x10",
        "１２５０",  # full-width digits
        "١٢٥٠",  # Arabic-Indic digits
        "۱۲۵۰",  # extended Arabic-Indic (Persian) digits
        "१२५०",  # Devanagari digits
        "12.٥",
        "",
        "₽",
    ],
)
def test_anything_else_is_refused(typed: str) -> None:
    assert parse_amount(typed) is None


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_every_valid_sum_round_trips_through_its_plain_form(kopecks: int) -> None:
    assert parse_amount(plain_rub(kopecks)) == kopecks


@given(st.text(max_size=20))
def test_no_text_gives_zero_a_negative_or_more_than_the_maximum(text: str) -> None:
    kopecks = parse_amount(text)
    assert kopecks is None or 0 < kopecks <= MAX_AMOUNT
    if kopecks is not None:
        assert all(char.isascii() for char in text if char.isdigit())
