"""Throughput of the points ledger (``bot.services.ledger``) and proof that it loses nothing.

Run by hand (not a test)::

    .venv/bin/python -m bench.ledger [--database-url URL] [--customers N] [--purchases M]
                                     [--cashiers C] [--hot H] [--seed S]

Setup: a fresh SQLite file in a temporary directory (or ``--database-url``: an EMPTY database,
e.g. ``postgresql+asyncpg://postgres@127.0.0.1/bench_ledger``), migrated with ``db.migrate``;
N customers inserted in one statement, each then given the welcome bonus by ``add_bonus``, and
N more customers for the raw-driver baseline.

1. raw sequential: M accruals one after another in raw sqlite3 or asyncpg, the same logical
   accrual as the project's (lock the customer row, insert the purchase, insert its lot, update
   the spend; one transaction), on the baseline's own customers;
2. sequential: M purchases one after another through ``record_purchase``, each in its own
   session (as the POS API does per request), random customers and amounts, distinct receipts;
3. PostgreSQL only: C tills share M accruals on H hot customers, first in raw asyncpg (a pool as
   large as the engine's), then through ``record_purchase`` with the same plan;
4. concurrent: C cashier tasks share M more purchases, each purchase in the task's own session,
   all on H "hot" customers (10) so that they queue on the same ledger locks; 60 % of the
   purchases also pay with points (half the cap to the cap), more than accruals bring in, so
   hot balances hover near zero and many are refused (``NotEnoughPointsError``: counted as
   refused, not as lost).

The last lines print the project's rate as a share of the raw driver's, measured side by side
(goals: >= 1/4 of raw sqlite3, >= 1/2 of raw asyncpg) and, on PostgreSQL, the tills' p99 against
the raw tills' p99 (goal: <= 2x).

Latency is one whole purchase: session, pool checkout, the service call, commit and close.
Afterwards every customer is checked from the database (see ``verify``); "lost updates: 0" is
printed only when every check holds.

SQLite keeps one writer per database file: every purchase holds the file's write lock from the
customer UPDATE to COMMIT, so concurrent cashiers queue on that one lock whatever customer they
serve, polling for it with SQLite's busy handler (sleeps of up to 100 ms, 10 s busy_timeout).
More tasks only add waiting and, past the timeout, "database is locked"; hence C defaults to 10
on SQLite and to 100 on PostgreSQL, where the engine's pool is sized for C (within the server's
free connections).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.program import Program, parse_tiers
from bot.services import ledger
from bot.services.ledger import NotEnoughPointsError
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Customer, LedgerAllocation, LedgerEntry, Purchase

RUB = 100  # kopecks
PROGRAM = Program(
    tiers=parse_tiers("Base:0:5, Silver:10000:7, Gold:30000:10"),
    purchase_points_days=365,
    bonus_points_days=365,
    welcome_bonus=100,
)
FIRST_TELEGRAM_ID = 9_100_000_000
SQLITE_CASHIERS = 10
PG_CASHIERS = 100
PG_SPARE_CONNECTIONS = 10  # left free on a shared server for everybody else
SETUP_CHUNK = 500  # welcome bonuses per commit
# Share of concurrent purchases that also pay with points (half the cap to the cap): more than
# the accruals bring in, so hot balances hover near zero and the overdraw guard gets tested.
REDEEMING = 0.6


@dataclass
class Scenario:
    name: str
    engine: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    refused: int = 0
    statements: int = 0
    cpu: float = 0.0  # this process's CPU seconds (all its threads)
    connections: int = 0  # opened during the scenario
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def operations(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


@dataclass
class Book:
    """What the service said it did: the bench's own account, to compare with the database."""

    welcome: dict[int, int] = field(default_factory=dict)
    delta: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    accepted: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    redeemed: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    accrued: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, result: ledger.PurchaseResult) -> None:
        if result.duplicate:
            raise AssertionError(f"receipt of purchase {result.purchase_id} taken as a duplicate")
        customer = result.customer_id
        self.delta[customer] += result.accrued - result.redeemed
        self.accepted[customer] += 1
        self.redeemed[customer] += result.redeemed
        self.accrued[customer] += result.accrued


