"""Campaigns end to end: the campaign service queues, the delivery engine sends to the fake Bot API.

What counts is what the fake received (per chat), and what the database says afterwards: the
holdout gets nothing, blocked customers are marked, a paused or cancelled campaign sends no more,
and a new engine on the same database finishes a campaign without a duplicate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.segments import SegmentFilter
from bot.sandbox.fake_telegram import FakeTelegram
from bot.services import campaigns, permissions, segments
from bot.services.delivery import DeliveryConfig, DeliveryWorker
from bot.telegram.delivery import TelegramChannel
from db.base import utcnow
from db.models import CampaignMember, Customer, Delivery
from db.repositories import deliveries
from tests.e2e.test_delivery import (  # the engine's own harness
    FAST,
    PROGRAM,
    _no_redis,
    add_customers,
    chat_of,
    fake,
    per_chat,
    until,
    worker,
)

__all__ = ["_no_redis", "fake"]  # fixtures used here
SHELL = {"actor": "shell", "channel": "shell", "by": permissions.SHELL}
TEXT = "<b>Скидка 20%</b> на зёрна до воскресенья"


async def _campaign(
    sessions: async_sessionmaker, holdout: int = 10, **extra: object
) -> campaigns.Started:
    rules = segments.rules_for(PROGRAM, active_days=90, quiet_days=90)
    async with sessions() as session:
        info = await campaigns.create(
            session,
            text=TEXT,
            segment=SegmentFilter(),
            holdout_percent=holdout,
            **(extra | SHELL),  # type: ignore[arg-type]
        )
        return await campaigns.start(session, info.id, rules, **SHELL)


async def _members(sessions: async_sessionmaker, campaign_id: int) -> tuple[set[int], set[int]]:
    """(recipients, holdout) customer ids."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(CampaignMember.customer_id, CampaignMember.holdout).where(
                    CampaignMember.campaign_id == campaign_id
                )
            )
        ).all()
    return {c for c, h in rows if not h}, {c for c, h in rows if h}


async def _count(sessions: async_sessionmaker, *states: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state.in_(states))
            )
            or 0
        )


async def test_a_campaign_to_1000_with_flood_control_blocks_and_a_restart(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 1000)
    blocked = set(customers[::37])
    fake.faults.forbid(chat_of(c) for c in blocked)
    fake.faults.rate_limit(every=150, times=3, retry_after=1)
    started = await _campaign(sessions, holdout=10)
    recipients, holdout = await _members(sessions, started.campaign_id)
    assert started.targeted == 1000 and 40 <= len(holdout) <= 160
    assert recipients | holdout == set(customers)

    slow = DeliveryConfig(rate=300, per_chat_interval=1.0, poll_interval=0.1, batch=100)

    async def some_sent() -> bool:
        return len(fake.sent) >= 300

    async with worker(fake, sessions, slow):  # stopped mid-campaign, like a redeploy
        await until(some_sent)
    assert await _count(sessions, "pending") > 0

    async def all_left() -> bool:
        return await _count(sessions, "pending", "sending") == 0

    async with worker(fake, sessions, FAST):  # a new engine on the same database
        await until(all_left)

    received = per_chat(fake)
    assert set(received) == {chat_of(c) for c in recipients - blocked}
    assert set(received.values()) == {1}  # exactly one message each, none to the holdout
    assert fake.faults.answered[429] == 3
    first = fake.sent[0]
    assert first.text == TEXT and first.parse_mode == "HTML"
    assert first.button_texts() == ["🔕 Отписаться от рассылки"]
    async with sessions() as session:
        unreachable = set(
            await session.scalars(select(Customer.id).where(Customer.unreachable_at.is_not(None)))
        )
        progress = await campaigns.progress(session, started.campaign_id, rate=25)
    assert unreachable == blocked & recipients
    assert (progress.sent, progress.blocked, progress.left, progress.failed) == (
        len(recipients - blocked),
        len(recipients & blocked),
        0,
        0,
    )
    rules = segments.rules_for(PROGRAM, active_days=90, quiet_days=90)
    done = await campaigns.tick(sessions, rules)
    assert done.finished == [started.campaign_id]


