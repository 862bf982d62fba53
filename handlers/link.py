"""`/link CODE`: a member confirms from Telegram that a WhatsApp number is theirs too."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import accounts
from bot.texts import Texts


async def cmd_link(
    message: Message, command: CommandObject, session: AsyncSession, texts: Texts
) -> None:
    assert message.from_user is not None
    code = (command.args or "").strip()
    me = accounts.Account(accounts.TELEGRAM, str(message.from_user.id))
    linked = await accounts.confirm_link(session, me, code) if code.isdigit() else None
    await message.answer(texts.link_done if linked is not None else texts.link_unusable)


def build_router() -> Router:
    router = Router(name="link")
    router.message.register(cmd_link, Command("link"))
    return router