def percentile_ms(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1] * 1000


class Meter:
    """SQL statements sent (one executemany counts once), connections opened, CPU used."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.connections = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(engine.sync_engine, "connect", self._connection)

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _connection(self, *_args: Any) -> None:
        self.connections += 1

    @contextlib.contextmanager
    def measure(self, scenario: Scenario) -> Iterator[None]:
        statements, connections = self.statements, self.connections
        cpu = time.process_time()
        try:
            yield
        finally:
            scenario.cpu = time.process_time() - cpu
            scenario.statements = self.statements - statements
            scenario.connections = self.connections - connections


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


async def pg_free_connections(url: str) -> int:
    """Client connections the server would still accept (for everyone, not only us)."""
    probe = create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        async with probe.connect() as connection:
            free = await connection.scalar(
                text(
                    "SELECT current_setting('max_connections')::int"
                    " - current_setting('superuser_reserved_connections')::int"
                    " - (SELECT count(*) FROM pg_stat_activity"
                    "    WHERE backend_type = 'client backend')"
                )
            )
    finally:
        await probe.dispose()
    return int(free or 0) + 1  # the probe's own connection is free again


async def open_engine(url: str, cashiers: int) -> tuple[AsyncEngine, str, int, int]:
    """The engine, a note on its pool, its size and its most connections: room for every
    cashier at once where possible."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, pool_size=cashiers, max_overflow=0, pool_timeout=60)
        return engine, f"pool_size={cashiers} max_overflow=0", cashiers, cashiers
    room = await pg_free_connections(url) - PG_SPARE_CONNECTIONS
    connections = max(1, min(cashiers, room))
    # All of them in the pool (no overflow): an overflow connection is closed when returned and
    # opened again by the next scenario, and connecting is not the ledger's work.
    engine = create_engine(url, pool_size=connections, max_overflow=0, pool_timeout=60)
    note = f"pool_size={connections} max_overflow=0"
    if connections < cashiers:
        note += (
            f" (the server has room for {room + PG_SPARE_CONNECTIONS} more connections and we"
            f" leave {PG_SPARE_CONNECTIONS}: {cashiers - connections} cashiers wait for the pool)"
        )
    size = connections
    return engine, note, size, connections


async def setup(
    sessions: async_sessionmaker, customers: int, scenario: Scenario
) -> tuple[Book, list[int]]:
    """N customers in one INSERT, then the welcome bonus of each through the service; and N
    more for the raw-driver baseline (no bonus: its accruals need none)."""
    book = Book()
    async with sessions() as session:
        if existing := await session.scalar(select(func.count()).select_from(Customer)):
            raise SystemExit(
                f"the database already has {existing} customer(s): give the bench an empty one"
            )
    started = time.perf_counter()
    async with sessions() as session:
        rows = [
            {
                "telegram_id": FIRST_TELEGRAM_ID + number,
                "status": "active",
                "name": f"Клиент {number}",
                "phone": f"+7917{number:07d}",
            }
            for number in range(2 * customers)
        ]
        everyone = list(await session.scalars(insert(Customer).returning(Customer.id), rows))
        await session.commit()
    ids, raw = everyone[:customers], everyone[customers:]
    for chunk in (ids[at : at + SETUP_CHUNK] for at in range(0, len(ids), SETUP_CHUNK)):
        async with sessions() as session:
            for customer in chunk:
                began = time.perf_counter()
                added = await ledger.add_bonus(
                    session,
                    PROGRAM,
                    customer,
                    PROGRAM.welcome_bonus,
                    key=f"welcome:{customer}",
                    reason="welcome",
                )
                if not added:
                    raise AssertionError(f"welcome bonus of customer {customer} not added")
                book.welcome[customer] = PROGRAM.welcome_bonus
                scenario.latencies.append(time.perf_counter() - began)
            await session.commit()
    scenario.seconds = time.perf_counter() - started
    return book, raw


