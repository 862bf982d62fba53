"""The delivery engine against the fake Bot API: exactly once, at a pace Telegram accepts.

Each test builds workers by hand (a real aiogram Bot over HTTP, the Telegram channel, the
engine) so it can choose the rate, the clock and the faults; what counts is what the fake
received and what the outbox says afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import time as clock
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.app import delivery_config
from bot.domain.advertising import FrequencyCap, parse_quiet_hours
from bot.domain.program import Program, parse_tiers
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser
from bot.services.delivery import DeliveryConfig, DeliveryWorker, Outgoing
from bot.settings import Settings
from bot.telegram.delivery import TelegramChannel
from db.base import utcnow
from db.engine import create_engine, create_session_factory
from db.models import Customer, Delivery
from db.repositories import deliveries
from tests.conftest import Backend

PROGRAM = Program(tiers=parse_tiers("Base:0:5, Silver:10000:7"), referral_bonus=200)
MOSCOW = ZoneInfo("Europe/Moscow")
FAST = DeliveryConfig(
    rate=2000, per_chat_interval=1.0, backoff=0.05, poll_interval=0.1, batch=400, zone=MOSCOW
)
BROADCAST = {"text": "<b>Скидка 20%</b> на зёрна до воскресенья", "photo": None, "button_url": None}


@pytest.fixture(autouse=True)
def _no_redis(backend: Backend) -> None:
    if backend.name == "redis":
        pytest.skip("the engine keeps nothing in Redis")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@dataclass
class Clock:
    """The engine's idea of now, moved by the test."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


class CountingChannel(TelegramChannel):
    """The Telegram channel, counting what this worker sent (two workers share one fake)."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot, PROGRAM)
        self.sent = 0

    async def send(self, message: Outgoing) -> int:
        message_id = await super().send(message)
        self.sent += 1
        return message_id


@asynccontextmanager
async def worker(
    fake: FakeTelegram,
    sessions: async_sessionmaker,
    config: DeliveryConfig = FAST,
    clock: Callable[[], datetime] = utcnow,
) -> AsyncIterator[tuple[DeliveryWorker, CountingChannel]]:
    bot = Bot(
        fake.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    channel = CountingChannel(bot)
    engine = DeliveryWorker(sessions, channel, config, clock)
    engine.start()
    try:
        yield engine, channel
    finally:
        await engine.stop()
        await bot.session.close()


async def add_customers(
    sessions: async_sessionmaker, fake: FakeTelegram, count: int, *, ads: bool = True
) -> list[int]:
    """Active customers with chats the fake knows; returns their customer ids."""
    async with sessions() as session:
        first = (await session.scalar(select(func.max(Customer.id)))) or 0
        rows = [
            {
                "id": first + n + 1,
                "telegram_id": 700_000 + first + n + 1,
                "status": "active",
                "language": "ru",
                "interests": [],
                "ads_opt_in": ads,
                "created_at": utcnow(),
                "ledger_version": 0,
            }
            for n in range(count)
        ]
        await session.execute(insert(Customer), rows)
        await session.commit()
    for row in rows:
        fake.register_user(FakeUser(id=row["telegram_id"]))
    return [row["id"] for row in rows]


def chat_of(customer_id: int) -> int:
    return 700_000 + customer_id


async def broadcast(
    sessions: async_sessionmaker, customer_ids: list[int], campaign_id: int = 1
) -> None:
    async with sessions() as session:
        for customer_id in customer_ids:
            await deliveries.enqueue(
                session,
                "broadcast",
                BROADCAST,
                customer_id=customer_id,
                advertising=True,
                campaign_id=campaign_id,
                dedup_key=f"campaign:{campaign_id}:{customer_id}",
            )
        await session.commit()


async def states(sessions: async_sessionmaker) -> Counter[str]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter(dict(rows.all()))


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait for a condition on what was sent or stored (never a fixed sleep)."""
    deadline = clock.monotonic() + timeout
    while not await condition():
        if clock.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


def all_settled(sessions: async_sessionmaker) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        counts = await states(sessions)
        return counts["pending"] + counts["sending"] == 0

    return check


