"""Ledger entries, lots and purchases. Repositories never commit; the owning service does.

The hot statements (the lock, the purchase, entries, allocations, balances) are SQLAlchemy Core
built once at import with `bindparam`s: a sale pays neither for building them nor for the ORM's
unit of work. Lots travel as `(lot id, points)` pairs, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UtcDateTime
from db.hot import Hot, HotInsert
from db.models import (
    OPEN_LOT,
    Customer,
    LedgerAllocation,
    LedgerEntry,
    Purchase,
    PurchaseRefund,
    ReceiptToken,
)
from db.repositories.rows import InsertOnce, rows_changed, table_of

customers = table_of(Customer)
entries = table_of(LedgerEntry)
allocations = table_of(LedgerAllocation)
purchases = table_of(Purchase)
refunds = table_of(PurchaseRefund)
tokens = table_of(ReceiptToken)

DEBIT_BATCH = 50  # lots handed back with a sale that redeems, before asking for all of them
Lots = list[tuple[int, int]]

_at = bindparam("at", type_=UtcDateTime())
_owner = bindparam("owner", type_=Integer())


def _live(at: Any) -> ColumnElement[bool]:
    return or_(entries.c.expires_at.is_(None), entries.c.expires_at > at)


def _held(*where: ColumnElement[bool]) -> Any:
    return (
        select(func.coalesce(func.sum(entries.c.remaining), 0))
        .where(entries.c.customer_id == _owner, OPEN_LOT, *where)
        .scalar_subquery()
    )


_LIVE_SUM = _held(_live(_at))
_LAPSED_SUM = _held(entries.c.expires_at <= _at)


def _lots_text() -> Any:
    """The oldest DEBIT_BATCH live lots as "rank:id:points,…" (aggregates keep no order)."""
    rank = func.row_number().over(order_by=(entries.c.created_at, entries.c.id))
    ranked = (
        select(entries.c.id, entries.c.remaining, rank.label("rank"))
        .where(entries.c.customer_id == _owner, OPEN_LOT, _live(_at))
        .order_by(entries.c.created_at, entries.c.id)
        .limit(DEBIT_BATCH)
        .subquery()
    )
    item = (
        cast(ranked.c.rank, String)
        + ":"
        + cast(ranked.c.id, String)
        + ":"
        + cast(ranked.c.remaining, String)
    )
    # The separator spelled in the SQL: as a parameter SQLAlchemy would render it only at run
    # time, which a statement compiled once (db.hot) does not do.
    comma: Any = literal_column("','")
    return select(func.aggregate_strings(item, comma)).select_from(ranked).scalar_subquery()


def _parse_lots(text: str | None) -> Lots:
    items = sorted(tuple(map(int, item.split(":"))) for item in (text or "").split(",") if item)
    return [(lot_id, points) for _rank, lot_id, points in items]


# --- the lock -----------------------------------------------------------------------------------

_LOCK = (
    update(customers)
    .where(customers.c.id == bindparam("customer"))
    .values(ledger_version=customers.c.ledger_version + 1)
    .returning(customers.c.id)
)


async def lock_customer(session: AsyncSession, customer_id: int) -> bool:
    """Take the customer's ledger lock for the rest of the transaction.

    An UPDATE is the portable lock: PostgreSQL holds the row lock until commit, so a second
    cashier's transaction waits here and then reads the lots the first one left; SQLite takes
    its write lock at the same statement, so the same order holds there.
    """
    row = (await session.execute(_LOCK, {"customer": customer_id})).first()
    return row is not None


@dataclass(frozen=True)
class SaleAccount:
    """The customer row as a sale found it, under the lock."""

    spend_before: int
    first_purchase: bool
    referrer_id: int | None
    source_id: int | None


def _lock_for_sale(receipt: bool) -> Any:
    statement = update(customers).where(customers.c.id == bindparam("customer"))
    if receipt:
        # A receipt recorded before is answered without touching anything: no rollback needed.
        statement = statement.where(
            ~exists().where(
                purchases.c.store == bindparam("store"),
                purchases.c.receipt_id == bindparam("receipt"),
            )
        )
    return statement.values(
        ledger_version=customers.c.ledger_version + 1,
        spend=customers.c.spend + bindparam("amount"),
        purchase_count=customers.c.purchase_count + 1,
    ).returning(
        customers.c.spend,
        customers.c.purchase_count,
        customers.c.referrer_id,
        customers.c.source_id,
    )


_LOCK_FOR_SALE = {True: Hot(_lock_for_sale(True)), False: Hot(_lock_for_sale(False))}


async def lock_for_sale(
    session: AsyncSession, customer_id: int, amount: int, store: str, receipt_id: str | None
) -> SaleAccount | None:
    """The lock, the spend and the purchase count in one statement; None when the customer is
    unknown or the receipt was recorded already (the caller tells which apart)."""
    lock = _LOCK_FOR_SALE[receipt_id is not None]
    row = await lock.one_or_none(
        session, customer=customer_id, amount=amount, store=store, receipt=receipt_id
    )
    if row is None:
        return None
    spend, count, referrer_id, source_id = row
    return SaleAccount(spend - amount, count == 1, referrer_id, source_id)


_SPEND_BACK = (
    update(customers)
    .where(customers.c.id == bindparam("customer"))
    .values(spend=customers.c.spend - bindparam("amount"))
)


async def lower_spend(session: AsyncSession, customer_id: int, amount: int) -> None:
    await session.execute(_SPEND_BACK, {"customer": customer_id, "amount": amount})


# --- purchases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inserted:
    """A purchase row just written, with the customer's lots as they stood (under the lock)."""

    purchase_id: int
    live: int  # spendable points
    lapsed: int  # points in lots whose time is up, not yet written off
    lots: Lots  # the oldest live lots, when asked for


