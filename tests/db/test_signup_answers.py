"""Answers on the pending customer row: a phone typed mid-signup is no claim on it yet."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.questionnaire import Step
from bot.services import signup
from db.models import Customer, OwnerAlert
from tests.db.conftest import PROGRAM

KEY = b"test-link-key"
PHONE = "+79161234567"


async def _pending(sessions: async_sessionmaker, telegram_id: int) -> None:
    async with sessions() as session:
        await signup.give_consent(session, telegram_id, "ru", None, "consent text")
        await signup.save_answer(session, telegram_id, Step.NAME, f"Name {telegram_id}")


async def _complete(sessions: async_sessionmaker, telegram_id: int) -> signup.Welcome:
    async with sessions() as session:
        return await signup.complete(session, telegram_id, False, "ads", "ru", PROGRAM)


async def test_a_phone_moves_between_people_signing_up_until_one_joins(
    sessions: async_sessionmaker,
) -> None:
    await _pending(sessions, 1)
    await _pending(sessions, 2)
    async with sessions() as session:
        assert await signup.save_phone(session, KEY, 1, PHONE) is None
    async with sessions() as session:
        assert await signup.save_phone(session, KEY, 2, PHONE) is None  # 1 has not joined
    with pytest.raises(signup.PhoneTakenError):
        await _complete(sessions, 1)  # asked for a phone again
    assert (await _complete(sessions, 2)).name == "Name 2"

    async with sessions() as session:
        conflict = await signup.save_phone(session, KEY, 1, PHONE)  # now a member's phone
    assert conflict is not None and conflict.is_new
    async with sessions() as session:
        phones = dict((await session.execute(select(Customer.telegram_id, Customer.phone))).all())
        alerts = (await session.scalars(select(OwnerAlert))).all()
    assert phones == {1: None, 2: PHONE}
    assert len(alerts) == 1 and PHONE[-4:] not in str(alerts[0].details)


async def test_answers_without_consent_are_refused(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        with pytest.raises(signup.NotSigningUpError):
            await signup.save_answer(session, 9, Step.NAME, "Никто")
