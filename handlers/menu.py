"""The member's menu: balance, card, profile, help (as buttons and as commands)."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.customers import Profile, active_profile
from bot.settings import Settings
from bot.telegram import keyboards
from bot.texts import LANGUAGES, Texts


def _button(name: str) -> F:
    """A menu button in any language: a customer may switch Telegram's language any day."""
    return F.text.in_({getattr(texts, name) for texts in LANGUAGES.values()})


async def _member(message: Message, session: AsyncSession, texts: Texts) -> Profile | None:
    assert message.from_user is not None
    profile = await active_profile(session, message.from_user.id)
    if profile is None:
        await message.answer(texts.not_signed_up)
    return profile


async def cmd_balance(message: Message, session: AsyncSession, texts: Texts) -> None:
    if profile := await _member(message, session, texts):
        await message.answer(
            texts.balance.format(balance=texts.points(profile.balance)),
            reply_markup=keyboards.main_menu(texts),
        )


async def cmd_card(message: Message, session: AsyncSession, texts: Texts) -> None:
    if await _member(message, session, texts):
        await message.answer(texts.card_soon)


async def cmd_profile(message: Message, session: AsyncSession, texts: Texts) -> None:
    profile = await _member(message, session, texts)
    if profile is None:
        return
    empty = texts.profile_empty
    genders = {"female": texts.female, "male": texts.male}
    await message.answer(
        texts.profile.format(
            name=html.quote(profile.name),
            phone=profile.phone,
            birthday=profile.birthday.strftime("%d.%m.%Y") if profile.birthday else empty,
            gender=genders.get(profile.gender or "", empty),
            city=html.quote(profile.city) if profile.city else empty,
            interests=html.quote(", ".join(profile.interests)) or empty,
            ads=texts.ads_yes if profile.ads_opt_in else texts.ads_no,
        )
    )


async def cmd_help(message: Message, texts: Texts, settings: Settings) -> None:
    await message.answer(texts.help.format(shop=html.quote(settings.shop_name)))


def build_router() -> Router:
    router = Router(name="menu")
    router.message.register(cmd_balance, Command("balance"))
    router.message.register(cmd_balance, _button("menu_balance"))
    router.message.register(cmd_card, Command("card"))
    router.message.register(cmd_card, _button("menu_card"))
    router.message.register(cmd_profile, Command("profile"))
    router.message.register(cmd_profile, _button("menu_profile"))
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_help, _button("menu_help"))
    return router
