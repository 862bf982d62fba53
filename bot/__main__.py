"""`clientbase` / `python -m bot`: run the bot (a sandbox without a token) and owner commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import cli_stats
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

    qr = commands.add_parser("qr", help="write QR codes and A4/A6 posters for a store's source")
    qr.add_argument("--store", required=True, help="store name or address, e.g. 'Тверская, 1'")
    qr.add_argument("--campaign", default="", help="where it hangs or the campaign, e.g. Касса")
    qr.add_argument(
        "--employee", action="append", default=[], help="employee name (repeat for several)"
    )
    qr.add_argument("--format", choices=["png", "pdf"], default="pdf", help="poster format")
    qr.add_argument("--out", type=Path, default=Path("qr"), help="folder for the files (./qr)")

    listing = commands.add_parser("sources", help="list sources; enable or disable one")
    switch = listing.add_mutually_exclusive_group()
    switch.add_argument("--enable", type=int, metavar="ID")
    switch.add_argument("--disable", type=int, metavar="ID", help="e.g. a lost or retired code")

    receipt = commands.add_parser(
        "receipt", help="a purchase QR for a receipt printer: the customer scans it for points"
    )
    receipt.add_argument("--store", default="", help="the store (receipt numbers are per store)")
    receipt.add_argument("--amount", required=True, help="purchase amount in roubles, e.g. 1250.50")
    receipt.add_argument("--receipt", default=None, help="the till's receipt number, e.g. R-42")
    receipt.add_argument("--paper", type=int, choices=[58, 80], default=58, help="roll width, mm")
    receipt.add_argument("--out", type=Path, default=Path("."), help="folder for the PNG")

    token = commands.add_parser("pos-token", help="issue an API token for a store's till")
    token.add_argument("--store", required=True, help="the store the till belongs to")
    token.add_argument(
        "--revoke", action="store_true", help="revoke every token of the store instead"
    )

    adjust = commands.add_parser("adjust", help="correct a member's points by hand, with a reason")
    adjust.add_argument("--customer", required=True, help="card number or phone")
    adjust.add_argument("--points", type=int, required=True, help="e.g. 50 or -20")
    adjust.add_argument("--reason", required=True, help="kept in the ledger with who did it")
    adjust.add_argument("--by", default="owner", help="who makes it (default: owner)")

    stats = commands.add_parser("stats", help="the base's figures (or `sources`: the funnel)")
    stats.add_argument("report", nargs="?", choices=["sources"], help="sources: the signup funnel")
    cli_stats.add_commands(commands)
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


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "run"
    if command == "stats" and args.report is None:
        return asyncio.run(cli_stats.print_stats(settings))
    if command == "export":
        return asyncio.run(cli_stats.export_base(settings, args.format, args.out))
    if command == "import":
        return asyncio.run(
            cli_stats.import_base(
                settings, args.file, dry_run=args.dry_run, yes=args.yes, invites=args.invites
            )
        )
    if command == "audit":
        return asyncio.run(cli_stats.print_audit(settings, args.page))
    if command in ("qr", "sources", "stats", "receipt", "pos-token", "adjust"):
        from bot import shell

        if command == "adjust":
            return asyncio.run(
                shell.adjust_points(settings, args.customer, args.points, args.reason, args.by)
            )
        if command == "receipt":
            return asyncio.run(
                shell.make_receipt_qr(
                    settings, args.store, args.amount, args.receipt, args.paper, args.out
                )
            )
        if command == "pos-token":
            asyncio.run(shell.pos_token(settings, args.store, revoke=args.revoke))
        elif command == "qr":
            employees = args.employee
            asyncio.run(
                shell.make_qr(settings, args.store, args.campaign, employees, args.format, args.out)
            )
        elif command == "sources":
            return asyncio.run(shell.list_sources(settings, args.enable, args.disable))
        else:
            asyncio.run(shell.print_funnel(settings))
    elif command == "migrate":
        asyncio.run(_migrate(settings))
    elif command == "sandbox" or settings.bot_token is None:
        from bot.sandbox.console import run_sandbox

        asyncio.run(run_sandbox(settings))
    else:
        from bot.app import serve

        setup_logging(settings.log_level)
        asyncio.run(serve(settings))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    code = 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            code = _run(args, load_settings())
    except SettingsError as error:
        print(f"clientbase: {error}", file=sys.stderr)
        code = 2
    raise SystemExit(code)


if __name__ == "__main__":
    main()
