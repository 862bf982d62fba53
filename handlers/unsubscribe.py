"""The unsubscribe button under every advertising message: one tap, and it is done."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import advertising
from bot.settings import Settings
from bot.telegram.delivery import UnsubscribeCb
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


def build_router() -> Router:
    router = Router(name="unsubscribe")
    router.callback_query.register(on_unsubscribe, UnsubscribeCb.filter())
    return router
