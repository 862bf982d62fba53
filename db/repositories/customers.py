"""Queries on customers. Repositories flush at most; the service that owns the unit commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.hot import Hot
from db.models import Customer
from db.repositories.rows import rows_changed, table_of

_CUSTOMERS: Table = table_of(Customer)
# What a till's look-up needs of an active member (a till asks on every sale): hot reads.
_MEMBER_COLUMNS = (
    Customer.id,
    Customer.telegram_id,
    Customer.name,
    Customer.phone,
    Customer.card_code,
    Customer.language,
)
_ACTIVE = Customer.status == "active"
_MEMBER_BY_CARD = Hot(
    select(*_MEMBER_COLUMNS).where(Customer.card_code == bindparam("code"), _ACTIVE)
)
_MEMBER_BY_PHONE = Hot(
    select(*_MEMBER_COLUMNS).where(Customer.phone == bindparam("phone"), _ACTIVE)
)
_PENDING_UPDATES: dict[tuple[str, ...], Hot] = {}


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))


async def active_by_card(session: AsyncSession, card_code: str) -> Any:
    """(id, telegram_id, name, phone, card_code, language) of the active member with this
    card; None for no such member."""
    return await _MEMBER_BY_CARD.one_or_none(session, code=card_code)


async def active_by_phone(session: AsyncSession, phone: str) -> Any:
    """As `active_by_card`, by the phone in its stored form."""
    return await _MEMBER_BY_PHONE.one_or_none(session, phone=phone)


async def by_phone(session: AsyncSession, phone: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.phone == phone))


async def by_card_code(session: AsyncSession, card_code: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.card_code == card_code))


async def by_id(session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.get(Customer, customer_id)


def _pending_update(names: tuple[str, ...]) -> Hot:
    """Answers onto a customer still signing up: a hot statement per set of columns."""
    if (hot := _PENDING_UPDATES.get(names)) is None:
        columns = _CUSTOMERS.c
        statement = (
            update(_CUSTOMERS)
            .where(columns.telegram_id == bindparam("p_who"), columns.status == "pending")
            .values({name: bindparam(f"p_{name}", type_=columns[name].type) for name in names})
            .returning(columns.id)
        )
        hot = _PENDING_UPDATES[names] = Hot(statement)
    return hot


async def update_pending(session: AsyncSession, telegram_id: int, **values: Any) -> bool:
    """Write answers onto a customer still signing up; False when there is no such row."""
    params = {f"p_{name}": value for name, value in values.items()}
    rows = await _pending_update(tuple(sorted(values))).rows(session, p_who=telegram_id, **params)
    return len(rows) == 1


async def save_pending(engine: AsyncEngine, telegram_id: int, **values: Any) -> bool:
    """`update_pending` as a unit of work of its own (committed; one round trip on
    PostgreSQL): a questionnaire step's answer."""
    params = {f"p_{name}": value for name, value in values.items()}
    rows = await _pending_update(tuple(sorted(values))).once(engine, p_who=telegram_id, **params)
    return len(rows) == 1


async def update_member(session: AsyncSession, telegram_id: int, **values: Any) -> bool:
    """Write answers onto a member's row (their /profile); False when they are no member."""
    result = await session.execute(
        update(Customer)
        .where(Customer.telegram_id == telegram_id, Customer.status == "active")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def update_pending_of(session: AsyncSession, customer_id: int, **values: Any) -> bool:
    """`update_pending` by customer id (any messenger)."""
    result = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def member_answers(session: AsyncSession, telegram_id: int) -> Any:
    """The member's id and answers as stored now (a row, not an identity-mapped object)."""
    query = select(
        Customer.id,
        Customer.name,
        Customer.phone,
        Customer.birthday,
        Customer.gender,
        Customer.city,
        Customer.interests,
    ).where(Customer.telegram_id == telegram_id, Customer.status == "active")
    return (await session.execute(query)).first()


async def release_pending_phone(session: AsyncSession, customer_id: int, phone: str) -> None:
    """Take a phone back from someone who gave it mid-signup but has not joined with it."""
    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.phone == phone, Customer.status == "pending")
        .values(phone=None)
        .execution_options(synchronize_session=False)
    )


async def stop_advertising(session: AsyncSession, customer_id: int) -> bool:
    """Clear the advertising opt-in; False when it was already off (a second tap)."""
    result = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.ads_opt_in.is_(True))
        .values(ads_opt_in=False)
    )
    return bool(rows_changed(result))


async def mark_reachable(session: AsyncSession, customer_id: int) -> None:
    """The customer can be written to again: the delivery engine stops skipping them."""
    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(unreachable_at=None)
        .execution_options(synchronize_session=False)
    )


async def start_advertising(session: AsyncSession, customer_id: int) -> bool:
    """Set the advertising opt-in of a member; False when it was already on (a second tap)."""
    result = await session.execute(
        update(Customer)
        .where(
            Customer.id == customer_id,
            Customer.status == "active",
            Customer.ads_opt_in.is_(False),
        )
        .values(ads_opt_in=True)
    )
    return bool(rows_changed(result))
