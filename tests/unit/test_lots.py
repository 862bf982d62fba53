"""The allocation rule on its own, for every shape of lots: oldest first, never too much."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ledger import Lot, NotEnoughPointsError, expired, spendable, take

T0 = datetime(2026, 1, 1, tzinfo=UTC)

lots_strategy = st.lists(
    st.builds(
        lambda i, remaining, age, life: Lot(
            i,
            remaining,
            T0 + timedelta(days=age),
            None if life is None else T0 + timedelta(days=age + life),
        ),
        st.integers(1, 10_000),
        st.integers(0, 500),
        st.integers(0, 100),
        st.one_of(st.none(), st.integers(1, 200)),
    ),
    max_size=8,
    unique_by=lambda lot: lot.id,
)


@given(lots_strategy, st.integers(0, 3000), st.integers(0, 300))
def test_take_is_oldest_first_and_exact(lots: list[Lot], wanted: int, day: int) -> None:
    now = T0 + timedelta(days=day)
    available = spendable(lots, now)
    if wanted > available:
        with pytest.raises(NotEnoughPointsError):
            take(lots, wanted, now)
        return
    allocations = take(lots, wanted, now)
    assert sum(points for _, points in allocations) == wanted
    by_id = {lot.id: lot for lot in lots}
    for lot_id, points in allocations:
        assert 0 < points <= by_id[lot_id].remaining and by_id[lot_id].live(now)
    if allocations:
        last = by_id[allocations[-1][0]]
        touched = {lot_id for lot_id, _ in allocations}
        for lot in lots:
            older = (lot.created_at, lot.id) < (last.created_at, last.id)
            if lot.live(now) and older:
                assert lot.id in touched and dict(allocations)[lot.id] == lot.remaining


@given(lots_strategy, st.integers(0, 400))
def test_expired_and_spendable_split_the_lots(lots: list[Lot], day: int) -> None:
    now = T0 + timedelta(days=day)
    lapsed = sum(points for _, points in expired(lots, now))
    assert lapsed + spendable(lots, now) == sum(lot.remaining for lot in lots)