def per_chat(fake: FakeTelegram) -> Counter[int]:
    return Counter(message.chat_id for message in fake.sent)


async def test_broadcast_to_1000_with_flood_control_and_blocked_chats(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 1000)
    blocked = set(customers[::37])  # 28 customers blocked the bot or deleted the account
    fake.faults.forbid(chat_of(c) for c in blocked if c % 2)
    fake.faults.forbid((chat_of(c) for c in blocked if not c % 2), "Forbidden: user is deactivated")
    fake.faults.rate_limit(every=150, times=3, retry_after=1)
    await broadcast(sessions, customers)

    async with worker(fake, sessions):
        await until(all_settled(sessions))

    received = per_chat(fake)
    assert set(received) == {chat_of(c) for c in customers} - {chat_of(c) for c in blocked}
    assert set(received.values()) == {1}
    assert fake.faults.answered[429] == 3
    first = fake.sent[0]
    assert first.text == BROADCAST["text"]
    assert first.button_texts() == ["🔕 Отписаться от рассылки"]
    async with sessions() as session:
        unreachable = set(
            await session.scalars(select(Customer.id).where(Customer.unreachable_at.is_not(None)))
        )
        assert unreachable == blocked
        skipped = (
            await session.execute(
                select(Delivery.customer_id, Delivery.error).where(Delivery.state == "skipped")
            )
        ).all()
        assert {customer for customer, _ in skipped} == blocked
        assert {error for _, error in skipped} == {
            "Forbidden: bot was blocked by the user",
            "Forbidden: user is deactivated",
        }
        message_ids = await session.scalars(
            select(Delivery.message_id).where(Delivery.state == "sent")
        )
        assert all(message_id == 1 for message_id in message_ids)  # the first in each chat
    assert await states(sessions) == Counter(sent=1000 - len(blocked), skipped=len(blocked))

    # A later campaign skips the unreachable without asking Telegram again.
    calls_before = len(fake.calls)
    await broadcast(sessions, sorted(blocked), campaign_id=2)
    async with worker(fake, sessions):
        await until(all_settled(sessions))
    assert len(fake.calls) == calls_before


async def test_a_429_pauses_every_send_for_the_time_it_names(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 200)
    fake.faults.rate_limit(every=50, times=2, retry_after=1)
    answers: list[float] = []
    original = fake.faults.check

    def spy(method: str, params: dict) -> None:
        before = fake.faults.answered.get(429, 0)
        try:
            original(method, params)
        finally:
            if fake.faults.answered.get(429, 0) > before:
                answers.append(clock.monotonic())

    fake.faults.check = spy  # type: ignore[method-assign]
    await broadcast(sessions, customers)
    async with worker(fake, sessions):
        await until(all_settled(sessions))
    assert len(answers) == 2 and set(per_chat(fake).values()) == {1}
    assert len(fake.sent) == 200
    for answered in answers:
        # Sends already on the wire may land just after the 429; none starts during the pause.
        during = [m for m in fake.sent if answered + 0.2 < m.at < answered + 0.95]
        assert during == []


async def test_stopped_mid_run_a_new_engine_finishes_without_duplicates(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 400)
    await broadcast(sessions, customers)
    slow = DeliveryConfig(rate=400, per_chat_interval=1.0, poll_interval=0.1, batch=100)

    async def some_sent() -> bool:
        return len(fake.sent) >= 100

    async with worker(fake, sessions, slow):
        await until(some_sent)
    left = await states(sessions)
    assert left["pending"] > 0 and left["sending"] == 0  # handed back at stop, not held

    async with worker(fake, sessions, FAST):
        await until(all_settled(sessions))
    assert set(per_chat(fake)) == {chat_of(c) for c in customers}
    assert set(per_chat(fake).values()) == {1}


