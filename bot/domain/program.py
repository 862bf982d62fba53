"""The loyalty program's rules: tiers by spend, accrual percent, the redemption cap.

Amounts are kopecks and points are whole numbers (1 point = 1 rouble); percentages are Decimal, so
7.5 % is exact. Accrual rounds down: a shop never gives away a fraction it did not promise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: int  # cumulative spend in kopecks from which the tier applies
    percent: Decimal


@dataclass(frozen=True)
class Program:
    tiers: tuple[Tier, ...]  # sorted by threshold, the first at 0
    redeem_cap_percent: Decimal = Decimal(30)
    purchase_points_days: int = 365
    bonus_points_days: int = 365
    welcome_bonus: int = 100
    profile_bonus: int = 0
    referral_bonus: int = 0
    birthday_bonus: int = 0
    receipt_qr_hours: int = 24

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].threshold != 0:
            raise ValueError("the first tier must start at 0")
        thresholds = [tier.threshold for tier in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must grow")

    @property
    def receipt_window(self) -> timedelta:
        """How long a receipt QR can be claimed after it was printed."""
        return timedelta(hours=self.receipt_qr_hours)

    def tier_for(self, spend: int) -> Tier:
        return [tier for tier in self.tiers if tier.threshold <= spend][-1]

    def next_tier(self, spend: int) -> Tier | None:
        return next((tier for tier in self.tiers if tier.threshold > spend), None)

    def accrual(self, paid: int, spend_before: int) -> int:
        """Points for `paid` kopecks of money (not of points), at the tier held before the sale."""
        percent = self.tier_for(spend_before).percent
        return int((Decimal(paid) * percent / 10000).to_integral_value(ROUND_FLOOR))

    def redeem_cap(self, amount: int) -> int:
        """The most points a check of `amount` kopecks may be paid with."""
        cap = Decimal(amount) * self.redeem_cap_percent / 10000
        return int(cap.to_integral_value(ROUND_FLOOR))


def parse_tiers(spec: str) -> tuple[Tier, ...]:
    """`Base:0:5, Silver:10000:7` (name, from roubles, percent) → tiers."""
    tiers = []
    for part in spec.split(","):
        if not part.strip():
            continue
        try:
            name, threshold, percent = (value.strip() for value in part.split(":"))
            tier = Tier(name, int(threshold) * 100, Decimal(percent))
        except ValueError as exc:
            raise ValueError(f"{part.strip()!r}: write name:from_roubles:percent") from exc
        if not name or tier.threshold < 0 or not 0 <= tier.percent <= 100:
            raise ValueError(f"{part.strip()!r}: a name, a spend ≥ 0 and a percent 0–100")
        tiers.append(tier)
    return tuple(sorted(tiers, key=lambda tier: tier.threshold))


def format_tiers(tiers: tuple[Tier, ...]) -> str:
    """The inverse of `parse_tiers`: `Base:0:5, Silver:10000:7`."""
    return ", ".join(f"{tier.name}:{tier.threshold // 100}:{tier.percent:g}" for tier in tiers)


# The values an owner may change (issue 13), with the bounds the environment's settings have.
INTEGER_KEYS: dict[str, tuple[int, int]] = {
    "welcome_bonus": (0, 1_000_000),
    "profile_bonus": (0, 1_000_000),
    "referral_bonus": (0, 1_000_000),
    "birthday_bonus": (0, 1_000_000),
    "purchase_points_days": (0, 3650),
    "bonus_points_days": (0, 3650),
    "receipt_qr_hours": (1, 24 * 30),
}
KEYS: tuple[str, ...] = (
    "welcome_bonus",
    "profile_bonus",
    "referral_bonus",
    "birthday_bonus",
    "tiers",
    "redeem_cap_percent",
    "purchase_points_days",
    "bonus_points_days",
    "receipt_qr_hours",
)
TIER_NAME_LIMIT = 40


class ProgramValueError(ValueError):
    """A value that cannot be the program's: `reason` is `integer`, `percent`, `tiers` or
    `key`; `low` and `high` bound an integer."""

    def __init__(self, key: str, reason: str, low: int = 0, high: int = 0) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
        self.low = low
        self.high = high


def format_value(program: Program, key: str) -> str:
    """One value in the text form the owner types and the database keeps."""
    if key == "tiers":
        return format_tiers(program.tiers)
    if key == "redeem_cap_percent":
        return f"{program.redeem_cap_percent:g}"
    if key in INTEGER_KEYS:
        return str(getattr(program, key))
    raise ProgramValueError(key, "key")


def with_value(program: Program, key: str, raw: str) -> Program:
    """`program` with `key` set from its typed text form, or ProgramValueError."""
    text = raw.strip()
    if key in INTEGER_KEYS:
        low, high = INTEGER_KEYS[key]
        try:
            number = int(text.replace(" ", ""))
        except ValueError:
            raise ProgramValueError(key, "integer", low, high) from None
        if not low <= number <= high:
            raise ProgramValueError(key, "integer", low, high)
        changes: dict[str, Any] = {key: number}
        return replace(program, **changes)
    if key == "redeem_cap_percent":
        try:
            percent = Decimal(text.replace(",", ".").rstrip("%").strip())
        except InvalidOperation:
            raise ProgramValueError(key, "percent") from None
        if not percent.is_finite() or not 0 <= percent <= 100:
            raise ProgramValueError(key, "percent")
        return replace(program, redeem_cap_percent=percent)
    if key == "tiers":
        try:
            tiers = parse_tiers(text)
            if any(len(tier.name) > TIER_NAME_LIMIT for tier in tiers):
                raise ValueError("name too long")
            return replace(program, tiers=tiers)
        except ValueError:
            raise ProgramValueError(key, "tiers") from None
    raise ProgramValueError(key, "key")
