"""Queries on customers. Repositories flush at most; the service that owns the unit commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))


async def by_phone(session: AsyncSession, phone: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.phone == phone))


async def by_card_code(session: AsyncSession, card_code: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.card_code == card_code))


async def by_id(session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.get(Customer, customer_id)
