"""`clientbase` / `python -m bot`: run the bot (a sandbox without a token) and owner commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientbase",
        description="A shop's customer base and loyalty program in Telegram.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (the default; without BOT_TOKEN it starts the local sandbox)"
    )
    commands.add_parser("sandbox", help="chat with the bot in this terminal, no token needed")
    commands.add_parser("migrate", help="bring the database schema up to date and exit")
    return parser


async def _migrate(settings: Settings) -> None:
    from db import migrate
    from db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    print(f"database is up to date: {settings.database_url.split('://')[0]}")


def _run(command: str, settings: Settings) -> None:
    if command == "migrate":
        asyncio.run(_migrate(settings))
    elif command == "sandbox" or settings.bot_token is None:
        from bot.sandbox.console import run_sandbox

        asyncio.run(run_sandbox(settings))
    else:
        from bot.app import serve

        setup_logging(settings.log_level)
        asyncio.run(serve(settings))


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"clientbase: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    with contextlib.suppress(KeyboardInterrupt):
        _run(args.command or "run", settings)


if __name__ == "__main__":
    main()
