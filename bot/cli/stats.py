"""Shell commands for statistics, export, import and the audit log (`clientbase stats|export|
import|audit`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.cli.database import ShopDatabase
from bot.reports import plain, stats_text
from bot.services import audit, exchange, permissions
from bot.services import program as program_service
from bot.services import stats as stats_service
from bot.settings import Settings
from bot.texts import texts_for

SHELL = "shell"


async def print_stats(settings: Settings) -> int:
    texts = texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        report = await stats_service.report(
            session,
            settings.link_key,
            await program_service.load(session, settings.program),
            active_days=settings.active_days,
            quiet_days=settings.quiet_days,
            by=permissions.SHELL,
        )
    print(plain(stats_text(report, texts, active_days=settings.active_days)))
    return 0


async def export_base(settings: Settings, fmt: str, out: Path) -> int:
    texts = texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        result = await exchange.export(
            session,
            settings.link_key,
            await program_service.load(session, settings.program),
            texts,
            [fmt],
            actor=SHELL,
            channel=audit.Channel.SHELL,
            bot_username=settings.bot_username,
            by=permissions.SHELL,
        )
    await asyncio.to_thread(out.write_bytes, result.files[0].data)
    print(
        texts.export_caption.format(customers=result.customers, with_data=result.with_personal_data)
    )
    print(f"  wrote {out}")
    return 0


async def import_base(
    settings: Settings, path: Path, *, dry_run: bool, yes: bool, invites: Path | None
) -> int:
    texts = texts_for(settings.default_language)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        print(f"cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    async with ShopDatabase(settings) as db, db.sessions() as session:
        try:
            plan = await exchange.plan_import(session, data, by=permissions.SHELL)
        except exchange.SheetUnreadableError as error:
            reason = texts.import_no_phone_column if error.reason == "no_phone_column" else None
            print(reason or texts.import_unreadable, file=sys.stderr)
            return 2
        print(exchange.plan_text(plan, texts))
        if dry_run:
            return 0
        if not plan.new_customers and not plan.points:
            print(texts.import_nothing)
            return 1
        if not yes:
            answer = (await asyncio.to_thread(input, "Import? [y/N] ")).strip().lower()
            if answer not in ("y", "yes", "д", "да"):
                print(texts.import_cancelled)
                return 1
        result = await exchange.run_import(
            session,
            await program_service.load(session, settings.program),
            settings.link_key,
            data,
            actor=SHELL,
            channel=audit.Channel.SHELL,
            language=settings.default_language,
            by=permissions.SHELL,
        )
    done = result.plan
    print(
        texts.import_done.format(
            new=done.new_customers, merged=len(done.merges), points=done.points
        )
    )
    if result.invites:
        target = invites or path.with_name(f"{path.stem}-invites.csv")
        await asyncio.to_thread(
            target.write_bytes, exchange.invites_csv(result, settings.bot_username)
        )
        print(f"  wrote {target} ({len(result.invites)} invite links)")
    return 0


async def print_audit(settings: Settings, page: int) -> int:
    async with ShopDatabase(settings) as db, db.sessions() as session:
        shown = await audit.page(session, page - 1, by=permissions.SHELL)
    for entry in shown.records:
        details = " ".join(f"{key}={value}" for key, value in entry.details.items())
        subject = entry.subject or "-"
        print(
            f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.channel:<9} {entry.actor:<16} "
            f"{entry.action:<12} {subject:<10} {details}".rstrip()
        )
    print(f"page {shown.page + 1} of {shown.pages} ({shown.total} entries)")
    return 0
