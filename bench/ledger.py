"""Throughput of the points ledger (``bot.services.ledger``) and proof that it loses nothing.

Run by hand (not a test)::

    .venv/bin/python -m bench.ledger [--database-url URL] [--customers N] [--purchases M]
                                     [--cashiers C] [--hot H] [--seed S]

Setup: a fresh SQLite file in a temporary directory (or ``--database-url``: an EMPTY database,
e.g. ``postgresql+asyncpg://postgres@127.0.0.1/bench_ledger``), migrated with ``db.migrate``;
N customers inserted in one statement, each then given the welcome bonus by ``grant_bonus``.

1. sequential: M purchases one after another through ``record_purchase``, each in its own
   session (as the POS API does per request), random customers and amounts, distinct receipts;
2. concurrent: C cashier tasks share M more purchases, each purchase in the task's own session,
   all on H "hot" customers (10) so that they queue on the same ledger locks; 60 % of the
   purchases also pay with points (half the cap to the cap), more than accruals bring in, so
   hot balances hover near zero and many are refused (``NotEnoughPointsError``: counted as
   refused, not as lost).

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
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    cpu: float = 0.0  # this process's CPU seconds (all threads, so aiosqlite's too)
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


async def open_engine(url: str, cashiers: int) -> tuple[AsyncEngine, str, int]:
    """The engine and a note on its pool: room for every cashier at once where possible."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, pool_size=cashiers, max_overflow=0, pool_timeout=60)
        return engine, f"pool_size={cashiers} max_overflow=0", cashiers
    room = await pg_free_connections(url) - PG_SPARE_CONNECTIONS
    connections = max(1, min(cashiers, room))
    size = min(connections, 50)
    engine = create_engine(url, pool_size=size, max_overflow=connections - size, pool_timeout=60)
    note = f"pool_size={size} max_overflow={connections - size}"
    if connections < cashiers:
        note += (
            f" (the server has room for {room + PG_SPARE_CONNECTIONS} more connections and we"
            f" leave {PG_SPARE_CONNECTIONS}: {cashiers - connections} cashiers wait for the pool)"
        )
    return engine, note, size


async def setup(sessions: async_sessionmaker, customers: int, scenario: Scenario) -> Book:
    """N customers in one INSERT, then the welcome bonus of each through the service."""
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
            for number in range(customers)
        ]
        ids = list(await session.scalars(insert(Customer).returning(Customer.id), rows))
        await session.commit()
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
    return book


async def sequential(
    sessions: async_sessionmaker,
    customers: list[int],
    purchases: int,
    book: Book,
    rng: random.Random,
    scenario: Scenario,
) -> None:
    started = time.perf_counter()
    for number in range(purchases):
        customer = rng.choice(customers)
        amount = rng.randint(50, 5000) * RUB + rng.randint(0, 99)
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
    # Not a check: every change loads all of a customer's open lots (see bench/README.md).
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
        "SQL/op: statements the engine sent per operation (savepoints and COMMIT included,\n"
        "  PostgreSQL's pre-ping not). CPU ms/op: this process only (the bench, SQLAlchemy,\n"
        "  the driver and aiosqlite's threads), not the PostgreSQL server."
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
    engine, pool_note, warm = await open_engine(url, args.cashiers)
    name = engine.dialect.name
    prepared = Scenario(f"setup: {args.customers} customers + bonus", name)
    serial = Scenario("sequential accruals", name)
    together = Scenario(f"concurrent: {args.cashiers} cashiers, {args.hot} hot", name)
    try:
        await migrate.upgrade(engine)
        server = await server_version(engine)
        sessions = create_session_factory(engine)
        meter = Meter(engine)
        rng = random.Random(args.seed)
        with meter.measure(prepared):
            book = await setup(sessions, args.customers, prepared)
        customers = sorted(book.welcome)
        with meter.measure(serial):
            await sequential(sessions, customers, args.purchases, book, rng, serial)
        await warm_pool(sessions, warm)
        hot = rng.sample(customers, min(args.hot, len(customers)))
        with meter.measure(together):
            await concurrent(sessions, hot, args.purchases, args.cashiers, book, rng, together)
        problems, totals = await verify(sessions, customers, book)
    finally:
        await engine.dispose()
    print_report([prepared, serial, together], args, url, pool_note, server, problems, totals)
    failed = bool(problems) or any(scenario.errors for scenario in (serial, together))
    return 1 if failed else 0


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