_PURCHASE_KEY = (purchases.c.store, purchases.c.receipt_id)
_INSERT_PURCHASE = HotInsert(purchases, _PURCHASE_KEY, (purchases.c.id, _LIVE_SUM, _LAPSED_SUM))
_INSERT_PURCHASE_WITH_LOTS = HotInsert(
    purchases, _PURCHASE_KEY, (purchases.c.id, _LIVE_SUM, _LAPSED_SUM, _lots_text())
)


async def insert_purchase(
    session: AsyncSession, values: dict[str, Any], *, with_lots: bool
) -> Inserted | None:
    """Insert once under (store, receipt id); None when another transaction recorded it first.

    The customer's lot totals (and lots, for a redemption) come back from the same statement:
    it runs after the lock, so it reads what the previous holder of the lock committed.
    """
    insert_once = _INSERT_PURCHASE_WITH_LOTS if with_lots else _INSERT_PURCHASE
    found = await insert_once.rows(
        session, [values], owner=values["customer_id"], at=values["created_at"]
    )
    if not found:
        return None
    row = found[0]
    return Inserted(row[0], int(row[1]), int(row[2]), _parse_lots(row[3]) if with_lots else [])


_PURCHASE_COLUMNS = (
    purchases.c.id,
    purchases.c.customer_id,
    purchases.c.amount,
    purchases.c.redeemed,
    purchases.c.accrued,
    purchases.c.refunded_amount,
)


@dataclass(frozen=True)
class PurchaseRow:
    id: int
    customer_id: int
    amount: int
    redeemed: int
    accrued: int
    refunded_amount: int


_PURCHASE_BY_RECEIPT = select(*_PURCHASE_COLUMNS).where(
    purchases.c.store == bindparam("store"), purchases.c.receipt_id == bindparam("receipt")
)
_PURCHASE_BY_ID = select(*_PURCHASE_COLUMNS).where(purchases.c.id == bindparam("purchase"))


async def purchase_by_receipt(
    session: AsyncSession, store: str, receipt_id: str
) -> PurchaseRow | None:
    params = {"store": store, "receipt": receipt_id}
    row = (await session.execute(_PURCHASE_BY_RECEIPT, params)).first()
    return None if row is None else PurchaseRow(*row)


async def purchase_by_id(session: AsyncSession, purchase_id: int) -> PurchaseRow | None:
    row = (await session.execute(_PURCHASE_BY_ID, {"purchase": purchase_id})).first()
    return None if row is None else PurchaseRow(*row)


_SET_REFUNDED = (
    update(purchases)
    .where(purchases.c.id == bindparam("purchase"))
    .values(refunded_amount=bindparam("refunded"))
)


async def set_refunded(session: AsyncSession, purchase_id: int, refunded: int) -> None:
    await session.execute(_SET_REFUNDED, {"purchase": purchase_id, "refunded": refunded})


# --- entries, lots and allocations ------------------------------------------------------------

_INSERT_ENTRIES = HotInsert(
    entries, (entries.c.idempotency_key,), (entries.c.id, entries.c.idempotency_key)
)


