"""`clientbase owner add ID | list | remove ID`: owners kept in the database, besides OWNER_IDS.

The first owner of a new shop comes from here: the bot's `/start` tells them the command with
their id. Each change is audited (channel "shell").
"""

from __future__ import annotations

import sys

from bot.cli.database import ShopDatabase
from bot.services import team
from bot.settings import Settings
from bot.texts import shell_texts_for

SHELL = "shell"


async def owners(settings: Settings, action: str, telegram_id: int | None) -> int:
    shell = shell_texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        if action == "list":
            known = await team.owners(session, settings.owner_ids)
            for owner in known:
                line = shell.owner_line_settings if owner.from_settings else shell.owner_line
                print(line.format(id=owner.telegram_id))
            if not known:
                print(shell.owners_none)
            return 0
        assert telegram_id is not None
        if action == "add":
            await team.add_owner(session, telegram_id, SHELL)
            print(shell.owner_added.format(id=telegram_id))
            return 0
        try:
            removed = await team.remove_owner(session, settings.owner_ids, telegram_id, SHELL)
        except team.StaffChangeError:
            print(shell.owner_in_settings.format(id=telegram_id), file=sys.stderr)
            return 2
    if not removed:
        print(shell.owner_unknown.format(id=telegram_id), file=sys.stderr)
        return 1
    print(shell.owner_removed.format(id=telegram_id))
    return 0
