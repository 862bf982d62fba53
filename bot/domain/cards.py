"""Card numbers a cashier can type: 7 random digits and a Luhn check digit.

Random, not sequential, so a number cannot be guessed from one's own; the check digit catches a
mistyped or swapped digit before the wrong customer gets the points.
"""

from __future__ import annotations

import secrets

CARD_LENGTH = 8


def _luhn_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return (10 - total % 10) % 10


def new_card_code() -> str:
    body = str(secrets.randbelow(9_000_000) + 1_000_000)
    return body + str(_luhn_digit(body))


def is_card_code(text: str) -> bool:
    digits = text.replace(" ", "")
    return (
        len(digits) == CARD_LENGTH
        and digits.isascii()
        and digits.isdigit()
        and _luhn_digit(digits[:-1]) == int(digits[-1])
    )


def normalize_card_code(text: str) -> str | None:
    digits = "".join(text.split())
    return digits if is_card_code(digits) else None
