"""Ledger entries: append-only; the balance is their sum."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LedgerEntry


async def balance(session: AsyncSession, customer_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id
        )
    )
    return int(total or 0)


async def add_once(session: AsyncSession, entry: LedgerEntry) -> bool:
    """Add the entry unless one with its idempotency key exists; True when it was added.

    The unique key decides, inside a savepoint, so two processes racing on the same key
    leave exactly one entry and neither transaction is lost.
    """
    existing = await session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.idempotency_key == entry.idempotency_key)
    )
    if existing is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return False
    return True
