"""aiogram FSM storage in the application's database, so a restart loses no half-filled form.

Redis (`REDIS_URL`) replaces it when several processes share the work; this one serves the
default single process on SQLite or PostgreSQL with no extra service to run. Being the only
writer, it keeps a write-through cache of recent forms: aiogram reads the state of every update,
and a database round trip for each would cost more than the update's own work.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from db.models import FsmRecord

CACHE_SIZE = 10_000  # forms kept in memory; older ones are read from the database again


class SqlAlchemyStorage(BaseStorage):
    def __init__(
        self, session_factory: async_sessionmaker, key_builder: KeyBuilder | None = None
    ) -> None:
        self._sessions = session_factory
        self._keys = key_builder or DefaultKeyBuilder()
        self._cache: OrderedDict[str, tuple[str | None, dict[str, Any]]] = OrderedDict()

    def _remember(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        self._cache[key] = (state, data)
        self._cache.move_to_end(key)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""

    async def _write(self, key: StorageKey, **values: Any) -> None:
        record_key = self._keys.build(key)
        async with self._sessions() as session:
            record = await session.get(FsmRecord, record_key)
            if record is None:
                record = FsmRecord(key=record_key, state=None, data={})
                session.add(record)
            for name, value in values.items():
                setattr(record, name, value)
            state, data = record.state, dict(record.data)
            if state is None and not data:
                # A cleared form leaves no row behind: nothing of the person stays stored.
                await session.execute(delete(FsmRecord).where(FsmRecord.key == record_key))
            await session.commit()
        self._remember(record_key, state, data)

    async def _read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        record_key = self._keys.build(key)
        if (cached := self._cache.get(record_key)) is not None:
            self._cache.move_to_end(record_key)
            return cached
        async with self._sessions() as session:
            record = await session.get(FsmRecord, record_key)
            state, data = (record.state, dict(record.data)) if record else (None, {})
        self._remember(record_key, state, data)
        return state, data

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._read(key))[1])
