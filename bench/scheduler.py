"""The scheduler's daily selections in a large base: today's birthdays and the lots that lapse.

Run by hand (not a test)::

    .venv/bin/python -m bench.scheduler [--database-url URL] [--customers N] [--seed S]

Setup: a fresh SQLite file in a temporary directory (or ``--database-url``: an EMPTY database,
e.g. ``postgresql+asyncpg://postgres@127.0.0.1/bench_scheduler``), migrated with
``db.migrate`` (which creates the scheduler's indexes); N customers (1 000 000) bulk-inserted
(executemany on SQLite, COPY on PostgreSQL), birthdays spread over 1940-2012, a tenth without
one; two lots each (2N ledger rows): one still open, expiring within the next year, and one
spent (remaining 0, already lapsed), as history piles up. Then ANALYZE.

Measured, each through the job's own repository function (``db/repositories/jobs.py``), one
query each, cold then warm: every active customer whose birthday is on a given day (the
29 February ones in a non-leap year included), the per-customer sums of open lots lapsing on a
given local day, and the customers with lapsed open lots (two days' worth: the nightly job
leaves no more). Then
the whole birthday job for that day (bonus lot and greeting per customer, exactly-once keys).
Memory: the Python heap's peak during the selections (tracemalloc) and the process's max RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.program import Program, parse_tiers
from bot.domain.schedule import birthday_dates, local_day_bounds
from bot.services.jobs.context import JobConfig
from bot.services.jobs.runner import JobName, run_period
from db import migrate
from db.engine import create_engine, create_session_factory
from db.repositories import jobs as repo

ZONE = ZoneInfo("Europe/Moscow")
PROGRAM = Program(tiers=parse_tiers("Base:0:5"), birthday_bonus=300, bonus_points_days=180)
CHUNK = 50_000
NOW = datetime(2027, 2, 28, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, 28 February of a non-leap year
DAY = NOW.astimezone(ZONE).date()


def _customers(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    first, span = date(1940, 1, 1).toordinal(), date(2012, 12, 31).toordinal()
    created = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(1, count + 1):
        born = None if rng.random() < 0.1 else date.fromordinal(rng.randint(first, span))
        rows.append(
            (n, 10_000_000_000 + n, "active", "ru", f"+7{9_000_000_000 + n}", born,
             rng.random() < 0.3, created, 0, [], f"{n:08d}")
        )  # fmt: skip
    return rows


def _lots(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    made = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for n in range(1, count + 1):
        lapses = NOW + timedelta(minutes=rng.randint(-2 * 24 * 60, 365 * 24 * 60))
        rows.append((2 * n - 1, n, "bonus", 100, "welcome", f"w:{n}", made, 100, lapses, "", ""))
        spent = made - timedelta(days=400)
        lapsed = spent + timedelta(days=365)
        rows.append((2 * n, n, "accrual", 50, "", f"a:{n}", spent, 0, lapsed, "", ""))
    return rows


CUSTOMER_COLUMNS = (
    "id", "telegram_id", "status", "language", "phone", "birthday", "ads_opt_in", "created_at",
    "ledger_version", "interests", "card_code",
)  # fmt: skip
LOT_COLUMNS = (
    "id", "customer_id", "kind", "points", "reason", "idempotency_key", "created_at",
    "remaining", "expires_at", "actor", "purchase_id",
)  # fmt: skip


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite, so that comparisons agree."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def _bulk_insert(
    engine: AsyncEngine, table: str, columns: tuple[str, ...], rows: list
) -> None:
    """COPY on PostgreSQL, executemany on SQLite: a million rows in seconds, not minutes."""
    async with engine.begin() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        if engine.dialect.name == "postgresql":
            if table == "customers":
                import json

                rows = [(*row[:9], json.dumps(row[9]), row[10]) for row in rows]
            if table == "ledger_entries":
                rows = [(*row[:10], None) for row in rows]
            await raw.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if table == "customers":
                chunk = [
                    (*r[:5], r[5] and r[5].isoformat(), r[6], _stamp(r[7]), r[8], "[]", r[10])
                    for r in chunk
                ]
            else:
                chunk = [
                    (*r[:6], _stamp(r[6]), r[7], _stamp(r[8]), r[9], None) for r in chunk
                ]  # fmt: skip
            await raw.executemany(sql, chunk)


async def _setup(engine: AsyncEngine, count: int, seed: int) -> float:
    rng = random.Random(seed)
    started = time.perf_counter()
    await migrate.upgrade(engine)
    await _bulk_insert(engine, "customers", CUSTOMER_COLUMNS, _customers(count, rng))
    await _bulk_insert(engine, "ledger_entries", LOT_COLUMNS, _lots(count, rng))
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def _timed(label: str, work: Callable[[], Awaitable[list[Any]]]) -> None:
    for attempt in ("cold", "warm"):
        tracemalloc.start()
        started = time.perf_counter()
        rows = await work()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {label:<34} {attempt:<4} {len(rows):>7} rows  {seconds * 1000:>8.1f} ms"
              f"  heap peak {peak / 2**20:>5.1f} MiB")  # fmt: skip


async def _plans(engine: AsyncEngine, sessions: async_sessionmaker) -> None:
    """The plans of the two selections, to show the indexes are used."""
    _, born = birthday_dates(DAY, 0)
    start, end = local_day_bounds(DAY + timedelta(days=7), ZONE)
    explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    births = ", ".join(f"'{b.isoformat()}'" for b in born[:3])
    queries = {
        "birthdays": f"SELECT id FROM customers WHERE birthday IN ({births}) AND status = 'active'",
        "expiring": "SELECT customer_id, sum(remaining) FROM ledger_entries WHERE remaining > 0 "
        f"AND expires_at >= '{start.isoformat(' ')}' AND expires_at < '{end.isoformat(' ')}' "
        "GROUP BY customer_id",
        "lapsed": "SELECT customer_id FROM ledger_entries WHERE remaining > 0 "
        f"AND expires_at <= '{NOW.isoformat(' ')}'",
    }
    async with engine.connect() as connection:
        for name, sql in queries.items():
            plan = (await connection.exec_driver_sql(f"{explain} {sql}")).all()
            lines = [" ".join(str(part) for part in row[-1:]) for row in plan]
            print(f"  plan {name}: " + " | ".join(line.strip() for line in lines[:3]))


async def run(url: str, count: int, seed: int) -> int:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        setup = await _setup(engine, count, seed)
        print(
            f"{engine.dialect.name}: {count} customers, {2 * count} lots, set up in {setup:.1f} s"
        )
        target, born = birthday_dates(DAY, 0)
        start, end = local_day_bounds(DAY + timedelta(days=7), ZONE)

        async def birthdays() -> list[Any]:
            async with sessions() as session:
                return await repo.birthday_customers(session, born)

        async def expiring() -> list[Any]:
            async with sessions() as session:
                return await repo.expiring_points(session, start, end)

        async def lapsed() -> list[Any]:
            async with sessions() as session:
                return await repo.customers_with_lapsed_lots(session, NOW)

        await _timed(f"birthdays on {target} (+29 Feb)", birthdays)
        await _timed(f"lots lapsing on {DAY + timedelta(days=7)}", expiring)
        await _timed("customers with lapsed open lots", lapsed)
        await _plans(engine, sessions)

        config = JobConfig(zone=ZONE, program=PROGRAM)
        started = time.perf_counter()
        result = await run_period(sessions, config, JobName.BIRTHDAY, DAY, owner="bench", now=NOW)
        seconds = time.perf_counter() - started
        print(f"  whole birthday job: {result.counts.done} greetings + bonuses in {seconds:.1f} s"
              f" ({seconds / max(result.counts.done, 1) * 1000:.1f} ms each)")  # fmt: skip
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  process max RSS (includes building the {count} rows for setup): {rss:.0f} MiB")
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.scheduler", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: a temporary SQLite)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers (1000000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.database_url
        if url is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        elif url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        print(f"python {sys.version.split()[0]}, pid {os.getpid()}")
        return asyncio.run(run(url, args.customers, args.seed))


if __name__ == "__main__":
    raise SystemExit(main())
