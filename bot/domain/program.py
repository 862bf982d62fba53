"""The loyalty program's rules: tiers by spend, accrual percent, the redemption cap.

Amounts are kopecks and points are whole numbers (1 point = 1 rouble); percentages are Decimal, so
7.5 % is exact. Accrual rounds down: a shop never gives away a fraction it did not promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


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

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].threshold != 0:
            raise ValueError("the first tier must start at 0")
        thresholds = [tier.threshold for tier in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must grow")

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
