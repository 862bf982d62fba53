"""Promo codes' SQL: promotions, codes (inserted in bulk), taking a use, releasing it.

A use is taken by a conditional UPDATE (`uses < limit`) and recorded by an insert under unique
keys (one redemption per purchase; `once_key` per code and customer for single-use codes):
never read-then-write. Repositories flush at most; services own the transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, PromoCode, PromoRedemption, Promotion, Purchase
from db.repositories.rows import rows_changed, table_of

WINBACK_PREFIX = "winback:"
CHUNK = 500  # rows per INSERT: well inside SQLite's limit on bound parameters


@dataclass(frozen=True)
class CodeRow:
    code_id: int
    code: str
    promotion_id: int
    name: str
    kind: str
    value: int
    active: bool
    expires_at: datetime | None
    owner_id: int | None
    uses: int
    multi_use: bool
    max_uses: int | None
    used_by_customer: bool


@dataclass(frozen=True)
class PromotionRow:
    id: int
    name: str
    kind: str
    value: int
    expires_at: datetime | None
    multi_use: bool
    personal: bool
    max_uses: int | None
    active: bool
    created_at: datetime
    code: str | None  # the shared code
    codes: int
    uses: int  # uses standing (refunded ones given back)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        table_of(PromoCode)
    ).on_conflict_do_nothing()


async def add_promotion(session: AsyncSession, values: dict[str, Any]) -> int:
    promotion = Promotion(**values)
    session.add(promotion)
    await session.flush()
    return promotion.id


async def system_promotion(session: AsyncSession, key: str, values: dict[str, Any]) -> int:
    """The promotion the bot keeps under `key`, made on first use (two processes: one row)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table_of(Promotion))
    await session.execute(
        insert.values(system_key=key, **values).on_conflict_do_nothing(
            index_elements=[Promotion.system_key]
        )
    )
    found = await session.scalar(select(Promotion.id).where(Promotion.system_key == key))
    assert found is not None
    return found


