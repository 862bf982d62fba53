"""A member's balance by Telegram id: the most frequent read, one statement built once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.hot import Hot
from db.models import OPEN_LOT, Customer, LedgerEntry, Purchase


def _member_totals() -> Hot:
    held = func.coalesce(func.sum(LedgerEntry.remaining), 0)
    live = or_(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at > bindparam("now"))
    lots = (LedgerEntry.customer_id == Customer.id, OPEN_LOT, live)
    lapsing = (*lots, LedgerEntry.expires_at <= bindparam("until"))
    net = func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)
    return Hot(
        select(
            Customer.id,
            select(held).where(*lots).correlate(Customer).scalar_subquery(),
            select(held).where(*lapsing).correlate(Customer).scalar_subquery(),
            select(net)
            .where(Purchase.customer_id == Customer.id)
            .correlate(Customer)
            .scalar_subquery(),
        ).where(Customer.telegram_id == bindparam("telegram_id"), Customer.status == "active")
    )


_MEMBER_TOTALS = _member_totals()


async def member_totals(
    session: AsyncSession, telegram_id: int, now: datetime, until: datetime
) -> tuple[int, int, int, int] | None:
    """(customer id, spendable points, of which lapsing by `until`, spend), one round trip."""
    row = await _MEMBER_TOTALS.one_or_none(session, telegram_id=telegram_id, now=now, until=until)
    return None if row is None else (row[0], int(row[1]), int(row[2]), int(row[3]))
