"""Purchases end to end through the point-of-sale HTTP API, beside raw driver SQL of the same.

Run by hand (not a test)::

    .venv/bin/python -m bench.pos [--database-url URL] [--tills N] [--customers M]
                                  [--purchases P] [--log-level LEVEL] [--seed S]

Setup: a fresh SQLite file in a temporary directory (or ``--database-url``: an EMPTY database,
e.g. ``postgresql+asyncpg://postgres@127.0.0.1/bench_pos``), migrated with ``db.migrate``; 2 × M
customers with card numbers (M for the API, M for the raw baseline) and one store token.

1. POS API: the API runs in a child process, as the bot serves it (``start_pos_api``, rate limits
   set out of the way, LOG_LEVEL INFO as in production, the log thrown away). N tills, each an
   asyncio task with its own keep-alive connection on loopback, send P purchases between them by
   card, one after another per till, on M customers picked at random, so tills queue on the same
   customers' ledger locks. Each till sends one unmeasured purchase first. Latency is one whole
   request as the till sees it; CPU is the child's (user + system, every thread, from /proc).
2. Raw baseline, in the same run, on the other M customers: the same logical accrual in driver SQL,
   one transaction each — lock the customer row, read the spend for the tier, insert the purchase
   under its receipt key, insert the accrual lot, read the balance. sqlite3 runs it sequentially
   on one connection (SQLite has one writer per file: more connections only wait for it);
   asyncpg runs N tasks on a pool of up to 20 connections on the M customers. CPU is this
   process's.

Then it checks the API's work from the database: one purchase per 201, and each customer's
accrual points equal to what their purchases say they accrued ("lost updates: 0").
Linux only (the child's CPU is read from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bot.domain.cards import new_card_code
from bot.domain.program import Program
from bot.settings import Settings
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Customer, LedgerEntry, Purchase

STORE = "Бенчмарк, 1"
FIRST_TELEGRAM_ID = 9_200_000_000
RAW_PG_POOL = 20
AIMS = {"sqlite": 0.25, "postgresql": 0.5}  # issue 9: the API's share of the raw rate


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile_ms(self, percent: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] * 1000


def normalise_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def bench_settings(url: str, port: int | None = None, log_level: str = "INFO") -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        pos_api_port=port,
        pos_rate_per_minute=1_000_000,
        pos_failures_per_hour=100_000,
        log_level=log_level,
    )


# --- the server: a child process -----------------------------------------------------------


async def serve(url: str, port: int, log_level: str) -> None:
    """The API as the bot runs it; "ready" on stdout once listening, stops on SIGTERM."""
    from bot.logs import setup_logging
    from bot.pos.app import start_pos_api

    settings = bench_settings(url, port, log_level)
    setup_logging(settings.log_level)
    engine = create_engine(settings.database_url)
    runner = await start_pos_api(create_session_factory(engine), settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()
    await engine.dispose()


def child_cpu_seconds(pid: int) -> float:
    """User + system time of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- setup ---------------------------------------------------------------------------------


async def seed(url: str, customers: int) -> tuple[list[str], list[int], str]:
    """2 × `customers` members with cards: the API's cards, the raw baseline's ids, a token."""
    from bot.services import pos_tokens

    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        if existing := await session.scalar(select(func.count()).select_from(Customer)):
            raise SystemExit(
                f"the database already has {existing} customer(s): give the bench an empty one"
            )
        cards: set[str] = set()
        while len(cards) < 2 * customers:
            cards.add(new_card_code())
        rows = [
            {
                "telegram_id": FIRST_TELEGRAM_ID + number,
                "status": "active",
                "name": f"Клиент {number}",
                "phone": f"+7918{number:07d}",
                "card_code": card,
            }
            for number, card in enumerate(sorted(cards))
        ]
        ids = list(await session.scalars(insert(Customer).returning(Customer.id), rows))
        await session.commit()
        token = await pos_tokens.issue_token(session, STORE)
    await engine.dispose()
    api_cards = [row["card_code"] for row in rows[:customers]]
    return api_cards, ids[customers:], token


