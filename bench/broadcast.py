"""The delivery engine sending a broadcast to the fake Bot API: pace held, and its ceiling.

Run by hand (not a test)::

    .venv/bin/python -m bench.broadcast [--seconds S] [--rate R] [--ceiling-messages N]
                                        [--database-url URL]

1. paced: the engine at R messages/s (30) for S seconds (60) while the fake plays Telegram's
   flood control at the same R (a token bucket of one second's worth) and one message per
   second per chat. It prints the achieved rate as a share of R, measured where Telegram would
   (the fake's receive times, over the steady part: the first and last second left out), and
   the number of 429 answers.
2. ceiling: the limit lifted (no flood control, the engine's rate set out of reach): N messages
   (20 000), messages/s from the first to the last one received.
3. segment: a base of C customers (1 000 000, made by one INSERT … SELECT in the database: varied
   gender, birthdays, cities, consent, spend; three quarters with a purchase), then through
   `bot.services.segments` and `bot.services.campaigns`: the size of a segment (women 25-45 who
   bought in the last 90 days), the size of the whole base, and starting a campaign to the
   whole base (its members and holdout, then one outbox row per recipient, all in SQL). Each
   with its time, the peak of Python memory it allocated (tracemalloc) and the process's peak
   RSS. `--only segment` runs this phase alone.

Each phase enqueues one advertising broadcast row per customer (consent given, no quiet hours,
no cap) into a fresh SQLite file in a temporary directory (or `--database-url`, an **empty**
database you create and drop), then runs one `DeliveryWorker` with the Telegram channel over a
real aiogram `Bot`. The fake server runs in a child process (loopback HTTP), so the figures are
the engine's: aiogram, HTTP client, database, pacing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.advertising import FrequencyCap
from bot.domain.program import Program, parse_tiers
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser
from bot.services.delivery import DeliveryConfig, DeliveryWorker
from bot.telegram.delivery import TelegramChannel
from db import migrate
from db.base import utcnow
from db.engine import create_engine, create_session_factory
from db.models import Customer, Delivery

PROGRAM = Program(tiers=parse_tiers("Base:0:5"))
FIRST_CHAT = 5_000_000
TOKEN = "123456:TEST"  # FakeTelegram's default
TEXT = "<b>Скидка 20%</b> на всё до воскресенья. Покажите это сообщение на кассе."


def _serve_fake(pipe: Connection, chats: range, flood_rate: float | None) -> None:
    """The fake Bot API in its own process: the engine's process then measures only itself."""

    async def serve() -> None:
        async with FakeTelegram() as fake:
            for chat in chats:
                fake.register_user(FakeUser(id=chat))
            if flood_rate is not None:
                fake.faults.flood_control(rate=flood_rate, per_chat=1.0)
            pipe.send(fake.url)
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            pipe.send(([m.at for m in fake.sent], fake.faults.answered.get(429, 0)))

    asyncio.run(serve())


