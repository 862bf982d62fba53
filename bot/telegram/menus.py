"""What each person can do, as Telegram's command menu, the staff console and `/help`.

The menu is set per chat for staff (`BotCommandScopeChat`, once per language and once without
a language for the shop's default) and in the default scope for customers. Setting it talks to
Telegram: a failure is logged and never stops the bot or the change that asked for it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import team
from bot.services.permissions import Action, allowed
from bot.services.staff import Role, StaffMember
from bot.settings import Settings
from bot.texts import LANGUAGES, Texts, texts_for

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = (
    "start",
    "card",
    "balance",
    "history",
    "promos",
    "invite",
    "profile",
    "mydata",
    "stop",
    "help",
)
# A staff command and the action it needs, in the order the menu shows them. Another branch's
# command joins by a line here (and its description in Texts.command_descriptions).
STAFF_COMMANDS: tuple[tuple[str, Action], ...] = (
    ("sale", Action.RECORD_SALE),
    ("return", Action.RETURN),
    ("find", Action.FIND_CUSTOMER),
    ("receipt", Action.RECEIPT_QR),
    ("my", Action.OWN_FIGURES),
    ("stats", Action.VIEW_STATS),
    ("sources", Action.VIEW_SOURCES),
    ("qr", Action.MAKE_QR),
    ("staff", Action.INVITE_STAFF),
    ("export", Action.EXPORT),
    ("import", Action.IMPORT),
    ("broadcast", Action.BROADCAST),
    ("campaigns", Action.BROADCAST),
    ("promo", Action.PROMOS),
    ("schedule", Action.SCHEDULE),
    ("program", Action.PROGRAM_SETTINGS),
    ("audit", Action.AUDIT),
)


class ConsoleCb(CallbackData, prefix="console"):
    action: str  # customer: "I'm a customer too"


def role_name(texts: Texts, role: Role) -> str:
    return dict(texts.role_names).get(role.value, role.value)


def command_names(member: StaffMember | None) -> list[str]:
    """The commands `member` may use, in menu order; customers' for anyone not staff."""
    if member is None:
        return list(CUSTOMER_COMMANDS)
    own = [name for name, action in STAFF_COMMANDS if allowed(member, action) is not None]
    return ["start", *own, "id", "help"]


def commands_for(member: StaffMember | None, texts: Texts) -> list[BotCommand]:
    described = dict(texts.command_descriptions)
    return [
        BotCommand(command=name, description=described.get(name, name))
        for name in command_names(member)
    ]


def _lines(member: StaffMember, texts: Texts) -> str:
    return "\n".join(f"/{c.command} — {c.description}" for c in commands_for(member, texts))


def console_text(member: StaffMember, texts: Texts) -> str:
    return texts.console.format(role=role_name(texts, member.role), commands=_lines(member, texts))


def console_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=texts.console_customer_button, callback_data=ConsoleCb(action="customer").pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def staff_help_text(member: StaffMember, texts: Texts) -> str:
    return texts.staff_help.format(
        role=role_name(texts, member.role), commands=_lines(member, texts)
    )


async def set_chat_menu(
    bot: Bot, chat_id: int, member: StaffMember | None, default_language: str
) -> bool:
    """The chat's own menu for staff; removed for anyone else (the default scope then shows).

    False when Telegram refused or could not be reached (logged, never raised).
    """
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        for language in (*LANGUAGES, None):
            texts = texts_for(language or default_language)
            if member is None:
                await bot.delete_my_commands(scope=scope, language_code=language)
            else:
                commands = commands_for(member, texts)
                await bot.set_my_commands(commands, scope=scope, language_code=language)
    except Exception as error:  # a menu is a convenience: never fatal
        log.warning("menu not set", extra={"chat": chat_id, "error": type(error).__name__})
        return False
    return True


async def install(bot: Bot, sessions: async_sessionmaker, settings: Settings) -> None:
    """At start-up: the customers' menu in the default scope, and each known staff member's."""
    try:
        for language in (*LANGUAGES, None):
            texts = texts_for(language or settings.default_language)
            await bot.set_my_commands(
                commands_for(None, texts), scope=BotCommandScopeDefault(), language_code=language
            )
        async with sessions() as session:
            known = await team.active_members(session, settings.owner_ids)
    except Exception as error:
        log.warning("menus not set", extra={"error": type(error).__name__})
        return
    for member in known:
        await set_chat_menu(bot, member.telegram_id, member, settings.default_language)