async def insert_codes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert codes, skipping any that clash (a code taken, or a customer who has one)."""
    for start in range(0, len(rows), CHUNK):
        await session.execute(_insert(session), list(rows[start : start + CHUNK]))


async def codes_of(
    session: AsyncSession, promotion_id: int, customer_ids: Sequence[int | None]
) -> dict[int | None, str]:
    """The codes of these customers (None: the shared code) in the promotion."""
    result: dict[int | None, str] = {}
    ids = [customer for customer in customer_ids if customer is not None]
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(PromoCode.customer_id, PromoCode.code).where(
                PromoCode.promotion_id == promotion_id,
                PromoCode.customer_id.in_(ids[start : start + CHUNK]),
            )
        )
        result.update({customer: code for customer, code in rows})
    if None in customer_ids:
        shared = await session.scalar(
            select(PromoCode.code).where(
                PromoCode.promotion_id == promotion_id, PromoCode.customer_id.is_(None)
            )
        )
        if shared is not None:
            result[None] = shared
    return result


async def code_row(session: AsyncSession, code: str, customer_id: int) -> CodeRow | None:
    used = (
        select(PromoRedemption.id)
        .where(
            PromoRedemption.code_id == PromoCode.id,
            PromoRedemption.customer_id == customer_id,
            PromoRedemption.released_at.is_(None),
        )
        .correlate(PromoCode)
        .exists()
    )
    row = (
        await session.execute(
            select(
                PromoCode.id,
                PromoCode.code,
                Promotion.id,
                Promotion.name,
                Promotion.kind,
                Promotion.value,
                Promotion.active,
                PromoCode.expires_at,
                Promotion.expires_at,
                PromoCode.customer_id,
                PromoCode.uses,
                Promotion.multi_use,
                Promotion.max_uses,
                used,
            )
            .join(Promotion, Promotion.id == PromoCode.promotion_id)
            .where(PromoCode.code == code)
        )
    ).first()
    if row is None:
        return None
    values = list(row)
    values[7:9] = [values[7] or values[8]]  # a personal code's own lifetime comes first
    values[12] = bool(values[12])
    return CodeRow(*values)


async def take_use(session: AsyncSession, code_id: int, limit: int | None, now: datetime) -> bool:
    """One more use of the code unless it has `limit` already; False: someone was first."""
    statement = update(PromoCode).where(PromoCode.id == code_id)
    if limit is not None:
        statement = statement.where(PromoCode.uses < limit)
    result = await session.execute(
        statement.values(uses=PromoCode.uses + 1, used_at=now).execution_options(
            synchronize_session=False
        )
    )
    return bool(rows_changed(result))


async def add_redemption(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The use on its purchase; None when a unique key says it is there already."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        table_of(PromoRedemption)
    )
    return await session.scalar(
        insert.values(**values).on_conflict_do_nothing().returning(PromoRedemption.id)
    )


async def link_purchase(session: AsyncSession, code_id: int, purchase_id: int) -> None:
    await session.execute(
        update(PromoCode)
        .where(PromoCode.id == code_id)
        .values(purchase_id=purchase_id)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class RedemptionRow:
    code: str
    name: str
    kind: str
    discount: int
    bonus: int
    released: bool


async def redemption_of(session: AsyncSession, purchase_id: int) -> RedemptionRow | None:
    row = (
        await session.execute(
            select(
                PromoCode.code,
                Promotion.name,
                Promotion.kind,
                PromoRedemption.discount,
                PromoRedemption.bonus,
                PromoRedemption.released_at.is_not(None),
            )
            .join(PromoCode, PromoCode.id == PromoRedemption.code_id)
            .join(Promotion, Promotion.id == PromoCode.promotion_id)
            .where(PromoRedemption.purchase_id == purchase_id)
        )
    ).first()
    return RedemptionRow(*row) if row else None


async def release(session: AsyncSession, purchase_id: int, now: datetime) -> int | None:
    """Give back the use a refunded purchase took; its bonus points (None: nothing to release).

    The conditional UPDATE on `released_at` makes a second refund of the purchase a no-op."""
    row = (
        await session.execute(
            update(PromoRedemption)
            .where(
                PromoRedemption.purchase_id == purchase_id, PromoRedemption.released_at.is_(None)
            )
            .values(released_at=now, once_key=None)
            .returning(PromoRedemption.code_id, PromoRedemption.bonus)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        return None
    code_id, bonus = row
    await session.execute(
        update(PromoCode)
        .where(PromoCode.id == code_id, PromoCode.uses > 0)
        .values(uses=PromoCode.uses - 1)
        .execution_options(synchronize_session=False)
    )
    return int(bonus)


def _usable(now: datetime) -> Any:
    limit = and_(Promotion.max_uses.is_not(None), PromoCode.uses >= Promotion.max_uses)
    single_personal = and_(
        PromoCode.customer_id.is_not(None), Promotion.multi_use.is_(False), PromoCode.uses >= 1
    )
    return and_(
        Promotion.active.is_(True),
        or_(PromoCode.expires_at.is_(None), PromoCode.expires_at > now),
        or_(Promotion.expires_at.is_(None), Promotion.expires_at > now),
        ~limit,
        ~single_personal,
    )


async def active_codes(
    session: AsyncSession, customer_id: int, now: datetime
) -> list[tuple[str, str, str, int, datetime | None, datetime | None, bool]]:
    """(code, name, kind, value, code expiry, promotion expiry, personal) the customer may use:
    their personal codes and the shared codes they have not used up, soonest expiry first."""
    used_shared = (
        select(PromoRedemption.id)
        .where(
            PromoRedemption.code_id == PromoCode.id,
            PromoRedemption.customer_id == customer_id,
            PromoRedemption.released_at.is_(None),
        )
        .correlate(PromoCode)
        .exists()
    )
    rows = await session.execute(
        select(
            PromoCode.code,
            Promotion.name,
            Promotion.kind,
            Promotion.value,
            PromoCode.expires_at,
            Promotion.expires_at,
            PromoCode.customer_id.is_not(None),
        )
        .join(Promotion, Promotion.id == PromoCode.promotion_id)
        .where(
            _usable(now),
            or_(
                PromoCode.customer_id == customer_id,
                and_(
                    PromoCode.customer_id.is_(None),
                    or_(Promotion.multi_use.is_(True), ~used_shared),
                ),
            ),
        )
        .order_by(PromoCode.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def promotions(session: AsyncSession) -> list[PromotionRow]:
    codes = (
        select(
            PromoCode.promotion_id.label("promotion_id"),
            func.count().label("codes"),
            func.coalesce(func.sum(PromoCode.uses), 0).label("uses"),
        )
        .group_by(PromoCode.promotion_id)
        .subquery()
    )
    shared = (
        select(PromoCode.code)
        .where(PromoCode.promotion_id == Promotion.id, PromoCode.customer_id.is_(None))
        .correlate(Promotion)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Promotion.id,
            Promotion.name,
            Promotion.kind,
            Promotion.value,
            Promotion.expires_at,
            Promotion.multi_use,
            Promotion.personal,
            Promotion.max_uses,
            Promotion.active,
            Promotion.created_at,
            shared,
            func.coalesce(codes.c.codes, 0),
            func.coalesce(codes.c.uses, 0),
        )
        .outerjoin(codes, codes.c.promotion_id == Promotion.id)
        .order_by(Promotion.id)
    )
    return [PromotionRow(*row) for row in rows]  # type: ignore[call-arg]


async def set_active(session: AsyncSession, promotion_id: int, active: bool) -> bool:
    result = await session.execute(
        update(Promotion)
        .where(Promotion.id == promotion_id)
        .values(active=active)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def winback_page(
    session: AsyncSession,
    *,
    quiet_before: datetime,
    spaced_since: datetime,
    after_id: int,
    limit: int,
) -> list[int]:
    """Active customers with advertising consent who bought before and not since
    `quiet_before`, and got no win-back code since `spaced_since`; by id, after `after_id`."""
    bought = exists().where(Purchase.customer_id == Customer.id)
    bought_lately = exists().where(
        Purchase.customer_id == Customer.id, Purchase.created_at >= quiet_before
    )
    winback_lately = (
        select(PromoCode.id)
        .join(Promotion, Promotion.id == PromoCode.promotion_id)
        .where(
            PromoCode.customer_id == Customer.id,
            Promotion.system_key.like(f"{WINBACK_PREFIX}%"),
            PromoCode.created_at >= spaced_since,
        )
        .correlate(Customer)
        .exists()
    )
    rows = await session.scalars(
        select(Customer.id)
        .where(
            Customer.status == "active",
            Customer.ads_opt_in.is_(True),
            Customer.consent_pending.is_(False),
            Customer.unreachable_at.is_(None),
            Customer.id > after_id,
            bought,
            ~bought_lately,
            ~winback_lately,
        )
        .order_by(Customer.id)
        .limit(limit)
    )
    return list(rows)


def _personal_usable(now: datetime) -> Any:
    return and_(
        Promotion.active.is_(True),
        Promotion.personal.is_(True),
        Promotion.system_key.is_(None),
        or_(Promotion.expires_at.is_(None), Promotion.expires_at > now),
    )


async def personal_usable(session: AsyncSession, promotion_id: int, now: datetime) -> bool:
    found = await session.scalar(
        select(Promotion.id).where(Promotion.id == promotion_id, _personal_usable(now))
    )
    return found is not None


async def personal_usable_ids(session: AsyncSession, now: datetime) -> list[int]:
    return list(await session.scalars(select(Promotion.id).where(_personal_usable(now))))