@contextlib.asynccontextmanager
async def fake_process(
    chats: range, flood_rate: float | None
) -> AsyncIterator[tuple[str, list[tuple[list[float], int]]]]:
    """The fake's URL; after the block, what it received (times) and how many 429s it gave."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve_fake, args=(theirs, chats, flood_rate), daemon=True
    )
    child.start()
    loop = asyncio.get_running_loop()
    url = await loop.run_in_executor(None, ours.recv)
    results: list[tuple[list[float], int]] = []
    try:
        yield url, results
    finally:
        ours.send("stop")
        results.append(await loop.run_in_executor(None, ours.recv))
        child.join(10)


async def _prepare(sessions: async_sessionmaker, count: int, campaign: int) -> range:
    """`count` new customers with advertising consent, one broadcast row each; their chats."""
    async with sessions() as session:
        first = (await session.scalar(select(func.max(Customer.id)))) or 0
        now = utcnow()
        ids = range(first + 1, first + count + 1)
        await session.execute(
            insert(Customer),
            [
                {
                    "id": i,
                    "telegram_id": FIRST_CHAT + i,
                    "status": "active",
                    "language": "ru",
                    "interests": [],
                    "ads_opt_in": True,
                    "created_at": now,
                    "ledger_version": 0,
                }
                for i in ids
            ],
        )
        payload = {"text": TEXT, "photo": None, "button_url": None}
        await session.execute(
            insert(Delivery),
            [
                {
                    "customer_id": i,
                    "channel": "telegram",
                    "kind": "broadcast",
                    "payload": payload,
                    "advertising": True,
                    "campaign_id": campaign,
                    "dedup_key": f"campaign:{campaign}:{i}",
                    "state": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                    "error": "",
                }
                for i in ids
            ],
        )
        await session.commit()
    return range(FIRST_CHAT + ids.start, FIRST_CHAT + ids.stop)


async def _left(sessions: async_sessionmaker) -> int:
    async with sessions() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.state.in_(("pending", "sending")))
            )
        ) or 0


async def _run(
    sessions: async_sessionmaker, url: str, config: DeliveryConfig, stop_after: float
) -> None:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(url), limit=200),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    worker = DeliveryWorker(sessions, TelegramChannel(bot, PROGRAM), config)
    started = time.monotonic()
    worker.start()
    try:
        while time.monotonic() - started < stop_after and await _left(sessions):  # noqa: ASYNC110
            await asyncio.sleep(0.25)
    finally:
        await worker.stop()
        await bot.session.close()


def _config(rate: float, batch: int, concurrency: int) -> DeliveryConfig:
    return DeliveryConfig(
        rate=rate,
        per_chat_interval=1.0,
        lease=timedelta(seconds=120),
        poll_interval=0.2,
        batch=batch,
        concurrency=concurrency,
        quiet_hours=None,
        cap=FrequencyCap(0, 7),
    )


async def paced(sessions: async_sessionmaker, rate: float, seconds: float) -> None:
    chats = await _prepare(sessions, int(rate * (seconds + 2)), campaign=1)
    async with fake_process(chats, rate) as (url, results):
        await _run(sessions, url, _config(rate, max(50, int(rate * 2)), 16), seconds + 1)
    received, limited = results[0]
    moments = sorted(received)
    start, end = moments[0] + 1.0, moments[0] + 1.0 + max(seconds - 2, 1)
    steady = [t for t in moments if start <= t < end]
    achieved = len(steady) / (end - start)
    print(f"paced: limit {rate:g}/s for {seconds:g} s")
    print(f"  messages received: {len(moments)}")
    print(f"  achieved (steady part): {achieved:.2f}/s = {achieved / rate:.1%} of the limit")
    print(f"  429 answers: {limited}")


async def ceiling(sessions: async_sessionmaker, count: int) -> None:
    chats = await _prepare(sessions, count, campaign=2)
    async with fake_process(chats, None) as (url, results):
        started = time.process_time()
        await _run(sessions, url, _config(1_000_000, 1000, 128), 600)
        cpu = time.process_time() - started
    moments = sorted(results[0][0])
    span = moments[-1] - moments[0]
    print("ceiling: limit lifted")
    print(f"  messages received: {len(moments)} in {span:.2f} s = {len(moments) / span:.0f}/s")
    per_message = cpu / len(moments)
    print(f"  engine process CPU: {per_message * 1000:.2f} ms per message")
    print(f"  = the engine's ceiling on one free core: {1 / per_message:.0f}/s")


def _series(dialect: str, count: int) -> str:
    """The numbers 1..count as a table `n(i)`, on each engine."""
    if dialect == "postgresql":
        return f"n AS (SELECT generate_series(1::bigint, {count}) AS i)"
    return f"n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"


async def _fill_base(sessions: async_sessionmaker, count: int) -> None:
    """`count` customers and a purchase for three in four, generated by the database."""
    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        pg = dialect == "postgresql"
        birthday = (
            "DATE '1950-01-01' + ((i * 7919) % 25000)::int"
            if pg
            else "date('1950-01-01', '+' || ((i * 7919) % 25000) || ' days')"
        )
        bought = (
            "TIMESTAMPTZ '2026-12-01 12:00:00+00' - ((i * 104729) % 400) * INTERVAL '1 day'"
            if pg
            else "strftime('%Y-%m-%d %H:%M:%f000', '2026-12-01 12:00:00', "
            "'-' || ((i * 104729) % 400) || ' days')"
        )
        true_ = "TRUE" if pg else "1"
        false_ = "FALSE" if pg else "0"
        now = "TIMESTAMPTZ '2026-12-01 12:00:00+00'" if pg else "'2026-12-01 12:00:00.000000'"
        series = _series(dialect, count)
        await session.execute(
            text(
                f"WITH RECURSIVE {series} INSERT INTO customers (id, telegram_id, status, "
                "language, name, gender, birthday, city, interests, ads_opt_in, created_at, "
                "ledger_version, spend, purchase_count, consent_pending) "
                f"SELECT i, {FIRST_CHAT} + i, 'active', 'ru', 'Клиент', "
                "CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, "
                f"{birthday}, "
                "CASE i % 3 WHEN 0 THEN 'Москва' WHEN 1 THEN 'Тверь' ELSE 'Казань' END, "
                f"'[]', CASE WHEN i % 5 = 0 THEN {false_} ELSE {true_} END, {now}, 0, "
                f"CASE WHEN i % 4 = 0 THEN 0 ELSE (i % 97) * 10000 + 10000 END, "
                f"CASE WHEN i % 4 = 0 THEN 0 ELSE 1 END, {false_} FROM n"
            )
        )
        await session.execute(
            text(
                f"WITH RECURSIVE {series} INSERT INTO purchases (customer_id, store, amount, "
                "redeemed, accrued, refunded_amount, channel, actor, created_at) "
                f"SELECT i, '', (i % 97) * 10000 + 10000, 0, 0, 0, 'bench', '', {bought} "
                "FROM n WHERE i % 4 <> 0"
            )
        )
        await session.commit()
        if not pg:
            await session.execute(text("ANALYZE"))
        else:
            await session.execute(text("ANALYZE customers"))
            await session.execute(text("ANALYZE purchases"))
        await session.commit()


async def _measured(label: str, work: Any) -> Any:
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  {label}: {seconds:.2f} s, Python peak {peak / 2**20:.1f} MiB, "
        f"process RSS peak {rss:.0f} MiB"
    )
    return result


async def segment(sessions: async_sessionmaker, count: int) -> None:
    from datetime import UTC, datetime

    from bot.domain.segments import Lifecycle, SegmentFilter
    from bot.services import campaigns, segments

    started = time.perf_counter()
    await _fill_base(sessions, count)
    print(f"segment: a base of {count} customers made in {time.perf_counter() - started:.1f} s")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    rules = segments.rules_for(PROGRAM, active_days=90, quiet_days=90, now=now)
    women = SegmentFilter(lifecycle=Lifecycle.ACTIVE, gender="female", age_min=25, age_max=45)

    async def size_of(segment_filter: SegmentFilter) -> Any:
        async with sessions() as session:
            return await segments.size(session, segment_filter, rules)

    got = await _measured("size of women 25-45 active in 90 days", lambda: size_of(women))
    print(f"    {got.members} in the segment, {got.recipients} recipients")
    got = await _measured("size of the whole base", lambda: size_of(SegmentFilter()))
    print(f"    {got.members} in the segment, {got.recipients} recipients")

    async def start_campaign() -> Any:
        async with sessions() as session:
            info = await campaigns.create(
                session, text=TEXT, segment=SegmentFilter(), actor="bench", channel="shell"
            )
            return await campaigns.start(
                session, info.id, rules, actor="bench", channel="shell", now=now
            )

    started_campaign = await _measured("campaign to the whole base started", start_campaign)
    print(
        f"    {started_campaign.targeted} targeted, {started_campaign.held_out} held out, "
        f"{started_campaign.queued} outbox rows"
    )

    async def active_women_ids() -> Any:
        async with sessions() as session:
            return len(await segments.recipient_ids(session, women, rules))

    count_ids = await _measured(
        "recipient ids of the women's segment read into Python", active_women_ids
    )
    print(f"    {count_ids} ids")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--ceiling-messages", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--segment-customers", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["paced", "ceiling", "segment"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"database: {engine.dialect.name}, cpus: {os.cpu_count()}, load average: {load}")
        try:
            if args.only in (None, "paced"):
                await paced(sessions, args.rate, args.seconds)
            if args.only in (None, "ceiling"):
                await ceiling(sessions, args.ceiling_messages)
            if args.only in (None, "segment"):
                if args.only is None:  # a base of its own: the phases above left customers
                    await engine.dispose()
                    url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'seg.db'}"
                    if args.database_url:
                        raise SystemExit("with --database-url, run `--only segment` separately")
                    engine = create_engine(url)
                    await migrate.upgrade(engine)
                    sessions = create_session_factory(engine)
                await segment(sessions, args.segment_customers)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
