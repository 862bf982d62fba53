"""Purchase QR codes: the cashier's `/receipt`, and a customer scanning one."""

from __future__ import annotations

from aiogram import Bot, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identifiers import clean_id
from bot.domain.money import format_rub, parse_amount
from bot.domain.program import Program
from bot.render import qr
from bot.services import receipts
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.deeplinks import bot_link
from bot.telegram.filters import Permitted
from bot.texts import Texts


async def cmd_receipt(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
    staff: StaffMember,
) -> None:
    amount_text, _, typed_id = (command.args or "").strip().partition(" ")
    amount = parse_amount(amount_text)
    receipt_id = clean_id(typed_id) if typed_id.strip() else None
    if amount is None or (typed_id.strip() and receipt_id is None):
        await message.answer(texts.receipt_usage)
        return
    issued = await receipts.issue(
        session,
        settings.link_key,
        store=staff.store,
        amount=amount,
        receipt_id=receipt_id,
        issued_by=staff.actor,
        window=program.receipt_window,
    )
    link = await bot_link(bot, issued.payload)
    caption = texts.receipt_issued.format(
        amount=format_rub(amount),
        receipt=f" ({html.quote(issued.receipt_id)})",
        hours=program.receipt_qr_hours,
        link=link,
    )
    await message.answer_photo(
        BufferedInputFile(qr.qr_png(link), "receipt-qr.png"), caption=caption
    )


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.staff_only)


def build_router() -> Router:
    router = Router(name="receipt")
    router.message.register(cmd_receipt, Command("receipt"), Permitted(Action.RECEIPT_QR))
    router.message.register(refuse, Command("receipt"))
    return router
