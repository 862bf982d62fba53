"""The shop's database for one shell command: opened once, migrated, disposed at the end.

Every command that reads or writes the base goes through `ShopDatabase`, so a database that is
not there fails the same way everywhere (one line from `bot.cli`, exit code 2).
"""

from __future__ import annotations

from bot.settings import Settings
from bot.startup import wait_for_database
from db import migrate
from db.engine import create_engine, create_session_factory


class ShopDatabase:
    def __init__(self, settings: Settings) -> None:
        self._engine = create_engine(settings.database_url)
        self.sessions = create_session_factory(self._engine)

    async def __aenter__(self) -> ShopDatabase:
        try:
            await wait_for_database(self._engine, attempts=1)
            await migrate.upgrade(self._engine)
        except BaseException:
            await self._engine.dispose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._engine.dispose()
