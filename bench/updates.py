"""Update throughput of the real bot, end to end over HTTP, next to a bare aiogram echo bot.

Run by hand (not a test)::

    .venv/bin/python -m bench.updates [--customers N] [--balance-requests M]
                                      [--database-url URL] [--tasks-limit K]

The real bot (``bot.app.create_app``) long-polls ``FakeTelegram`` on loopback, as in the
end-to-end tests, and N simulated customers drive it concurrently:

1. questionnaire: every customer signs up (consent, name, contact, three skips, interests done,
   no advertising: 9 updates), each as its own asyncio task waiting for every reply;
2. balance: M "💰 Баланс" requests; each customer sends its next one when the reply arrived,
   so at most N requests are in flight (a closed loop with a window of N);
3. echo: the same load shape against a Dispatcher with one ``message.answer(message.text)``
   handler and the default MemoryStorage: what aiogram + HTTP + the fake cost with no work.

Both bots poll with the same settings: getUpdates returns batches of up to 100 (aiogram sends no
``limit``, the fake applies Telegram's default 100) and aiogram runs every update of a batch as
its own task (``handle_as_tasks=True``); ``--tasks-limit`` caps those tasks for both bots
(aiogram's ``tasks_concurrency_limit``; the default, none, is what ``bot.app.run_polling`` uses).
The rates depend on N: compare runs with the same N only.

The fake server, the customers and the bot share one process and one event loop, so the fake's
own work is in every figure, for both bots alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiogram
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import App, build_bot, create_app
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser, SentMessage
from bot.settings import Settings
from db.models import Customer

TOKEN = "123456:TEST-fake-telegram-token-0123456789"  # FakeTelegram's default token
POLLING_TIMEOUT = 1  # seconds a getUpdates may hang when there is nothing (as the e2e tests)
FIRST_USER_ID = 7_000_001
# Longer than SQLAlchemy's 30 s pool timeout, so a stalled bot gets to log why it stalled.
REPLY_TIMEOUT = 35.0
TARGET_RATIO = 0.7  # balance rate / echo rate we aim for on SQLite
WELCOME_BONUS = 100
BALANCE_BUTTON = "💰 Баланс"
BONUS_SHOWN = re.compile(rf"\b{WELCOME_BONUS}\b")


@dataclass
class Flow:
    """What one measured phase did: updates pushed, wall time and latencies (seconds)."""

    name: str
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # one update to its (last) reply
    journeys: list[float] = field(default_factory=list)  # whole signups, /start to welcome
    polls: int = 0  # getUpdates calls during the phase
    cpu_seconds: float = 0.0  # CPU time of the whole process (all threads) during the phase

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """CPU per update: steadier than the rate when other programs share the machine."""
        return self.cpu_seconds / self.updates * 1000 if self.updates else math.nan


def percentile_ms(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1] * 1000


class BenchError(Exception):
    """The bot did not answer as it should: the figures would mean nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.at = time.time()  # errors the bot logs later are shutdown noise


class Person:
    """One simulated customer: acts on the fake, then waits for what the bot answers."""

    def __init__(self, fake: FakeTelegram, user: FakeUser, flow: Flow) -> None:
        self.fake, self.user, self.flow = fake, user, flow

    async def _act(self, action: Callable[[], object], replies: int = 1) -> SentMessage:
        """Push one update and return the last of the `replies` messages it brings."""
        started = time.perf_counter()
        action()
        self.flow.updates += 1
        for _ in range(replies):
            try:
                reply = await self.fake.next_message(self.user.id, timeout=REPLY_TIMEOUT)
            except TimeoutError:
                raise BenchError(
                    f"{self.flow.name}: customer {self.user.id} got no reply within "
                    f"{REPLY_TIMEOUT:.0f} s"
                ) from None
        self.flow.latencies.append(time.perf_counter() - started)
        return reply

    async def say(self, text: str) -> SentMessage:
        return await self._act(lambda: self.fake.send_text(self.user, text))

    async def press(self, message: SentMessage, button: str) -> SentMessage:
        return await self._act(lambda: self.fake.press(self.user, message, button))

    async def sign_up(self) -> None:
        """The shortest complete signup, as in tests/e2e/test_signup.py: 9 updates."""
        started = time.perf_counter()
        consent = await self._act(lambda: self.fake.send_start(self.user))
        await self.press(consent, "✅ Согласен(на)")
        await self.say(self.user.first_name)
        phone = f"+7916{self.user.id % 10_000_000:07d}"
        # Two replies: the phone confirmation, then the birthday question.
        birthday_q = await self._act(lambda: self.fake.share_contact(self.user, phone), replies=2)
        gender_q = await self.press(birthday_q, "Пропустить")
        city_q = await self.press(gender_q, "Пропустить")
        interests_q = await self.press(city_q, "Пропустить")
        ads_q = await self.press(interests_q, "Готово ✔️")
        welcome = await self.press(ads_q, "Нет, спасибо")
        _expect(bool(BONUS_SHOWN.search(welcome.text or "")), "the welcome bonus", welcome)
        self.flow.journeys.append(time.perf_counter() - started)

    async def ask_balance(self, times: int) -> None:
        for _ in range(times):
            reply = await self.say(BALANCE_BUTTON)
            _expect(bool(BONUS_SHOWN.search(reply.text or "")), "the balance", reply)

    async def echo(self, times: int) -> None:
        for number in range(times):
            text = f"{BALANCE_BUTTON} {number}"
            reply = await self.say(text)
            _expect(reply.text == text, f"the echo of {text!r}", reply)


