"""Members' updates through the real bot, next to a bare aiogram echo bot, measured from outside.

Run by hand (not a test)::

    .venv/bin/python -m bench.updates [--customers N] [--requests M] [--database-url URL]

The bot runs in a process of its own (``python -m bench.updates --serve …``) and
long-polls ``FakeTelegram``, which runs in this process with the simulated customers; so the
bot's CPU is measured alone (``/proc/<pid>/stat``), and the fake's and the customers' work is
not in it. In one run:

1. untimed: N members sign up (the whole questionnaire) and ask for their balance once;
2. ``/balance``: M commands; each member sends the next when the reply arrived (at most N in
   flight, a closed loop);
3. menu buttons: M taps, alternating "💰 Баланс" and "❓ Помощь";
4. signup step: N newcomers are brought to the name question (untimed), then answer it and go
   back to it ("⬅️ Назад"), M updates in all, each one step of the questionnaire;
5. echo: the bot process is replaced by a bare aiogram bot, a Dispatcher with one
   ``message.answer(message.text)`` handler and MemoryStorage, nothing of the project imported,
   and the same members send M texts the same way;
6. tuned echo: the same echo bot, its process set up as the bot's is (``bot.startup``:
   start-up objects frozen out of the garbage collector's sight, aiogram's response types
   held). Against it only the work per update differs; the goals are set against the bare one.

All bots poll with aiogram's defaults as ``bot.app.run_polling`` does (batches of up to 100,
every update of a batch its own task) and a 1 s long-poll timeout. Rates depend on N: compare
runs with the same N only. Linux only (CPU from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiogram
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Message
from sqlalchemy.engine import make_url

from bot.sandbox.fake_telegram import FakeTelegram, FakeUser, SentMessage
from bot.settings import Settings

TOKEN = "123456:TEST-fake-telegram-token-0123456789"  # FakeTelegram's default token
POLLING_TIMEOUT = 1  # seconds a getUpdates may hang when there is nothing (as the e2e tests)
FIRST_USER_ID = 7_000_001
REPLY_TIMEOUT = 35.0  # longer than SQLAlchemy's 30 s pool timeout: a stall is the bot's own
START_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0  # the bot idle before a phase is timed (its CPU near zero)
WELCOME_BONUS = 100
BALANCE_BUTTON = "💰 Баланс"
HELP_BUTTON = "❓ Помощь"
BACK = "⬅️ Назад"
BONUS_SHOWN = re.compile(rf"\b{WELCOME_BONUS}\b")
ECHO, TUNED = "echo", "tuned echo"
ECHOES = (ECHO, TUNED)
# Goals, as shares of the echo bot's rate (issue 9).
GOALS = {
    "/balance": {"sqlite": 0.8, "postgresql": 0.7},
    "menu buttons": {"sqlite": 0.8, "postgresql": 0.7},
    "signup step": {"sqlite": 0.5, "postgresql": 0.5},
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Flow:
    """What one measured phase did: updates pushed, wall time, latencies, CPU (seconds)."""

    name: str
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # one update to its (last) reply
    bot_cpu: float = 0.0  # the bot's process, all threads
    driver_cpu: float = 0.0  # this process: the fake Bot API and the customers
    polls: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def ms_per_update(self, seconds: float) -> float:
        return seconds / self.updates * 1000 if self.updates else math.nan


def percentile_ms(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1] * 1000


class BenchError(Exception):
    """The bot did not answer as it should: the figures would mean nothing."""


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
                    f"{REPLY_TIMEOUT:.0f} s (see the bot's errors above)"
                ) from None
        self.flow.latencies.append(time.perf_counter() - started)
        return reply

    async def say(self, text: str) -> SentMessage:
        return await self._act(lambda: self.fake.send_text(self.user, text))

    async def press(self, message: SentMessage, button: str) -> SentMessage:
        return await self._act(lambda: self.fake.press(self.user, message, button))

    async def to_name_question(self) -> None:
        consent = await self._act(lambda: self.fake.send_start(self.user))
        name_q = await self.press(consent, "✅ Согласен(на)")
        _expect("Как вас зовут" in (name_q.text or ""), "the name question", name_q)

    async def sign_up(self) -> None:
        """The shortest complete signup, as in tests/e2e/test_signup.py."""
        await self.to_name_question()
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

    async def balance(self, times: int, texts: tuple[str, ...] = ("/balance",)) -> None:
        for number in range(times):
            text = texts[number % len(texts)]
            reply = await self.say(text)
            if text == HELP_BUTTON:
                _expect("/balance" in (reply.text or ""), "the help", reply)
            else:
                _expect(bool(BONUS_SHOWN.search(reply.text or "")), "the balance", reply)

    async def signup_steps(self, times: int) -> None:
        """Answer the name, go back to it, and so on: each update one questionnaire step."""
        for number in range(times):
            reply = await self.say(BACK if number % 2 else self.user.first_name)
            expected = "Как вас зовут" if number % 2 else "номер телефона"
            _expect(expected in (reply.text or ""), f"the next step ({expected})", reply)

    async def echo(self, times: int) -> None:
        for number in range(times):
            text = f"{BALANCE_BUTTON} {number}"
            reply = await self.say(text)
            _expect(reply.text == text, f"the echo of {text!r}", reply)


def _expect(ok: bool, what: str, message: SentMessage) -> None:
    if not ok:
        raise BenchError(f"expected {what} in chat {message.chat_id}, got {message.text!r}")


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
        owner_ids=[1],  # a shop with an owner: /start signs customers up (no set-up message)
    )


# --- the bot's process ------------------------------------------------------------------------


def echo_dispatcher() -> Dispatcher:
    """The smallest useful bot: default MemoryStorage, one handler, no middlewares of ours."""
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return dispatcher


def echo_bot(api_url: str) -> Bot:
    """A bare aiogram Bot for the echo: nothing of the project is imported into its process,
    whose garbage collections would then go through the project's objects too."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def serve(kind: str, api_url: str, database_url: str) -> None:
    """Poll until SIGTERM, as `bot.app.serve` does (aiogram's defaults)."""
    if kind in ECHOES:
        bot, dispatcher, close = echo_bot(api_url), echo_dispatcher(), None
        if kind == TUNED:
            from bot.startup import keep_startup_objects  # importing it holds response types

            keep_startup_objects()
    else:
        from bot.app import create_app
        from bot.startup import keep_startup_objects

        app = await create_app(make_settings(api_url, database_url), fsm_prefix="bench")
        bot, dispatcher, close = app.bot, app.dispatcher, app.close
        keep_startup_objects()
    try:
        await dispatcher.start_polling(bot, polling_timeout=POLLING_TIMEOUT, handle_signals=True)
    finally:
        await (close() if close else bot.session.close())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.asynccontextmanager
