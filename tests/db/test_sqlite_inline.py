"""SQLite on the event loop: writers of one process queue on the loop, never inside SQLite.

And hot statements (`db.hot`) fail as `session.execute` would, on both engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Integer, bindparam, literal_column, select, text, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from db import sqlite_inline
from db.engine import create_engine, create_session_factory
from db.hot import Hot
from db.migrate import upgrade
from db.models import Customer

RENAME = update(Customer).where(Customer.id == bindparam("who")).values(name=bindparam("new_name"))


async def _customer(sessions: async_sessionmaker) -> int:
    async with sessions() as session:
        customer = Customer(telegram_id=1, status="active", name="Клиент", phone="+79160000001")
        session.add(customer)
        await session.commit()
        return customer.id


async def _name(sessions: async_sessionmaker, customer_id: int) -> str:
    async with sessions() as session:
        return (
            await session.scalars(select(Customer.name).where(Customer.id == customer_id))
        ).one()


@pytest.fixture
async def sqlite_sessions(tmp_path) -> AsyncIterator[async_sessionmaker]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    await upgrade(engine)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_a_second_writer_waits_on_the_loop_while_readers_and_others_go_on(
    sqlite_sessions: async_sessionmaker,
) -> None:
    customer = await _customer(sqlite_sessions)
    order: list[str] = []
    first_wrote, let_go = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with sqlite_sessions() as session:
            await session.execute(RENAME, {"who": customer, "new_name": "first"})
            first_wrote.set()
            await let_go.wait()  # the transaction stays open while other tasks run
            await session.commit()
            order.append("first committed")

    async def second() -> None:
        await first_wrote.wait()
        async with sqlite_sessions() as session:
            await session.execute(RENAME, {"who": customer, "new_name": "second"})
            await session.commit()
            order.append("second committed")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_wrote.wait()
    await asyncio.sleep(0)  # the second writer is at the gate now
    # The loop is free: a reader sees the last committed name, before either writer is done.
    order.append(f"read {await _name(sqlite_sessions, customer)!r}")
    let_go.set()
    await asyncio.gather(*tasks)
    assert order == ["read 'Клиент'", "first committed", "second committed"]
    assert await _name(sqlite_sessions, customer) == "second"


async def test_a_writer_that_waits_too_long_gets_database_is_locked(
    sqlite_sessions: async_sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "WRITER_WAIT_SECONDS", 0.2)
    customer = await _customer(sqlite_sessions)
    async with sqlite_sessions() as holder:
        await holder.execute(RENAME, {"who": customer, "new_name": "holder"})
        async with sqlite_sessions() as late:
            with pytest.raises(OperationalError, match="database is locked"):
                await late.execute(RENAME, {"who": customer, "new_name": "late"})
        await holder.commit()
    assert await _name(sqlite_sessions, customer) == "holder"


async def test_the_turn_is_given_back_by_a_rollback_and_by_a_cancelled_task(
    sqlite_sessions: async_sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "WRITER_WAIT_SECONDS", 1.0)
    customer = await _customer(sqlite_sessions)
    async with sqlite_sessions() as session:
        await session.execute(RENAME, {"who": customer, "new_name": "rolled back"})
        await session.rollback()

    started = asyncio.Event()

    async def cancelled() -> None:
        async with sqlite_sessions() as session:
            await session.execute(RENAME, {"who": customer, "new_name": "cancelled"})
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(cancelled())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with sqlite_sessions() as session:
        await session.execute(RENAME, {"who": customer, "new_name": "after"})
        await session.commit()
    assert await _name(sqlite_sessions, customer) == "after"


async def test_two_engines_on_one_file_share_the_turn(tmp_path) -> None:
    """The shell's engine and the bot's engine in one process: one writer at a time, no wait
    inside SQLite (which would block the loop until busy_timeout)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    engines: list[AsyncEngine] = [create_engine(url), create_engine(url)]
    await upgrade(engines[0])
    one, two = (create_session_factory(engine) for engine in engines)
    try:
        customer = await _customer(one)
        async with one() as first:
            await first.execute(RENAME, {"who": customer, "new_name": "one"})
            later = asyncio.create_task(_rename(two, customer, "two"))
            await asyncio.sleep(0.05)
            assert not later.done()
            await first.commit()
        await later
        assert await _name(one, customer) == "two"
    finally:
        for engine in engines:
            await engine.dispose()


async def _rename(sessions: async_sessionmaker, customer_id: int, name: str) -> None:
    async with sessions() as session:
        await session.execute(RENAME, {"who": customer_id, "new_name": name})
        await session.commit()


BROKEN = Hot(select(literal_column("1", Integer)).select_from(text("no_such_table_here")))


async def test_a_hot_statement_fails_as_session_execute_would(
    sessions: async_sessionmaker, backend
) -> None:
    expected = OperationalError if backend.name == "sqlite" else ProgrammingError
    async with sessions() as session:
        with pytest.raises(expected) as failure:
            await BROKEN.rows(session)
        assert "no_such_table_here" in str(failure.value)
        await session.rollback()
        assert (await session.execute(text("SELECT 1"))).scalar() == 1
