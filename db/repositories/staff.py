"""Staff rows and their one-time invites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Staff, StaffInvite
from db.repositories.rows import insert_unique, rows_changed


async def claim_invite(
    session: AsyncSession, invite_id: int, telegram_id: int, now: datetime
) -> bool:
    """Take an unused, unexpired invite for this person: of two at once, exactly one gets it."""
    result = await session.execute(
        update(StaffInvite)
        .where(
            StaffInvite.id == invite_id,
            StaffInvite.used_by.is_(None),
            StaffInvite.expires_at > now,
        )
        .values(used_by=telegram_id, used_at=now)
    )
    return rows_changed(result) == 1


async def invite(session: AsyncSession, invite_id: int) -> StaffInvite | None:
    return await session.get(StaffInvite, invite_id)


async def add_member(
    session: AsyncSession, telegram_id: int, role: str, store: str, name: str
) -> None:
    """Make the person staff with this role, or give an existing member of staff the new one."""
    row = Staff(telegram_id=telegram_id, role=role, store=store, name=name, active=True)
    if await insert_unique(session, row):
        return
    await session.execute(
        update(Staff)
        .where(Staff.telegram_id == telegram_id)
        .values(role=role, store=store, name=name, active=True)
    )


async def active_member(session: AsyncSession, telegram_id: int) -> Staff | None:
    return await session.scalar(
        select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
    )
