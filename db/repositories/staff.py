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


async def members(session: AsyncSession) -> list[Staff]:
    """Everyone ever taken on, active first, then by role and name."""
    query = select(Staff).order_by(Staff.active.desc(), Staff.role, Staff.name, Staff.id)
    return list(await session.scalars(query))


async def by_id(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def member(session: AsyncSession, telegram_id: int) -> Staff | None:
    return await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))


async def set_role(session: AsyncSession, telegram_id: int, role: str) -> bool:
    """Give an existing member another role; False when there is none or the role is the same."""
    result = await session.execute(
        update(Staff).where(Staff.telegram_id == telegram_id, Staff.role != role).values(role=role)
    )
    return rows_changed(result) == 1


async def set_active(session: AsyncSession, telegram_id: int, active: bool) -> bool:
    """Deactivate or reactivate; False when there is no such member or nothing changes."""
    result = await session.execute(
        update(Staff)
        .where(Staff.telegram_id == telegram_id, Staff.active.is_not(active))
        .values(active=active)
    )
    return rows_changed(result) == 1


async def make_owner(session: AsyncSession, telegram_id: int) -> None:
    """An owner stored in the database: a new row, or an existing member promoted and active."""
    row = Staff(telegram_id=telegram_id, role="owner", store="", name="", active=True)
    if await insert_unique(session, row):
        return
    await session.execute(
        update(Staff).where(Staff.telegram_id == telegram_id).values(role="owner", active=True)
    )


async def active_owner_ids(session: AsyncSession) -> list[int]:
    query = select(Staff.telegram_id).where(Staff.role == "owner", Staff.active.is_(True))
    return list(await session.scalars(query.order_by(Staff.telegram_id)))
