"""The owner's shell commands: QR codes and posters in bulk, sources, the funnel, tokens.

Output follows DEFAULT_LANGUAGE; a set-up mistake is a SettingsError (one line, exit 2).
"""

from __future__ import annotations

from pathlib import Path

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError

from bot.cli.database import ShopDatabase
from bot.domain.money import parse_amount
from bot.render import posters, qr
from bot.reports import funnel_table
from bot.services import ledger, members, pos_tokens, receipts, sources
from bot.services import program as program_service
from bot.services.funnel import funnel_report
from bot.services.permissions import SHELL
from bot.services.printables import PrintFile, printables
from bot.services.sources import deep_link, whatsapp_link
from bot.settings import Settings, SettingsError
from bot.startup import describe_database, wait_for_database
from bot.texts import shell_texts_for, texts_for
from db import migrate as schema
from db.engine import create_engine


def _require_link_secret(settings: Settings) -> None:
    """Codes signed with the sandbox's key would count as "unknown" once LINK_SECRET is set."""
    if settings.link_secret is None:
        raise SettingsError(
            "LINK_SECRET: set at least 16 random characters before printing codes "
            "(e.g. `openssl rand -hex 24`)"
        )


async def migrate(settings: Settings) -> None:
    """`clientbase migrate`: says which database it brought up to date (never the password)."""
    engine = create_engine(settings.database_url)
    try:
        await wait_for_database(engine, attempts=1)
        await schema.upgrade(engine)
    finally:
        await engine.dispose()
    shell = shell_texts_for(settings.default_language)
    print(shell.database_ready.format(database=describe_database(settings.database_url)))


async def _bot_username(settings: Settings) -> str:
    """BOT_USERNAME works offline; otherwise Telegram tells it (getMe) for BOT_TOKEN."""
    if settings.bot_username:
        return settings.bot_username
    if settings.bot_token is None:
        raise SettingsError("BOT_USERNAME: set it (or BOT_TOKEN) so that links name the bot")
    from bot.app import build_bot

    bot = build_bot(settings)
    try:
        me = await bot.me()
    except (TelegramAPIError, ClientError, OSError) as error:
        raise SettingsError(f"BOT_USERNAME: Telegram did not answer ({error}); set it") from None
    finally:
        await bot.session.close()
    return me.username or ""


def _save(out: Path, items: list[PrintFile]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for item in items:
        (out / item.name).write_bytes(item.data)
    return [out / item.name for item in items]


async def make_qr(
    settings: Settings,
    store: str,
    campaign: str,
    employees: list[str],
    fmt: posters.Format,
    out: Path,
) -> list[Path]:
    """Write the QR PNG and the A4/A6 posters for each employee (or none) of a store."""
    _require_link_secret(settings)
    username = await _bot_username(settings)
    texts = texts_for(settings.default_language)
    shell = shell_texts_for(settings.default_language)
    written: list[Path] = []
    async with ShopDatabase(settings) as db, db.sessions() as session:
        for employee in employees or [""]:
            link = await sources.source_for(
                session, settings.link_key, store, campaign, employee, by=SHELL
            )
            files = printables(
                link,
                username,
                texts,
                shop_name=settings.shop_name,
                welcome_bonus=settings.welcome_bonus,
                fmt=fmt,
                whatsapp_number=settings.whatsapp_number,
            )
            extra = [files.whatsapp_qr] if files.whatsapp_qr is not None else []
            written += _save(out, [files.qr, *extra, *files.posters])
            print(f"{link.id}\t{link.label}\t{files.url}")
            if files.whatsapp_url:
                print(f"{link.id}\t{link.label}\t{files.whatsapp_url}")
    for path in written:
        print(shell.wrote.format(path=path))
    return written


async def list_sources(settings: Settings, enable: int | None, disable: int | None) -> int:
    shell = shell_texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        for source_id, enabled in ((enable, True), (disable, False)):
            if source_id is not None and not await sources.set_enabled(
                session, source_id, enabled, by=SHELL
            ):
                print(shell.no_source.format(id=source_id))
                return 1
        for link in await sources.list_sources(session, settings.link_key):
            state = shell.source_on if link.enabled else shell.source_off
            print(f"{link.id}\t{state}\t{link.label}\t{link.payload}")
    return 0


async def print_funnel(settings: Settings) -> None:
    texts = texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        report = await funnel_report(session, settings.link_key)
    print(funnel_table(report, texts) if report.rows else texts.sources_empty)


async def make_receipt_qr(
    settings: Settings,
    store: str,
    amount_text: str,
    receipt_id: str | None,
    paper_mm: int,
    out: Path,
) -> int:
    """For a till script: prints the link and writes a PNG as wide as the receipt roll."""
    _require_link_secret(settings)
    shell = shell_texts_for(settings.default_language)
    amount = parse_amount(amount_text)
    if amount is None:
        print(shell.not_an_amount.format(text=amount_text))
        return 2
    username = await _bot_username(settings)
    texts = texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        program = await program_service.load(session, settings.program)
        issued = await receipts.issue(
            session,
            settings.link_key,
            store=store,
            amount=amount,
            receipt_id=receipt_id,
            issued_by="shell",
            window=program.receipt_window,
        )
    link = deep_link(username, issued.payload)
    caption = texts.receipt_printed.format(hours=program.receipt_qr_hours)
    png = qr.receipt_qr_png(link, paper_mm=80 if paper_mm == 80 else 58, caption=caption)
    path = _save(out, [PrintFile(f"receipt-{issued.token_id}_{paper_mm}mm.png", png)])[0]
    print(link)
    if settings.whatsapp_number:
        print(whatsapp_link(settings.whatsapp_number, texts.wa_qr_line, issued.payload))
    print(shell.wrote.format(path=path))
    return 0


async def pos_token(settings: Settings, store: str, *, revoke: bool) -> None:
    """A new till token for the store (printed once), or every token of the store revoked."""
    shell = shell_texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        if revoke:
            count = await pos_tokens.revoke_store_tokens(session, store)
            print(shell.tokens_revoked.format(count=count, store=store))
            return
        token = await pos_tokens.issue_token(session, store)
    print(token)
    print(shell.token_keep_secret)


async def adjust_points(
    settings: Settings, customer: str, points: int, reason: str, by: str
) -> int:
    """A manual correction, e.g. a purchase the till missed; the ledger keeps reason and author."""
    texts = texts_for(settings.default_language)
    shell = shell_texts_for(settings.default_language)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        member = await members.find(session, customer)
        if member is None:
            print(shell.no_member.format(customer=customer))
            return 1
        try:
            balance = await ledger.adjust(
                session,
                await program_service.load(session, settings.program),
                member.customer_id,
                points,
                reason=reason,
                actor=f"shell:{by}"[:64],
                by=SHELL,
            )
        except ValueError as error:
            print(error)
            return 2
        except ledger.NotEnoughPointsError as error:
            print(shell.only_points.format(points=texts.points(error.available)))
            return 1
    print(
        shell.adjusted.format(
            name=member.first_name, phone=member.masked_phone, points=points, balance=balance
        )
    )
    return 0
