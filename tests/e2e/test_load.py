"""Many customers at once: the bot answers everyone, nobody waits on a starved connection pool."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

import bot.app
import db.engine
from db.models import Customer
from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup import sign_up


async def test_a_crowd_signs_up_through_a_small_pool(
    running: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty customers at once through three connections: an update may hold one connection
    while its form storage asks for another, so without the cap on updates at work they would
    all wait for each other until the pool timed out."""
    monkeypatch.setattr(db.engine, "POOL_SIZE", 2)
    monkeypatch.setattr(db.engine, "POOL_OVERFLOW", 1)
    monkeypatch.setattr(bot.app, "UPDATES_AT_ONCE", 1)
    await running.restart()
    customers = [running.new_user(first_name=f"Клиент{number}") for number in range(40)]
    await asyncio.wait_for(
        asyncio.gather(*(sign_up(running, customer) for customer in customers)), timeout=120
    )
    async with running.sessions() as session:
        active = await session.scalar(
            select(func.count()).select_from(Customer).where(Customer.status == "active")
        )
    assert active == 40
