"""SQLite on the event loop's own thread, with writers queued on the loop instead of in SQLite.

aiosqlite runs each driver call on a thread of its own: a statement costs four trips there and
back (cursor, execute, fetch, close), and a purchase about twenty. Each trip is a queue put, a
thread switch, a self-pipe write and a wake-up of the event loop; together they cost more CPU
than the SQL and SQLAlchemy put together. A statement on a local SQLite file in WAL mode takes
microseconds, less than one such trip, so this driver runs it right where it is called.

What that changes, and how it is kept safe:

- Calling SQLite on the loop blocks the loop for the statement's duration. SQLite's own waiting
  (its busy handler, up to `busy_timeout`) would block it too, and worse, it could wait for a
  transaction whose owner is another task of this same loop, which cannot finish while the
  loop is blocked. So writers of one process never meet inside SQLite: a connection takes this
  file's `WriterGate` (an `asyncio.Lock`, awaited, so other tasks go on) before its first
  writing statement and gives it back when its transaction ends. That is the lock SQLite would
  grant anyway (one writer per file), handed out in order instead of by polling.
- Readers need no gate: in WAL mode they read a snapshot and never wait for the writer.
- Another process's writer (the shell beside the running bot) is still waited for inside
  SQLite. That process goes on by itself, so the wait ends; this loop stalls meanwhile.
- A statement that only reads, outside any transaction (`/balance`), needs no pooled
  connection at all: `reader()` keeps one more connection per engine for those, set to
  `query_only`. A statement runs to its end within one call, so one such connection serves
  every task of the process in turn.

The `sqlite+aiosqlite` URL and SQLAlchemy's aiosqlite dialect stay as they are: only the object
behind the adapter changes (the shape of `aiosqlite.Connection` that the dialect uses).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry

# As long as SQLite itself lets a writer wait (the `busy_timeout` pragma set on each connection).
WRITER_WAIT_SECONDS = 10.0

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


_readers: weakref.WeakKeyDictionary[Engine, sqlite3.Connection] = weakref.WeakKeyDictionary()


def reader(engine: Engine) -> sqlite3.Connection | None:
    """The engine's connection for reads outside a transaction; None until its file exists
    (the pool's first connection creates it, private to its owner: see db.engine)."""
    if (connection := _readers.get(engine)) is not None:
        return connection
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    database = str(cargs[0]) if cargs else ""
    if cparams.get("uri") or not os.path.isfile(database):
        return None
    connection = sqlite3.connect(database, **{**cparams, "check_same_thread": False})
    connection.execute(f"PRAGMA busy_timeout={int(WRITER_WAIT_SECONDS * 1000)}")
    connection.execute("PRAGMA query_only=ON")  # a write here would bypass the writer's turn
    _readers[engine] = connection
    if not event.contains(engine, "engine_disposed", _close_reader):
        event.listen(engine, "engine_disposed", _close_reader)
    return connection


def _close_reader(engine: Engine) -> None:
    if (connection := _readers.pop(engine, None)) is not None:
        connection.close()


def _gate(database: str) -> asyncio.Lock:
    """The one writer's turn for `database` within this process and event loop."""
    by_file = _gates.setdefault(asyncio.get_running_loop(), {})
    if (gate := by_file.get(database)) is None:
        gate = by_file[database] = asyncio.Lock()
    return gate


def _takes_no_turn(sql: str) -> bool:
    """A SELECT never takes SQLite's write lock (legacy transaction control begins a transaction
    only before INSERT, UPDATE, DELETE and REPLACE); nor does a PRAGMA that sets up the
    connection. A checkpoint does: it waits for this process's writer in line."""
    head = sql.lstrip()[:6].upper()
    if head == "PRAGMA":
        return "WAL_CHECKPOINT" not in sql.upper()
    return head == "SELECT"


class InlineConnection:
    """The part of `aiosqlite.Connection` that SQLAlchemy's aiosqlite dialect calls."""

    def __init__(self, connection: sqlite3.Connection, database: str) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # the dialect checks it
        self._database = database
        self._holding: asyncio.Lock | None = None
        self._tx = _RunNow()

    # -- the writer's turn

    async def _before(self, sql: str) -> None:
        if self._holding is not None or _takes_no_turn(sql):
            return
        gate = _gate(self._database)
        if not gate.locked():
            await gate.acquire()  # free: taken without a trip through the loop
        else:
            try:
                await asyncio.wait_for(gate.acquire(), WRITER_WAIT_SECONDS)
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
        self._holding = gate

    def _after(self) -> None:
        if self._holding is not None and not (self._connection and self._conn.in_transaction):
            self._holding.release()
            self._holding = None

    # -- what the dialect uses

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        """One statement and the rows it returns, in one call (`db.hot`)."""
        await self._before(sql)
        try:
            return self._conn.execute(sql, tuple(parameters)).fetchall()
        finally:
            self._after()

    async def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._after()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._after()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()
        self._after()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level


class _RunNow:
    """aiosqlite's request queue, as the dialect's isolation-level setter uses it: run now."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting dialect, as aiosqlite does
            future.set_exception(error)


class InlineCursor:
    """The part of `aiosqlite.Cursor` that SQLAlchemy's cursor adapters call."""

    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        await self._owner._before(sql)
        try:
            self._cursor.execute(sql, parameters)
        finally:
            self._owner._after()
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        await self._owner._before(sql)
        try:
            self._cursor.executemany(sql, parameters)
        finally:
            self._owner._after()
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := self._cursor.fetchone()) is not None:
            yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def connect_inline(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
) -> AsyncAdapt_aiosqlite_connection:
    """A `do_connect` listener: the dialect's own connection arguments, opened on this thread."""
    cparams = {**cparams, "check_same_thread": False}  # the pool may close it from elsewhere
    connection = sqlite3.connect(*cargs, **cparams)
    database = str(cargs[0]) if cargs else ""
    if not cparams.get("uri") and database not in ("", ":memory:"):
        database = os.path.realpath(database)
    inline: Any = InlineConnection(connection, database)  # aiosqlite's shape, not its class
    return AsyncAdapt_aiosqlite_connection(dialect.dbapi, inline)
