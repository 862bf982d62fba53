"""Messages the bot sends on its own: alerts to owners, notices to members after a sale."""

from __future__ import annotations

import logging

from aiogram import Bot, html
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.program import Program
from bot.services import members
from bot.services.ledger import PurchaseResult, RefundResult
from bot.telegram.render import purchase_notice, refund_notice
from bot.texts import texts_for

log = logging.getLogger(__name__)


async def send_quietly(bot: Bot, chat_id: int | None, text: str) -> None:
    """Best effort: a person who blocked the bot must not break the cashier's or owner's flow.

    No chat: an imported customer who has not come to the bot; they are never messaged.
    """
    if chat_id is None:
        return
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        log.warning("message to %s not delivered: %s", chat_id, exc)


async def notify_owners(bot: Bot, owner_ids: list[int], text: str) -> None:
    for owner_id in owner_ids:
        await send_quietly(bot, owner_id, text)


async def notify_purchase(
    bot: Bot, session: AsyncSession, program: Program, result: PurchaseResult
) -> None:
    """The member hears about every accrual or redemption, a tier upgrade, a friend's reward."""
    if result.duplicate:
        return
    member = await members.by_id(session, result.customer_id)
    if member is None:
        return
    texts = texts_for(member.language)
    await send_quietly(bot, member.telegram_id, purchase_notice(texts, result))
    if result.upgraded:
        tier = next(tier for tier in program.tiers if tier.name == result.tier_after)
        text = texts.tier_up.format(tier=html.quote(tier.name), percent=f"{tier.percent:g}")
        await send_quietly(bot, member.telegram_id, text)
    if result.referrer_rewarded is not None:
        referrer = await members.by_id(session, result.referrer_rewarded)
        if referrer is not None:
            referrer_texts = texts_for(referrer.language)
            bonus = referrer_texts.points(program.referral_bonus)
            await send_quietly(
                bot, referrer.telegram_id, referrer_texts.referral_paid.format(bonus=bonus)
            )


async def notify_refund(bot: Bot, session: AsyncSession, result: RefundResult) -> None:
    if result.duplicate:
        return
    member = await members.by_id(session, result.customer_id)
    if member is not None:
        await send_quietly(
            bot, member.telegram_id, refund_notice(texts_for(member.language), result)
        )


class TelegramNotifier:
    """What the point-of-sale API calls after a change: the member hears about it here."""

    def __init__(self, bot: Bot, sessions: async_sessionmaker, program: Program) -> None:
        self._bot = bot
        self._sessions = sessions
        self._program = program

    async def purchase(self, result: PurchaseResult) -> None:
        async with self._sessions() as session:
            await notify_purchase(self._bot, session, self._program, result)

    async def refund(self, result: RefundResult) -> None:
        async with self._sessions() as session:
            await notify_refund(self._bot, session, result)
