"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from db.sqlite_inline import connect_inline


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers work beside a writer; the busy timeout makes writers wait, not fail.

    `secure_delete` overwrites deleted rows with zeros, so a customer's erased phone does not
    linger in free pages of the file.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Connections beyond `pool_size` are closed when given back: updates alone must never need them
# (bot.app keeps updates at work below the pool's size), or every update past the tenth opened
# and closed a connection (SQLite: 5 pragmas; PostgreSQL: a new server process). The overflow is
# for bursts of the delivery worker, the scheduler and the till beside the updates.
POOL_SIZE = 20
POOL_OVERFLOW = 10
# Connections are replaced after this many seconds instead of pinged before each checkout (a
# pre-ping costs round trips on every transaction); a server restart fails one transaction.
POOL_RECYCLE = 1800


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The pool is sized explicitly: `bot.app` lets at most half of it work on updates at once."""
    if "poolclass" not in kwargs:  # e.g. NullPool takes no sizes
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("hide_parameters", True)  # errors quote statements, never phones or names
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "do_connect", _private_file(url))
        event.listen(engine.sync_engine, "do_connect", connect_inline)
        return engine
    kwargs.setdefault("pool_recycle", POOL_RECYCLE)
    return create_async_engine(url, **kwargs)


def _private_file(url: str) -> Any:
    """Before SQLite first opens the file, create it readable by this user only (0600).

    SQLite gives its -wal and -shm files the database file's mode, so they follow. An existing
    file keeps the mode its owner chose.
    """
    database = make_url(url).database or ""
    private = database not in ("", ":memory:") and not database.startswith("file:")

    def create(*_args: Any) -> None:
        if private and not os.path.exists(database):
            try:
                os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:  # another connection made it first
                pass
            except OSError:  # e.g. no such folder: SQLite's own error says it better
                pass

    return create


async def checkpoint_after_erasure(session: AsyncSession) -> None:
    """After personal data was deleted and committed: move the WAL into the file and empty it.

    Until a checkpoint, the deleted rows' old pages stay readable in the -wal file. A no-op on
    PostgreSQL, whose files the shop does not copy around.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    await session.commit()


class LeanSession(AsyncSession):
    """An `AsyncSession` whose exit is free when it never began anything.

    Closing runs in a task of its own (so a cancellation cannot cut it short) and through the
    greenlet bridge. A session that holds no transaction and no objects has nothing to give
    back, and most members' updates (`/balance`, help, a form step) leave theirs like that:
    their reads run on a connection of their own (`db.hot`).
    """

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        sync = self.sync_session
        if sync._transaction is None and not sync.identity_map and not sync._new:
            return
        await super().__aexit__(type_, value, traceback)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, class_=LeanSession, expire_on_commit=False)
