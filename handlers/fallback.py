"""Whatever no other handler took: a way forward instead of silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.customers import active_profile
from bot.settings import Settings
from bot.telegram import keyboards
from bot.texts import Texts


async def on_stale_button(query: CallbackQuery, texts: Texts) -> None:
    """A button of a step already answered (a double tap, an old message): acted on once."""
    await query.answer(texts.already_done)


async def on_anything_else(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    assert message.from_user is not None
    if await active_profile(session, message.from_user.id) is None:
        await message.answer(texts.not_signed_up)
    else:
        await message.answer(texts.help_short, reply_markup=keyboards.main_menu(texts))


def build_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(on_stale_button)
    router.message.register(on_anything_else)
    return router