async def add_entries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert entries once under their idempotency keys, in one statement; {key: id} of the
    ones written (a key already there is left alone and missing from the answer)."""
    if not rows:
        return {}
    return {key: entry_id for entry_id, key in await _INSERT_ENTRIES.rows(session, rows)}


_ALLOCATE = HotInsert(allocations)


async def allocate(session: AsyncSession, portions: Sequence[tuple[int, int, int]]) -> None:
    """Move points out of lots for debits: `(debit entry id, lot id, points)`, negative points
    giving them back. One statement, one round trip for any number of lots: the database's
    trigger on `ledger_allocations` (migration 0012) takes each allocation's points out of its
    lot, so the record of a move and the move itself cannot part."""
    if not portions:
        return
    await _ALLOCATE.rows(
        session,
        [{"entry_id": entry, "lot_id": lot, "points": points} for entry, lot, points in portions],
    )


_LIVE_LOTS = (
    select(entries.c.id, entries.c.remaining)
    .where(entries.c.customer_id == _owner, OPEN_LOT, _live(_at))
    .order_by(
        case((entries.c.id == bindparam("first"), 0), else_=1),
        entries.c.created_at,
        entries.c.id,
    )
)
_LAPSED_LOTS = (
    select(entries.c.id, entries.c.remaining)
    .where(entries.c.customer_id == _owner, OPEN_LOT, entries.c.expires_at <= _at)
    .order_by(entries.c.created_at, entries.c.id)
)


async def live_lots(
    session: AsyncSession, customer_id: int, now: datetime, *, first: int | None = None
) -> Lots:
    """Spendable lots: `first` (if given) then oldest first."""
    params = {"owner": customer_id, "at": now, "first": first}
    return [(lot, points) for lot, points in await session.execute(_LIVE_LOTS, params)]


async def lapsed_lots(session: AsyncSession, customer_id: int, now: datetime) -> Lots:
    """Lots whose time is up and that still hold points: the only ones expiry has to touch."""
    params = {"owner": customer_id, "at": now}
    return [(lot, points) for lot, points in await session.execute(_LAPSED_LOTS, params)]


_LOT_SUMS = select(_LIVE_SUM, _LAPSED_SUM)


async def lot_sums(session: AsyncSession, customer_id: int, now: datetime) -> tuple[int, int]:
    """(spendable points, points in lapsed lots not yet written off)."""
    row = (await session.execute(_LOT_SUMS, {"owner": customer_id, "at": now})).one()
    return int(row[0]), int(row[1])


_ENTRY_BY_KEY = select(entries.c.id).where(entries.c.idempotency_key == bindparam("key"))


async def entry_id(session: AsyncSession, key: str) -> int | None:
    return await session.scalar(_ENTRY_BY_KEY, {"key": key})


_ALLOCATIONS_OF = (
    select(allocations.c.lot_id, allocations.c.points)
    .where(allocations.c.entry_id == bindparam("entry"))
    .order_by(allocations.c.id)
)


async def allocations_of(session: AsyncSession, entry_id: int) -> Lots:
    return [
        (lot, points) for lot, points in await session.execute(_ALLOCATIONS_OF, {"entry": entry_id})
    ]


_RETURNED = (
    select(allocations.c.lot_id, allocations.c.points)
    .join(entries, entries.c.id == allocations.c.entry_id)
    .where(entries.c.purchase_id == bindparam("purchase"), entries.c.kind == "refund")
)


async def returned_to_lots(session: AsyncSession, purchase_id: int) -> Lots:
    """(lot id, points) already given back to lots by earlier refunds of this purchase."""
    rows = await session.execute(_RETURNED, {"purchase": purchase_id})
    return [(lot, -points) for lot, points in rows]


_POINTS_BY_KIND = select(
    func.coalesce(func.sum(case((entries.c.kind == "refund", entries.c.points), else_=0)), 0),
    func.coalesce(func.sum(case((entries.c.kind == "reversal", entries.c.points), else_=0)), 0),
).where(entries.c.purchase_id == bindparam("purchase"))


async def refunded_points(session: AsyncSession, purchase_id: int) -> tuple[int, int]:
    """(points given back, points reversed) by earlier refunds of this purchase."""
    row = (await session.execute(_POINTS_BY_KIND, {"purchase": purchase_id})).one()
    return int(row[0]), int(row[1])


# --- refunds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundRow:
    amount: int
    reversed_points: int
    returned_points: int


_REFUND = select(refunds.c.amount, refunds.c.reversed_points, refunds.c.returned_points).where(
    refunds.c.purchase_id == bindparam("purchase"), refunds.c.refund_id == bindparam("refund")
)
_INSERT_REFUND = InsertOnce(refunds, (refunds.c.purchase_id, refunds.c.refund_id), (refunds.c.id,))


async def refund_done(session: AsyncSession, purchase_id: int, refund_id: str) -> RefundRow | None:
    row = (await session.execute(_REFUND, {"purchase": purchase_id, "refund": refund_id})).first()
    return None if row is None else RefundRow(*row)


async def add_refund_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when this refund id of this purchase is already there (a till's retry)."""
    return (await session.execute(_INSERT_REFUND(session), values)).first() is not None


