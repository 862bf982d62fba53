"""Points lots and how debits consume them: oldest first, expired lots never spent.

Every credit (purchase accrual, bonus) is a lot with its own expiry; a debit (redemption,
expiry, reversal) takes points from lots. The balance is the sum of what the lots still hold,
which equals the sum of all ledger entries: the ledger never drifts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


class NotEnoughPointsError(Exception):
    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(f"wanted {wanted} points, {available} available")
        self.wanted = wanted
        self.available = available


@dataclass
class Lot:
    id: int
    remaining: int
    created_at: datetime
    expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


def _oldest_first(lots: Iterable[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.created_at, lot.id))


def spendable(lots: Iterable[Lot], now: datetime) -> int:
    return sum(lot.remaining for lot in lots if lot.live(now))


def take(
    lots: Sequence[Lot], points: int, now: datetime, *, first: int | None = None
) -> list[tuple[int, int]]:
    """Allocations `(lot id, points)` for a debit; `first` names a lot to take from before others.

    Raises NotEnoughPointsError and allocates nothing when the live lots hold too little.
    """
    if points < 0:
        raise ValueError("a debit takes a positive number of points")
    available = spendable(lots, now)
    if points > available:
        raise NotEnoughPointsError(points, available)
    ordered = _oldest_first(lot for lot in lots if lot.live(now))
    ordered.sort(
        key=lambda lot: lot.id != first
    )  # stable: `first` leads, the rest stay oldest-first
    return take_in_order([(lot.id, lot.remaining) for lot in ordered], points)


def take_in_order(lots: Sequence[tuple[int, int]], points: int) -> list[tuple[int, int]]:
    """Allocations `(lot id, points)` from live lots `(lot id, points)` already in spending order.

    Raises NotEnoughPointsError and allocates nothing when they hold too little.
    """
    if points < 0:
        raise ValueError("a debit takes a positive number of points")
    available = sum(held for _, held in lots)
    if points > available:
        raise NotEnoughPointsError(points, available)
    allocations = []
    for lot_id, held in lots:
        if points == 0:
            break
        portion = min(points, held)
        if portion > 0:
            allocations.append((lot_id, portion))
        points -= portion
    return allocations


def expired(lots: Iterable[Lot], now: datetime) -> list[tuple[int, int]]:
    """`(lot id, points)` still held by lots whose time is up, oldest first."""
    return [
        (lot.id, lot.remaining)
        for lot in _oldest_first(lots)
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= now
    ]