# --- the raw-driver baseline ---------------------------------------------------------------------
# The same logical accrual with no project code in between: lock the customer row (which yields
# the spend the tier needs), insert the purchase, insert its ledger lot, update the spend; one
# transaction, statements written by hand, the driver's own statement cache. Its customers are
# separate ("raw") ones, and its rows obey the checks in `verify` like the project's do.

RAW_STORE = "raw"
RAW_SQL = {
    "lock": (
        "UPDATE customers SET ledger_version = ledger_version + 1 WHERE id = {0} RETURNING spend"
    ),
    "purchase": (
        "INSERT INTO purchases (customer_id, store, amount, redeemed, accrued, refunded_amount,"
        " receipt_id, channel, actor, created_at)"
        " VALUES ({0}, {1}, {2}, 0, {3}, 0, {4}, 'raw', 'raw', {5}) RETURNING id"
    ),
    "lot": (
        "INSERT INTO ledger_entries (customer_id, kind, points, reason, idempotency_key,"
        " created_at, remaining, expires_at, purchase_id, actor)"
        " VALUES ({0}, 'accrual', {1}, '', {2}, {3}, {1}, {4}, {5}, 'raw')"
    ),
    "spend": "UPDATE customers SET spend = spend + {1} WHERE id = {0}",
}
SQLITE_RAW = {name: sql.format(*[f"?{n}" for n in range(1, 7)]) for name, sql in RAW_SQL.items()}
PG_RAW = {name: sql.format(*[f"${n}" for n in range(1, 7)]) for name, sql in RAW_SQL.items()}
LOT_DAYS = timedelta(days=PROGRAM.purchase_points_days)


def sqlite_time(moment: datetime) -> str:
    """As SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def raw_sqlite_accrual(db: sqlite3.Connection, customer: int, amount: int, receipt: str) -> None:
    now = datetime.now(UTC)
    db.execute("BEGIN")
    (spend,) = db.execute(SQLITE_RAW["lock"], (customer,)).fetchone()
    accrued = PROGRAM.accrual(amount, spend)
    (purchase,) = db.execute(
        SQLITE_RAW["purchase"], (customer, RAW_STORE, amount, accrued, receipt, sqlite_time(now))
    ).fetchone()
    if accrued:
        db.execute(
            SQLITE_RAW["lot"],
            (
                customer,
                accrued,
                f"accrual:{purchase}",
                sqlite_time(now),
                sqlite_time(now + LOT_DAYS),
                purchase,
            ),
        )
    db.execute(SQLITE_RAW["spend"], (customer, amount))
    db.execute("COMMIT")


async def raw_pg_accrual(db: asyncpg.Connection, customer: int, amount: int, receipt: str) -> None:
    now = datetime.now(UTC)
    async with db.transaction():
        spend = await db.fetchval(PG_RAW["lock"], customer)
        accrued = PROGRAM.accrual(amount, spend)
        purchase = await db.fetchval(
            PG_RAW["purchase"], customer, RAW_STORE, amount, accrued, receipt, now
        )
        if accrued:
            await db.execute(
                PG_RAW["lot"],
                customer,
                accrued,
                f"accrual:{purchase}",
                now,
                now + LOT_DAYS,
                purchase,
            )
        await db.execute(PG_RAW["spend"], customer, amount)


def sqlite_path(url: str) -> str:
    return str(make_url(url).database)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def open_raw_sqlite(url: str) -> sqlite3.Connection:
    """Autocommit mode, so BEGIN and COMMIT are ours; the engine's pragmas."""
    db = sqlite3.connect(sqlite_path(url), isolation_level=None)
    for pragma in (
        "foreign_keys=ON",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=10000",
    ):
        db.execute(f"PRAGMA {pragma}")
    return db


