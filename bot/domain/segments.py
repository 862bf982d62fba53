"""Segments of the customer base: lifecycle kinds and combinable filters, as plain values.

A `SegmentFilter` is what the owner picks (a lifecycle kind, gender, age, city, spend, RFM …);
every criterion left at None matches everyone, and the set ones must all hold. It is frozen,
serialised to JSON for a saved segment and for a campaign's snapshot, and read back with
`SegmentFilter.from_json`, which refuses anything it does not know (a clear `SegmentError`).

The SQL that selects a segment lives in `db/repositories/segments.py`; `matches` below is the
same rule in Python, one customer at a time: the reference the property test holds the SQL to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any


class SegmentError(ValueError):
    """A filter that cannot be: `field` names the criterion, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Lifecycle(StrEnum):
    POTENTIAL = "potential"  # signed up, no purchase yet
    ONE_PURCHASE = "one_purchase"  # exactly one purchase
    ACTIVE = "active"  # bought within the last ACTIVE_DAYS
    QUIET = "quiet"  # bought before, but not for QUIET_DAYS
    VIP = "vip"  # spend reaches the top tier
    MAILING_ONLY = "mailing_only"  # advertising consent, no purchase


# RFM: each of recency, frequency and monetary value scored 1 (weak) to 5 (strong) by fixed
# thresholds, so a score means the same thing tomorrow and in every shop's terminal.
RECENCY_DAYS = (14, 30, 60, 120)  # last purchase within 14 days: 5; within 30: 4; …; else 1
FREQUENCY_PURCHASES = (2, 3, 5, 10)  # 2 purchases: 2; 3-4: 3; 5-9: 4; 10 and more: 5
MONETARY_ROUBLES = (1_000, 5_000, 15_000, 50_000)  # net spend from 1 000 ₽: 2; … 50 000 ₽: 5


def recency_score(last_purchase: datetime | None, now: datetime) -> int:
    if last_purchase is None:
        return 1
    score = 5
    for days in RECENCY_DAYS:
        if last_purchase > now - timedelta(days=days):
            return score
        score -= 1
    return 1


def frequency_score(purchases: int) -> int:
    return 1 + sum(1 for limit in FREQUENCY_PURCHASES if purchases >= limit)


def monetary_score(spend: int) -> int:
    """`spend` in kopecks, net of returns."""
    return 1 + sum(1 for limit in MONETARY_ROUBLES if spend >= limit * 100)