# --- receipt QR tokens --------------------------------------------------------------------------

_VOID = (
    update(tokens)
    .where(
        tokens.c.store == bindparam("of_store"),
        tokens.c.receipt_id == bindparam("receipt"),
        tokens.c.claimed_by.is_(None),
        tokens.c.voided_at.is_(None),
    )
    .values(voided_at=bindparam("at"))
)


async def void_token(session: AsyncSession, store: str, receipt_id: str, now: datetime) -> bool:
    """A receipt's QR that nobody scanned can no longer be claimed; False if there is none."""
    result = await session.execute(_VOID, {"of_store": store, "receipt": receipt_id, "at": now})
    return bool(rows_changed(result))


async def token_by_receipt(
    session: AsyncSession, store: str, receipt_id: str
) -> ReceiptToken | None:
    return await session.scalar(
        select(ReceiptToken).where(
            ReceiptToken.store == store, ReceiptToken.receipt_id == receipt_id
        )
    )


async def token_by_id(session: AsyncSession, token_id: int) -> ReceiptToken | None:
    return await session.get(ReceiptToken, token_id)


_CLAIM = (
    update(tokens)
    .where(
        tokens.c.id == bindparam("token"),
        tokens.c.claimed_by.is_(None),
        tokens.c.voided_at.is_(None),
    )
    .values(claimed_by=bindparam("customer"), claimed_at=bindparam("at"))
)
_LINK = (
    update(tokens)
    .where(tokens.c.id == bindparam("token"))
    .values(purchase_id=bindparam("purchase"))
)


async def claim_token(
    session: AsyncSession, token_id: int, customer_id: int, now: datetime
) -> bool:
    """The conditional UPDATE that lets exactly one customer claim a receipt QR."""
    params = {"token": token_id, "customer": customer_id, "at": now}
    return bool(rows_changed(await session.execute(_CLAIM, params)))


async def link_token(session: AsyncSession, token_id: int, purchase_id: int) -> None:
    await session.execute(_LINK, {"token": token_id, "purchase": purchase_id})


# --- balances and history -----------------------------------------------------------------------


def _balance(*where: ColumnElement[bool]) -> Any:
    held = func.coalesce(func.sum(entries.c.remaining), 0)
    lots = (entries.c.customer_id == customers.c.id, OPEN_LOT, _live(_at))
    return select(
        customers.c.id,
        select(held).where(*lots).correlate(customers).scalar_subquery(),
        select(held)
        .where(*lots, entries.c.expires_at <= bindparam("until", type_=UtcDateTime()))
        .correlate(customers)
        .scalar_subquery(),
        customers.c.spend,
    ).where(*where)


_BALANCE_OF_CUSTOMER = _balance(customers.c.id == bindparam("customer"))
_BALANCE_OF_MEMBER = _balance(
    customers.c.telegram_id == bindparam("telegram"), customers.c.status == "active"
)


async def customer_totals(
    session: AsyncSession, customer_id: int, now: datetime, until: datetime
) -> tuple[int, int, int] | None:
    """(spendable points, of which lapsing by `until`, spend) in one statement."""
    params = {"customer": customer_id, "at": now, "until": until}
    row = (await session.execute(_BALANCE_OF_CUSTOMER, params)).first()
    return None if row is None else (int(row[1]), int(row[2]), int(row[3]))


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


async def referred_count(session: AsyncSession, customer_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.referrer_id == customer_id, Customer.status == "active")
        )
        or 0
    )


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are taken already (checked in chunks)."""
    taken: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        taken.update(
            await session.scalars(
                select(entries.c.idempotency_key).where(entries.c.idempotency_key.in_(chunk))
            )
        )
    return taken


async def add_many(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Many new entries in a few multi-row INSERTs; a key taken meanwhile fails the whole."""
    for start in range(0, len(rows), 500):
        await session.execute(insert(entries), rows[start : start + 500])
