"""Inserting a row that a unique key may already hold, racing other processes safely."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base


async def insert_unique(session: AsyncSession, row: Base) -> bool:
    """Add the row inside a savepoint; False (and nothing written) when a unique key clashes.

    The unique constraint decides, so of two transactions inserting the same key one wins and
    the other carries on with its own work instead of failing whole.
    """
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
