"""Campaigns on both engines: states, the holdout never queued, held rows never claimed, the
scheduled start taken once by two ticks at once, and the results against the holdout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.campaigns import CampaignError, CampaignState
from bot.domain.segments import SegmentFilter
from bot.services import campaigns, permissions, segments
from db.models import AuditEntry, CampaignMember, Consent, Customer, Delivery, Purchase
from db.repositories import campaigns as repo
from db.repositories import deliveries
from tests.db.conftest import PROGRAM

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RULES = segments.rules_for(PROGRAM, active_days=30, quiet_days=60, now=NOW)
SHELL = {"actor": "shell", "channel": "shell", "by": permissions.SHELL}


async def _customers(sessions: async_sessionmaker, count: int, *, ads: bool = True) -> None:
    async with sessions() as session:
        first = (await session.scalar(select(func.max(Customer.id)))) or 0
        await session.execute(
            insert(Customer),
            [
                {
                    "id": first + n,
                    "telegram_id": 800_000 + first + n,
                    "status": "active",
                    "interests": [],
                    "ads_opt_in": ads,
                }
                for n in range(1, count + 1)
            ],
        )
        await session.commit()


async def _create(sessions: async_sessionmaker, **extra: object) -> campaigns.CampaignInfo:
    async with sessions() as session:
        values: dict = {"text": "<b>Скидка</b> 20%", "segment": SegmentFilter(), "now": NOW}
        return await campaigns.create(session, **(values | extra | SHELL))


async def test_start_queues_members_once_and_the_holdout_never(sessions) -> None:
    await _customers(sessions, 400)
    await _customers(sessions, 5, ads=False)
    info = await _create(sessions, holdout_percent=25, button_url="https://example.com/sale")
    assert info.state is CampaignState.DRAFT
    async with sessions() as session:
        started = await campaigns.start(session, info.id, RULES, now=NOW, **SHELL)
        assert started.targeted == 400
        assert 50 <= started.held_out <= 150  # about a quarter, drawn at random
        with pytest.raises(campaigns.WrongStateError):
            await campaigns.start(session, info.id, RULES, now=NOW, **SHELL)
        rows = (await session.execute(select(Delivery))).scalars().all()
        held = set(
            await session.scalars(
                select(CampaignMember.customer_id).where(CampaignMember.holdout.is_(True))
            )
        )
        assert len(rows) == started.queued and len(held) == started.held_out
        assert not {row.customer_id for row in rows} & held
        assert all(
            row.advertising and row.kind == "campaign" and row.campaign_id == info.id
            for row in rows
        )
        assert rows[0].payload == {
            "text": "<b>Скидка</b> 20%",
            "photo": None,
            "photo_campaign": None,
            "button_url": "https://example.com/sale",
        }
        assert await campaigns.holdout_sent(session, info.id) == 0
        progress = await campaigns.progress(session, info.id, rate=25)
        assert (progress.left, progress.sent) == (started.queued, 0)
        assert progress.time_left == timedelta(seconds=started.queued / 25)
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["campaign_created", "campaign_started"]


async def test_paused_and_cancelled_campaigns_are_not_claimed(sessions) -> None:
    await _customers(sessions, 10)
    info = await _create(sessions, holdout_percent=0)
    async with sessions() as session:
        await campaigns.start(session, info.id, RULES, now=NOW, **SHELL)
        await campaigns.pause(session, info.id, **SHELL)
        later = NOW + timedelta(hours=1)
        assert await deliveries.claim(session, later, later + timedelta(minutes=1), 100) == []
        with pytest.raises(campaigns.WrongStateError):
            await campaigns.pause(session, info.id, **SHELL)
        await campaigns.resume(session, info.id, **SHELL)
        claimed = await deliveries.claim(session, later, later + timedelta(minutes=1), 3)
        assert len(claimed) == 3
        await session.commit()
        cancelled = await campaigns.cancel(session, info.id, **SHELL)
        assert cancelled.state is CampaignState.CANCELLED
        assert await deliveries.claim(session, later, later + timedelta(hours=1), 100) == []
        progress = await campaigns.progress(session, info.id, rate=25)
        # The three a worker holds still count as left; the seven queued are skipped for good.
        assert (progress.skipped, progress.left) == (7, 3)
        with pytest.raises(campaigns.WrongStateError):
            await campaigns.resume(session, info.id, **SHELL)


async def test_a_scheduled_campaign_starts_once_when_two_ticks_race(sessions) -> None:
    await _customers(sessions, 50)
    info = await _create(sessions, start_at=NOW + timedelta(hours=2), holdout_percent=10)
    assert info.state is CampaignState.SCHEDULED
    early = await campaigns.tick(sessions, RULES, now=NOW + timedelta(hours=1))
    assert early.started == []
    at = NOW + timedelta(hours=2, seconds=5)
    first, second = await asyncio.gather(
        campaigns.tick(sessions, RULES, now=at), campaigns.tick(sessions, RULES, now=at)
    )
    assert len(first.started) + len(second.started) == 1
    async with sessions() as session:
        queued = await session.scalar(select(func.count()).select_from(Delivery))
        members = await session.scalar(select(func.count()).select_from(CampaignMember))
        assert members == 50 and queued == (first.started or second.started)[0].queued
        assert (await campaigns.get(session, info.id)).state is CampaignState.RUNNING


async def test_bad_campaigns_are_refused_and_nothing_is_stored(sessions) -> None:
    cases = [
        ({"text": "  "}, "text"),
        ({"text": "<b>bold"}, "text"),
        ({"text": "<script>x</script>"}, "text"),
        ({"text": "x" * 1100, "photo_file_id": "AgAC"}, "text"),
        ({"button_url": "javascript:alert(1)"}, "button_url"),
        ({"holdout_percent": 95}, "holdout"),
        ({"start_at": NOW - timedelta(days=1)}, "start_at"),
    ]
    for extra, field in cases:
        with pytest.raises(CampaignError) as refused:
            await _create(sessions, **extra)
        assert refused.value.field == field
    async with sessions() as session:
        assert await campaigns.listing(session, by=permissions.SHELL) == []


async def test_done_and_results_against_the_holdout(sessions) -> None:
    await _customers(sessions, 200)
    info = await _create(sessions, holdout_percent=50)
    async with sessions() as session:
        started = await campaigns.start(session, info.id, RULES, now=NOW, **SHELL)
        members = dict(
            (
                await session.execute(select(CampaignMember.customer_id, CampaignMember.holdout))
            ).all()
        )
        # Every recipient is sent to; each member buys for 1 000 ₽ (recipients) or 500 ₽
        # (holdout) within the window, and once more after it (not counted).
        rows = (await session.execute(select(Delivery))).scalars().all()
        for row in rows:
            row.state, row.sent_at = "sent", NOW + timedelta(minutes=1)
        for customer_id, holdout in members.items():
            amount = 50_000 if holdout else 100_000
            for when in (NOW + timedelta(days=1), NOW + timedelta(days=20)):
                await session.execute(
                    insert(Purchase).values(
                        customer_id=customer_id, amount=amount, channel="test", created_at=when
                    )
                )
        unsubscriber = rows[0].customer_id
        session.add(
            Consent(
                customer_id=unsubscriber,
                kind="advertising",
                granted=False,
                text_version="v1",
                created_at=NOW + timedelta(hours=1),
            )
        )
        await session.commit()
    done = await campaigns.tick(sessions, RULES, now=NOW + timedelta(hours=1))
    assert done.finished == [info.id]
    async with sessions() as session:
        assert (await campaigns.get(session, info.id)).state is CampaignState.DONE
        got = await campaigns.results(session, info.id, days=14)
    recipients, holdout = started.queued, started.held_out
    assert (got.delivered, got.failed, got.blocked, got.unsubscribed) == (recipients, 0, 0, 1)
    assert (got.recipients.heads, got.recipients.buyers, got.recipients.purchases) == (
        recipients,
        recipients,
        recipients,
    )
    assert got.recipients.revenue == recipients * 100_000
    assert got.holdout.revenue == holdout * 50_000
    assert got.incremental_revenue == recipients * 50_000
    assert got.promo_redemptions is None


async def test_expansion_goes_in_slices_and_a_crash_mid_way_is_resumed_once(sessions) -> None:
    await _customers(sessions, 95)
    sliced = await _create(sessions, holdout_percent=10)
    async with sessions() as session:
        started = await campaigns.start(session, sliced.id, RULES, now=NOW, slice_size=10, **SHELL)
    assert started.targeted == 95

    # A process that died after taking the start and before expanding anything:
    crashed = await _create(sessions, holdout_percent=10)
    async with sessions() as session:
        assert await repo.change_state(
            session, crashed.id, ("draft",), "running", started_at=NOW, expand_until=95
        )
        await session.commit()
    done = await campaigns.tick(sessions, RULES, now=NOW)
    assert done.finished == []  # not done while its expansion is incomplete
    async with sessions() as session:
        info = await campaigns.get(session, crashed.id)
        members = await session.scalar(
            select(func.count()).where(CampaignMember.campaign_id == crashed.id)
        )
        queued = await session.scalar(
            select(func.count()).where(Delivery.campaign_id == crashed.id)
        )
    assert info.targeted == members == 95 and queued == 95 - info.held_out
