"""Messages to the shop's owners from inside a customer's update."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)


async def notify_owners(bot: Bot, owner_ids: list[int], text: str) -> None:
    """Best effort: an owner who never opened the bot must not break a customer's signup."""
    for owner_id in owner_ids:
        try:
            await bot.send_message(owner_id, text)
        except TelegramAPIError as exc:
            log.warning("owner %s not notified: %s", owner_id, exc)
