"""Birthdays as people type them: 05.03.1990, 5.3.1990, 05/03/1990, 1990-03-05, 05 03 1990."""

from __future__ import annotations

import re
from datetime import date

MIN_AGE = 10
MAX_AGE = 110

_DMY = re.compile(r"^(\d{1,2})[.\-/ ](\d{1,2})[.\-/ ](\d{4}|\d{2})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")


class BirthdayError(ValueError):
    """Why a typed birthday was refused: `format` or `age`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def parse_birthday(raw: str, today: date) -> date:
    text = re.sub(r"\s+", " ", raw.strip())
    if match := _YMD.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DMY.match(text) or _COMPACT.match(text):
        day, month, year = (int(part) for part in match.groups())
        if year < 100:
            # A two-digit year means the most recent such year that is not in the future.
            year += 1900 if 2000 + year > today.year else 2000
    else:
        raise BirthdayError("format")
    try:
        born = date(year, month, day)
    except ValueError:
        raise BirthdayError("format") from None
    if not MIN_AGE <= _age(born, today) <= MAX_AGE:
        raise BirthdayError("age")
    return born
