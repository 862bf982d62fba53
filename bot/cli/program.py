"""`clientbase program` prints the loyalty program; `clientbase program set KEY VALUE` changes
one value, validated as in `/program` and audited as from the shell."""

from __future__ import annotations

import getpass

from bot.cli.database import ShopDatabase
from bot.domain.program import INTEGER_KEYS, KEYS, ProgramValueError, format_value
from bot.services import program as program_service
from bot.services.audit import Channel
from bot.settings import Settings


def _hint(key: str) -> str:
    if key in INTEGER_KEYS:
        low, high = INTEGER_KEYS[key]
        return f"a whole number from {low} to {high}"
    if key == "redeem_cap_percent":
        return "a percent from 0 to 100, e.g. 30 or 12.5"
    return "name:from_roubles:percent, comma-separated, the first from 0 (Base:0:5, Silver:10000:7)"


async def print_program(settings: Settings) -> int:
    async with ShopDatabase(settings) as db, db.sessions() as session:
        program = await program_service.load(session, settings.program)
    width = max(len(key) for key in KEYS)
    for key in KEYS:
        print(f"{key:<{width}}  {format_value(program, key)}")
    return 0


async def set_value(settings: Settings, key: str, value: str) -> int:
    """One line and exit code 2 for an unknown key or a value that does not fit."""
    if key not in KEYS:
        print(f"unknown key {key!r}; one of: {', '.join(KEYS)}")
        return 2
    async with ShopDatabase(settings) as db, db.sessions() as session:
        await program_service.ensure_seeded(session, settings.program)
        try:
            change = await program_service.change(
                session,
                settings.program,
                key,
                value,
                by=None,
                channel=Channel.SHELL,
                shell_user=getpass.getuser(),
            )
        except ProgramValueError:
            print(f"{key}: not a valid value: {value!r} ({_hint(key)})")
            return 2
        except program_service.ProgramChangedError:
            print(f"{key}: changed by someone else meanwhile; run the command again")
            return 1
    if not change.changed:
        print(f"{key} is already {change.new}")
    else:
        print(f"{key}: {change.old} -> {change.new} (applies from the next operation)")
    return 0