def _expect(ok: bool, what: str, message: SentMessage) -> None:
    if not ok:
        raise BenchError(f"expected {what} in chat {message.chat_id}, got {message.text!r}")


class ErrorLog(logging.Handler):
    """Errors logged while the benchmark runs (the bot's failures), first occurrence of each."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.first: dict[str, float] = {}  # one line per distinct error -> when first logged
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line = f"{type(error).__module__}.{type(error).__name__}: {error}"
        else:
            line = record.getMessage()
        if len(self.first) < 100:
            self.first.setdefault(line.splitlines()[0][:300], record.created)

    def before(self, moment: float, keep: int = 3) -> list[str]:
        return [line for line, at in self.first.items() if at <= moment][:keep]


def make_settings(api_url: str, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=api_url,
        database_url=database_url,
        redis_url=None,
        link_secret="bench-link-secret-0123456789",  # type: ignore[arg-type]
        shop_name="Кофейня «Зерно»",
        operator_name="ИП Иванова А. А.",
        privacy_policy_url="https://example.com/privacy",
        cities=["Москва", "Тверь"],
        interests=["Кофе", "Десерты", "Зёрна"],
        welcome_bonus=WELCOME_BONUS,
        log_level="WARNING",
    )


def echo_dispatcher() -> Dispatcher:
    """The smallest useful bot: default MemoryStorage, one handler, no middlewares of ours."""
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return dispatcher


@contextlib.asynccontextmanager
async def polling(dispatcher: Dispatcher, bot: Bot, tasks_limit: int | None) -> AsyncIterator[None]:
    """Both bots poll with exactly these settings."""
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            handle_signals=False,
            polling_timeout=POLLING_TIMEOUT,
            handle_as_tasks=True,
            tasks_concurrency_limit=tasks_limit,
        )
    )
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # polling already stopped (or never started)
            await dispatcher.stop_polling()
        await asyncio.wait_for(task, 10)


async def run_load(
    fake: FakeTelegram,
    name: str,
    users: list[FakeUser],
    work: Callable[[Person], Awaitable[None]],
) -> Flow:
    """Every user runs `work` as its own task; the phase lasts until the last one is done."""
    flow = Flow(name)
    polls_before = _polls(fake)
    cpu_before = time.process_time()
    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            for user in users:
                group.create_task(work(Person(fake, user, flow)))
    except* BenchError as failed:
        raise failed.exceptions[0] from None
    flow.seconds = time.perf_counter() - started
    flow.cpu_seconds = time.process_time() - cpu_before
    flow.polls = _polls(fake) - polls_before
    await fake.wait_idle(timeout=REPLY_TIMEOUT)
    return flow


def _polls(fake: FakeTelegram) -> int:
    return sum(1 for method, _ in fake.calls if method == "getUpdates")


def _shares(total: int, parts: int) -> list[int]:
    """`total` requests split as evenly as possible between `parts` customers."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


async def _count_customers(app: App) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Customer)) or 0


async def bench(
    customers: int, requests: int, database_url: str, tasks_limit: int | None
) -> tuple[Flow, Flow, Flow]:
    users = [
        FakeUser(id=FIRST_USER_ID + index, first_name="Анна", language_code="ru")
        for index in range(customers)
    ]
    share = dict(zip((user.id for user in users), _shares(requests, customers), strict=True))
    async with FakeTelegram(token=TOKEN) as fake:
        settings = make_settings(fake.url, database_url)
        app = await create_app(settings, fsm_prefix="bench")
        try:
            if existing := await _count_customers(app):
                raise BenchError(
                    f"the database already has {existing} customer(s); the benchmark signs up "
                    "new ones: give it an empty database"
                )
            async with polling(app.dispatcher, app.bot, tasks_limit):
                signup = await run_load(fake, "questionnaire", users, lambda p: p.sign_up())
                await run_load(fake, "warm-up", users, lambda p: p.ask_balance(1))
                balance = await run_load(
                    fake, "balance", users, lambda p: p.ask_balance(share[p.user.id])
                )
        finally:
            await app.close()

        echo_bot = build_bot(settings)  # the same HTTP client setup as the real bot
        try:
            async with polling(echo_dispatcher(), echo_bot, tasks_limit):
                await run_load(fake, "warm-up", users, lambda p: p.echo(1))
                echo = await run_load(fake, "echo", users, lambda p: p.echo(share[p.user.id]))
        finally:
            await echo_bot.session.close()
    return signup, balance, echo