def parse_rfm(code: str) -> tuple[int, int, int]:
    """ "344" → (3, 4, 4): the least R, F and M score a customer must have."""
    if len(code) != 3 or any(digit not in "12345" for digit in code):
        raise SegmentError("rfm", "three digits 1-5 (least recency, frequency, money), e.g. 344")
    return int(code[0]), int(code[1]), int(code[2])


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(birthday: date, today: date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


@dataclass(frozen=True)
class SegmentRules:
    """The thresholds a segment is judged by, from settings; `now` is the moment of judging."""

    now: datetime
    today: date  # the shop's local date (ages)
    active_days: int = 90
    quiet_days: int = 90
    vip_spend: int | None = None  # kopecks: the top tier's threshold; None when one tier
    tiers: tuple[tuple[str, int], ...] = (("", 0),)  # (name, threshold), sorted

    @property
    def active_since(self) -> datetime:
        return self.now - timedelta(days=self.active_days)

    @property
    def quiet_before(self) -> datetime:
        return self.now - timedelta(days=self.quiet_days)

    def tier_range(self, name: str) -> tuple[int, int | None]:
        """Spend from (inclusive) and to (exclusive, None: open) of the tier called `name`."""
        for index, (tier, threshold) in enumerate(self.tiers):
            if tier.casefold() == name.casefold():
                upper = self.tiers[index + 1][1] if index + 1 < len(self.tiers) else None
                return threshold, upper
        known = ", ".join(tier for tier, _ in self.tiers)
        raise SegmentError("tier", f"no tier {name!r} (tiers: {known})")


_GENDERS = ("female", "male")


@dataclass(frozen=True)
class SegmentFilter:
    """All set criteria must hold; lists match any of their items; ranges include both ends.

    Money is in kopecks (net spend, returns deducted); dates of the last purchase are aware
    datetimes (before: strictly earlier; after: at or later). A customer with no purchase has
    no last purchase: any `last_purchase_*` criterion leaves them out.
    """

    lifecycle: Lifecycle | None = None
    gender: str | None = None  # female, male
    age_min: int | None = None
    age_max: int | None = None
    birthday_month: int | None = None  # 1-12
    cities: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()  # any of them
    source_ids: tuple[int, ...] = ()
    tier: str | None = None
    spend_min: int | None = None
    spend_max: int | None = None
    purchases_min: int | None = None
    purchases_max: int | None = None
    last_purchase_before: datetime | None = None
    last_purchase_after: datetime | None = None
    rfm_min: str | None = None  # "344": R ≥ 3, F ≥ 4, M ≥ 4

    def __post_init__(self) -> None:
        if self.lifecycle is not None and not isinstance(self.lifecycle, Lifecycle):
            object.__setattr__(self, "lifecycle", _lifecycle(self.lifecycle))
        for name in ("cities", "interests", "source_ids"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.gender is not None and self.gender not in _GENDERS:
            raise SegmentError("gender", "female or male")
        _range("age", self.age_min, self.age_max, 0, 150)
        _range("spend", self.spend_min, self.spend_max, 0, None)
        _range("purchases", self.purchases_min, self.purchases_max, 0, None)
        if self.birthday_month is not None and not 1 <= self.birthday_month <= 12:
            raise SegmentError("birthday_month", "a month 1-12")
        for moment in (self.last_purchase_before, self.last_purchase_after):
            if moment is not None and moment.tzinfo is None:
                raise SegmentError("last_purchase", "an aware datetime")
        if self.rfm_min is not None:
            parse_rfm(self.rfm_min)

    @property
    def is_everyone(self) -> bool:
        return self == SegmentFilter()

    def to_dict(self) -> dict[str, Any]:
        """Only the set criteria, JSON-ready (datetimes as ISO text, tuples as lists)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or value == ():
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Lifecycle):
                value = value.value
            out[name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentFilter:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SegmentError(sorted(unknown)[0], "not a segment criterion")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if value is None:
                continue
            if name in ("last_purchase_before", "last_purchase_after"):
                try:
                    value = datetime.fromisoformat(str(value))
                except ValueError:
                    raise SegmentError(name, "an ISO date and time") from None
            elif name in ("cities", "interests"):
                value = tuple(str(item) for item in value)
            elif name == "source_ids":
                value = tuple(int(item) for item in value)
            values[name] = value
        try:
            return cls(**values)
        except TypeError as error:
            raise SegmentError("segment", str(error)) from None

    @classmethod
    def from_json(cls, text: str) -> SegmentFilter:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SegmentError("segment", "not JSON") from None
        if not isinstance(data, dict):
            raise SegmentError("segment", "a JSON object")
        return cls.from_dict(data)

    # The bounds the SQL compares with, computed once here (pure, testable).

    def birthday_bounds(self, today: date) -> tuple[date | None, date | None]:
        """Age range → birthday range: born on or before `latest`, strictly after `earliest`."""
        latest = years_before(today, self.age_min) if self.age_min is not None else None
        earliest = years_before(today, self.age_max + 1) if self.age_max is not None else None
        return earliest, latest


def _lifecycle(value: object) -> Lifecycle:
    try:
        return Lifecycle(str(value))
    except ValueError:
        kinds = ", ".join(kind.value for kind in Lifecycle)
        raise SegmentError("lifecycle", f"one of {kinds}") from None


def _range(name: str, low: int | None, high: int | None, floor: int, ceiling: int | None) -> None:
    for value in (low, high):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise SegmentError(name, "a whole number")
        if value < floor or (ceiling is not None and value > ceiling):
            raise SegmentError(name, f"out of range {floor}-{ceiling or '∞'}")
    if low is not None and high is not None and low > high:
        raise SegmentError(name, "the lower bound is above the upper one")


# --- the same rule in Python, one customer at a time (the SQL's reference) ----------------------


@dataclass(frozen=True)
class CustomerFacts:
    """What a segment looks at, for one customer."""

    gender: str | None
    birthday: date | None
    city: str | None
    interests: tuple[str, ...]
    source_id: int | None
    spend: int
    purchases: int
    last_purchase: datetime | None
    ads_opt_in: bool


def lifecycle_of(kind: Lifecycle, facts: CustomerFacts, rules: SegmentRules) -> bool:
    last = facts.last_purchase
    if kind is Lifecycle.POTENTIAL:
        return facts.purchases == 0
    if kind is Lifecycle.ONE_PURCHASE:
        return facts.purchases == 1
    if kind is Lifecycle.ACTIVE:
        return last is not None and last > rules.active_since
    if kind is Lifecycle.QUIET:
        return last is not None and last <= rules.quiet_before
    if kind is Lifecycle.VIP:
        return rules.vip_spend is not None and facts.spend >= rules.vip_spend
    return facts.ads_opt_in and facts.purchases == 0  # MAILING_ONLY


def matches(segment: SegmentFilter, facts: CustomerFacts, rules: SegmentRules) -> bool:
    s, f = segment, facts
    if s.lifecycle is not None and not lifecycle_of(s.lifecycle, f, rules):
        return False
    if s.gender is not None and f.gender != s.gender:
        return False
    if s.age_min is not None or s.age_max is not None:
        if f.birthday is None:
            return False
        age = age_on(f.birthday, rules.today)
        if s.age_min is not None and age < s.age_min:
            return False
        if s.age_max is not None and age > s.age_max:
            return False
    if s.birthday_month is not None and (
        f.birthday is None or f.birthday.month != s.birthday_month
    ):
        return False
    if s.cities and f.city not in s.cities:
        return False
    if s.interests and not set(s.interests) & set(f.interests):
        return False
    if s.source_ids and f.source_id not in s.source_ids:
        return False
    if s.tier is not None:
        low, high = rules.tier_range(s.tier)
        if f.spend < low or (high is not None and f.spend >= high):
            return False
    if s.spend_min is not None and f.spend < s.spend_min:
        return False
    if s.spend_max is not None and f.spend > s.spend_max:
        return False
    if s.purchases_min is not None and f.purchases < s.purchases_min:
        return False
    if s.purchases_max is not None and f.purchases > s.purchases_max:
        return False
    if s.last_purchase_before is not None and (
        f.last_purchase is None or not f.last_purchase < s.last_purchase_before
    ):
        return False
    if s.last_purchase_after is not None and (
        f.last_purchase is None or not f.last_purchase >= s.last_purchase_after
    ):
        return False
    if s.rfm_min is not None:
        r, fr, m = parse_rfm(s.rfm_min)
        if (
            recency_score(f.last_purchase, rules.now) < r
            or frequency_score(f.purchases) < fr
            or monetary_score(f.spend) < m
        ):
            return False
    return True
