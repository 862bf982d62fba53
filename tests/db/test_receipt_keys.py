"""A receipt is its store and its id, not "store:id" glued: stores may have ":" in their names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import ledger, receipts
from db.models import Purchase, ReceiptToken
from tests.db.conftest import PROGRAM, T0

RUB = 100
KEY = b"k" * 32


async def _buy(sessions: async_sessionmaker, customer: int, store: str, receipt: str):
    async with sessions() as session:
        return await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            1000 * RUB,
            receipt_id=receipt,
            store=store,
            channel="pos",
            actor=f"pos:{store}",
            now=T0,
        )


async def test_store_a_cannot_refund_the_receipt_of_store_a_colon_b(sessions, new_customer) -> None:
    customer = await new_customer()
    theirs = await _buy(sessions, customer, "A:B", "1")
    async with sessions() as session:
        with pytest.raises(ledger.PurchaseNotFoundError):
            await ledger.refund(session, store="A", receipt_id="B:1", actor="pos:A")
    ours = await _buy(sessions, customer, "A", "B:1")
    assert not ours.duplicate and ours.purchase_id != theirs.purchase_id
    async with sessions() as session:
        back = await ledger.refund_receipt(session, store="A", receipt_id="B:1", actor="pos:A")
        refunded = dict(
            (await session.execute(select(Purchase.store, Purchase.refunded_amount))).all()
        )
    assert isinstance(back, ledger.RefundResult) and back.purchase_id == ours.purchase_id
    assert refunded == {"A:B": 0, "A": 1000 * RUB}


async def test_receipt_qr_codes_of_the_two_stores_are_two(sessions) -> None:
    async with sessions() as session:
        issued = [
            await receipts.issue(
                session,
                KEY,
                store=store,
                amount=500 * RUB,
                receipt_id=receipt,
                issued_by="pos",
                window=timedelta(hours=1),
                now=T0,
            )
            for store, receipt in (("A:B", "1"), ("A", "B:1"))
        ]
    assert issued[0].token_id != issued[1].token_id
    async with sessions() as session:
        voided = await ledger.refund_receipt(session, store="A", receipt_id="B:1", actor="pos:A")
        assert voided == ledger.VoidedReceipt("A", "B:1")
        still_open = await session.scalar(
            select(func.count()).select_from(ReceiptToken).where(ReceiptToken.voided_at.is_(None))
        )
    assert still_open == 1