async def bot_process(
    kind: str, fake: FakeTelegram, database_url: str, profile_dir: str | None
) -> AsyncIterator[int]:
    """The bot in a process of its own, polling the fake; yields its pid once it polls."""
    polls = _polls(fake)
    command = ["-m", "bench.updates", "--serve", kind, "--api-url", fake.url]
    command += ["--database-url", database_url]
    if profile_dir:
        command += ["--profile", str(Path(profile_dir) / f"{kind.replace(' ', '-')}.prof")]
    process = await asyncio.create_subprocess_exec(sys.executable, *command, cwd=ROOT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while _polls(fake) == polls:
            if process.returncode is not None or time.monotonic() > deadline:
                raise BenchError(f"the {kind} bot did not start polling")
            await asyncio.sleep(0.05)
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have stopped on its own
            process.terminate()
        await process.wait()  # the fake keeps answering while the bot stops


async def run_load(
    fake: FakeTelegram,
    pid: int,
    name: str,
    users: list[FakeUser],
    work: Callable[[Person], Coroutine[Any, Any, None]],
) -> Flow:
    """Every user runs `work` as its own task; the phase lasts until the last one is done.

    It starts once the bot has settled: work left over from the phase before (the outbox of
    50 signups, say) would otherwise be counted as this phase's CPU.
    """
    await settle(pid)
    flow = Flow(name)
    polls, bot_cpu, driver_cpu = _polls(fake), cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            for user in users:
                group.create_task(work(Person(fake, user, flow)))
    except* BenchError as failed:
        raise failed.exceptions[0] from None
    flow.seconds = time.perf_counter() - started
    flow.bot_cpu = cpu_seconds(pid) - bot_cpu
    flow.driver_cpu = time.process_time() - driver_cpu
    flow.polls = _polls(fake) - polls
    await fake.wait_idle(timeout=REPLY_TIMEOUT)
    return flow


async def settle(pid: int, window: float = 0.2, idle_share: float = 0.02) -> None:
    """Until the bot uses under `idle_share` of a core over `window` seconds (30 s at most)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        if cpu_seconds(pid) - before < idle_share * window:
            return


def _polls(fake: FakeTelegram) -> int:
    return sum(1 for method, _ in fake.calls if method == "getUpdates")


def _shares(total: int, parts: int) -> list[int]:
    """`total` requests split as evenly as possible between `parts` customers."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


async def bench(
    customers: int, requests: int, database_url: str, profile_dir: str | None = None
) -> list[Flow]:
    members = [
        FakeUser(id=FIRST_USER_ID + index, first_name="Анна", language_code="ru")
        for index in range(customers)
    ]
    newcomers = [
        FakeUser(id=FIRST_USER_ID + customers + index, first_name="Борис", language_code="ru")
        for index in range(customers)
    ]
    shares = _shares(requests, customers)
    share = {
        user.id: shares[index] for users in (members, newcomers) for index, user in enumerate(users)
    }
    async with FakeTelegram(token=TOKEN) as fake:
        async with bot_process("real", fake, database_url, profile_dir) as pid:
            await run_load(fake, pid, "signup", members, lambda p: p.sign_up())
            await run_load(fake, pid, "warm-up", members, lambda p: p.balance(1))
            balance = await run_load(
                fake, pid, "/balance", members, lambda p: p.balance(share[p.user.id])
            )
            buttons = (BALANCE_BUTTON, HELP_BUTTON)
            menu = await run_load(
                fake, pid, "menu buttons", members, lambda p: p.balance(share[p.user.id], buttons)
            )
            await run_load(fake, pid, "to the name", newcomers, lambda p: p.to_name_question())
            step = await run_load(
                fake, pid, "signup step", newcomers, lambda p: p.signup_steps(share[p.user.id])
            )
        echoes = []
        for kind in ECHOES:
            async with bot_process(kind, fake, database_url, profile_dir) as pid:
                await run_load(fake, pid, "warm-up", members, lambda p: p.echo(1))
                echoes.append(
                    await run_load(fake, pid, kind, members, lambda p: p.echo(share[p.user.id]))
                )
    return [balance, menu, step, *echoes]


def report(flows: list[Flow], customers: int, database_url: str) -> None:
    backend = make_url(database_url).get_backend_name()
    echo, tuned = flows[-2:]
    print(
        f"clientbase update benchmark: Python {platform.python_version()}, aiogram "
        f"{aiogram.__version__}, {os.cpu_count()} CPU(s), database {backend}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"{customers} members, each sends its next update when its reply arrived; the bot in "
        "its own process, polling with aiogram's defaults"
    )
    print()
    header = (
        f"{'flow':<14}{'updates':>8}{'s':>7}{'updates/s':>11}{'× echo':>8}{'goal':>7}"
        f"{'× tuned':>9}{'bot CPU ms':>12}{'p50 ms':>8}{'p99 ms':>8}{'per poll':>9}"
    )
    print(header)
    print("-" * len(header))
    for flow in flows:
        ratio = flow.rate / echo.rate if echo.rate else math.nan
        to_tuned = flow.rate / tuned.rate if tuned.rate else math.nan
        goal = GOALS.get(flow.name, {}).get(backend)
        mark = "" if goal is None else (f"{goal:.1f}✓" if ratio >= goal else f"{goal:.1f}✗")
        print(
            f"{flow.name:<14}{flow.updates:>8}{flow.seconds:>7.2f}{flow.rate:>11.1f}"
            f"{ratio:>8.2f}{mark:>7}{to_tuned:>9.2f}{flow.ms_per_update(flow.bot_cpu):>12.2f}"
            f"{percentile_ms(flow.latencies, 50):>8.1f}{percentile_ms(flow.latencies, 99):>8.1f}"
            f"{flow.updates / flow.polls if flow.polls else math.nan:>9.1f}"
        )
    print()
    print("× echo: the flow's rate over the bare echo bot's rate in this run (the goals' anchor);")
    print("  goal: ✓ met, ✗ not met. × tuned: over the tuned echo bot's rate, whose process is set")
    print("  up as the bot's is (start-up objects frozen, aiogram's response types held)")
    print("bot CPU ms: CPU of the bot's process (all its threads) per update")
    print("p50/p99: from pushing one update to its reply; per poll: updates per getUpdates")
    driver = ", ".join(f"{f.name} {f.ms_per_update(f.driver_cpu):.2f}" for f in flows)
    print(f"fake Bot API + customers CPU ms per update (not the bot's): {driver}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.updates",
        description="Members' updates through the bot against an aiogram echo bot "
        "(see bench/README.md).",
    )
    parser.add_argument("--customers", type=int, default=50, help="concurrent members (50)")
    parser.add_argument("--requests", type=int, default=2000, help="updates per flow (2000)")
    parser.add_argument(
        "--database-url",
        help="an EMPTY database to use (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run each bot under cProfile: DIR/real.prof, DIR/echo.prof, DIR/tuned-echo.prof",
    )
    parser.add_argument("--serve", choices=("real", *ECHOES), help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.serve:
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        asyncio.run(serve(args.serve, args.api_url, args.database_url))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        return 0
    if args.customers < 1 or args.requests < args.customers:
        parser.error("need --customers >= 1 and --requests >= --customers")
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        try:
            flows = asyncio.run(bench(args.customers, args.requests, url, args.profile))
        except BenchError as failure:
            print(f"benchmark FAILED: {failure}", file=sys.stderr)
            return 1
    report(flows, args.customers, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
