"""Rows written once under a unique key, racing other processes safely; typed Core helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Result, Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from db.base import Base
from db.hot import dialect_inserts


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed as the Table it is (the ORM declares a FromClause)."""
    return cast(Table, model.__table__)


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched: its result is a CursorResult at run time."""
    return cast(CursorResult[Any], result).rowcount


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


class InsertOnce:
    """`INSERT … ON CONFLICT (keys) DO NOTHING RETURNING …`, built once per dialect.

    One statement, no savepoint and no SELECT first: the unique key decides, and a row that was
    already there simply comes back as no row. SQLite (3.35+) and PostgreSQL both speak it;
    SQLAlchemy spells it per dialect, so both spellings are built up front.
    """

    def __init__(
        self, table: Table, keys: Sequence[Column[Any]], returning: Sequence[Any] = ()
    ) -> None:
        self._by_dialect = dialect_inserts(table, keys, returning)

    def __call__(self, session: AsyncSession) -> Insert:
        return self._by_dialect[session.get_bind().dialect.name]
