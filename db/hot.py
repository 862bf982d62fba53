"""Hot statements: compiled once per database dialect and sent as one driver call.

For each execution SQLAlchemy builds the statement's cache key, an execution context, a cursor
and a result around the driver's rows; for the statements of a sale and of `/balance` that was
most of the CPU they cost. A `Hot` statement skips all of it: the SQL text, the parameter order
and the parameters' converters are fixed the first time it runs on a dialect, and the rows come
back from one call into the driver (the inline SQLite connection of `db.sqlite_inline`, or
asyncpg's prepared statement, cached per connection). It runs on the session's own connection,
inside the session's transaction, so it sees and writes what the session would.

What SQLAlchemy would still do is kept: listeners of `before_cursor_execute` see the statement
(statement counts, fault injection in tests), and a driver error leaves as the same
`sqlalchemy.exc` error, with the connection invalidated when it was lost. Another driver runs
the statement through `session.execute` instead.

Only for statements whose result columns need no conversion (integers, text): the values are
returned as the driver gives them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Insert, Integer, Select, String, Table, bindparam, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_, greenlet_spawn

from db.sqlite_inline import InlineConnection, reader

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiled: SQLCompiler
    order: tuple[str, ...]  # parameter names in the order the driver takes them
    processors: Mapping[str, Callable[[Any], Any]]
    reads_only: bool  # a SELECT: needs no transaction of its own

    def positional(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        processors = self.processors
        return [
            processors[name](values[name]) if name in processors else values[name]
            for name in self.order
        ]


def _check_columns(statement: Any) -> None:
    for column in getattr(statement, "exported_columns", ()):
        if not isinstance(column.type, Integer | String):
            raise TypeError(f"{column} needs result processing: not for a Hot statement")


class Hot:
    """One statement, built once at import time with `bindparam`s; per dialect if it differs."""

    def __init__(self, statement: Executable | Mapping[str, Executable]) -> None:
        self._statement = statement
        spellings = list(statement.values()) if isinstance(statement, Mapping) else [statement]
        for spelling in spellings:
            _check_columns(spelling)
        self._by_dialect: dict[str, _Compiled] = {}
        self._reads_only = all(isinstance(spelling, Select) for spelling in spellings)

    def statement(self, dialect: Dialect) -> Executable:
        statement = self._statement
        return statement[dialect.name] if isinstance(statement, Mapping) else statement

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        if (done := self._by_dialect.get(key)) is None:
            compiled = cast(Any, self.statement(dialect)).compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise TypeError("a parameter rendered at run time: not for a Hot statement")
            processors = cast(dict[str, Callable[[Any], Any]], dict(compiled._bind_processors))
            statement = self.statement(dialect)
            done = _Compiled(
                str(compiled),
                compiled,
                tuple(compiled.positiontup),
                processors,
                isinstance(statement, Select),
            )
            self._by_dialect[key] = done
        return done

    async def rows(self, session: AsyncSession, **params: Any) -> list[Row]:
        """Every row the statement returns (none for one without RETURNING).

        A SELECT in a session with no transaction yet runs on a connection of its own
        (`_read_alone`): the session stays untouched and no transaction is begun for it, so
        `/balance` costs the statement and little more."""
        if self._reads_only and not session.sync_session.in_transaction():
            engine = session.bind
            assert isinstance(engine, AsyncEngine)
            if (alone := await _read_alone(engine.sync_engine, self, params)) is not None:
                return alone
        sync, raw = await _connection(session)
        dialect = sync.dialect
        driver = raw.driver_connection
        if not isinstance(driver, InlineConnection) and dialect.driver != "asyncpg":
            result = await session.execute(self.statement(dialect), params)
            return [tuple(row) for row in result] if cast(Any, result).returns_rows else []
        compiled = self._compiled(dialect)
        sql, ordered = compiled.sql, compiled.positional(params)
        # Listeners see it as any statement, the way SQLAlchemy calls them: each may hand back
        # the statement to run.
        for listener in sync.dispatch.before_cursor_execute:
            sql, ordered = listener(sync, None, sql, ordered, None, False)
        try:
            if isinstance(driver, InlineConnection):
                return await driver.execute_fetchall(sql, ordered)
            return await _asyncpg_fetch(raw.dbapi_connection, dialect, compiled, sql, ordered)
        except Exception as error:
            await _raise_as_sqlalchemy(sync, raw.dbapi_connection, error, sql, ordered)
            raise  # not reached: the line above raises

    async def once(self, engine: AsyncEngine, **params: Any) -> list[Row]:
        """The statement as a unit of work of its own: committed when this returns.

        On a pooled connection taken for it alone, with no session. On PostgreSQL it runs
        without BEGIN and COMMIT (a lone statement is atomic anyway): one round trip instead of
        three. On SQLite it takes the writer's turn and commits at once."""
        sync = engine.sync_engine
        if sync.dialect.driver != "asyncpg" and sync.dialect.name != "sqlite":
            async with AsyncSession(engine) as session:
                rows = await self.rows(session, **params)
                await session.commit()
                return rows
        compiled, sql, ordered = _ready(sync, self, params)
        return cast(
            list[Row],
            await greenlet_spawn(_fetch_alone, sync, compiled, sql, ordered, alone=True),
        )

    async def one_or_none(self, session: AsyncSession, **params: Any) -> Row | None:
        rows = await self.rows(session, **params)
        return tuple(rows[0]) if rows else None


