"""Staff invites are one-time: two people opening one link at once make one cashier."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import staff
from db.models import Staff, StaffInvite

KEY = b"test-link-key"


async def _accept(sessions: async_sessionmaker, payload: str, telegram_id: int) -> object:
    async with sessions() as session:
        return await staff.accept_invite(session, KEY, payload, telegram_id, f"user {telegram_id}")


async def test_one_invite_opened_twice_at_once_makes_one_member_of_staff(
    sessions: async_sessionmaker,
) -> None:
    for attempt in range(5):
        async with sessions() as session:
            payload = await staff.create_invite(session, KEY, created_by=1, store="Центр")
        first, second = 700_000 + attempt * 2, 700_001 + attempt * 2
        accepted = await asyncio.gather(
            _accept(sessions, payload, first), _accept(sessions, payload, second)
        )
        assert sum(member is not None for member in accepted) == 1
        async with sessions() as session:
            members = set(
                await session.scalars(
                    select(Staff.telegram_id).where(Staff.telegram_id.in_([first, second]))
                )
            )
            used_by = await session.scalar(
                select(StaffInvite.used_by).order_by(StaffInvite.id.desc()).limit(1)
            )
        assert members == {used_by}


async def test_the_taker_may_open_the_link_again_others_may_not(
    sessions: async_sessionmaker,
) -> None:
    async with sessions() as session:
        payload = await staff.create_invite(session, KEY, created_by=1)
    assert await _accept(sessions, payload, 1) is not None
    assert await _accept(sessions, payload, 1) is not None  # a double tap
    assert await _accept(sessions, payload, 2) is None
    async with sessions() as session:
        assert list(await session.scalars(select(Staff.telegram_id))) == [1]
