"""Helpers for service-level tests: customers made directly, a program with round numbers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.program import Program, parse_tiers
from db.models import Customer, LedgerEntry

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
PROGRAM = Program(
    tiers=parse_tiers("Base:0:5, Silver:10000:7, Gold:30000:10"),
    purchase_points_days=365,
    bonus_points_days=180,
    referral_bonus=200,
)
_ids = itertools.count(1)


@pytest.fixture
def new_customer(sessions: async_sessionmaker):
    async def make(referrer_id: int | None = None) -> int:
        number = next(_ids)
        async with sessions() as session:
            customer = Customer(
                telegram_id=500_000 + number,
                status="active",
                name=f"Клиент {number}",
                phone=f"+7916{number:07d}",
                referrer_id=referrer_id,
            )
            session.add(customer)
            await session.commit()
            return customer.id

    return make


async def lots_of(sessions: async_sessionmaker, customer_id: int) -> dict[int, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(LedgerEntry.id, LedgerEntry.remaining).where(
                LedgerEntry.customer_id == customer_id, LedgerEntry.remaining.is_not(None)
            )
        )
        return dict(rows.all())
