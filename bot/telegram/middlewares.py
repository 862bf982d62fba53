"""Outer middlewares: counted updates, a cap on updates at work, a DB session per update,
forms written once per update, the user's language, the shortcuts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.program import Program
from bot.services import program as program_service
from bot.telegram.filters import Shortcuts
from bot.telegram.fsm_storage import SqlAlchemyStorage
from bot.texts import pick_language, texts_for

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger("clientbase.updates")
SUMMARY_EVERY = 60.0  # seconds between the INFO lines that count updates
HANDLED = "update_handled"


class UpdateLogMiddleware(BaseMiddleware):
    """Counts updates by outcome; a line per update only at DEBUG, ids only, never a phone.

    A line per update at INFO cost more than some updates' own work; instead the counts since
    the last summary go out at INFO once a minute (at the next update after it).
    """

    def __init__(self, every: float = SUMMARY_EVERY) -> None:
        self._every = every
        self._next_summary = time.monotonic() + every
        self._since: Counter[str] = Counter()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            # Read by the error handler: what fails after this (aiogram releasing the form's
            # lock while the bot stops) was answered already and needs no apology.
            data[HANDLED] = True
            return result
        finally:
            self._since[outcome] += 1
            if log.isEnabledFor(logging.DEBUG):
                user: User | None = data.get("event_from_user")
                log.debug(
                    "update",
                    extra={
                        "update_id": event.update_id,
                        "type": event.event_type,
                        "user": user.id if user else None,
                        "outcome": outcome,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            if time.monotonic() >= self._next_summary:
                self._summarise()

    def _summarise(self) -> None:
        self._next_summary = time.monotonic() + self._every
        log.info("updates", extra={outcome: n for outcome, n in sorted(self._since.items())})
        self._since.clear()


class ConcurrencyLimitMiddleware(BaseMiddleware):
    """At most `limit` updates at work at once, in polling and webhook mode alike.

    An update may hold a pooled connection (its session) while asking for a second one (the
    form storage); with no limit, a burst of updates could take every connection and then wait
    for each other forever. Keep `limit` at most half the connection pool.
    """

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._slots:
            return await handler(event, data)


class DbSessionMiddleware(BaseMiddleware):
    """One session per update; the service that owns the unit of work commits it."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self._sessions = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._sessions() as session:
            data["session"] = session
            return await handler(event, data)


class ProgramMiddleware(BaseMiddleware):
    """Hands handlers `program`: the loyalty program as stored now (cached per process, see
    bot/services/program.py), so a sale never pays an extra query per update."""

    def __init__(self, seed: Program) -> None:
        self._seed = seed

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["program"] = await program_service.current(data["session"], self._seed)
        return await handler(event, data)


class LanguageMiddleware(BaseMiddleware):
    """Speak the user's Telegram language when we have it, else the shop's default."""

    def __init__(self, default_language: str) -> None:
        self._default = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        language = pick_language(user.language_code if user else None, self._default)
        data["language"] = language
        data["texts"] = texts_for(language)
        return await handler(event, data)


class ShortcutsMiddleware(BaseMiddleware):
    """Members' frequent commands and menu buttons go straight to their handler (`Shortcuts`),
    before aiogram's routing: passing the dispatcher and two routers cost a quarter of a
    `/balance`. The innermost of the update's middlewares, so the handler is handed the same
    data (session, program, texts, state) as through a router, and its errors go the same way.
    """

    def __init__(self, shortcuts: Shortcuts) -> None:
        self._shortcuts = shortcuts

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        message = event.message
        if message is not None and (route := await self._shortcuts.find(message, data["bot"])):
            return await route.call(message, **data)
        return await handler(event, data)


class FormWritesMiddleware(BaseMiddleware):
    """The form's changes during an update are written once: before the bot's next request to
    Telegram (`FormsBeforeRequests`) or when the update ends (see fsm_storage).

    Placed outside the DB session middleware: a write left for the end comes after the
    update's session gave its connection back.
    """

    def __init__(self, storage: SqlAlchemyStorage) -> None:
        self._storage = storage

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # A failed write reaches aiogram's error handler (outermost), which apologises.
        async with self._storage.batch():
            return await handler(event, data)


class FormsBeforeRequests(BaseRequestMiddleware):
    """The form is stored before the bot tells the person anything that follows from it."""

    def __init__(self, storage: SqlAlchemyStorage) -> None:
        self._storage = storage

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        await self._storage.flush()
        return await make_request(bot, method)
