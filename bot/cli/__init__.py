"""`clientbase` / `python -m bot`: run the bot (a sandbox without a token) and owner commands.

Set-up mistakes end here as one line naming the setting and exit code 2: a shop owner editing
`.env` reads what to fix, not a traceback. Heavy imports (aiogram, the bot) wait until a command
needs them, so `clientbase --help` and a wrong setting answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from bot.cli.parser import build_parser
from bot.settings import Settings, SettingsError, load_settings

SHELL_COMMANDS = ("qr", "sources", "stats", "receipt", "pos-token", "adjust")


def _shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import commands

    if args.command == "adjust":
        return asyncio.run(
            commands.adjust_points(settings, args.customer, args.points, args.reason, args.by)
        )
    if args.command == "receipt":
        return asyncio.run(
            commands.make_receipt_qr(
                settings, args.store, args.amount, args.receipt, args.paper, args.out
            )
        )
    if args.command == "pos-token":
        asyncio.run(commands.pos_token(settings, args.store, revoke=args.revoke))
    elif args.command == "qr":
        asyncio.run(
            commands.make_qr(
                settings, args.store, args.campaign, args.employee, args.format, args.out
            )
        )
    elif args.command == "sources":
        return asyncio.run(commands.list_sources(settings, args.enable, args.disable))
    else:
        asyncio.run(commands.print_funnel(settings))
    return 0


def _base(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import stats

    if args.command == "export":
        return asyncio.run(stats.export_base(settings, args.format, args.out))
    if args.command == "import":
        return asyncio.run(
            stats.import_base(
                settings, args.file, dry_run=args.dry_run, yes=args.yes, invites=args.invites
            )
        )
    if args.command == "audit":
        return asyncio.run(stats.print_audit(settings, args.page))
    return asyncio.run(stats.print_stats(settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "run"
    if command in ("export", "import", "audit") or (command == "stats" and args.report is None):
        return _base(args, settings)
    if command == "owner":
        from bot.cli.owners import owners

        return asyncio.run(owners(settings, args.owner_command, getattr(args, "telegram_id", None)))
    if command == "program":
        from bot.cli import program

        if args.program_command == "set":
            return asyncio.run(program.set_value(settings, args.key, args.value))
        return asyncio.run(program.print_program(settings))
    if command == "promos":
        from bot.cli import promos

        if args.promos_command == "create":
            return asyncio.run(promos.create(settings, args))
        return asyncio.run(promos.list_promos(settings, args.enable, args.disable))
    if command in ("broadcast", "campaigns", "segments"):
        from bot.cli import campaigns

        run = {
            "broadcast": campaigns.broadcast,
            "campaigns": campaigns.campaigns_command,
            "segments": campaigns.segments_command,
        }[command]
        return asyncio.run(run(settings, args))
    if command == "jobs":
        from bot.cli import jobs

        if args.jobs_command == "run":
            return asyncio.run(jobs.run_job(settings, args.name, args.date))
        return asyncio.run(jobs.list_jobs(settings))
    if command in SHELL_COMMANDS:
        return _shell(args, settings)
    if command == "migrate":
        from bot.cli.commands import migrate

        asyncio.run(migrate(settings))
    elif command == "sandbox" and getattr(args, "whatsapp", False):
        from bot.sandbox.whatsapp import run_whatsapp_sandbox

        asyncio.run(
            run_whatsapp_sandbox(settings, database_url=getattr(args, "database_url", None))
        )
    elif command == "sandbox" or settings.bot_token is None:
        from bot.sandbox.console import run_sandbox

        asyncio.run(run_sandbox(settings, database_url=getattr(args, "database_url", None)))
    else:
        from bot.app import serve
        from bot.logs import setup_logging

        setup_logging(settings.log_level)
        asyncio.run(serve(settings))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    code = 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            code = _run(args, load_settings())
    except SettingsError as error:
        print(f"clientbase: {error}", file=sys.stderr)
        code = 2
    raise SystemExit(code)


__all__ = ["main"]