async def test_rows_of_a_crashed_worker_wait_for_its_lease_then_go_once(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 50)
    await broadcast(sessions, customers)
    crashed_at = utcnow()
    async with sessions() as session:  # a worker claimed them, then died (kill -9)
        held = await deliveries.claim(session, crashed_at, crashed_at + FAST.lease, 30)
        await session.commit()
    assert len(held) == 30

    async with worker(fake, sessions):
        await until(lambda: _count(sessions, "sent", 20))
    assert len(fake.sent) == 20  # the 30 under a live lease are not touched
    assert await states(sessions) == Counter(sent=20, sending=30)

    later = Clock(crashed_at + FAST.lease + timedelta(seconds=1))
    async with worker(fake, sessions, clock=later):
        await until(all_settled(sessions))
    assert set(per_chat(fake)) == {chat_of(c) for c in customers}
    assert set(per_chat(fake).values()) == {1}


async def _count(sessions: async_sessionmaker, state: str, expected: int) -> bool:
    return (await states(sessions))[state] == expected


async def test_the_rate_limit_holds(fake: FakeTelegram, sessions: async_sessionmaker) -> None:
    """40 messages/s overall and one per second per chat, measured where Telegram would."""
    rate = 40
    customers = await add_customers(sessions, fake, 30)
    fake.faults.flood_control(rate=rate, per_chat=1.0)  # Telegram's answer to a breach
    async with sessions() as session:
        for round_ in range(3):  # three messages per customer: the per-chat limit matters
            for customer_id in customers:
                await deliveries.enqueue(
                    session, "referral_paid", {"bonus": round_ + 1}, customer_id=customer_id
                )
        await session.commit()
    config = DeliveryConfig(rate=rate, per_chat_interval=1.0, poll_interval=0.1, batch=200)

    async with worker(fake, sessions, config):
        await until(all_settled(sessions))

    assert len(fake.sent) == 90 and fake.faults.answered.get(429, 0) == 0
    times: dict[int, list[float]] = {}
    for message in fake.sent:
        times.setdefault(message.chat_id, []).append(message.at)
    gaps = [b - a for chat in times.values() for a, b in itertools.pairwise(chat)]
    assert min(gaps) >= 1.0
    moments = sorted(message.at for message in fake.sent)
    busiest = max(sum(1 for t in moments[i:] if t < start + 1.0) for i, start in enumerate(moments))
    assert busiest <= rate + 1
    span = moments[-1] - moments[0]
    assert span >= (len(moments) - 1) / rate * 0.95  # evenly paced, not bursts and gaps


