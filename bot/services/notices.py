"""Queueing the member's notices about a sale or a refund (the delivery engine sends them).

Interim: these run in their own short transaction right after the ledger's commit. The ledger
will queue them inside `record_purchase` / `refund` themselves (same transaction as the
change); then these helpers and their calls go.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.ledger import PurchaseResult, RefundResult
from db.repositories import deliveries


async def enqueue_purchase(session: AsyncSession, result: PurchaseResult, bonus: int) -> None:
    """The buyer's notice, and the referrer's when this first purchase paid them `bonus`."""
    if result.duplicate:
        return
    await deliveries.enqueue(
        session,
        "purchase",
        dataclasses.asdict(result),
        customer_id=result.customer_id,
        dedup_key=f"purchase:{result.purchase_id}",
    )
    if result.referrer_rewarded is not None:
        await deliveries.enqueue(
            session,
            "referral_paid",
            {"bonus": bonus, "friend_id": result.customer_id},
            customer_id=result.referrer_rewarded,
            dedup_key=f"referral_paid:{result.purchase_id}",
        )
    await session.commit()


async def enqueue_refund(session: AsyncSession, result: RefundResult) -> None:
    if result.duplicate:
        return
    await deliveries.enqueue(
        session, "refund", dataclasses.asdict(result), customer_id=result.customer_id
    )
    await session.commit()
