"""Migrations: every revision upgrades and downgrades, and head matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.base import Base


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda conn: inspect(conn).get_table_names())
    return set(names) - {"alembic_version"}


async def test_stairway_up_down_up(engine: AsyncEngine) -> None:
    """The `engine` fixture is at head; walk down one revision at a time, then up again."""
    revisions = _revisions()
    for previous in reversed(["base", *revisions[:-1]]):
        await migrate.downgrade(engine, previous)
    assert await _tables(engine) == set()
    for revision in revisions:
        await migrate.upgrade(engine, revision)
    assert await _tables(engine) == set(Base.metadata.tables)


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    def diff(connection: object) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
