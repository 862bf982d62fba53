"""Ledger entries, lots and purchases. Repositories flush; the owning service commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, LedgerAllocation, LedgerEntry, Purchase, PurchaseRefund
from db.repositories.rows import insert_unique


async def lock_customer(session: AsyncSession, customer_id: int) -> bool:
    """Take the customer's ledger lock for the rest of the transaction.

    An UPDATE is the portable lock: PostgreSQL holds the row lock until commit, so a second
    cashier's transaction waits here and then reads the lots the first one left; SQLite takes
    its write lock at the same statement, so the same order holds there.
    """
    result = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(ledger_version=Customer.ledger_version + 1)
    )
    return bool(result.rowcount)


def _lots_of(customer_id: int) -> Select[tuple[LedgerEntry]]:
    return (
        select(LedgerEntry)
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0)
        .execution_options(populate_existing=True)
    )


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at > now)


async def lapsed_lots(session: AsyncSession, customer_id: int, now: datetime) -> list[LedgerEntry]:
    """Lots whose time is up and that still hold points: the only ones expiry has to touch."""
    query = _lots_of(customer_id).where(LedgerEntry.expires_at <= now)
    return list(await session.scalars(query.order_by(LedgerEntry.created_at, LedgerEntry.id)))


async def live_lots(
    session: AsyncSession,
    customer_id: int,
    now: datetime,
    *,
    first: int | None = None,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Spendable lots, `first` (if given) then oldest first; `limit` for the common short debit.

    A member who buys often and rarely spends holds a lot per purchase: reading all of them on
    every sale would make each sale slower than the last.
    """
    order = [LedgerEntry.created_at, LedgerEntry.id]
    if first is not None:
        order.insert(0, case((LedgerEntry.id == first, 0), else_=1))
    query = _lots_of(customer_id).where(_live(now)).order_by(*order)
    return list(await session.scalars(query.limit(limit) if limit else query))


async def lot_totals(
    session: AsyncSession, customer_id: int, now: datetime, until: datetime
) -> tuple[int, int]:
    """(spendable now, of which lapsing by `until`), summed in the database."""
    lapsing = case((LedgerEntry.expires_at <= until, LedgerEntry.remaining), else_=0)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.remaining), 0),
                func.coalesce(func.sum(lapsing), 0),
            ).where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0, _live(now))
        )
    ).one()
    return int(row[0]), int(row[1])


async def add_once(session: AsyncSession, entry: LedgerEntry) -> bool:
    """Add the entry unless one with its idempotency key exists; True when it was added.

    The unique key decides, inside a savepoint, so two processes racing on the same key
    leave exactly one entry and neither transaction is lost.
    """
    existing = await session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.idempotency_key == entry.idempotency_key)
    )
    return existing is None and await insert_unique(session, entry)


def allocate(session: AsyncSession, entry: LedgerEntry, lot: LedgerEntry, points: int) -> None:
    """Move `points` out of a lot for a debit (negative points give them back)."""
    assert lot.remaining is not None
    lot.remaining -= points
    session.add(LedgerAllocation(entry_id=entry.id, lot_id=lot.id, points=points))


async def allocations_of(session: AsyncSession, entry_id: int) -> list[LedgerAllocation]:
    return list(
        await session.scalars(
            select(LedgerAllocation)
            .where(LedgerAllocation.entry_id == entry_id)
            .order_by(LedgerAllocation.id)
        )
    )


async def entry_by_key(session: AsyncSession, key: str) -> LedgerEntry | None:
    return await session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


async def entries_for_purchase(session: AsyncSession, purchase_id: int, kind: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.purchase_id == purchase_id, LedgerEntry.kind == kind
        )
    )
    return int(total or 0)


async def history(
    session: AsyncSession, customer_id: int, offset: int, limit: int
) -> list[tuple[LedgerEntry, Purchase | None]]:
    rows = await session.execute(
        select(LedgerEntry, Purchase)
        .outerjoin(Purchase, Purchase.id == LedgerEntry.purchase_id)
        .where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(entry, purchase) for entry, purchase in rows]


async def purchase_totals(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """(kopecks spent so far net of returns, number of purchases): tiers and "first purchase"."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0),
                func.count(),
            ).where(Purchase.customer_id == customer_id)
        )
    ).one()
    return int(row[0]), int(row[1])


async def purchase_by_receipt(session: AsyncSession, receipt_key: str) -> Purchase | None:
    return await session.scalar(
        select(Purchase)
        .where(Purchase.receipt_key == receipt_key)
        .execution_options(populate_existing=True)
    )


async def purchase_by_id(session: AsyncSession, purchase_id: int) -> Purchase | None:
    return await session.scalar(
        select(Purchase).where(Purchase.id == purchase_id).execution_options(populate_existing=True)
    )


async def refund_by_key(session: AsyncSession, refund_key: str) -> PurchaseRefund | None:
    return await session.scalar(
        select(PurchaseRefund).where(PurchaseRefund.refund_key == refund_key)
    )


async def returned_to_lots(
    session: AsyncSession, purchase_id: int, exclude_entry: int
) -> list[tuple[int, int]]:
    """(lot id, points) already given back to lots by earlier refunds of this purchase."""
    rows = await session.execute(
        select(LedgerAllocation.lot_id, LedgerAllocation.points)
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .where(
            LedgerEntry.purchase_id == purchase_id,
            LedgerEntry.kind == "refund",
            LedgerEntry.id != exclude_entry,
        )
    )
    return [(lot_id, -points) for lot_id, points in rows]


async def referred_count(session: AsyncSession, customer_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.referrer_id == customer_id, Customer.status == "active")
        )
        or 0
    )


async def member_totals(
    session: AsyncSession, telegram_id: int, now: datetime, until: datetime
) -> tuple[int, int, int, int] | None:
    """(customer id, spendable points, of which lapsing by `until`, spend) in one round trip.

    `/balance` is the most frequent request a member makes; one statement instead of three.
    """
    held = func.coalesce(func.sum(LedgerEntry.remaining), 0)
    lots = (LedgerEntry.customer_id == Customer.id, LedgerEntry.remaining > 0, _live(now))
    net = func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)
    row = (
        await session.execute(
            select(
                Customer.id,
                select(held).where(*lots).correlate(Customer).scalar_subquery(),
                select(held)
                .where(*lots, LedgerEntry.expires_at <= until)
                .correlate(Customer)
                .scalar_subquery(),
                select(net)
                .where(Purchase.customer_id == Customer.id)
                .correlate(Customer)
                .scalar_subquery(),
            ).where(Customer.telegram_id == telegram_id, Customer.status == "active")
        )
    ).one_or_none()
    return None if row is None else (row[0], int(row[1]), int(row[2]), int(row[3]))


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are taken already (checked in chunks)."""
    taken: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        taken.update(
            await session.scalars(
                select(LedgerEntry.idempotency_key).where(LedgerEntry.idempotency_key.in_(chunk))
            )
        )
    return taken


async def add_many(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Many new entries in a few multi-row INSERTs; a key taken meanwhile fails the whole."""
    for start in range(0, len(rows), 500):
        await session.execute(insert(LedgerEntry), rows[start : start + 500])
