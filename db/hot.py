"""Hot reads: a statement compiled once per database dialect and sent as one driver call.

SQLAlchemy builds a statement's cache key and processes its parameters on every execution,
and the aiosqlite adapter makes five trips to the driver's thread for one SELECT (cursor,
execute, fetch, close, and the rollback at the end); for the most frequent read of all,
`/balance`, that was most of the update's cost. A `HotRead` skips both: the SQL text and the
parameter order are fixed when it is first used on a dialect, and the row comes back from one
call into the driver (aiosqlite's `execute_fetchall`: one trip to its thread; asyncpg's
`fetchrow`: one round trip, prepared once per connection). It runs on the session's own
connection, inside whatever transaction the session has, so it sees what the session sees.

Only for statements whose result columns need no conversion (integers, text): the values are
returned as the driver gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiled: SQLCompiler
    order: tuple[str, ...]  # parameter names in the order the driver takes them
    processors: Mapping[str, Callable[[Any], Any]]


class HotRead:
    """One SELECT, built once at import time with `bindparam`s, run as one driver call."""

    def __init__(self, statement: Select[Any]) -> None:
        for column in statement.selected_columns:
            if not isinstance(column.type, Integer | String):
                raise TypeError(f"{column} needs result processing: not for a HotRead")
        self._statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        if (done := self._by_dialect.get(key)) is None:
            compiled = self._statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
            processors = {
                name: processor
                for name, bind in compiled.binds.items()
                if (processor := bind.type.bind_processor(dialect)) is not None
            }
            done = _Compiled(str(compiled), compiled, tuple(compiled.positiontup), processors)
            self._by_dialect[key] = done
        return done

    async def one_or_none(self, session: AsyncSession, **params: Any) -> tuple[Any, ...] | None:
        connection = await session.connection()
        compiled = self._compiled(connection.dialect)
        values = compiled.compiled.construct_params(params)
        processors = compiled.processors
        ordered = [
            processors[name](values[name]) if name in processors else values[name]
            for name in compiled.order
        ]
        driver_name = connection.dialect.driver
        if driver_name not in ("aiosqlite", "asyncpg"):
            result = (await session.execute(self._statement, params)).one_or_none()
            return tuple(result) if result is not None else None
        sql = compiled.sql
        # Listeners see it as any statement (statement counts, tracing, fault injection in
        # tests), the way SQLAlchemy calls them: each may hand back the statement to run.
        sync = connection.sync_connection
        assert sync is not None
        for listener in sync.dispatch.before_cursor_execute:
            sql, ordered = listener(sync, None, sql, ordered, None, False)
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if driver_name == "aiosqlite":
            rows = await driver.execute_fetchall(sql, ordered)
            return tuple(rows[0]) if rows else None
        row = await driver.fetchrow(sql, *ordered)
        return tuple(row) if row is not None else None