# --- the tills -----------------------------------------------------------------------------


async def through_the_api(
    port: int, token: str, cards: list[str], tills: int, purchases: int, pid: int, seed: int
) -> Run:
    run = Run("POS API, bot process CPU")
    url = f"http://127.0.0.1:{port}/api/v1/purchases"
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=tills)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def buy(rng: random.Random, receipt: str, measured: bool) -> None:
            body = {
                "card": rng.choice(cards),
                "amount": f"{rng.randint(100, 3000)}.{rng.randint(0, 99):02d}",
                "receipt_id": receipt,
            }
            began = time.perf_counter()
            async with http.post(url, json=body) as response:
                await response.read()
                status = response.status
            if status != 201:
                run.failures[str(status)] += 1
            elif measured:
                run.latencies.append(time.perf_counter() - began)

        async def till(number: int, count: int) -> None:
            rng = random.Random(seed * 1000 + number)
            for n in range(count):
                await buy(rng, f"T{number}-{n}", measured=True)

        await asyncio.gather(
            *(buy(random.Random(-n), f"W{n}", measured=False) for n in range(tills))
        )
        shares = [purchases // tills + (n < purchases % tills) for n in range(tills)]
        cpu_before, started = child_cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(till(n, share) for n, share in enumerate(shares)))
        run.seconds = time.perf_counter() - started
        run.cpu_seconds = child_cpu_seconds(pid) - cpu_before
    return run


# --- the raw baseline ----------------------------------------------------------------------

LOCK = (
    "UPDATE customers SET ledger_version = ledger_version + 1 WHERE id = {c} AND status = 'active'"
)
SPEND = "SELECT COALESCE(SUM(amount - refunded_amount), 0) FROM purchases WHERE customer_id = {c}"
PURCHASE = (
    "INSERT INTO purchases (customer_id, store, amount, redeemed, accrued, refunded_amount,"
    " receipt_id, channel, actor, created_at)"
    " VALUES ({c}, {store}, {amount}, 0, {accrued}, 0, {receipt}, 'pos', 'raw', {now})"
    " ON CONFLICT (store, receipt_id) DO NOTHING RETURNING id"
)
LOT = (
    "INSERT INTO ledger_entries (customer_id, kind, points, reason, idempotency_key, created_at,"
    " remaining, expires_at, purchase_id, actor)"
    " VALUES ({c}, 'accrual', {points}, 'purchase', {key}, {now}, {points}, {expires},"
    " {purchase}, 'raw')"
)
BALANCE = (
    "SELECT COALESCE(SUM(remaining), 0) FROM ledger_entries WHERE customer_id = {c}"
    " AND remaining > 0"
)


def _sqlite(statement: str, names: list[str]) -> str:
    return statement.format(**{name: f":{name}" for name in names})


def _asyncpg(statement: str, names: list[str]) -> str:
    return statement.format(**{name: f"${number}" for number, name in enumerate(names, 1)})


def raw_sqlite(path: str, customers: list[int], purchases: int, program: Program, seed: int) -> Run:
    run = Run("raw sqlite3, sequential, 1 connection")
    rng = random.Random(seed)
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
        connection.execute(f"PRAGMA {pragma}")
    lock, spend, balance = (_sqlite(s, ["c"]) for s in (LOCK, SPEND, BALANCE))
    purchase = _sqlite(PURCHASE, ["c", "store", "amount", "accrued", "receipt", "now"])
    lot = _sqlite(LOT, ["c", "points", "key", "now", "expires", "purchase"])
    cpu_before, started = time.process_time(), time.perf_counter()
    for n in range(purchases):
        customer, amount = rng.choice(customers), rng.randint(100_00, 3000_99)
        now = datetime.now(UTC)
        stamp, expires = (
            f"{moment:%Y-%m-%d %H:%M:%S.%f}" for moment in (now, now + timedelta(365))
        )
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(lock, {"c": customer})
        spent = connection.execute(spend, {"c": customer}).fetchone()[0]
        points = program.accrual(amount, spent)
        receipt = f"R{n}"
        values = {"c": customer, "store": STORE, "amount": amount, "accrued": points}
        values |= {"receipt": receipt, "now": stamp}
        purchase_id = connection.execute(purchase, values).fetchone()[0]
        connection.execute(
            lot,
            {
                "c": customer,
                "points": points,
                "key": f"accrual:raw:{purchase_id}",
                "now": stamp,
                "expires": expires,
                "purchase": purchase_id,
            },
        )
        connection.execute(balance, {"c": customer}).fetchone()
        connection.execute("COMMIT")
        run.latencies.append(time.perf_counter() - began)
    run.seconds = time.perf_counter() - started
    run.cpu_seconds = time.process_time() - cpu_before
    connection.close()
    return run