async def test_network_errors_and_5xx_are_retried_then_failed_with_the_reason(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    customers = await add_customers(sessions, fake, 5)
    fake.faults.server_error(times=3, code=502)
    fake.faults.drop_connection(times=2)
    await broadcast(sessions, customers)
    async with worker(fake, sessions):
        await until(all_settled(sessions))
    assert set(per_chat(fake).values()) == {1} and len(per_chat(fake)) == 5
    async with sessions() as session:
        attempts = list(await session.scalars(select(Delivery.attempts)))
    assert sum(attempts) == 5  # each failure counted once, on the row it hit

    fake.faults.clear()
    fake.faults.server_error(code=500)  # Telegram keeps failing
    config = DeliveryConfig(max_attempts=3, backoff=0.02, poll_interval=0.05, zone=MOSCOW)
    await broadcast(sessions, customers[:1], campaign_id=2)
    async with sessions() as session:  # the campaign row is the only one still to go
        await session.execute(
            Delivery.__table__.update()
            .where(Delivery.campaign_id == 2)
            .values(advertising=False)  # not capped: this is about retries
        )
        await session.commit()
    async with worker(fake, sessions, config):
        await until(all_settled(sessions))
    async with sessions() as session:
        failed = (await session.execute(select(Delivery).where(Delivery.state == "failed"))).one()[
            0
        ]
    assert failed.attempts == 3
    assert failed.error == "Internal Server Error"
    assert len(per_chat(fake)) == 5  # nothing more arrived


async def test_quiet_hours_postpone_advertising_and_not_notices(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    [customer] = await add_customers(sessions, fake, 1)
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(MOSCOW).date()
    evening = Clock(datetime.combine(tomorrow, time(22, 30), tzinfo=MOSCOW).astimezone(UTC))
    config = DeliveryConfig(
        quiet_hours=parse_quiet_hours("21:00-09:00"), zone=MOSCOW, poll_interval=0.05
    )
    await broadcast(sessions, [customer])
    async with sessions() as session:
        await deliveries.enqueue(session, "referral_paid", {"bonus": 200}, customer_id=customer)
        await session.commit()

    async with worker(fake, sessions, config, evening) as (engine, _):
        await until(lambda: _count(sessions, "sent", 1))
        assert [m.text for m in fake.sent] == [
            "🎁 Ваш друг совершил первую покупку — вам начислено 200 баллов!"
        ]
        async with sessions() as session:
            ad = await session.scalar(select(Delivery).where(Delivery.advertising.is_(True)))
        assert ad is not None and ad.state == "pending" and ad.error == "quiet hours"
        morning = datetime.combine(tomorrow + timedelta(days=1), time(9, 0), tzinfo=MOSCOW)
        assert ad.due_at == morning

        evening.now = morning + timedelta(seconds=5)
        engine.wake()
        await until(lambda: _count(sessions, "sent", 2))
    assert fake.sent[-1].text == BROADCAST["text"]


async def test_frequency_cap_and_consent_apply_to_advertising_only(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    capped, fresh, fine = await add_customers(sessions, fake, 3)
    [no_consent] = await add_customers(sessions, fake, 1, ads=False)
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(MOSCOW).date()
    now = datetime.combine(tomorrow, time(12, 0), tzinfo=MOSCOW).astimezone(UTC)
    async with sessions() as session:  # two advertising messages already this week / last
        for customer, days_ago in ((capped, 1), (capped, 6), (fresh, 8), (fresh, 9)):
            await session.execute(
                insert(Delivery).values(
                    customer_id=customer,
                    kind="broadcast",
                    payload=BROADCAST,
                    advertising=True,
                    state="sent",
                    sent_at=now - timedelta(days=days_ago),
                    due_at=now - timedelta(days=days_ago),
                    created_at=now - timedelta(days=days_ago),
                )
            )
        await session.commit()
    await broadcast(sessions, [capped, fresh, fine, no_consent], campaign_id=7)
    async with sessions() as session:  # transactional notices to all four
        for customer in (capped, fresh, fine, no_consent):
            await deliveries.enqueue(session, "referral_paid", {"bonus": 5}, customer_id=customer)
        await session.commit()
    config = DeliveryConfig(cap=FrequencyCap(2, 7), zone=MOSCOW, poll_interval=0.05)

    async with worker(fake, sessions, config, Clock(now)):
        await until(all_settled(sessions))

    texts = {chat: [m.text for m in fake.sent if m.chat_id == chat] for chat in per_chat(fake)}
    notice = "🎁 Ваш друг совершил первую покупку — вам начислено 5 баллов!"
    assert sorted(texts[chat_of(capped)]) == [notice]
    assert sorted(texts[chat_of(no_consent)]) == [notice]
    assert sorted(texts[chat_of(fresh)]) == sorted([notice, BROADCAST["text"]])
    assert sorted(texts[chat_of(fine)]) == sorted([notice, BROADCAST["text"]])
    async with sessions() as session:
        reasons = dict(
            (
                await session.execute(
                    select(Delivery.customer_id, Delivery.error).where(
                        Delivery.campaign_id == 7, Delivery.state == "skipped"
                    )
                )
            ).all()
        )
    assert reasons == {capped: "frequency cap: 2 in 7 days", no_consent: "no advertising consent"}


async def test_two_workers_on_one_database_never_send_a_row_twice(
    fake: FakeTelegram, backend: Backend, sessions: async_sessionmaker
) -> None:
    """Two processes' worth: separate engines (pools) on the same database, claiming at once."""
    other_engine = create_engine(backend.database_url)
    other = create_session_factory(other_engine)
    try:
        customers = await add_customers(sessions, fake, 600)
        await broadcast(sessions, customers)
        config = DeliveryConfig(rate=1500, poll_interval=0.05, batch=50)
        async with (
            worker(fake, sessions, config) as (_, one),
            worker(fake, other, config) as (_, two),
        ):
            await until(all_settled(sessions))
        assert set(per_chat(fake)) == {chat_of(c) for c in customers}
        assert set(per_chat(fake).values()) == {1}
        assert one.sent + two.sent == 600
        if backend.name == "postgresql":  # SKIP LOCKED lets both work at once
            assert one.sent > 0 and two.sent > 0
    finally:
        await other_engine.dispose()


async def test_each_kind_is_drawn_at_send_time_in_the_recipients_language(
    fake: FakeTelegram, sessions: async_sessionmaker
) -> None:
    [anna, john] = await add_customers(sessions, fake, 2)
    owner = 900_123
    fake.register_user(FakeUser(id=owner))
    async with sessions() as session:
        await session.execute(
            Customer.__table__.update().where(Customer.id == john).values(language="en")
        )
        purchase = {
            "purchase_id": 1,
            "customer_id": john,
            "amount": 1_200_000,
            "redeemed": 0,
            "accrued": 600,
            "balance": 700,
            "tier_before": "Base",
            "tier_after": "Silver",
            "duplicate": False,
            "referrer_rewarded": anna,
        }
        await deliveries.enqueue(session, "purchase", purchase, customer_id=john)
        await deliveries.enqueue(
            session, "receipt_refused", {"reason": "claimed"}, customer_id=anna
        )
        alert = {"alert": "phone_conflict", "owner_customer_id": anna, "claimant_customer_id": john}
        await deliveries.enqueue(session, "owner_alert", alert, chat_id=owner)
        offer = {"text": "Sale!", "photo": "AgAD-photo-id", "button_url": "https://example.com/s"}
        await deliveries.enqueue(session, "broadcast", offer, customer_id=john, advertising=True)
        await session.commit()

    async with worker(fake, sessions):
        await until(all_settled(sessions))

    [notice, ad] = fake.messages_to(chat_of(john))
    assert notice.text.split("\n\n") == [
        "🧾 Purchase of 12\u00a0000\u00a0₽: 600 points earned. Balance: <b>700 points</b>.",
        "🎉 Congratulations! You are now “Silver”: 7% back on every purchase.",
        "🎁 Plus 200 points for your first purchase through a friend's invite"
        " (already in the balance).",
    ]
    assert ad.method == "sendPhoto" and ad.text == "Sale!"
    assert ad.buttons() == [
        {"text": "Learn more", "url": "https://example.com/s"},
        {"text": "🔕 Unsubscribe", "callback_data": "unsub"},
    ]
    [refused] = fake.messages_to(chat_of(anna))
    assert "уже" in (refused.text or "")
    [alerted] = fake.messages_to(owner)
    assert f"клиент №{john}" in (alerted.text or "") and "+7" not in (alerted.text or "")


async def test_paid_broadcast_mode_is_opt_in_and_faster(
    fake: FakeTelegram, sessions: async_sessionmaker, backend: Backend
) -> None:
    plain = Settings(_env_file=None, database_url=backend.database_url)  # type: ignore[call-arg]
    paid = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=backend.database_url,
        delivery_paid_broadcast=True,
        delivery_paid_rate=800,
        quiet_hours="",  # whatever the hour the test runs at
    )
    assert (delivery_config(plain).rate, delivery_config(plain).paid_broadcast) == (25, False)
    assert (delivery_config(paid).rate, delivery_config(paid).paid_broadcast) == (800, True)

    customers = await add_customers(sessions, fake, 2)
    await broadcast(sessions, customers[:1], campaign_id=1)
    async with worker(fake, sessions):
        await until(all_settled(sessions))
    await broadcast(sessions, customers[1:], campaign_id=2)
    async with worker(fake, sessions, delivery_config(paid)):
        await until(all_settled(sessions))
    flags = [
        params.get("allow_paid_broadcast") for name, params in fake.calls if name == "sendMessage"
    ]
    assert flags == [None, True]
