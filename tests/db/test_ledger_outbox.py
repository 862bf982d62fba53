"""The ledger's notices go into the outbox in the same transaction as the change they report."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import ledger
from db.models import Delivery
from tests.db.conftest import PROGRAM, T0

RUB = 100


async def _outbox(sessions: async_sessionmaker) -> list[tuple[str, int | None, dict]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.kind, Delivery.customer_id, Delivery.payload).order_by(Delivery.id)
        )
        return [(kind, customer, payload) for kind, customer, payload in rows]


async def _buy(sessions: async_sessionmaker, customer: int, roubles: int, **options):
    async with sessions() as session:
        return await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            roubles * RUB,
            channel="test",
            actor="till:1",
            now=T0,
            **options,
        )


async def test_a_sale_queues_the_members_notice_once(sessions, new_customer) -> None:
    customer = await new_customer()
    sale = await _buy(sessions, customer, 1000, receipt_id="R-1")
    again = await _buy(sessions, customer, 1000, receipt_id="R-1")
    assert again.duplicate
    assert await _outbox(sessions) == [("purchase", customer, asdict(sale))]


async def test_a_first_purchase_paying_a_referral_tells_the_referrer(
    sessions, new_customer
) -> None:
    referrer = await new_customer()
    friend = await new_customer(referrer_id=referrer)
    sale = await _buy(sessions, friend, 1000)
    await _buy(sessions, friend, 1000)
    queued = await _outbox(sessions)
    assert queued[:2] == [
        ("purchase", friend, asdict(sale)),
        ("referral_paid", referrer, {"bonus": PROGRAM.referral_bonus, "friend_id": friend}),
    ]
    assert [kind for kind, _, _ in queued] == ["purchase", "referral_paid", "purchase"]


async def test_a_refused_sale_queues_nothing(sessions, new_customer) -> None:
    customer = await new_customer()
    with pytest.raises(ledger.NotEnoughPointsError):
        await _buy(sessions, customer, 1000, redeem=100)
    assert await _outbox(sessions) == []


async def test_a_refund_queues_its_notice_once(sessions, new_customer) -> None:
    customer = await new_customer()
    await _buy(sessions, customer, 1000, receipt_id="R-1")
    async with sessions() as session:
        back = await ledger.refund(
            session, receipt_id="R-1", refund_id="ret-1", actor="till:1", now=T0
        )
        again = await ledger.refund(
            session, receipt_id="R-1", refund_id="ret-1", actor="till:1", now=T0
        )
    assert again.duplicate
    assert (await _outbox(sessions))[1:] == [("refund", customer, asdict(back))]
