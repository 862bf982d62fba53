"""`/program` (owners): the loyalty program's values, each changed with a confirmation.

The steps (ask, check, confirm) are shared with `/schedule` in bot/telegram/program_edit.py.
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import KEYS, Program, ProgramValueError
from bot.services import program as program_service
from bot.services.audit import Channel
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.telegram.program_edit import (
    ProgramConfirmCb,
    ProgramEdit,
    ProgramKeyCb,
    ask_value,
    bad_value_text,
    confirm_keyboard,
    hint,
    label,
    program_keyboard,
    program_text,
)
from bot.texts import Texts


async def cmd_program(message: Message, state: FSMContext, texts: Texts, program: Program) -> None:
    await state.clear()
    await message.answer(program_text(texts, program), reply_markup=program_keyboard(texts))


async def on_key(
    query: CallbackQuery,
    callback_data: ProgramKeyCb,
    state: FSMContext,
    texts: Texts,
    program: Program,
) -> None:
    if callback_data.key not in KEYS:
        await query.answer(texts.already_done)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(await ask_value(state, texts, program, callback_data.key))


async def on_value(message: Message, state: FSMContext, texts: Texts, program: Program) -> None:
    """The typed value: a clear message when it does not fit (the step stays open), else the
    confirmation with old → new."""
    key = str((await state.get_data()).get("program_key", ""))
    if not message.text or message.text.startswith("/"):
        await message.answer(texts.program_bad_value.format(hint=hint(texts, key)))
        return
    try:
        change = program_service.preview(program, key, message.text)
    except ProgramValueError as error:
        await message.answer(bad_value_text(texts, error))
        return
    if not change.changed:
        await state.clear()
        await message.answer(texts.program_same)
        return
    await state.set_state(ProgramEdit.confirm)
    await state.set_data({"program_key": key, "old": change.old, "new": change.new})
    await message.answer(
        texts.program_confirm.format(
            label=label(texts, key), old=html.quote(change.old), new=html.quote(change.new)
        ),
        reply_markup=confirm_keyboard(texts),
    )


async def on_confirm(
    query: CallbackQuery,
    callback_data: ProgramConfirmCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    data = await state.get_data()
    await state.clear()
    key, old, new = str(data["program_key"]), str(data["old"]), str(data["new"])
    if not callback_data.yes:
        text = texts.program_cancelled
    else:
        try:
            await program_service.change(
                session,
                settings.program,
                key,
                new,
                by=staff,
                channel=Channel.MESSENGER,
                expected=old,
            )
        except (program_service.ProgramChangedError, ProgramValueError):
            text = texts.program_stale
        else:
            text = texts.program_changed.format(label=label(texts, key), new=html.quote(new))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def on_stale_confirm(query: CallbackQuery, texts: Texts) -> None:
    """A confirmation pressed twice, or after /cancel: nothing to confirm."""
    await query.answer(texts.already_done)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


async def refuse_button(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.owner_only, show_alert=True)


def build_router() -> Router:
    router = Router(name="program")
    owner = Permitted(Action.PROGRAM_SETTINGS)
    router.message.register(cmd_program, Command("program"), owner)
    router.message.register(refuse, Command("program"))
    router.callback_query.register(on_key, ProgramKeyCb.filter(), owner)
    router.callback_query.register(
        on_confirm, ProgramConfirmCb.filter(), StateFilter(ProgramEdit.confirm), owner
    )
    router.callback_query.register(on_stale_confirm, ProgramConfirmCb.filter(), owner)
    router.callback_query.register(refuse_button, ProgramKeyCb.filter())
    router.callback_query.register(refuse_button, ProgramConfirmCb.filter())
    router.message.register(on_value, StateFilter(ProgramEdit.value), owner)
    return router
