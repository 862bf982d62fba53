"""A member scanned a purchase QR (from `/start` or after signup): credit it or say why not."""

from __future__ import annotations

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import program as program_service
from bot.services import receipts
from bot.services.customers import active_profile
from bot.services.receipts import ReceiptRefusedError, Refusal
from bot.settings import Settings
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
    program = await program_service.current(session, settings.program)
    try:
        result = await receipts.claim(
            session,
            program,
            settings.link_key,
            payload,
            profile.customer_id,
            program.receipt_window,
        )
    except ReceiptRefusedError as refused:
        await bot.send_message(chat_id, refusal_text(texts, refused.reason))
        return
    if result.duplicate:  # the till already credited this receipt to them: nothing new
        await bot.send_message(chat_id, texts.receipt_claimed)
    # Otherwise the ledger queued the purchase notice in the sale's own transaction.
