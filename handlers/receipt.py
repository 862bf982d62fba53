"""Purchase QR codes: the cashier's `/receipt`, and a customer scanning one."""

from __future__ import annotations

from aiogram import Bot, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import qr
from bot.domain.money import format_rub, parse_amount
from bot.services import receipts
from bot.services.customers import active_profile
from bot.services.receipts import ReceiptRefusedError, Refusal
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.deeplinks import bot_link
from bot.telegram.filters import StaffOnly
from bot.telegram.notify import notify_purchase
from bot.texts import Texts


def refusal_text(texts: Texts, reason: Refusal) -> str:
    return {
        Refusal.FORGED: texts.receipt_forged,
        Refusal.EXPIRED: texts.receipt_expired,
        Refusal.CLAIMED: texts.receipt_claimed,
        Refusal.VOIDED: texts.receipt_voided,
    }[reason]


async def claim_receipt(
    bot: Bot,
    chat_id: int,
    payload: str,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    """A member scanned a purchase QR: credit it (the notice says how much) or say why not."""
    profile = await active_profile(session, chat_id)
    if profile is None:
        return
    try:
        result = await receipts.claim(
            session,
            settings.program,
            settings.link_key,
            payload,
            profile.customer_id,
            settings.receipt_window,
        )
    except ReceiptRefusedError as refused:
        await bot.send_message(chat_id, refusal_text(texts, refused.reason))
        return
    await notify_purchase(bot, session, settings.program, result)


async def cmd_receipt(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    amount_text, _, receipt_id = (command.args or "").strip().partition(" ")
    amount = parse_amount(amount_text)
    if amount is None:
        await message.answer(texts.receipt_usage)
        return
    issued = await receipts.issue(
        session,
        settings.link_key,
        store=staff.store,
        amount=amount,
        receipt_id=receipt_id.strip() or None,
        issued_by=staff.actor,
        window=settings.receipt_window,
    )
    link = await bot_link(bot, issued.payload)
    caption = texts.receipt_issued.format(
        amount=format_rub(amount),
        receipt=f" ({html.quote(issued.receipt_id)})",
        hours=settings.receipt_qr_hours,
        link=link,
    )
    await message.answer_photo(
        BufferedInputFile(qr.qr_png(link), "receipt-qr.png"), caption=caption
    )


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.staff_only)


def build_router() -> Router:
    router = Router(name="receipt")
    router.message.register(cmd_receipt, Command("receipt"), StaffOnly())
    router.message.register(refuse, Command("receipt"))
    return router