def plan_sequential(
    customers: list[int], purchases: int, rng: random.Random
) -> list[tuple[int, int]]:
    return [
        (rng.choice(customers), rng.randint(50, 5000) * RUB + rng.randint(0, 99))
        for _ in range(purchases)
    ]


async def raw_sequential(
    url: str, customers: list[int], purchases: int, rng: random.Random, scenario: Scenario
) -> None:
    plan = plan_sequential(customers, purchases, rng)
    if make_url(url).get_backend_name() == "sqlite":
        db = open_raw_sqlite(url)
        try:
            started = time.perf_counter()
            for number, (customer, amount) in enumerate(plan):
                began = time.perf_counter()
                raw_sqlite_accrual(db, customer, amount, f"RS{number}")
                scenario.latencies.append(time.perf_counter() - began)
            scenario.seconds = time.perf_counter() - started
        finally:
            db.close()
        return
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        for number, (customer, amount) in enumerate(plan):
            began = time.perf_counter()
            await raw_pg_accrual(connection, customer, amount, f"RS{number}")
            scenario.latencies.append(time.perf_counter() - began)
        scenario.seconds = time.perf_counter() - started
    finally:
        await connection.close()


def plan_tills(hot: list[int], purchases: int, rng: random.Random) -> list[tuple[int, int]]:
    return [(rng.choice(hot), rng.randint(50, 3000) * RUB) for _ in range(purchases)]


async def tills(
    cashiers: int, plan: list[tuple[int, int]], purchase: Any, scenario: Scenario
) -> None:
    """C tills share the plan; `purchase(index, customer, amount)` records one."""
    queue = iter(enumerate(plan))  # shared: each purchase is taken by exactly one till
    start = asyncio.Event()

    async def till() -> None:
        await start.wait()
        for index, (customer, amount) in queue:
            began = time.perf_counter()
            try:
                await purchase(index, customer, amount)
            except Exception as error:  # counted and shown: the run goes on, bounded by `plan`
                scenario.errors[f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"] += 1
            scenario.latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(till()) for _ in range(cashiers)]
    await asyncio.sleep(0)
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    scenario.seconds = time.perf_counter() - started


async def raw_concurrent(
    url: str,
    plan: list[tuple[int, int]],
    cashiers: int,
    size: int,
    connections: int,
    scenario: Scenario,
) -> None:
    """The raw accrual by C tills through an asyncpg pool sized as the project's."""
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=size, max_size=connections)
    assert pool is not None

    async def purchase(index: int, customer: int, amount: int) -> None:
        async with pool.acquire() as db:
            await raw_pg_accrual(db, customer, amount, f"RC{index}")

    try:
        await tills(cashiers, plan, purchase, scenario)
    finally:
        await pool.close()


async def project_concurrent(
    sessions: async_sessionmaker,
    plan: list[tuple[int, int]],
    cashiers: int,
    book: Book,
    scenario: Scenario,
) -> None:
    """The same tills and plan as `raw_concurrent`, through ``record_purchase``."""

    async def purchase(index: int, customer: int, amount: int) -> None:
        async with sessions() as session:
            result = await ledger.record_purchase(
                session,
                PROGRAM,
                customer,
                amount,
                receipt_id=f"A{index}",
                store="bench",
                channel="bench",
                actor="bench:till",
            )
        book.record(result)

    await tills(cashiers, plan, purchase, scenario)


async def sequential(
    sessions: async_sessionmaker,
    customers: list[int],
    purchases: int,
    book: Book,
    rng: random.Random,
    scenario: Scenario,
) -> None:
    started = time.perf_counter()
    for number, (customer, amount) in enumerate(plan_sequential(customers, purchases, rng)):
        began = time.perf_counter()
        async with sessions() as session:
            result = await ledger.record_purchase(
                session,
                PROGRAM,
                customer,
                amount,
                receipt_id=f"S{number}",
                store="bench",
                channel="bench",
                actor="bench:sequential",
            )
        scenario.latencies.append(time.perf_counter() - began)
        book.record(result)
    scenario.seconds = time.perf_counter() - started


