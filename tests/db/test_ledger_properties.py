"""Random sequences of bonuses, purchases, returns and waiting, through the real service.

After every step: the sum of the entries equals what the lots hold, nothing is negative, lapsed
lots hold nothing once the customer's ledger was touched, and a redemption took its points from
the oldest live lots. Separately: a purchase returned in full restores every lot exactly.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ledger import Lot, spendable
from bot.services import ledger
from db.models import LedgerAllocation, LedgerEntry
from tests.db.conftest import PROGRAM, T0

RUB = 100
steps = st.lists(
    st.one_of(
        st.tuples(st.just("bonus"), st.integers(1, 500)),
        st.tuples(st.just("buy"), st.integers(1, 8000), st.integers(0, 100)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100)),
        st.tuples(st.just("wait"), st.integers(1, 200)),
    ),
    min_size=1,
    max_size=10,
)
property_settings = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _lots(session: AsyncSession, customer: int) -> list[LedgerEntry]:
    return list(
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.customer_id == customer, LedgerEntry.remaining.is_not(None))
            .order_by(LedgerEntry.id)
            .execution_options(populate_existing=True)
        )
    )


async def _check_invariants(session: AsyncSession, customer: int, now, touched: bool) -> None:
    lots = await _lots(session, customer)
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer
        )
    )
    assert total == sum(lot.remaining for lot in lots)
    assert all(lot.remaining >= 0 for lot in lots)
    assert (await ledger.balance(session, PROGRAM, customer, now)).points >= 0
    if touched:
        assert all(lot.remaining == 0 for lot in lots if lot.expires_at and lot.expires_at <= now)


async def _check_oldest_first(
    session: AsyncSession, before: list[Lot], purchase_id: int, now
) -> None:
    redemption = await session.scalar(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == f"redeem:{purchase_id}")
    )
    if redemption is None:
        return
    taken = dict(
        (
            await session.execute(
                select(LedgerAllocation.lot_id, LedgerAllocation.points).where(
                    LedgerAllocation.entry_id == redemption.id
                )
            )
        ).all()
    )
    live = sorted(
        (lot for lot in before if lot.live(now)), key=lambda lot: (lot.created_at, lot.id)
    )
    last = max(i for i, lot in enumerate(live) if lot.id in taken)
    assert all(taken.get(lot.id) == lot.remaining for lot in live[:last])


@property_settings
@given(steps=steps)
async def test_random_operations_keep_the_ledger_whole(sessions, new_customer, steps) -> None:
    customer = await new_customer()
    now = T0
    purchases: list[int] = []
    for step in steps:
        async with sessions() as session:
            touched = step[0] == "buy" or (step[0] == "refund" and bool(purchases))
            if step[0] == "bonus":
                await ledger.grant_bonus(
                    session,
                    PROGRAM,
                    customer,
                    step[1],
                    key=f"b:{now}:{step[1]}:{len(purchases)}",
                    reason="p",
                    now=now,
                )
            elif step[0] == "buy":
                amount = step[1] * RUB
                view = await ledger.balance(session, PROGRAM, customer, now)
                redeem = min(PROGRAM.redeem_cap(amount) * step[2] // 100, view.points)
                before = [
                    Lot(lot.id, lot.remaining, lot.created_at, lot.expires_at)
                    for lot in await _lots(session, customer)
                ]
                result = await ledger.record_purchase(
                    session,
                    PROGRAM,
                    customer,
                    amount,
                    redeem=redeem,
                    channel="p",
                    actor="p",
                    now=now,
                )
                purchases.append(result.purchase_id)
                await _check_oldest_first(session, before, result.purchase_id, now)
            elif step[0] == "refund" and purchases:
                purchase_id = purchases[step[1] % len(purchases)]
                with contextlib.suppress(ledger.RefundTooLargeError):
                    await ledger.refund(
                        session, purchase_id=purchase_id, amount=None, actor="p", now=now
                    )
            elif step[0] == "wait":
                now += timedelta(days=step[1])
            await _check_invariants(session, customer, now, touched)


@property_settings
@given(
    prior=st.lists(st.integers(1, 400), max_size=4),
    roubles=st.integers(1, 9000),
    share=st.integers(0, 100),
)
async def test_a_full_return_restores_every_lot(sessions, new_customer, prior, roubles, share):
    customer = await new_customer()
    async with sessions() as session:
        for number, points in enumerate(prior):
            when = T0 + timedelta(days=number)
            await ledger.grant_bonus(
                session,
                PROGRAM,
                customer,
                points,
                key=f"p:{customer}:{number}",
                reason="p",
                now=when,
            )
        now = T0 + timedelta(days=10)
        before = {lot.id: lot.remaining for lot in await _lots(session, customer)}
        points_before = spendable([Lot(i, r, T0) for i, r in before.items()], now)
        amount = roubles * RUB
        redeem = min(PROGRAM.redeem_cap(amount) * share // 100, points_before)
        sale = await ledger.record_purchase(
            session, PROGRAM, customer, amount, redeem=redeem, channel="p", actor="p", now=now
        )
        back = await ledger.refund(session, purchase_id=sale.purchase_id, actor="p", now=now)
        after = {lot.id: lot.remaining for lot in await _lots(session, customer)}
    assert back.shortfall == 0 and back.balance == points_before
    assert {lot_id: after[lot_id] for lot_id in before} == before
    assert all(after[lot_id] == 0 for lot_id in after.keys() - before.keys())
