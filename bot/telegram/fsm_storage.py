"""aiogram FSM storage in the application's database, so a restart loses no half-filled form.

Redis (`REDIS_URL`) replaces it when several processes share the work; this one serves the
default single process on SQLite or PostgreSQL with no extra service to run. Being the only
writer, it holds every open form in memory (all of them are read once, at the first use: a
cleared form leaves no row, so they are only the forms people are in) and answers aiogram's read
of each update's state without a database round trip.

Writes are made once per step: inside `batch()` (opened around each update by a middleware) a
form step that sets the data and then the state is one statement, written before the bot's
next request to Telegram (`flush()`, from a request middleware: what the person is told is
already stored) or when the update ends; a step that changes nothing (clearing a form that does
not exist, asking a question again) writes nothing. Outside a batch every change is written
at once.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

from db.repositories import forms
from db.repositories.forms import Form

_EMPTY: Form = (None, {})
# Keys changed by the update at work (None outside an update): written when it ends.
_changed: ContextVar[set[str] | None] = ContextVar("form_changes", default=None)


class SqlAlchemyStorage(BaseStorage):
    def __init__(
        self, session_factory: async_sessionmaker, key_builder: KeyBuilder | None = None
    ) -> None:
        self._sessions = session_factory
        self._keys = key_builder or DefaultKeyBuilder()
        self._forms: dict[str, Form] = {}  # every open form, as the handlers left it
        self._stored: dict[str, Form] = {}  # what the database holds
        self._loaded = False
        self._loading = asyncio.Lock()

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""

    async def load(self) -> None:
        """Read every open form (once): the assembly calls it at start-up."""
        async with self._loading:
            if self._loaded:
                return
            async with self._sessions() as session:
                rows = await forms.all_forms(session)
            for key, state, data in rows:
                self._forms[key] = self._stored[key] = (state, data)
            self._loaded = True

    async def _form(self, key: str) -> Form:
        if not self._loaded:
            await self.load()
        return self._forms.get(key, _EMPTY)

    async def _change(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        record_key = self._keys.build(key)
        await self._form(record_key)  # loaded first, so what is stored is known
        if state is None and not data:
            # A cleared form leaves no row behind: nothing of the person stays stored.
            self._forms.pop(record_key, None)
        else:
            self._forms[record_key] = (state, data)
        if (changed := _changed.get()) is not None:
            changed.add(record_key)
        else:
            await self._write({record_key})

    async def _write(self, keys: set[str]) -> None:
        """One statement per form that differs from what is stored; none for the others."""
        writes = [
            (key, self._forms.get(key), self._stored.get(key))
            for key in sorted(keys)
            if self._forms.get(key) != self._stored.get(key)
        ]
        if not writes:
            return
        try:
            if len(writes) == 1:  # a step: one statement, its own unit of work
                await forms.save_form(self._sessions.kw["bind"], *writes[0])
            else:
                await self._write_together(writes)
        except BaseException:
            # Memory follows the database: the change is lost whole, never half kept.
            for key, _, old in writes:
                self._restore(key, old)
            raise
        for key, new, _ in writes:
            self._restore(key, new, stored=True)

    async def _write_together(self, writes: list[tuple[str, Form | None, Form | None]]) -> None:
        async with self._sessions() as session:
            for write in writes:
                await forms.write_form(session, *write)
            await session.commit()

    def _restore(self, key: str, form: Form | None, *, stored: bool = False) -> None:
        for place in (self._forms, self._stored) if stored else (self._forms,):
            if form is None:
                place.pop(key, None)
            else:
                place[key] = form

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Writes made inside are kept in memory and written once: at `flush()` or the end."""
        changed: set[str] = set()
        token = _changed.set(changed)
        try:
            yield
        finally:
            _changed.reset(token)
            if changed:
                await self._write(changed)

    async def flush(self) -> None:
        """Write what the current batch changed so far (before the bot says anything)."""
        changed = _changed.get()
        if changed:
            keys = set(changed)
            changed.clear()
            await self._write(keys)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        _, data = await self._form(self._keys.build(key))
        await self._change(key, value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._form(self._keys.build(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        state, _ = await self._form(self._keys.build(key))
        await self._change(key, state, copy.deepcopy(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return copy.deepcopy((await self._form(self._keys.build(key)))[1])