_CONNECTION = "hot_connection"


async def _read_alone(engine: Engine, hot: Hot, params: Mapping[str, Any]) -> list[Row] | None:
    """A SELECT outside the session, on a connection taken for it alone; None for a driver
    this does not know.

    Under PostgreSQL's READ COMMITTED and in SQLite's WAL mode, a statement outside a
    transaction reads the last committed state, as the session's first statement would. On
    SQLite it runs on the engine's reader (`db.sqlite_inline.reader`), on PostgreSQL on a
    pooled connection, checked out and in within one trip through the greenlet bridge. No
    session, `Connection` or transaction is built for it, which is most of what this saves.
    """
    dialect = engine.dialect
    sqlite_reader = reader(engine) if dialect.name == "sqlite" else None
    if sqlite_reader is None and dialect.driver != "asyncpg":
        return None
    compiled, sql, ordered = _ready(engine, hot, params)
    if sqlite_reader is None:
        return await greenlet_spawn(_fetch_alone, engine, compiled, sql, ordered)
    try:
        return sqlite_reader.execute(sql, ordered).fetchall()
    except sqlite3.Error as error:
        raise _wrapped(engine, error, sql, ordered) from error


def _ready(
    engine: Engine, hot: Hot, params: Mapping[str, Any]
) -> tuple[_Compiled, str, Sequence[Any]]:
    """The statement compiled for the engine, its parameters in order, as listeners left them
    (they see it with no `Connection`: none is built for a statement run alone)."""
    compiled = hot._compiled(engine.dialect)
    sql, ordered = compiled.sql, compiled.positional(params)
    for listener in engine.dispatch.before_cursor_execute:
        sql, ordered = listener(None, None, sql, ordered, None, False)
    return compiled, sql, ordered


def _fetch_alone(
    engine: Engine, compiled: _Compiled, sql: str, ordered: Sequence[Any], alone: bool = False
) -> Any:
    """On a pooled connection; with `alone`, a write too is its own unit of work."""
    pooled = engine.pool.connect()
    try:
        driver = pooled.driver_connection
        if not isinstance(driver, InlineConnection) and engine.dialect.driver != "asyncpg":
            raise TypeError(f"no statement alone on {engine.dialect.driver}")
        try:
            if isinstance(driver, InlineConnection):  # SQLite, through db.engine
                rows = await_(driver.execute_fetchall(sql, ordered))
                if alone:
                    await_(driver.commit())
                return rows
            adapter = pooled.dbapi_connection
            fetch = _asyncpg_fetch(adapter, engine.dialect, compiled, sql, ordered, alone)
            return await_(fetch)
        except Exception as error:
            _raise_alone(engine, pooled, error, sql, ordered)
    finally:
        pooled.close()  # back to the pool; the pool's reset has no transaction to end


def _raise_alone(
    engine: Engine,
    pooled: PoolProxiedConnection,
    error: Exception,
    sql: str,
    ordered: Sequence[Any],
) -> None:
    """As `Connection._handle_dbapi_exception` would raise it: wrapped, parameters hidden as
    the engine hides them, and a lost connection invalidated (not given back to the pool)."""
    dialect = engine.dialect
    try:
        cast(Any, pooled.dbapi_connection)._handle_exception(error)  # the DBAPI's own error
    except Exception as dbapi_error:
        lost = dialect.is_disconnect(cast(Any, dbapi_error), pooled.dbapi_connection, None)
        if lost:
            pooled.invalidate(dbapi_error)
        raise _wrapped(engine, dbapi_error, sql, ordered, lost) from dbapi_error


def _wrapped(
    engine: Engine, error: Exception, sql: str, ordered: Sequence[Any], lost: bool = False
) -> Exception:
    return exc.DBAPIError.instance(
        sql,
        ordered,
        error,
        engine.dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=lost,
        dialect=engine.dialect,
    )


