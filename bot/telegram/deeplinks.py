"""Deep links to this bot, named by the username Telegram gives it (cached by aiogram)."""

from __future__ import annotations

from aiogram import Bot

from bot.services.sources import deep_link


async def bot_username(bot: Bot) -> str:
    return (await bot.me()).username or ""


async def bot_link(bot: Bot, payload: str) -> str:
    return deep_link(await bot_username(bot), payload)
