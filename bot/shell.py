"""The owner's shell commands: QR codes and posters in bulk, sources, the funnel."""

from __future__ import annotations

from pathlib import Path

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError

from bot.domain.money import parse_amount
from bot.render import posters, qr
from bot.reports import funnel_text
from bot.services import ledger, members, pos_tokens, receipts, sources
from bot.services.funnel import funnel_report
from bot.services.printables import PrintFile, printables
from bot.services.sources import deep_link
from bot.settings import Settings, SettingsError
from bot.texts import texts_for
from db import migrate
from db.engine import create_engine, create_session_factory


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


class _Database:
    """The shop's database, migrated, for one shell command."""

    def __init__(self, settings: Settings) -> None:
        self._engine = create_engine(settings.database_url)
        self.sessions = create_session_factory(self._engine)

    async def __aenter__(self) -> _Database:
        await migrate.upgrade(self._engine)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._engine.dispose()


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
    username = await _bot_username(settings)
    texts = texts_for(settings.default_language)
    written: list[Path] = []
    async with _Database(settings) as db, db.sessions() as session:
        for employee in employees or [""]:
            link = await sources.source_for(session, settings.link_key, store, campaign, employee)
            files = printables(
                link,
                username,
                texts,
                shop_name=settings.shop_name,
                welcome_bonus=settings.welcome_bonus,
                fmt=fmt,
            )
            written += _save(out, [files.qr, *files.posters])
            print(f"{link.id}\t{link.label}\t{files.url}")
    for path in written:
        print(f"  wrote {path}")
    return written


async def list_sources(settings: Settings, enable: int | None, disable: int | None) -> int:
    async with _Database(settings) as db, db.sessions() as session:
        for source_id, enabled in ((enable, True), (disable, False)):
            if source_id is not None and not await sources.set_enabled(session, source_id, enabled):
                print(f"no source {source_id}")
                return 1
        for link in await sources.list_sources(session, settings.link_key):
            state = "on " if link.enabled else "off"
            print(f"{link.id}\t{state}\t{link.label}\t{link.payload}")
    return 0


async def print_funnel(settings: Settings) -> None:
    texts = texts_for(settings.default_language)
    async with _Database(settings) as db, db.sessions() as session:
        report = await funnel_report(session, settings.link_key)
    print(funnel_text(report, texts) if report.rows else texts.sources_empty)


async def make_receipt_qr(
    settings: Settings,
    store: str,
    amount_text: str,
    receipt_id: str | None,
    paper_mm: int,
    out: Path,
) -> int:
    """For a till script: prints the link and writes a PNG as wide as the receipt roll."""
    amount = parse_amount(amount_text)
    if amount is None:
        print(f"not an amount in roubles: {amount_text!r} (e.g. 1250 or 1250.50)")
        return 2
    username = await _bot_username(settings)
    texts = texts_for(settings.default_language)
    async with _Database(settings) as db, db.sessions() as session:
        issued = await receipts.issue(
            session,
            settings.link_key,
            store=store,
            amount=amount,
            receipt_id=receipt_id,
            issued_by="shell",
            window=settings.receipt_window,
        )
    link = deep_link(username, issued.payload)
    caption = texts.receipt_printed.format(hours=settings.receipt_qr_hours)
    png = qr.receipt_qr_png(link, paper_mm=80 if paper_mm == 80 else 58, caption=caption)
    path = _save(out, [PrintFile(f"receipt-{issued.token_id}_{paper_mm}mm.png", png)])[0]
    print(link)
    print(f"  wrote {path}")
    return 0


async def pos_token(settings: Settings, store: str, *, revoke: bool) -> None:
    """A new till token for the store (printed once), or every token of the store revoked."""
    async with _Database(settings) as db, db.sessions() as session:
        if revoke:
            count = await pos_tokens.revoke_store_tokens(session, store)
            print(f"revoked {count} token(s) of {store!r}")
            return
        token = await pos_tokens.issue_token(session, store)
    print(token)
    print("  keep it secret: it records purchases for this store. Shown once.")


async def adjust_points(
    settings: Settings, customer: str, points: int, reason: str, by: str
) -> int:
    """A manual correction, e.g. a purchase the till missed; the ledger keeps reason and author."""
    async with _Database(settings) as db, db.sessions() as session:
        member = await members.find(session, customer)
        if member is None:
            print(f"no member with card or phone {customer!r}")
            return 1
        try:
            balance = await ledger.adjust(
                session,
                settings.program,
                member.customer_id,
                points,
                reason=reason,
                actor=f"shell:{by}"[:64],
            )
        except ValueError as error:
            print(error)
            return 2
        except ledger.NotEnoughPointsError as error:
            print(f"the member has only {error.available} points")
            return 1
    print(f"{member.first_name} {member.masked_phone}: {points:+d}, balance {balance}")
    return 0
