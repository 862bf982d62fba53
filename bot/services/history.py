"""A customer's operations, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import ledger as repo

PAGE_SIZE = 8


@dataclass(frozen=True)
class Operation:
    kind: str
    points: int
    reason: str
    at: datetime
    purchase_amount: int | None  # kopecks, for accruals


@dataclass(frozen=True)
class HistoryPage:
    operations: list[Operation]
    page: int
    has_older: bool


async def history_page(session: AsyncSession, customer_id: int, page: int) -> HistoryPage:
    page = max(page, 0)
    rows = await repo.history(session, customer_id, page * PAGE_SIZE, PAGE_SIZE + 1)
    operations = [
        Operation(
            entry.kind,
            entry.points,
            entry.reason,
            entry.created_at,
            purchase.amount if purchase else None,
        )
        for entry, purchase in rows[:PAGE_SIZE]
    ]
    return HistoryPage(operations, page, len(rows) > PAGE_SIZE)


async def friends_joined(session: AsyncSession, customer_id: int) -> int:
    return await repo.referred_count(session, customer_id)
