"""The till in the messenger: redemptions waiting for the customer, purchases to return,
customers looked up by staff, an employee's own figures. Never commits; the service does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Consent, Customer, Purchase, Redemption
from db.repositories.rows import InsertOnce, rows_changed, table_of

redemptions = table_of(Redemption)
customers = table_of(Customer)
purchases = table_of(Purchase)

MAX_CODE_ATTEMPTS = 5


# --- redemptions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionRow:
    id: int
    customer_id: int
    store: str
    receipt_id: str
    amount: int
    points: int
    code: str
    channel: str
    actor: str
    notify_chat: int | None
    status: str
    expires_at: datetime
    promo_code: str | None = None  # the sale's promo code, used when the purchase is recorded


_COLUMNS = (
    redemptions.c.id,
    redemptions.c.customer_id,
    redemptions.c.store,
    redemptions.c.receipt_id,
    redemptions.c.amount,
    redemptions.c.points,
    redemptions.c.code,
    redemptions.c.channel,
    redemptions.c.actor,
    redemptions.c.notify_chat,
    redemptions.c.status,
    redemptions.c.expires_at,
    redemptions.c.promo_code,
)
_INSERT = InsertOnce(redemptions, (redemptions.c.store, redemptions.c.receipt_id), _COLUMNS)
_BY_ID = select(*_COLUMNS).where(redemptions.c.id == bindparam("redemption"))
_BY_RECEIPT = select(*_COLUMNS).where(
    redemptions.c.store == bindparam("store"), redemptions.c.receipt_id == bindparam("receipt")
)


def _row(row: Any) -> RedemptionRow | None:
    return None if row is None else RedemptionRow(*row)


async def add_redemption(session: AsyncSession, values: dict[str, Any]) -> RedemptionRow | None:
    """Insert once under (store, receipt id); None when one is there already."""
    return _row((await session.execute(_INSERT(session), values)).first())


async def redemption(session: AsyncSession, redemption_id: int) -> RedemptionRow | None:
    return _row((await session.execute(_BY_ID, {"redemption": redemption_id})).first())


async def redemption_by_receipt(
    session: AsyncSession, store: str, receipt_id: str
) -> RedemptionRow | None:
    params = {"store": store, "receipt": receipt_id}
    return _row((await session.execute(_BY_RECEIPT, params)).first())


def _decide(*where: Any) -> Any:
    return (
        update(redemptions)
        .where(
            redemptions.c.id == bindparam("redemption"),
            redemptions.c.status == "pending",
            redemptions.c.expires_at > bindparam("at"),
            *where,
        )
        .values(status=bindparam("to"), decided_at=bindparam("at"))
        .returning(*_COLUMNS)
    )


_BY_CUSTOMER = _decide(
    redemptions.c.customer_id
    == select(customers.c.id)
    .where(customers.c.telegram_id == bindparam("telegram"))
    .scalar_subquery()
)
_BY_CODE = _decide(
    redemptions.c.code == bindparam("typed"), redemptions.c.attempts < MAX_CODE_ATTEMPTS
)
_BY_ACTOR = _decide(redemptions.c.actor == bindparam("asker"))
_WRONG_CODE = (
    update(redemptions)
    .where(redemptions.c.id == bindparam("redemption"), redemptions.c.status == "pending")
    .values(attempts=redemptions.c.attempts + 1)
)


async def decide_by_customer(
    session: AsyncSession, redemption_id: int, telegram_id: int, to: str, now: datetime
) -> RedemptionRow | None:
    """Pending → `to`, only for the customer's own Telegram account and before it lapses."""
    params = {"redemption": redemption_id, "telegram": telegram_id, "to": to, "at": now}
    return _row((await session.execute(_BY_CUSTOMER, params)).first())


async def confirm_by_code(
    session: AsyncSession, redemption_id: int, code: str, now: datetime
) -> RedemptionRow | None:
    params = {"redemption": redemption_id, "typed": code, "to": "confirmed", "at": now}
    return _row((await session.execute(_BY_CODE, params)).first())


async def note_wrong_code(session: AsyncSession, redemption_id: int) -> None:
    await session.execute(_WRONG_CODE, {"redemption": redemption_id})


