"""aiogram FSM storage in the application's database, so a restart loses no half-filled form.

Redis (`REDIS_URL`) replaces it when several processes share the work; this one serves the
default single process on SQLite or PostgreSQL with no extra service to run.
"""

from __future__ import annotations

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


class SqlAlchemyStorage(BaseStorage):
    def __init__(
        self, session_factory: async_sessionmaker, key_builder: KeyBuilder | None = None
    ) -> None:
        self._sessions = session_factory
        self._keys = key_builder or DefaultKeyBuilder()

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
            if record.state is None and not record.data:
                # A cleared form leaves no row behind: nothing of the person stays stored.
                await session.execute(delete(FsmRecord).where(FsmRecord.key == record_key))
            await session.commit()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        async with self._sessions() as session:
            return await session.get(FsmRecord, self._keys.build(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return dict(record.data) if record else {}
