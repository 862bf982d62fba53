"""The one permission check of the Telegram side: who may use owner commands."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject, User

from bot.settings import Settings


class IsOwner(Filter):
    async def __call__(
        self, event: TelegramObject, event_from_user: User | None, settings: Settings
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.owner_ids
