"""The form storage: one write per step, none when nothing changed, nothing lost on restart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.telegram.fsm_storage import SqlAlchemyStorage

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_clearing_a_form_that_does_not_exist_runs_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    storage = SqlAlchemyStorage(sessions)
    await storage.load()
    with statements(engine) as seen:
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
        async with storage.batch():
            await storage.set_state(KEY, None)
    assert seen == []


async def test_a_step_is_one_write_and_a_repeat_none(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    storage = SqlAlchemyStorage(sessions)
    await storage.load()
    with statements(engine) as seen:
        async with storage.batch():
            await storage.set_data(KEY, {"amount": 1250})
            await storage.set_state(KEY, "Sale:receipt")
    assert seen == ["INSERT"]
    with statements(engine) as seen:
        async with storage.batch():
            await storage.set_data(KEY, {"amount": 1250})
            await storage.set_state(KEY, "Sale:receipt")
        async with storage.batch():
            await storage.set_data(KEY, {"amount": 1250, "receipt": "R-1"})
            await storage.set_state(KEY, "Sale:redeem")
    assert seen == ["UPDATE"]

    again = SqlAlchemyStorage(sessions)  # a restart reads what was stored
    assert await again.get_state(KEY) == "Sale:redeem"
    assert await again.get_data(KEY) == {"amount": 1250, "receipt": "R-1"}
    with statements(engine) as seen:
        async with again.batch():
            await again.set_state(KEY, None)
            await again.set_data(KEY, {})
    assert seen == ["DELETE"]
    assert await SqlAlchemyStorage(sessions).get_state(KEY) is None


async def test_data_handed_out_is_a_copy(sessions: async_sessionmaker) -> None:
    storage = SqlAlchemyStorage(sessions)
    await storage.set_data(KEY, {"picked": [1]})
    data = await storage.get_data(KEY)
    data["picked"].append(2)  # changed in place, never set: nothing changes
    assert await storage.get_data(KEY) == {"picked": [1]}
