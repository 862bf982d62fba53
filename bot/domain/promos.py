"""Promo codes as values: the code alphabet, reading a typed code, the discount, the refusals.

A code is 8 characters from a 32-character alphabet without look-alikes (no 0/O, 1/I):
32**8 = 2**40 ≈ 1.1 trillion codes, 40 bits of entropy, drawn with `secrets`. It is shown and
read aloud as two groups of four (`K7QM-3XWP`); typed in any case, with spaces or dashes.

The discount is computed here, once, for the cashier's preview, the till's answer and the sale
itself: a percent of the check (rounded down to the kopeck) or a fixed sum. The customer pays
the rest: points accrue on what is paid, and the cap on paying with points applies to it too.
A discount may not swallow the whole check (a purchase has a positive amount).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.money import parse_amount

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: no 0, O, 1, I
CODE_LENGTH = 8
ENTROPY_BITS = 40  # CODE_LENGTH * log2(len(ALPHABET))
MAX_PERCENT = 99


class Kind(StrEnum):
    PERCENT = "percent"  # value: percent of the check, 1..99
    FIXED = "fixed"  # value: kopecks off the check
    POINTS = "points"  # value: bonus points granted with the purchase


class Refusal(StrEnum):
    """Why a code cannot be used; the value is the stable code the till receives."""

    UNKNOWN = "promo_unknown"
    EXPIRED = "promo_expired"
    USED = "promo_used"
    FOREIGN = "promo_foreign"  # someone else's personal code
    INACTIVE = "promo_inactive"  # the owner switched the promotion off
    AMOUNT_TOO_SMALL = "promo_amount_too_small"  # a fixed discount as large as the check
    THROTTLED = "promo_too_many_attempts"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """`k7qm 3xwp`, `K7QM-3XWP` → `K7QM3XWP`; None when it cannot be a code at all."""
    code = "".join(ch for ch in text.upper() if ch not in " -\u00a0\t")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def check_value(kind: Kind, value: int) -> None:
    """A promotion's value must make sense for its kind (ValueError otherwise)."""
    if value <= 0:
        raise ValueError("the value must be positive")
    if kind is Kind.PERCENT and value > MAX_PERCENT:
        raise ValueError(f"a percent discount is 1..{MAX_PERCENT}")


def parse_value(kind: Kind, text: str) -> int | None:
    """A value as the owner types it: `10` (percent), `500` or `499,90` roubles (fixed, in
    kopecks), `300` (points); None when it does not fit the kind."""
    if kind is Kind.FIXED:
        return parse_amount(text)
    text = text.strip().removesuffix("%").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    try:
        check_value(kind, value)
    except ValueError:
        return None
    return value


def discount(kind: Kind, value: int, amount: int) -> int:
    """Kopecks off a check of `amount` kopecks; 0 for a points code."""
    if kind is Kind.PERCENT:
        return amount * value // 100
    if kind is Kind.FIXED:
        return value
    return 0


def bonus(kind: Kind, value: int) -> int:
    return value if kind is Kind.POINTS else 0


@dataclass(frozen=True)
class CodeFacts:
    """What the database knows about a code at the moment it is looked at."""

    kind: Kind
    value: int
    active: bool
    expires_at: datetime | None
    owner_id: int | None  # the customer of a personal code; None for a shared code
    uses: int  # of this code (a personal code) or of the promotion (a shared code)
    use_limit: int | None  # None: unlimited
    used_by_this_customer: bool  # a single-use shared code this customer has used


def refusal(facts: CodeFacts, customer_id: int, amount: int, now: datetime) -> Refusal | None:
    """None when the customer may use the code on a check of `amount` kopecks now."""
    if facts.owner_id is not None and facts.owner_id != customer_id:
        return Refusal.FOREIGN
    if not facts.active:
        return Refusal.INACTIVE
    if facts.expires_at is not None and facts.expires_at <= now:
        return Refusal.EXPIRED
    if facts.used_by_this_customer or (
        facts.use_limit is not None and facts.uses >= facts.use_limit
    ):
        return Refusal.USED
    if discount(facts.kind, facts.value, amount) >= amount:
        return Refusal.AMOUNT_TOO_SMALL
    return None