async def _connection(session: AsyncSession) -> tuple[Connection, PoolProxiedConnection]:
    """The session's connection and its driver's, remembered for the rest of the transaction:
    asking the session each time costs two trips through SQLAlchemy's greenlet bridge."""
    info = session.sync_session.info
    transaction = session.sync_session.get_transaction()
    known = info.get(_CONNECTION)
    if known is not None and transaction is known[0] and transaction.is_active:
        return known[1], known[2]
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    raw = await connection.get_raw_connection()
    info[_CONNECTION] = (session.sync_session.get_transaction(), sync, raw)
    return sync, raw


async def _asyncpg_fetch(
    adapter: Any,
    dialect: Any,
    compiled: _Compiled,
    sql: str,
    ordered: Sequence[Any],
    alone: bool = False,
) -> list[Row]:
    """As SQLAlchemy's asyncpg cursor runs a statement: in the connection's transaction (begun
    here if this is its first writing statement), prepared once per connection.

    A SELECT that comes first runs on its own: under READ COMMITTED each statement reads its
    own snapshot anyway, and `/balance` then costs one round trip, not three (BEGIN, the
    SELECT, and the ROLLBACK of the pool's reset). So does any statement run `alone`
    (`Hot.once`), committed by the server as it ends."""
    async with adapter._execute_mutex:
        if adapter._transaction is None and not (compiled.reads_only or alone):
            await adapter._start_transaction()
        prepared, _ = await adapter._prepare(sql, dialect._invalidate_schema_cache_asof)
        return [tuple(record) for record in await prepared.fetch(*ordered)]


async def _raise_as_sqlalchemy(
    connection: Connection, adapter: Any, error: Exception, sql: str, ordered: Sequence[Any]
) -> None:
    """The driver's error as `session.execute` would raise it (wrapped, parameters hidden, a
    lost connection invalidated)."""

    def reraise(sync: Connection) -> None:
        try:
            adapter._handle_exception(error)  # the driver's error in DBAPI shape
        except Exception as dbapi_error:
            sync._handle_dbapi_exception(dbapi_error, sql, ordered, None, None)

    await greenlet_spawn(reraise, connection)


def dialect_inserts(
    table: Table,
    keys: Sequence[Column[Any]] = (),
    returning: Sequence[Any] = (),
    values: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Insert]:
    """The same INSERT spelled per dialect (SQLAlchemy spells `ON CONFLICT` per dialect):
    with `keys`, `ON CONFLICT (keys) DO NOTHING`; with `returning`, `RETURNING` those."""
    by_dialect: dict[str, Insert] = {}
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert)):
        statement: Any = dialect_insert(table)
        if values is not None:
            statement = statement.values(list(values))
        if keys:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys))
        by_dialect[name] = statement.returning(*returning) if returning else statement
    return by_dialect


class HotInsert:
    """A multi-row `INSERT … VALUES (…), (…)` per number of rows: one statement for a batch.

    With `keys`, `ON CONFLICT (keys) DO NOTHING`: the unique key decides, and a row already
    there comes back as no row. Rows are dicts with the same keys, naming every value sent (the
    ORM's column defaults do not apply); up to `MAX_ROWS` a call is one statement, more go in
    slices of it.
    """

    MAX_ROWS = 32

    def __init__(
        self, table: Table, keys: Sequence[Column[Any]] = (), returning: Sequence[Any] = ()
    ) -> None:
        self._table = table
        self._keys = list(keys)
        self._returning = tuple(returning)
        self._hot: dict[tuple[tuple[str, ...], int], Hot] = {}

    def _build(self, names: tuple[str, ...], count: int) -> Hot:
        values = [
            {name: bindparam(f"{name}_{i}", type_=self._table.c[name].type) for name in names}
            for i in range(count)
        ]
        return Hot(dialect_inserts(self._table, self._keys, self._returning, values))

    async def rows(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]], **extra: Any
    ) -> list[Row]:
        """Rows RETURNING gave; `extra` are parameters of its expressions, not of the rows."""
        found: list[Row] = []
        for start in range(0, len(rows), self.MAX_ROWS):
            batch = rows[start : start + self.MAX_ROWS]
            names = tuple(batch[0])
            if (hot := self._hot.get((names, len(batch)))) is None:
                hot = self._hot[names, len(batch)] = self._build(names, len(batch))
            params = {f"{name}_{i}": row[name] for i, row in enumerate(batch) for name in names}
            params.update(extra)
            found += await hot.rows(session, **params)
        return found
