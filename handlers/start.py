"""`/start`, with or without a deep-link payload, in any state."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.questionnaire import Step
from bot.services import signup
from bot.services.signup import EntryStatus
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.questions import FormChat
from bot.texts import Texts


async def cmd_start(
    message: Message,
    command: CommandObject,
    form: FormChat,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    entry = await signup.open_bot(session, settings.link_key, form.user.id, command.args)
    if not await form.in_signup():
        await form.state.clear()  # /start leaves any other conversation (e.g. an owner's /qr)
    if entry.status is EntryStatus.ACTIVE:
        await form.state.clear()
        await message.answer(
            texts.returning.format(
                name=html.quote(entry.name or ""), balance=texts.points(entry.balance)
            ),
            reply_markup=keyboards.main_menu(texts),
        )
    elif await form.in_signup():
        await form.again(texts.resume)
    elif entry.status is EntryStatus.PENDING:
        # Consent is on record but the form was lost (e.g. Redis flushed): start the questions.
        await form.ask(Step.NAME)
    else:
        await form.ask_consent(entry.source_id)


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    return router
