"""Alembic environment: runs on a connection handed in by `db.migrate`, or on `sqlalchemy.url`."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db import models  # noqa: F401  (registers the tables on Base.metadata)
from db.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    from db.engine import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic: set sqlalchemy.url (or run `clientbase migrate`)")
    asyncio.run(_run_async(url))
