import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.phone import mask_phone, normalize_phone


@pytest.mark.parametrize(
    "typed",
    ["+7 916 123-45-67", "89161234567", "8 (916) 123 45 67", "79161234567", "9161234567"],
)
def test_russian_habits_give_one_number(typed: str) -> None:
    assert normalize_phone(typed) == "+79161234567"


@pytest.mark.parametrize("typed", ["", "123", "abc", "+7 916", "8 800", "1" * 40, "+0 000 000"])
def test_impossible_numbers_are_refused(typed: str) -> None:
    assert normalize_phone(typed) is None


def test_foreign_numbers_keep_their_country() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("+375 29 123-45-67") == "+375291234567"


@given(st.integers(min_value=900_000_0000, max_value=999_999_9999))
def test_every_spelling_of_a_mobile_number_normalises_alike(national: int) -> None:
    digits = str(national)
    canonical = normalize_phone("+7" + digits)
    if canonical is None:
        return
    spaced = f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    assert normalize_phone(spaced) == canonical
    assert normalize_phone("7" + digits) == canonical
    assert normalize_phone(canonical) == canonical


def test_mask_keeps_only_country_and_last_digits() -> None:
    assert mask_phone("+79161234567") == "+7 *** ***-45-67"
