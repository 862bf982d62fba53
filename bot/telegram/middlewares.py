"""Outer middlewares: a log line per update, a DB session per update, the user's language."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.texts import pick_language, texts_for

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger("clientbase.updates")


class UpdateLogMiddleware(BaseMiddleware):
    """One line per update with its timing; ids only, never a phone or a name."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            log.info(
                "update",
                extra={
                    "update_id": event.update_id,
                    "type": event.event_type,
                    "user": user.id if user else None,
                    "outcome": outcome,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


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
