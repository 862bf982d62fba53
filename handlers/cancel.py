"""Leaving a form: /cancel, the word ("отмена", "cancel") or the Cancel button, at any step."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.telegram.keyboards import CancelCb
from bot.telegram.questions import Signup
from bot.texts import Texts


async def _leave(bot: Bot, chat_id: int, state: FSMContext, texts: Texts) -> bool:
    """Clear the open form and say so; False when there was none."""
    current = await state.get_state()
    if current is None:
        return False
    # A phone step (the signup's, or /profile's: `reply_keyboard` in the form's data) shows a
    # reply keyboard of its own: it goes with the form.
    in_signup = current.startswith(f"{Signup.__name__}:") or bool(
        (await state.get_data()).get("reply_keyboard")
    )
    await state.clear()
    await bot.send_message(
        chat_id, texts.cancelled, reply_markup=ReplyKeyboardRemove() if in_signup else None
    )
    return True


async def cmd_cancel(message: Message, bot: Bot, state: FSMContext, texts: Texts) -> None:
    if not await _leave(bot, message.chat.id, state, texts):
        await message.answer(texts.nothing_to_cancel)


async def on_cancel_button(query: CallbackQuery, bot: Bot, state: FSMContext, texts: Texts) -> None:
    if await state.get_state() is None:
        await query.answer(texts.already_done)  # an old button: the form is already gone
        return
    await query.answer()
    await _leave(bot, query.from_user.id, state, texts)


# (command, the word's field in Texts, handler) for the shortcut table in handlers/__init__.
SHORTCUTS = (("cancel", "cancel_word", cmd_cancel),)


def build_router() -> Router:
    router = Router(name="cancel")
    router.callback_query.register(on_cancel_button, CancelCb.filter())
    return router