async def cancel_by_actor(
    session: AsyncSession, redemption_id: int, actor: str, now: datetime
) -> RedemptionRow | None:
    """The one who asked withdraws the request (before the customer answered)."""
    params = {"redemption": redemption_id, "asker": actor, "to": "cancelled", "at": now}
    row = (await session.execute(_BY_ACTOR, params)).first()
    if row is None:
        # Lapsed requests can be withdrawn too: the cashier moves on without the points.
        result = await session.execute(
            update(redemptions)
            .where(
                redemptions.c.id == redemption_id,
                redemptions.c.status == "pending",
                redemptions.c.actor == actor,
            )
            .values(status="cancelled", decided_at=now)
        )
        if rows_changed(result):
            return await redemption(session, redemption_id)
        return None
    return _row(row)


# --- purchases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseInfo:
    id: int
    customer_id: int
    store: str
    receipt_id: str | None
    amount: int
    redeemed: int
    accrued: int
    refunded_amount: int
    actor: str
    created_at: datetime


_INFO = (
    purchases.c.id,
    purchases.c.customer_id,
    purchases.c.store,
    purchases.c.receipt_id,
    purchases.c.amount,
    purchases.c.redeemed,
    purchases.c.accrued,
    purchases.c.refunded_amount,
    purchases.c.actor,
    purchases.c.created_at,
)


async def purchase(session: AsyncSession, purchase_id: int) -> PurchaseInfo | None:
    row = (await session.execute(select(*_INFO).where(purchases.c.id == purchase_id))).first()
    return None if row is None else PurchaseInfo(**row._asdict())


async def purchases_with_receipt(
    session: AsyncSession, receipt_id: str, store: str | None
) -> list[PurchaseInfo]:
    """Purchases under this receipt number: in `store`, or in any store when None."""
    query = select(*_INFO).where(purchases.c.receipt_id == receipt_id)
    if store is not None:
        query = query.where(purchases.c.store == store)
    rows = await session.execute(query.order_by(purchases.c.id.desc()).limit(10))
    return [PurchaseInfo(**row._asdict()) for row in rows]


async def recent_purchases(
    session: AsyncSession,
    customer_id: int,
    limit: int,
    *,
    store: str | None = None,
    returnable: bool = False,
) -> list[PurchaseInfo]:
    query = select(*_INFO).where(purchases.c.customer_id == customer_id)
    if store is not None:
        query = query.where(purchases.c.store == store)
    if returnable:
        query = query.where(purchases.c.refunded_amount < purchases.c.amount)
    rows = await session.execute(query.order_by(purchases.c.id.desc()).limit(limit))
    return [PurchaseInfo(**row._asdict()) for row in rows]


# --- customers ------------------------------------------------------------------------------------


async def customers_named(session: AsyncSession, variants: list[str], limit: int) -> list[Customer]:
    """Active customers whose name contains one of the spellings (SQLite's lower() knows only
    ASCII, so the caller passes the case variants)."""
    like = [Customer.name.like(f"%{variant}%", escape="\\") for variant in variants]
    rows = await session.scalars(
        select(Customer)
        .where(Customer.status == "active", or_(*like))
        .order_by(Customer.id)
        .limit(limit)
    )
    return list(rows)


async def last_consents(
    session: AsyncSession, customer_id: int
) -> dict[str, tuple[bool, datetime]]:
    """The latest decision per kind of consent: {kind: (granted, when)}."""
    rows = await session.execute(
        select(Consent.kind, Consent.granted, Consent.created_at)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.id)
    )
    return {kind: (granted, at) for kind, granted, at in rows}


# --- an employee's figures ------------------------------------------------------------------------


async def brought_by(session: AsyncSession, source_ids: Sequence[int]) -> tuple[int, int]:
    """(customers signed up through these sources, of whom bought at least once)."""
    if not source_ids:
        return 0, 0
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((Customer.purchase_count > 0, 1), else_=0)), 0),
            ).where(Customer.status == "active", Customer.source_id.in_(list(source_ids)))
        )
    ).one()
    return int(row[0]), int(row[1])


async def sales_by(session: AsyncSession, actor: str, since: datetime) -> tuple[int, int]:
    """(purchases recorded by `actor` since then, their amount net of returns, in kopecks)."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(purchases.c.amount - purchases.c.refunded_amount), 0),
            ).where(purchases.c.actor == actor, purchases.c.created_at >= since)
        )
    ).one()
    return int(row[0]), int(row[1])