async def test_pause_stops_sending_and_resume_finishes_once(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 300)
    marker_customer = (await add_customers(sessions, fake, 1, ads=False))[0]  # not a recipient
    started = await _campaign(sessions, holdout=0)
    slow = DeliveryConfig(rate=200, per_chat_interval=1.0, poll_interval=0.05, batch=40)

    async def some_sent() -> bool:
        return len(fake.sent) >= 50

    async with worker(fake, sessions, slow):
        await until(some_sent)
        async with sessions() as session:
            await campaigns.pause(session, started.campaign_id, **SHELL)

        async def nothing_held() -> bool:  # what the worker had claimed before the pause
            return await _count(sessions, "sending") == 0

        await until(nothing_held)
        sent_at_pause = len(fake.sent)
        # A message queued after the pause goes out: the worker claimed again since, and took
        # nothing of the paused campaign.
        async with sessions() as session:
            await deliveries.enqueue(
                session, "broadcast", {"text": "marker"}, customer_id=marker_customer
            )
            await session.commit()

        async def marker_sent() -> bool:
            return any(m.text == "marker" for m in fake.sent)

        await until(marker_sent)
        assert len(fake.sent) == sent_at_pause + 1
        assert await _count(sessions, "pending") == 300 - sent_at_pause

        async with sessions() as session:
            await campaigns.resume(session, started.campaign_id, **SHELL)

        async def all_sent() -> bool:
            return await _count(sessions, "pending", "sending") == 0

        await until(all_sent)
    received = per_chat(fake)
    assert set(received) == {chat_of(c) for c in [*customers, marker_customer]}
    assert set(received.values()) == {1}


async def test_a_cancelled_campaign_sends_no_more(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    await add_customers(sessions, fake, 200)
    started = await _campaign(sessions, holdout=0)
    slow = DeliveryConfig(rate=150, per_chat_interval=1.0, poll_interval=0.05, batch=30)

    async def some_sent() -> bool:
        return len(fake.sent) >= 30

    async with worker(fake, sessions, slow):
        await until(some_sent)
        async with sessions() as session:
            await campaigns.cancel(session, started.campaign_id, **SHELL)

        async def settled() -> bool:
            return await _count(sessions, "sending") == 0

        await until(settled)
    sent = len(fake.sent)
    assert sent < 200
    async with sessions() as session:
        progress = await campaigns.progress(session, started.campaign_id, rate=25)
    # Rows handed back by the stopped worker stay pending (never claimed: cancelled).
    assert progress.sent == sent and progress.sent + progress.skipped + progress.left == 200


@asynccontextmanager
async def _photo_worker(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> AsyncIterator[DeliveryWorker]:
    bot = Bot(
        fake.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    channel = TelegramChannel(bot, PROGRAM, photos=campaigns.photo_loader(sessions))
    engine = DeliveryWorker(sessions, channel, FAST)
    engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        await bot.session.close()


async def test_a_photo_from_the_shell_is_uploaded_once_and_carries_the_link_button(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 5)
    picture = b"\x89PNG fake picture bytes"
    await _campaign(sessions, holdout=0, photo_data=picture, button_url="https://example.com/sale")
    async with _photo_worker(fake, sessions):
        await until(lambda: _all_done(sessions))
    assert set(per_chat(fake)) == {chat_of(c) for c in customers}
    assert {m.method for m in fake.sent} == {"sendPhoto"}
    uploads = [m for m in fake.sent if m.file_bytes is not None]
    assert len(uploads) == 1 and uploads[0].file_bytes == picture
    assert len({m.file_id for m in fake.sent}) == 1  # the others reuse Telegram's file_id
    assert all(m.text == TEXT for m in fake.sent)  # the caption
    assert fake.sent[0].button_texts() == ["Подробнее", "🔕 Отписаться от рассылки"]
    assert fake.sent[0].buttons()[0]["url"] == "https://example.com/sale"


async def _all_done(sessions: async_sessionmaker) -> bool:
    return await _count(sessions, "pending", "sending") == 0


async def test_a_scheduled_campaign_waits_for_its_time(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 3)
    rules = segments.rules_for(PROGRAM, active_days=90, quiet_days=90)
    at = utcnow() + timedelta(hours=1)
    async with sessions() as session:
        info = await campaigns.create(
            session, text=TEXT, segment=SegmentFilter(), start_at=at, holdout_percent=0, **SHELL
        )
    assert (await campaigns.tick(sessions, rules)).started == []
    assert await _count(sessions, "pending") == 0
    later = segments.rules_for(PROGRAM, active_days=90, quiet_days=90, now=at)
    ticked = await campaigns.tick(sessions, later, now=at + timedelta(seconds=1))
    assert [s.campaign_id for s in ticked.started] == [info.id]
    async with sessions() as session:
        queued = set(await session.scalars(select(Delivery.customer_id)))
    assert queued == set(customers)