async def raw_asyncpg(
    dsn: str, customers: list[int], purchases: int, tasks: int, program: Program, seed: int
) -> Run:
    size = min(tasks, RAW_PG_POOL)
    run = Run(f"raw asyncpg, {tasks} tasks, pool of {size}")
    lock, spend, balance = (_asyncpg(s, ["c"]) for s in (LOCK, SPEND, BALANCE))
    purchase = _asyncpg(PURCHASE, ["c", "store", "amount", "accrued", "receipt", "now"])
    lot = _asyncpg(LOT, ["c", "points", "key", "now", "expires", "purchase"])
    pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)

    async def one(rng: random.Random, receipt: str) -> None:
        customer, amount = rng.choice(customers), rng.randint(100_00, 3000_99)
        now = datetime.now(UTC)
        began = time.perf_counter()
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(lock, customer)
            spent = await connection.fetchval(spend, customer)
            points = program.accrual(amount, int(spent))
            purchase_id = await connection.fetchval(
                purchase, customer, STORE, amount, points, receipt, now
            )
            await connection.execute(
                lot,
                customer,
                points,
                f"accrual:raw:{purchase_id}",
                now,
                now + timedelta(365),
                purchase_id,
            )
            await connection.fetchval(balance, customer)
        run.latencies.append(time.perf_counter() - began)

    async def task(number: int, count: int) -> None:
        rng = random.Random(seed * 1000 + number)
        for n in range(count):
            await one(rng, f"R{number}-{n}")

    shares = [purchases // tasks + (n < purchases % tasks) for n in range(tasks)]
    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task(n, share) for n, share in enumerate(shares)))
    run.seconds = time.perf_counter() - started
    run.cpu_seconds = time.process_time() - cpu_before
    await pool.close()
    return run


# --- checking and reporting ----------------------------------------------------------------


async def lost_updates(url: str, cards: list[str], accepted: int, failed: int) -> list[str]:
    """What the database says against what the tills were told: every 201 recorded, and a
    failed request recorded or not (the till's retry with the same receipt id tells which)."""
    engine = create_engine(url)
    problems = []
    ids = select(Customer.id).where(Customer.card_code.in_(cards)).scalar_subquery()
    async with engine.connect() as connection:
        recorded = await connection.scalar(
            select(func.count()).select_from(Purchase).where(Purchase.customer_id.in_(ids))
        )
        if not accepted <= recorded <= accepted + failed:
            problems.append(
                f"{recorded} purchases recorded for {accepted} answered 201 and {failed} failed"
            )
        said_rows = await connection.execute(
            select(Purchase.customer_id, func.sum(Purchase.accrued))
            .where(Purchase.customer_id.in_(ids))
            .group_by(Purchase.customer_id)
        )
        said = {customer: int(points) for customer, points in said_rows}
        lot_rows = await connection.execute(
            select(LedgerEntry.customer_id, func.sum(LedgerEntry.points))
            .where(LedgerEntry.customer_id.in_(ids), LedgerEntry.kind == "accrual")
            .group_by(LedgerEntry.customer_id)
        )
        lots = {customer: int(points) for customer, points in lot_rows}
    await engine.dispose()
    for customer, accrued in said.items():
        if accrued != lots.get(customer, 0):
            problems.append(
                f"customer {customer}: purchases say {accrued}, lots {lots.get(customer)}"
            )
    return problems


