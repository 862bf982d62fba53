"""Money as integer kopecks: typed amounts, printed amounts, never a float."""

from __future__ import annotations

import re
from decimal import Decimal

MAX_AMOUNT = 100_000_000_00  # one hundred million roubles: above that it is a typo
# Plain decimal notation in ASCII digits only: `\d` would also take full-width or Arabic-Indic
# digits, and Decimal would take exponents (`1E-999999999` is 0 kopecks).
_AMOUNT = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,2})?")


def parse_amount(raw: str) -> int | None:
    """`1250`, `1 250`, `1250,50`, `1250.5 ₽` → kopecks; None for anything else or zero.

    The bot's chat, the shell and the till's API read sums here, so they refuse the same things:
    exponents, more than two decimals, digits of other scripts, zero and above MAX_AMOUNT.
    """
    text = raw.strip().removesuffix("₽").removesuffix("руб").removesuffix("р").strip()
    text = re.sub(r"[\s\u00a0]", "", text)
    if not _AMOUNT.fullmatch(text):
        return None
    kopecks = int(Decimal(text.replace(",", ".")) * 100)
    return kopecks if 0 < kopecks <= MAX_AMOUNT else None


def plain_rub(kopecks: int) -> str:
    """`125050` → `1250.50`: exact, a dot, two decimals, no grouping (for machines)."""
    sign = "-" if kopecks < 0 else ""
    roubles, rest = divmod(abs(kopecks), 100)
    return f"{sign}{roubles}.{rest:02d}"


def format_rub(kopecks: int) -> str:
    """`125050` → `1 250,50 ₽`; whole roubles without the kopecks."""
    roubles, rest = divmod(abs(kopecks), 100)
    sign = "-" if kopecks < 0 else ""
    whole = f"{roubles:,}".replace(",", "\u00a0")
    return f"{sign}{whole},{rest:02d}\u00a0₽" if rest else f"{sign}{whole}\u00a0₽"
