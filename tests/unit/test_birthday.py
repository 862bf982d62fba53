from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.birthday import BirthdayError, parse_birthday

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    "typed",
    ["05.03.1990", "5.3.1990", "05/03/1990", "05-03-1990", "1990-03-05", "05 03 1990", "05031990"],
)
def test_common_spellings(typed: str) -> None:
    assert parse_birthday(typed, TODAY) == date(1990, 3, 5)


def test_two_digit_years_mean_the_latest_past_year() -> None:
    assert parse_birthday("05.03.90", TODAY) == date(1990, 3, 5)
    assert parse_birthday("05.03.05", TODAY) == date(2005, 3, 5)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("31.02.1990", "format"),
        ("завтра", "format"),
        ("", "format"),
        ("05.03.2024", "age"),
        ("05.03.1890", "age"),
        ("24.11.2030", "age"),
    ],
)
def test_refusals_say_why(typed: str, reason: str) -> None:
    with pytest.raises(BirthdayError) as refused:
        parse_birthday(typed, TODAY)
    assert refused.value.reason == reason


@given(st.dates(min_value=date(1917, 1, 1), max_value=date(2016, 11, 24)))
def test_every_plausible_birthday_round_trips(born: date) -> None:
    for spelling in (
        born.strftime("%d.%m.%Y"),
        born.isoformat(),
        f"{born.day}/{born.month}/{born.year}",
    ):
        assert parse_birthday(spelling, TODAY) == born
