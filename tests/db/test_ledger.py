"""The ledger through its service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import ledger
from bot.services.ledger import (
    NotEnoughPointsError,
    PurchaseNotFoundError,
    ReceiptClaimedError,
    RedeemCapError,
    RefundTooLargeError,
)
from bot.services.permissions import SHELL
from db.models import FunnelEvent, LedgerEntry, Purchase
from tests.db.conftest import PROGRAM, T0, lots_of

RUB = 100


async def _bonus(sessions, customer: int, points: int, key: str, when=T0) -> None:
    async with sessions() as session:
        assert await ledger.grant_bonus(
            session, PROGRAM, customer, points, key=key, reason="test", now=when
        )


async def _buy(sessions, customer: int, roubles: int, *, when=T0, **options):
    async with sessions() as session:
        return await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            roubles * RUB,
            channel="test",
            actor="cashier:1",
            now=when,
            **options,
        )


async def _balance(sessions, customer: int, when=T0) -> ledger.BalanceView:
    async with sessions() as session:
        return await ledger.balance(session, PROGRAM, customer, when)


async def test_accrual_follows_the_tier_held_before_the_sale(sessions, new_customer) -> None:
    customer = await new_customer()
    first = await _buy(sessions, customer, 5000)
    assert (first.accrued, first.tier_before, first.tier_after) == (250, "Base", "Base")
    second = await _buy(sessions, customer, 6000)
    assert second.accrued == 300 and second.upgraded and second.tier_after == "Silver"
    third = await _buy(sessions, customer, 1000)
    assert third.accrued == 70 and not third.upgraded
    view = await _balance(sessions, customer)
    assert (view.points, view.tier.name, view.next_tier.name) == (620, "Silver", "Gold")
    assert view.to_next_tier == (30000 - 12000) * RUB


async def test_accrual_rounds_down_and_kopecks_count(sessions, new_customer) -> None:
    customer = await new_customer()
    async with sessions() as session:
        result = await ledger.record_purchase(
            session, PROGRAM, customer, 19_999, channel="test", actor="t", now=T0
        )
    assert result.accrued == 9  # 5 % of 199.99 ₽ = 9.9995 points


async def test_the_same_receipt_twice_is_one_purchase(sessions, new_customer) -> None:
    customer, other = await new_customer(), await new_customer()
    first = await _buy(sessions, customer, 1000, receipt_id="R-42", store="Тверская")
    again = await _buy(sessions, customer, 1000, receipt_id="R-42", store="Тверская")
    assert again.duplicate and again.purchase_id == first.purchase_id and again.balance == 50
    with pytest.raises(ReceiptClaimedError):
        await _buy(sessions, other, 1000, receipt_id="R-42", store="Тверская")
    elsewhere = await _buy(sessions, customer, 1000, receipt_id="R-42", store="Ленина")
    assert not elsewhere.duplicate
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 2


async def test_redemption_is_capped_and_cannot_overdraw(sessions, new_customer) -> None:
    customer = await new_customer()
    await _bonus(sessions, customer, 1000, "gift")
    with pytest.raises(RedeemCapError) as capped:
        await _buy(sessions, customer, 1000, redeem=301)
    assert capped.value.cap == 300
    paid = await _buy(sessions, customer, 1000, redeem=300)
    assert (paid.redeemed, paid.accrued, paid.balance) == (300, 35, 735)
    with pytest.raises(NotEnoughPointsError):
        await _buy(sessions, customer, 10_000, redeem=800)
    assert (await _balance(sessions, customer)).points == 735


async def test_a_full_return_restores_the_lots_exactly(sessions, new_customer) -> None:
    customer = await new_customer()
    await _bonus(sessions, customer, 200, "old")
    await _bonus(sessions, customer, 300, "new", when=T0 + timedelta(days=1))
    before = await lots_of(sessions, customer)
    sale = await _buy(sessions, customer, 2000, redeem=400, when=T0 + timedelta(days=2))
    async with sessions() as session:
        back = await ledger.refund(
            session, purchase_id=sale.purchase_id, actor="cashier:1", now=T0 + timedelta(days=3)
        )
    assert (back.returned_points, back.reversed_points, back.shortfall) == (400, 80, 0)
    after = await lots_of(sessions, customer)
    assert {lot: after[lot] for lot in before} == before
    assert back.balance == 500 and sum(after.values()) == 500


async def test_partial_returns_are_proportional_and_idempotent(sessions, new_customer) -> None:
    customer = await new_customer()
    sale = await _buy(sessions, customer, 1000, receipt_id="77", store="S")
    async with sessions() as session:
        half = await ledger.refund(
            session,
            store="S",
            receipt_id="77",
            amount=500 * RUB,
            refund_id="ret-1",
            actor="pos",
            now=T0,
        )
        again = await ledger.refund(
            session,
            store="S",
            receipt_id="77",
            amount=500 * RUB,
            refund_id="ret-1",
            actor="pos",
            now=T0,
        )
        assert (half.reversed_points, half.balance) == (25, 25)
        assert again.duplicate and again.balance == 25
        rest = await ledger.refund(session, purchase_id=sale.purchase_id, actor="pos", now=T0)
        assert (rest.amount, rest.reversed_points, rest.balance) == (500 * RUB, 25, 0)
        with pytest.raises(RefundTooLargeError):
            await ledger.refund(session, purchase_id=sale.purchase_id, amount=1, actor="pos")
        with pytest.raises(PurchaseNotFoundError):
            await ledger.refund(session, store="S", receipt_id="nope", actor="pos")


async def test_spent_accruals_are_not_taken_below_zero(sessions, new_customer) -> None:
    customer = await new_customer()
    sale = await _buy(sessions, customer, 2000)  # +100
    await _buy(sessions, customer, 1000, redeem=100)  # spends them, +45
    async with sessions() as session:
        back = await ledger.refund(session, purchase_id=sale.purchase_id, actor="cashier:1", now=T0)
    assert (back.reversed_points, back.shortfall, back.balance) == (45, 55, 0)


async def test_expiry_takes_the_oldest_lots_first(sessions, new_customer) -> None:
    customer = await new_customer()
    await _bonus(sessions, customer, 100, "bonus")  # lapses after 180 days
    await _buy(sessions, customer, 4000, when=T0 + timedelta(days=10))  # 200, lapses after 365
    spent = await _buy(sessions, customer, 1000, redeem=150, when=T0 + timedelta(days=20))
    lots = await lots_of(sessions, customer)
    assert sorted(lots.values()) == [0, 42, 150]  # the bonus went first, then 50 of the 200
    assert spent.balance == 192
    soon = await _balance(sessions, customer, T0 + timedelta(days=350))
    assert (soon.points, soon.expiring_soon) == (192, 150)
    late = T0 + timedelta(days=380)
    assert (await _balance(sessions, customer, late)).points == 42
    async with sessions() as session:
        assert await ledger.expire_all_due(session, customer, late) == 150
        assert await ledger.expire_all_due(session, customer, late) == 0
        kinds = (await session.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.id))).all()
    assert kinds.count("expiry") == 1


async def test_referral_pays_both_once_on_the_first_purchase(sessions, new_customer) -> None:
    referrer = await new_customer()
    friend = await new_customer(referrer_id=referrer)
    first = await _buy(sessions, friend, 1000)
    await _buy(sessions, friend, 1000)
    assert first.referrer_rewarded == referrer
    assert (await _balance(sessions, referrer)).points == 200
    assert (await _balance(sessions, friend)).points == 200 + 50 + 50
    async with sessions() as session:
        firsts = await session.scalar(
            select(func.count()).where(FunnelEvent.kind == "first_purchase")
        )
    assert firsts == 1


async def test_adjustments_keep_reason_and_actor(sessions, new_customer) -> None:
    customer = await new_customer()
    async with sessions() as session:
        assert (
            await ledger.adjust(
                session, PROGRAM, customer, 70, reason="жалоба", actor="owner:1", now=T0, by=SHELL
            )
            == 70
        )
        assert (
            await ledger.adjust(
                session, PROGRAM, customer, -20, reason="ошибка", actor="owner:1", now=T0, by=SHELL
            )
            == 50
        )
        with pytest.raises(ValueError):
            await ledger.adjust(
                session, PROGRAM, customer, 5, reason=" ", actor="owner:1", by=SHELL
            )
        rows = (
            await session.execute(
                select(LedgerEntry.reason, LedgerEntry.actor).order_by(LedgerEntry.id)
            )
        ).all()
    assert rows == [("жалоба", "owner:1"), ("ошибка", "owner:1")]


async def test_concurrent_cashiers_never_overdraw(
    sessions: async_sessionmaker, new_customer
) -> None:
    """Fifteen tills redeem 100 points each at once from 1000: exactly ten succeed."""
    import asyncio

    from bot.domain.program import Program, Tier

    no_accrual = Program(tiers=(Tier("Base", 0, __import__("decimal").Decimal(0)),))
    customer = await new_customer()
    await _bonus(sessions, customer, 1000, "gift")

    async def till(number: int) -> bool:
        async with sessions() as session:
            try:
                await ledger.record_purchase(
                    session,
                    no_accrual,
                    customer,
                    1000 * RUB,
                    redeem=100,
                    receipt_id=f"T{number}",
                    channel="test",
                    actor=f"till:{number}",
                    now=T0,
                )
            except NotEnoughPointsError:
                return False
            return True

    results = await asyncio.gather(*(till(n) for n in range(15)))
    assert results.count(True) == 10
    view = await _balance(sessions, customer)
    assert view.points == 0
    assert sum((await lots_of(sessions, customer)).values()) == 0