def print_report(engine: str, version: str, args: argparse.Namespace, runs: list[Run]) -> None:
    print(
        f"\n{args.purchases} purchases by {args.tills} tills on {args.customers} customers,"
        f" {engine} {version}, Python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| run | purchases | s | purchases/s | p50 ms | p99 ms | CPU ms/purchase | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        cpu = run.cpu_seconds * 1000 / run.done if run.done else 0.0
        failed = ", ".join(f"{n}×{status}" for status, n in run.failures.items()) or "0"
        print(
            f"| {run.name} | {run.done} | {run.seconds:.1f} | {run.rate:.1f} |"
            f" {run.percentile_ms(50):.1f} | {run.percentile_ms(99):.1f} | {cpu:.2f} | {failed} |"
        )
    api, raw = runs
    share = api.rate / raw.rate if raw.rate else 0.0
    aim = AIMS[engine]
    print(
        f"\nPOS API / raw: {share:.3f} of the raw rate (aim ≥ {aim:g} on {engine}:"
        f" {'met' if share >= aim else 'NOT met'});"
        f" p99 API / raw: {api.percentile_ms(99) / max(raw.percentile_ms(99), 1e-9):.1f}×"
    )


async def server_version(url: str) -> str:
    engine = create_engine(url)
    async with engine.connect() as connection:
        query = "SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version"
        version = str(await connection.scalar(text(query)))
    await engine.dispose()
    return version


async def with_server(url: str, log_level: str, work: Callable[[int, int], Awaitable[Run]]) -> Run:
    """Start the API in a child process, run `work(port, pid)`, stop it; the child's first
    error lines are printed when a request failed."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.pos",
            "--serve",
            str(port),
            "--database-url",
            url,
            "--log-level",
            log_level,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        try:
            assert child.stdout is not None
            if (await child.stdout.readline()).strip() != b"ready":
                log.seek(0)
                raise SystemExit("the API did not start:\n" + log.read().decode()[-3000:])
            run = await work(port, child.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
            await child.wait()
        if run.failures:
            log.seek(0)
            lines = log.read().decode().splitlines()
            errors = Counter(line.split(": ", 1)[1] for line in lines if "_InternalError: " in line)
            print("the API's errors:\n  " + "\n  ".join(f"{n}× {e}" for e, n in errors.items()))
    return run


async def run(args: argparse.Namespace, url: str) -> int:
    engine_name = "sqlite" if url.startswith("sqlite") else "postgresql"
    cards, raw_customers, token = await seed(url, args.customers)
    version = await server_version(url)
    program = bench_settings(url).program

    async def api_run(port: int, pid: int) -> Run:
        return await through_the_api(port, token, cards, args.tills, args.purchases, pid, args.seed)

    api = await with_server(url, args.log_level, api_run)
    if engine_name == "sqlite":
        path = make_url(url).database or ""
        raw = raw_sqlite(path, raw_customers, args.purchases, program, args.seed)
    else:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        raw = await raw_asyncpg(dsn, raw_customers, args.purchases, args.tills, program, args.seed)
    print_report(engine_name, version, args, [api, raw])
    failed = api.failures.total()
    problems = await lost_updates(url, cards, api.done + args.tills - failed, failed)
    if problems:
        print("LOST UPDATES:\n  " + "\n  ".join(problems[:20]))
        return 1
    print("lost updates: 0")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pos", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: a temporary SQLite)")
    parser.add_argument("--tills", type=int, default=50)
    parser.add_argument("--customers", type=int, default=5)
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--log-level", default="INFO", help="the API process's LOG_LEVEL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        asyncio.run(serve(args.database_url, args.serve, args.log_level))
        return 0
    if args.database_url:
        return asyncio.run(run(args, normalise_url(args.database_url)))
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench_pos.db'}"
        return asyncio.run(run(args, url))


if __name__ == "__main__":
    sys.exit(main())
