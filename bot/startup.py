"""Start-up checks: the database and Telegram answer, or one line that names the setting.

A shop owner who mistyped `.env` should read what to fix, not a traceback. What may pass by
itself (a database or a network that is still coming up) is retried with a growing pause a
bounded number of times; what will not (a missing database, a wrong role, a rejected token)
stops at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response
from aiogram.types import Message, Update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import SettingsError

log = logging.getLogger(__name__)
# aiogram builds `Response[T]` per API call; pydantic caches those classes only weakly, so they
# are rebuilt (milliseconds each) after a garbage collection. Holding the common ones avoids it.
_RESPONSE_TYPES = (Response[Message], Response[bool], Response[list[Update]])

T = TypeVar("T")

# 0.5 + 1 + 2 + 4 + 8 s: a database or a network coming up with the machine has ~15 s to answer.
START_ATTEMPTS = 6
FIRST_PAUSE = 0.5


class StartupError(SettingsError):
    """Something a setting points at does not answer; the message names the setting."""


def describe_database(url: str) -> str:
    """The database as a person would name it: driver, host and name, never the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            return "SQLite in memory"
        return f"SQLite {Path(database).resolve()}"
    where = parsed.host or "localhost"
    if parsed.port:
        where += f":{parsed.port}"
    user = f"{parsed.username}@" if parsed.username else ""
    return f"PostgreSQL {user}{where}/{parsed.database or ''}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _transient_database_error(error: BaseException) -> bool:
    """Refused, reset or timed out: a database server still starting (or restarting)."""
    if isinstance(error, socket.gaierror):
        return error.errno == socket.EAI_AGAIN
    if isinstance(error, DBAPIError):
        return "starting up" in str(error.orig) or "shutting down" in str(error.orig)
    return isinstance(error, ConnectionError | TimeoutError)


def missing_sqlite_folder(url: str, setting: str = "DATABASE_URL") -> StartupError | None:
    """Checked before connecting: aiosqlite's failed open can outlive the event loop."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database or "").resolve().parent
        if not folder.is_dir():
            what = describe_database(url)
            return StartupError(f"{setting}: the folder {folder} does not exist ({what})")
    return None


def database_error(url: str, error: BaseException, setting: str = "DATABASE_URL") -> StartupError:
    """One line naming the setting, from what the driver said."""
    if (missing := missing_sqlite_folder(url, setting)) is not None:
        return missing
    what = describe_database(url)
    parsed = make_url(url)
    if isinstance(error, socket.gaierror):
        return StartupError(f"{setting}: unknown host {parsed.host!r} ({what})")
    if isinstance(error, DBAPIError) and error.orig is not None:
        reason = _first_line(error.orig)
    else:
        reason = _first_line(error)
    return StartupError(f"{setting}: cannot open {what}: {reason}")


async def _with_retries(
    attempt: Callable[[], Awaitable[T]],
    transient: Callable[[BaseException], bool],
    catch: tuple[type[BaseException], ...],
    what: str,
    attempts: int,
    first_pause: float,
) -> T:
    pause = first_pause
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except catch as error:
            if number == attempts or not transient(error):
                raise
            log.warning(
                "%s did not answer, retrying",
                what,
                extra={"attempt": number, "pause": pause, "error": type(error).__name__},
            )
        await asyncio.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


async def wait_for_database(
    engine: AsyncEngine, *, attempts: int | None = None, first_pause: float | None = None
) -> None:
    """Connect once, retrying a database that is still starting; StartupError if it never does."""
    attempts = START_ATTEMPTS if attempts is None else attempts
    first_pause = FIRST_PAUSE if first_pause is None else first_pause
    url = engine.url.render_as_string(hide_password=False)
    if (missing := missing_sqlite_folder(url)) is not None:
        raise missing

    async def connect() -> None:
        async with engine.connect():
            pass

    try:
        await _with_retries(
            connect,
            _transient_database_error,
            (OSError, SQLAlchemyError),
            "the database",
            attempts,
            first_pause,
        )
    except (OSError, SQLAlchemyError) as error:
        raise database_error(url, error) from None


async def check_telegram(
    bot: Bot, api_url: str, *, attempts: int | None = None, first_pause: float | None = None
) -> str:
    """The bot's username from getMe; a rejected token or a silent Telegram is one line."""
    attempts = START_ATTEMPTS if attempts is None else attempts
    first_pause = FIRST_PAUSE if first_pause is None else first_pause

    def transient(error: BaseException) -> bool:
        return isinstance(error, TelegramNetworkError | TelegramServerError)

    try:
        me = await _with_retries(
            bot.me,
            transient,
            (TelegramNetworkError, TelegramServerError),
            "Telegram",
            attempts,
            first_pause,
        )
    except (TelegramUnauthorizedError, TelegramNotFound):
        raise StartupError(
            "BOT_TOKEN: Telegram rejected the token; copy it again from @BotFather"
        ) from None
    except (TelegramNetworkError, TelegramServerError) as error:
        raise StartupError(
            f"TELEGRAM_API_URL: Telegram at {api_url} did not answer ({error.message})"
        ) from None
    return me.username or ""


def keep_startup_objects() -> None:
    """Hide what start-up built from the garbage collector, for the life of the process.

    The modules, pydantic's and SQLAlchemy's compiled schemas and the app are some 360 000
    objects that live until the process ends. Each full collection went through all of them:
    about 200 ms, several times a minute under load, a third of the CPU of members' updates.
    Frozen, a full collection sees only what was made since. Called once serving begins.
    """
    gc.collect()  # what start-up left as garbage goes now, not into the frozen generation
    gc.freeze()