def report(flows: tuple[Flow, Flow, Flow], args: argparse.Namespace, database_url: str) -> None:
    signup, balance, echo = flows
    backend = make_url(database_url).get_backend_name()
    limit = args.tasks_limit or "none"
    print(
        f"clientbase update benchmark: Python {platform.python_version()}, "
        f"aiogram {aiogram.__version__}, {os.cpu_count()} CPU(s), database {backend}"
    )
    print(
        f"polling, both bots: getUpdates batches of up to 100 (aiogram default), timeout "
        f"{POLLING_TIMEOUT} s, handle_as_tasks=True (each update of a batch is its own task), "
        f"tasks limit {limit}"
    )
    print(
        f"load: {args.customers} customers, each sends its next update when its reply arrived "
        f"(at most {args.customers} in flight); one unmeasured warm-up request per customer "
        "before balance and echo"
    )
    print()
    header = (
        f"{'flow':<14}{'updates':>8}{'seconds':>9}{'updates/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms/update':>15}"
    )
    print(header)
    print("-" * len(header))
    for flow in flows:
        print(
            f"{flow.name:<14}{flow.updates:>8}{flow.seconds:>9.2f}{flow.rate:>11.1f}"
            f"{percentile_ms(flow.latencies, 50):>9.1f}{percentile_ms(flow.latencies, 99):>9.1f}"
            f"{flow.cpu_ms:>15.2f}"
        )
    print()
    print("p50/p99: from pushing one update to its reply (the 2nd reply for the contact)")
    print(
        "CPU ms/update: CPU of this whole process (bot, fake server, customers, database driver) "
        "per update"
    )
    print(
        f"questionnaire: {len(signup.journeys)} signups of 9 updates; one whole signup "
        f"p50 {percentile_ms(signup.journeys, 50):.0f} ms, "
        f"p95 {percentile_ms(signup.journeys, 95):.0f} ms"
    )
    batches = ", ".join(f"{f.name} {f.updates / f.polls:.1f}" for f in flows if f.polls)
    print(f"mean updates per getUpdates: {batches}")
    ratio = balance.rate / echo.rate if echo.rate else math.nan
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    note = "" if backend == "sqlite" else f" (the aim is for SQLite; this run is on {backend})"
    print(f"balance/echo: {ratio:.2f}; aim >= {TARGET_RATIO} on SQLite: {met}{note}")
    print(
        f"by CPU per update (echo/balance): {echo.cpu_ms / balance.cpu_ms:.2f} "
        "(the same comparison, less sensitive to other load on the machine)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.updates",
        description="Update throughput of the bot against an aiogram echo bot (see bench/README).",
    )
    parser.add_argument("--customers", type=int, default=50, help="concurrent customers (50)")
    parser.add_argument(
        "--balance-requests", type=int, default=2000, help="balance (and echo) requests (2000)"
    )
    parser.add_argument(
        "--database-url",
        help="an EMPTY database to use (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument(
        "--tasks-limit",
        type=int,
        default=None,
        help="aiogram tasks_concurrency_limit for both bots (default: none, as in production)",
    )
    args = parser.parse_args(argv)
    if args.customers < 1 or args.balance_requests < args.customers:
        parser.error("need --customers >= 1 and --balance-requests >= --customers")
    if args.tasks_limit is not None and args.tasks_limit < 1:
        parser.error("--tasks-limit must be >= 1")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        try:
            flows = asyncio.run(bench(args.customers, args.balance_requests, url, args.tasks_limit))
        except BenchError as failure:
            print(f"benchmark FAILED: {failure}", file=sys.stderr)
            causes = errors.before(failure.at)
            for line in causes:
                print(f"  bot error before that: {line}", file=sys.stderr)
            if errors.count:
                print(f"  ({errors.count} error(s) logged in all)", file=sys.stderr)
            if any("QueuePool limit" in line for line in causes):
                print(
                    "  the bot ran out of database connections (see bench/README.md); "
                    "--tasks-limit 14 measures in spite of it",
                    file=sys.stderr,
                )
            return 1
    report(flows, args, url)
    if errors.count:
        print(f"warning: {errors.count} error(s) logged during the run", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
