"""The member's menu: balance, card, history, invite a friend, profile, help, promo codes.

The profile's buttons (advertising consent, withdrawal) are answered in handlers/rights."""

from __future__ import annotations

from aiogram import Bot, Router, html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phone import mask_phone
from bot.domain.program import Program
from bot.services import ledger, promos
from bot.services.customers import Profile, active_profile
from bot.services.history import friends_joined, history_page
from bot.services.signup import invite_payload
from bot.services.staff import role_of
from bot.settings import Settings
from bot.telegram.card import send_card
from bot.telegram.deeplinks import bot_link
from bot.telegram.menus import staff_help_text
from bot.telegram.promo_texts import promos_text
from bot.telegram.render import balance_text, history_text
from bot.telegram.rights import profile_keyboard
from bot.texts import Texts


class HistoryCb(CallbackData, prefix="hist"):
    page: int


async def _member(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> Profile | None:
    assert message.from_user is not None
    profile = await active_profile(session, message.from_user.id)
    if profile is None:
        await message.answer(texts.not_signed_up)
    return profile


async def cmd_balance(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings, program: Program
) -> None:
    assert message.from_user is not None
    view = await ledger.member_balance(session, program, message.from_user.id)
    if view is None:
        await message.answer(texts.not_signed_up)
        return
    # No menu keyboard: it is persistent, and sending it with every reply cost more than the
    # balance itself. It comes with the welcome, /start and the fallback answer.
    await message.answer(balance_text(texts, view))


async def cmd_card(
    message: Message, bot: Bot, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    profile = await _member(message, session, texts, settings)
    if profile is not None:
        await send_card(message, bot, profile, session, texts, settings)


def _history_keyboard(texts: Texts, page: int, has_older: bool) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                text=texts.history_newer, callback_data=HistoryCb(page=page - 1).pack()
            )
        )
    if has_older:
        row.append(
            InlineKeyboardButton(
                text=texts.history_older, callback_data=HistoryCb(page=page + 1).pack()
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def cmd_history(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    if profile := await _member(message, session, texts, settings):
        page = await history_page(session, profile.customer_id, 0)
        await message.answer(
            history_text(texts, page, settings.zone),
            reply_markup=_history_keyboard(texts, 0, page.has_older),
        )


async def on_history_page(
    query: CallbackQuery,
    callback_data: HistoryCb,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    profile = await active_profile(session, query.from_user.id)
    await query.answer()
    if profile is None or query.message is None:
        return
    page = await history_page(session, profile.customer_id, callback_data.page)
    await bot.edit_message_text(
        history_text(texts, page, settings.zone),
        chat_id=query.from_user.id,
        message_id=query.message.message_id,
        reply_markup=_history_keyboard(texts, page.page, page.has_older),
    )


async def cmd_invite(
    message: Message, bot: Bot, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    if profile := await _member(message, session, texts, settings):
        link = await bot_link(bot, invite_payload(settings.link_key, profile.customer_id))
        await message.answer(
            texts.invite_text.format(
                bonus=texts.points(settings.referral_bonus),
                link=link,
                joined=await friends_joined(session, profile.customer_id),
            ),
            disable_web_page_preview=True,
        )


async def cmd_profile(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    profile = await _member(message, session, texts, settings)
    if profile is None:
        return
    empty = texts.profile_empty
    genders = {"female": texts.female, "male": texts.male}
    await message.answer(
        texts.profile.format(
            name=html.quote(profile.name),
            phone=mask_phone(profile.phone) if profile.phone else empty,
            birthday=profile.birthday.strftime("%d.%m.%Y") if profile.birthday else empty,
            gender=genders.get(profile.gender or "", empty),
            city=html.quote(profile.city) if profile.city else empty,
            interests=html.quote(", ".join(profile.interests)) or empty,
            ads=texts.profile_ads_on if profile.ads_opt_in else texts.profile_ads_off,
        ),
        reply_markup=profile_keyboard(texts, profile.ads_opt_in),
    )


async def cmd_promos(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    if profile := await _member(message, session, texts, settings):
        codes = await promos.active_codes(session, profile.customer_id)
        await message.answer(promos_text(texts, codes, settings.zone))


async def cmd_help(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    """What this person can do: a member of staff's commands by role, else the customer's."""
    assert message.from_user is not None
    member = await role_of(session, settings.owner_ids, message.from_user.id)
    if member is not None:
        await message.answer(staff_help_text(member, texts))
        return
    await message.answer(texts.help.format(shop=html.quote(settings.shop_name)))


# (command, its button's field in Texts, handler): routed by one lookup in handlers/__init__,
# ahead of every router and whatever form is open (a menu button never answers a question).
SHORTCUTS = (
    ("balance", "menu_balance", cmd_balance),
    ("card", "menu_card", cmd_card),
    ("history", "menu_history", cmd_history),
    ("invite", "menu_invite", cmd_invite),
    ("profile", "menu_profile", cmd_profile),
    ("help", "menu_help", cmd_help),
    ("promos", "menu_promos", cmd_promos),
)


def build_router() -> Router:
    router = Router(name="menu")
    router.callback_query.register(on_history_page, HistoryCb.filter())
    return router