async def warm_pool(sessions: async_sessionmaker, connections: int) -> None:
    """Open the pool's connections before the clock starts: connecting is not the ledger's work."""
    ready = asyncio.Event()
    opened = 0

    async def hold() -> None:
        nonlocal opened
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            opened += 1
            if opened == connections:
                ready.set()
            await ready.wait()

    await asyncio.gather(*(hold() for _ in range(connections)))


async def concurrent(
    sessions: async_sessionmaker,
    hot: list[int],
    purchases: int,
    cashiers: int,
    book: Book,
    rng: random.Random,
    scenario: Scenario,
) -> None:
    """C tills on H customers; REDEEMING of the purchases also pay with points."""
    plan = []
    for _ in range(purchases):
        amount = rng.randint(50, 3000) * RUB
        cap = PROGRAM.redeem_cap(amount)
        redeem = rng.randint(cap // 2, cap) if rng.random() < REDEEMING else 0
        plan.append((rng.choice(hot), amount, redeem))
    queue = iter(range(purchases))  # shared: each purchase is taken by exactly one cashier
    start = asyncio.Event()

    async def cashier(number: int) -> None:
        await start.wait()
        for index in queue:
            customer, amount, redeem = plan[index]
            began = time.perf_counter()
            try:
                async with sessions() as session:
                    result = await ledger.record_purchase(
                        session,
                        PROGRAM,
                        customer,
                        amount,
                        redeem=redeem,
                        receipt_id=f"C{index}",
                        store="bench",
                        channel="bench",
                        actor=f"bench:till{number}",
                    )
            except NotEnoughPointsError:
                scenario.refused += 1
            except Exception as error:  # counted and shown: the run goes on, bounded by `plan`
                scenario.errors[f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"] += 1
            else:
                book.record(result)
            scenario.latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(cashier(number)) for number in range(cashiers)]
    await asyncio.sleep(0)
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    scenario.seconds = time.perf_counter() - started


async def verify(
    sessions: async_sessionmaker, customers: list[int], book: Book
) -> tuple[list[str], dict[str, int]]:
    """Check the database against itself, the service and the bench's book; the problems found.

    Per customer: sum of entries == sum of lots' `remaining` == ``ledger.balance`` == welcome
    bonus + (accrued - redeemed) of every purchase the service accepted; no lot below 0; its
    purchases (count, points redeemed and accrued) are the accepted ones; the ledger lock was
    taken once per accepted purchase (`ledger_version`, refused ones roll back). Per lot: points
    minus remaining == what allocations took from it; per debit: its allocations == its points.
    Per purchase: the accrual follows the tier of the spend committed before it (no stale read).
    """
    problems: list[str] = []
    totals: Counter[str] = Counter()

    def problem(message: str) -> None:
        totals["problems"] += 1
        if len(problems) < 20:
            problems.append(message)

    async with sessions() as session:
        entries = dict(
            (
                await session.execute(
                    select(LedgerEntry.customer_id, func.sum(LedgerEntry.points)).group_by(
                        LedgerEntry.customer_id
                    )
                )
            ).all()
        )
        lots = {
            customer: (int(total or 0), low)
            for customer, total, low in await session.execute(
                select(
                    LedgerEntry.customer_id,
                    func.sum(LedgerEntry.remaining),
                    func.min(LedgerEntry.remaining),
                )
                .where(LedgerEntry.remaining.is_not(None))
                .group_by(LedgerEntry.customer_id)
            )
        }
        versions = dict((await session.execute(select(Customer.id, Customer.ledger_version))).all())
        bought = {
            customer: (count, int(redeemed), int(accrued))
            for customer, count, redeemed, accrued in await session.execute(
                select(
                    Purchase.customer_id,
                    func.count(),
                    func.sum(Purchase.redeemed),
                    func.sum(Purchase.accrued),
                ).group_by(Purchase.customer_id)
            )
        }
        taken = dict(
            (
                await session.execute(
                    select(LedgerAllocation.lot_id, func.sum(LedgerAllocation.points)).group_by(
                        LedgerAllocation.lot_id
                    )
                )
            ).all()
        )
        given = dict(
            (
                await session.execute(
                    select(LedgerAllocation.entry_id, func.sum(LedgerAllocation.points)).group_by(
                        LedgerAllocation.entry_id
                    )
                )
            ).all()
        )
        open_lots: Counter[int] = Counter()
        for lot_id, owner, points, remaining in await session.execute(
            select(
                LedgerEntry.id, LedgerEntry.customer_id, LedgerEntry.points, LedgerEntry.remaining
            ).where(LedgerEntry.remaining.is_not(None))
        ):
            totals["lots"] += 1
            open_lots[owner] += remaining > 0
            if points - remaining != int(taken.get(lot_id, 0)):
                problem(
                    f"lot {lot_id}: {points} - {remaining} remaining != "
                    f"{taken.get(lot_id, 0)} allocated from it"
                )
        for entry_id, points in await session.execute(
            select(LedgerEntry.id, LedgerEntry.points).where(LedgerEntry.points < 0)
        ):
            totals["debits"] += 1
            if -points != int(given.get(entry_id, 0)):
                problem(f"debit {entry_id}: {points} points but {given.get(entry_id, 0)} allocated")
        spend: defaultdict[int, int] = defaultdict(int)
        for purchase_id, customer, amount, redeemed, accrued in await session.execute(
            select(
                Purchase.id,
                Purchase.customer_id,
                Purchase.amount,
                Purchase.redeemed,
                Purchase.accrued,
            ).order_by(Purchase.id)
        ):
            totals["purchases"] += 1
            expected = PROGRAM.accrual(amount - redeemed * RUB, spend[customer])
            if accrued != expected:
                problem(
                    f"purchase {purchase_id}: accrued {accrued}, the tier at spend "
                    f"{spend[customer]} gives {expected}"
                )
            spend[customer] += amount
        for customer in customers:
            totals["customers"] += 1
            view = await ledger.balance(session, PROGRAM, customer)
            in_entries = int(entries.get(customer, 0))
            in_lots, lowest = lots.get(customer, (0, 0))
            booked = book.welcome.get(customer, 0) + book.delta[customer]
            if not in_entries == in_lots == view.points == booked:
                problem(
                    f"customer {customer}: entries {in_entries}, lots {in_lots}, "
                    f"service balance {view.points}, accepted purchases say {booked}"
                )
            if lowest is not None and lowest < 0:
                problem(f"customer {customer}: a lot at {lowest}")
            recorded = bought.get(customer, (0, 0, 0))
            accepted = (book.accepted[customer], book.redeemed[customer], book.accrued[customer])
            if recorded != accepted:
                problem(
                    f"customer {customer}: purchases/redeemed/accrued in the database {recorded},"
                    f" accepted by the service {accepted}"
                )
            if versions.get(customer) != book.accepted[customer]:
                problem(
                    f"customer {customer}: ledger lock taken {versions.get(customer)} times, "
                    f"{book.accepted[customer]} purchases accepted"
                )
    # Not a check: a customer's open lots are summed by every sale (see bench/README.md).
    totals["most_open_lots"] = max(open_lots.values(), default=0)
    return problems, dict(totals)


def print_report(
    scenarios: list[Scenario],
    args: argparse.Namespace,
    url: str,
    pool_note: str,
    server: str,
    problems: list[str],
    totals: dict[str, int],
) -> None:
    backend = make_url(url).get_backend_name()
    print(
        f"clientbase ledger benchmark: Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {os.cpu_count()} CPU(s), {backend} {server}"
    )
    print(
        f"{args.customers} customers; {args.purchases} sequential purchases on random customers; "
        f"{args.purchases} concurrent purchases by {args.cashiers} cashiers on {args.hot} hot "
        f"customers ({REDEEMING:.0%} also redeem points); engine {pool_note}"
    )
    print()
    header = (
        f"{'scenario':<36}{'engine':<12}{'operations':>10}{'seconds':>8}{'ops/s':>8}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'refused':>8}{'SQL/op':>7}{'CPU ms/op':>10}"
    )
    print(header)
    print("-" * len(header))
    for scenario in scenarios:
        count = scenario.operations or math.nan
        print(
            f"{scenario.name:<36}{scenario.engine:<12}{scenario.operations:>10}"
            f"{scenario.seconds:>8.2f}{scenario.rate:>8.1f}"
            f"{percentile_ms(scenario.latencies, 50):>9.2f}"
            f"{percentile_ms(scenario.latencies, 99):>9.2f}{scenario.refused:>8}"
            f"{scenario.statements / count:>7.1f}{scenario.cpu * 1000 / count:>10.2f}"
        )
    print()
    print(
        "latency: one whole operation (session, pool checkout, service call, commit, close),\n"
        "  refused ones included; setup: one grant_bonus, 500 per commit.\n"
        "SQL/op: statements the engine sent per operation (BEGIN and COMMIT are not sent as\n"
        "  statements; 0 for the raw drivers, which bypass the engine). CPU ms/op: this process\n"
        "  only (the bench, SQLAlchemy and the driver, all threads), not the server."
    )
    opened = ", ".join(f"{s.name.split(':')[0]} {s.connections}" for s in scenarios)
    print(f"connections opened during: {opened}")
    print(f"load average 1/5/15 min at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for scenario in scenarios:
        for error, count in scenario.errors.most_common():
            print(f"ERROR in {scenario.name}: {count} x {error}")
    most = totals.pop("most_open_lots", 0)
    checked = ", ".join(f"{count} {what}" for what, count in totals.items() if what != "problems")
    print(f"checked: {checked}; most open lots of one customer at the end: {most}")
    if problems:
        print(f"lost updates: NOT proven zero, {totals.get('problems', 0)} discrepancies:")
        for line in problems:
            print(f"  {line}")
    else:
        print("lost updates: 0")


async def server_version(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return str(await connection.scalar(text("SELECT sqlite_version()")))
        version = str(await connection.scalar(text("SHOW server_version")))
        return version.split()[0]


async def run(args: argparse.Namespace, url: str) -> int:
    engine, pool_note, warm, connections = await open_engine(url, args.cashiers)
    name = engine.dialect.name
    driver = "sqlite3" if name == "sqlite" else "asyncpg"
    prepared = Scenario(f"setup: {args.customers} customers + bonus", name)
    raw_serial = Scenario(f"raw {driver}: sequential accruals", name)
    serial = Scenario("sequential accruals", name)
    raw_tills = Scenario(f"raw {driver}: {args.cashiers} tills, {args.hot} hot", name)
    tills_now = Scenario(f"accruals: {args.cashiers} tills, {args.hot} hot", name)
    together = Scenario(f"concurrent: {args.cashiers} cashiers, {args.hot} hot", name)
    scenarios = [prepared, raw_serial, serial]
    try:
        await migrate.upgrade(engine)
        server = await server_version(engine)
        sessions = create_session_factory(engine)
        meter = Meter(engine)
        rng = random.Random(args.seed)
        with meter.measure(prepared):
            book, raw = await setup(sessions, args.customers, prepared)
        customers = sorted(book.welcome)
        with meter.measure(raw_serial):
            await raw_sequential(url, raw, args.purchases, random.Random(args.seed), raw_serial)
        with meter.measure(serial):
            await sequential(sessions, customers, args.purchases, book, rng, serial)
        hot = rng.sample(customers, min(args.hot, len(customers)))
        if name == "postgresql":
            # The same plan (tills, amounts, customers by position) raw and through the project,
            # on other hot customers than the redeeming cashiers' below (their balances stay low).
            others = sorted(set(customers) - set(hot))
            tills_hot = rng.sample(others, len(hot)) if len(others) >= len(hot) else hot
            plan = plan_tills(list(range(len(hot))), args.purchases, rng)
            raw_plan = [(raw[position], amount) for position, amount in plan]
            with meter.measure(raw_tills):
                await raw_concurrent(url, raw_plan, args.cashiers, warm, connections, raw_tills)
            await warm_pool(sessions, warm)
            with meter.measure(tills_now):
                await project_concurrent(
                    sessions,
                    [(tills_hot[p], amount) for p, amount in plan],
                    args.cashiers,
                    book,
                    tills_now,
                )
            scenarios += [raw_tills, tills_now]
        else:
            await warm_pool(sessions, warm)
        with meter.measure(together):
            await concurrent(sessions, hot, args.purchases, args.cashiers, book, rng, together)
        scenarios.append(together)
        problems, totals = await verify(sessions, customers, book)
    finally:
        await engine.dispose()
    print_report(scenarios, args, url, pool_note, server, problems, totals)
    print_goals(name, raw_serial, serial, raw_tills, tills_now)
    failed = bool(problems) or any(scenario.errors for scenario in scenarios)
    return 1 if failed else 0


def print_goals(
    engine: str, raw_serial: Scenario, serial: Scenario, raw_tills: Scenario, tills_now: Scenario
) -> None:
    """The project's figures as shares of the raw driver's, measured side by side in this run."""
    goal = 0.25 if engine == "sqlite" else 0.5
    share = serial.rate / raw_serial.rate if raw_serial.rate else math.nan
    cpu = (serial.cpu / serial.operations) / (raw_serial.cpu / raw_serial.operations)
    print(
        f"sequential: {serial.rate:.0f}/s = {share:.2f} of raw {raw_serial.name.split(':')[0][4:]}"
        f" ({raw_serial.rate:.0f}/s); goal >= {goal:.2f}: {'met' if share >= goal else 'NOT met'};"
        f" CPU per accrual {cpu:.1f}x the raw driver's"
    )
    if engine != "postgresql":
        return
    ours, theirs = percentile_ms(tills_now.latencies, 99), percentile_ms(raw_tills.latencies, 99)
    print(
        f"concurrent tills: {tills_now.rate:.0f}/s = {tills_now.rate / raw_tills.rate:.2f} of raw"
        f" asyncpg ({raw_tills.rate:.0f}/s); p99 {ours:.0f} ms = {ours / theirs:.2f}x raw's"
        f" {theirs:.0f} ms; goal <= 2x: {'met' if ours <= 2 * theirs else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger",
        description="Ledger throughput and a lost-update check (see bench/README.md).",
    )
    parser.add_argument(
        "--database-url",
        help="an EMPTY database (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument("--customers", type=int, default=1000, help="customers (1000)")
    parser.add_argument("--purchases", type=int, default=3000, help="purchases per scenario (3000)")
    parser.add_argument(
        "--cashiers",
        type=int,
        help=f"concurrent cashiers ({PG_CASHIERS} on PostgreSQL, {SQLITE_CASHIERS} on SQLite)",
    )
    parser.add_argument("--hot", type=int, default=10, help="customers the cashiers share (10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    if min(args.customers, args.purchases, args.hot) < 1:
        parser.error("--customers, --purchases and --hot must be >= 1")
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-") as tmp:
        url = normalise_url(args.database_url or f"sqlite:///{Path(tmp) / 'ledger.db'}")
        sqlite = make_url(url).get_backend_name() == "sqlite"
        if args.cashiers is None:
            args.cashiers = SQLITE_CASHIERS if sqlite else PG_CASHIERS
        if args.cashiers < 1:
            parser.error("--cashiers must be >= 1")
        return asyncio.run(run(args, url))


if __name__ == "__main__":
    sys.exit(main())
