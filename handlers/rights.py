"""The customer's rights: /mydata, /stop, /forget and the profile's consent buttons."""

from __future__ import annotations

import json

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import Program
from bot.services import advertising, privacy
from bot.settings import Settings
from bot.telegram.mydata import mydata_text
from bot.telegram.questions import advertising_text, consent_text
from bot.telegram.rights import AdsCb, ForgetCb, forget_keyboard
from bot.texts import Texts


async def cmd_mydata(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    """The readable summary, then the whole record as a JSON file with the consent texts."""
    assert message.from_user is not None
    data = await privacy.my_data(session, program, message.from_user.id)
    if data is None:
        await message.answer(texts.forget_nothing)
        return
    await message.answer(mydata_text(texts, data, settings.zone))
    payload = json.dumps(data.as_json(), ensure_ascii=False, indent=2).encode()
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(payload, filename="mydata.json"),
        caption=texts.mydata_caption,
    )


async def cmd_stop(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings, language: str
) -> None:
    """The same withdrawal as the button under every advertising message."""
    assert message.from_user is not None
    stopped = await advertising.unsubscribe(
        session, message.from_user.id, language, advertising_text(texts, settings)
    )
    await message.answer(texts.unsubscribed if stopped else texts.stop_already)


async def on_ads(
    query: CallbackQuery,
    callback_data: AdsCb,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    language: str,
) -> None:
    """The profile's advertising button: each change is a consent record with its time."""
    ads_text = advertising_text(texts, settings)
    if callback_data.on:
        changed = await advertising.subscribe(session, query.from_user.id, language, ads_text)
        done = texts.ads_granted
    else:
        changed = await advertising.unsubscribe(session, query.from_user.id, language, ads_text)
        done = texts.unsubscribed
    if not changed:
        await query.answer(texts.already_done)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(done)


async def _ask(
    bot: Bot, user: int, session: AsyncSession, texts: Texts, settings: Settings, program: Program
) -> None:
    points = await privacy.points_to_lose(session, program, user)
    if points is None:
        await bot.send_message(user, texts.forget_nothing)
        return
    await bot.send_message(
        user,
        texts.forget_confirm.format(balance=texts.points(points)),
        reply_markup=forget_keyboard(texts),
    )


async def cmd_forget(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    """Typed at any time, mid-signup too: a command wins over the open questionnaire."""
    assert message.from_user is not None
    await _ask(bot, message.from_user.id, session, texts, settings, program)


async def on_forget(
    query: CallbackQuery,
    callback_data: ForgetCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
    language: str,
) -> None:
    """Withdrawal asks once more, then erases; a second tap finds nothing left to erase."""
    user = query.from_user.id
    if callback_data.action == "ask":
        await query.answer()
        await _ask(bot, user, session, texts, settings, program)
    elif callback_data.action == "yes":
        forgotten = await privacy.forget(
            session,
            program,
            settings.link_key,
            user,
            language,
            consent_text(texts, settings),
            advertising_text(texts, settings),
        )
        if not forgotten:
            await query.answer(texts.already_done)
            return
        await query.answer()
        await state.clear()
        await bot.send_message(user, texts.forgotten, reply_markup=ReplyKeyboardRemove())
    else:
        await query.answer()
        await bot.send_message(user, texts.forget_kept)


def build_router() -> Router:
    router = Router(name="rights")
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_stop, Command("stop"))
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(on_ads, AdsCb.filter())
    router.callback_query.register(on_forget, ForgetCb.filter())
    return router
