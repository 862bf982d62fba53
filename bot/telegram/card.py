"""The member's card picture, sent on `/card` and when its holder scans their own card."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.render.card import CardFace, card_png
from bot.services import ledger, members
from bot.services import program as program_service
from bot.services.customers import Profile
from bot.settings import Settings
from bot.telegram.deeplinks import bot_link
from bot.texts import Texts


async def send_card(
    message: Message,
    bot: Bot,
    profile: Profile,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    view = await ledger.balance(
        session, await program_service.current(session, settings.program), profile.customer_id
    )
    link = await bot_link(bot, members.card_payload(settings.link_key, profile.customer_id))
    face = CardFace(
        shop_name=settings.shop_name,
        holder_name=profile.name.split(" ")[0],
        card_code=profile.card_code,
        tier_name=view.tier.name,
        balance_text=texts.points(view.points),
        caption=texts.card_face_caption,
    )
    await message.answer_photo(
        BufferedInputFile(card_png(link, face), "card.png"),
        caption=texts.card_caption.format(code=profile.card_code),
    )
