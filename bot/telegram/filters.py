"""The Telegram side of the one permission check (`bot.services.staff.role_of`)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.staff import Role, role_of
from bot.settings import Settings


class StaffOnly(Filter):
    """Passes staff of the given roles (any role when none given) and hands them as `staff`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles or tuple(Role)

    async def __call__(
        self,
        event: TelegramObject,
        event_from_user: User | None,
        session: AsyncSession,
        settings: Settings,
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        member = await role_of(session, settings.owner_ids, event_from_user.id)
        return {"staff": member} if member and member.role in self.roles else False
