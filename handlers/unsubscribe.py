"""The unsubscribe button under every advertising message: one tap, and it is done."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import advertising, campaigns
from bot.settings import Settings
from bot.telegram.delivery import PromoCodeCb, UnsubscribeCb
from bot.telegram.questions import advertising_text
from bot.texts import Texts


async def on_unsubscribe(
    query: CallbackQuery, session: AsyncSession, texts: Texts, settings: Settings, language: str
) -> None:
    """Whoever pressed it unsubscribes (the button carries no id); a second tap changes nothing."""
    await advertising.unsubscribe(
        session, query.from_user.id, language, advertising_text(texts, settings)
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.unsubscribed)


async def on_my_code(
    query: CallbackQuery, callback_data: PromoCodeCb, session: AsyncSession, texts: Texts
) -> None:
    """ "Show my promo code": the presser's own code of that campaign, or nothing (not sent
    to them, the control group, a forged campaign id)."""
    code = await campaigns.my_promo_code(session, callback_data.campaign, query.from_user.id)
    await session.rollback()
    if code is None:
        await query.answer(texts.promo_no_code, show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.promo_your_code.format(code=html.quote(code)))


def build_router() -> Router:
    router = Router(name="unsubscribe")
    router.callback_query.register(on_unsubscribe, UnsubscribeCb.filter())
    router.callback_query.register(on_my_code, PromoCodeCb.filter())
    return router
