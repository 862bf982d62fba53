"""A hot SELECT outside a transaction reads on a connection of its own, on both engines; inside
one it reads what the session wrote. A statement run once is its own unit of work. A session
that began nothing exits without a trip."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Integer, String, bindparam, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from db import sqlite_inline
from db.hot import Hot
from db.models import Customer

NAME = Hot(
    select(Customer.name.cast(String), Customer.id.cast(Integer)).where(
        Customer.telegram_id == bindparam("telegram_id")
    )
)
RENAME = update(Customer).where(Customer.id == bindparam("who")).values(name=bindparam("new_name"))
NEW_PHONE = Hot(
    update(Customer)
    .where(Customer.id == bindparam("who"))
    .values(name=bindparam("new_name"), phone=bindparam("new_phone"))
    .returning(Customer.id.cast(Integer))
)


async def _customer(sessions: async_sessionmaker, telegram_id: int) -> int:
    async with sessions() as session:
        customer = Customer(
            telegram_id=telegram_id, status="active", name="Анна", phone=f"+7916{telegram_id:07d}"
        )
        session.add(customer)
        await session.commit()
        return customer.id


async def test_a_read_outside_a_transaction_leaves_the_session_untouched(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    customer = await _customer(sessions, 71)
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        async with sessions() as session:
            assert await NAME.one_or_none(session, telegram_id=71) == ("Анна", customer)
            assert await NAME.one_or_none(session, telegram_id=72) is None
            assert not session.in_transaction()  # no BEGIN, no connection held for it
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert len(seen) == 2  # listeners still see each statement (the statement budgets count)


async def test_a_read_sees_what_others_committed_and_inside_a_transaction_what_it_wrote(
    sessions: async_sessionmaker,
) -> None:
    customer = await _customer(sessions, 73)
    async with sessions() as reader, sessions() as writer:
        await writer.execute(RENAME, {"who": customer, "new_name": "Ольга"})
        assert await NAME.one_or_none(writer, telegram_id=73) == ("Ольга", customer)
        assert await NAME.one_or_none(reader, telegram_id=73) == ("Анна", customer)
        await writer.commit()
        assert await NAME.one_or_none(reader, telegram_id=73) == ("Ольга", customer)


async def test_a_session_that_began_something_still_gives_it_back_on_exit(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    customer = await _customer(sessions, 74)
    async with sessions() as session:
        await session.execute(RENAME, {"who": customer, "new_name": "не сохранено"})
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with sessions() as session:  # rolled back
        assert await NAME.one_or_none(session, telegram_id=74) == ("Анна", customer)


async def test_the_sqlite_reader_cannot_write_and_closes_with_its_engine(
    engine: AsyncEngine, sessions: async_sessionmaker, backend
) -> None:
    if backend.name != "sqlite":
        pytest.skip("the reader is SQLite's")
    await _customer(sessions, 75)
    async with sessions() as session:
        await NAME.rows(session, telegram_id=75)
    reader = sqlite_inline.reader(engine.sync_engine)
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("DELETE FROM customers")
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        reader.execute("SELECT 1")
    async with sessions() as session:  # a new one after the engine's dispose
        assert await NAME.one_or_none(session, telegram_id=75) is not None


async def test_a_statement_run_once_is_committed_alone_or_not_at_all(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    first, second = await _customer(sessions, 76), await _customer(sessions, 77)
    changed = await NEW_PHONE.once(engine, who=first, new_name="Ольга", new_phone="+79160000176")
    assert changed == [(first,)]
    async with sessions() as session:
        assert await NAME.one_or_none(session, telegram_id=76) == ("Ольга", first)
    with pytest.raises(IntegrityError):  # the phone is taken: nothing of it is kept
        await NEW_PHONE.once(engine, who=second, new_name="Вера", new_phone="+79160000176")
    async with sessions() as session:
        assert await NAME.one_or_none(session, telegram_id=77) == ("Анна", second)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
