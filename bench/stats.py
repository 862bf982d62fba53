"""The statistics of `/stats` on a big base: time and memory of every query.

Run by hand (not a test)::

    .venv/bin/python -m bench.stats [--database-url URL] [--customers N] [--keep]

Setup: a fresh SQLite file in a temporary directory (or ``--database-url``: an empty database,
e.g. ``postgresql+asyncpg://postgres@127.0.0.1/bench_stats``; one this benchmark filled before
is reused as it is), migrated with ``db.migrate``, then filled by the database itself (a
recursive CTE on SQLite, ``generate_series`` on PostgreSQL): N customers (1 000 000) over two
years, 20 sources, 2 N purchases over 70 % of them (the rest never bought; 1 purchase in 40
partly refunded, 1 in 97 a big one that makes VIPs), N bonus lots with expiries from a month
ago to a year ahead, 1 in 50 customers unreachable.

Then, each three times (the best is printed, so a cold cache does not count): every query of
`bot.services.stats.report`, the whole report, and drawing the five charts. Memory: the peak of
Python allocations during one report (tracemalloc) and the process's maximum RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.program import Program, parse_tiers
from bot.services import stats
from bot.services.funnel import funnel_report
from bot.texts import texts_for
from db import migrate
from db.engine import create_engine, create_session_factory
from db.repositories import stats as repo

PROGRAM = Program(tiers=parse_tiers("Base:0:5, Silver:10000:7, Gold:30000:10"))
LINK_KEY = b"bench-link-key-0123456789"
RUNS = 3

_SQLITE_FILL = [
    """
    INSERT INTO sources (id, store, campaign, employee, enabled, created_at)
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 20)
    SELECT n, 'Store ' || (n % 5), 'Campaign ' || n, '', 1, :now FROM seq
    """,
    """
    INSERT INTO customers (id, telegram_id, status, language, source_id, name, phone, interests,
        ads_opt_in, created_at, signed_up_at, card_code, ledger_version, consent_pending,
        unreachable_at)
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n)
    SELECT n, 1000000000 + n, 'active', 'ru', CASE WHEN n % 5 = 0 THEN NULL ELSE 1 + n % 20 END,
        'Клиент ' || n, '+7900' || printf('%07d', n), '[]', n % 3 = 0,
        datetime(:now, '-' || (n % 730) || ' days'), datetime(:now, '-' || (n % 730) || ' days'),
        printf('%08d', n), 0, 0,
        CASE WHEN n % 50 = 0 THEN datetime(:now, '-' || (n % 300) || ' days') END
    FROM seq
    """,
    """
    INSERT INTO purchases (customer_id, store, amount, redeemed, accrued, refunded_amount,
        channel, actor, created_at)
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 2 * :n)
    SELECT 1 + (n * 2654435761) % (:n * 7 / 10),
        '', 10000 + (n * 37) % 500000 + CASE WHEN n % 97 = 0 THEN 5000000 ELSE 0 END, 0, 0,
        CASE WHEN n % 40 = 0 THEN (10000 + (n * 37) % 500000) / 2 ELSE 0 END, 'pos', '',
        datetime(:now, '-' || ((n * 7) % 720) || ' days', '-' || (n % 86400) || ' seconds')
    FROM seq
    """,
    """
    INSERT INTO ledger_entries (customer_id, kind, points, reason, idempotency_key, created_at,
        remaining, expires_at, actor)
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n)
    SELECT 1 + (n * 40503) % :n, 'bonus', 300, '', 'b' || n, :now, n % 300,
        datetime(:now, ((n % 400) - 30) || ' days'), ''
    FROM seq
    """,
]

_PG_FILL = [
    """
    INSERT INTO sources (id, store, campaign, employee, enabled, created_at)
    SELECT n, 'Store ' || (n % 5), 'Campaign ' || n, '', true, CAST(:now AS timestamptz)
    FROM generate_series(1, 20) n
    """,
    """
    INSERT INTO customers (id, telegram_id, status, language, source_id, name, phone, interests,
        ads_opt_in, created_at, signed_up_at, card_code, ledger_version, consent_pending,
        unreachable_at)
    SELECT n, 1000000000 + n, 'active', 'ru', CASE WHEN n % 5 = 0 THEN NULL ELSE 1 + n % 20 END,
        'Клиент ' || n, '+7900' || lpad(n::text, 7, '0'), '[]', n % 3 = 0,
        CAST(:now AS timestamptz) - (n % 730) * interval '1 day',
        CAST(:now AS timestamptz) - (n % 730) * interval '1 day',
        lpad(n::text, 8, '0'), 0, false,
        CASE WHEN n % 50 = 0 THEN CAST(:now AS timestamptz) - (n % 300) * interval '1 day' END
    FROM generate_series(1, :n) n
    """,
    """
    INSERT INTO purchases (customer_id, store, amount, redeemed, accrued, refunded_amount,
        channel, actor, created_at)
    SELECT 1 + (n * 2654435761) % (:n * 7 / 10),
        '', 10000 + (n * 37) % 500000 + CASE WHEN n % 97 = 0 THEN 5000000 ELSE 0 END, 0, 0,
        CASE WHEN n % 40 = 0 THEN (10000 + (n * 37) % 500000) / 2 ELSE 0 END, 'pos', '',
        CAST(:now AS timestamptz) - ((n * 7) % 720) * interval '1 day'
            - (n % 86400) * interval '1 second'
    FROM generate_series(1::bigint, 2 * :n) n
    """,
    """
    INSERT INTO ledger_entries (customer_id, kind, points, reason, idempotency_key, created_at,
        remaining, expires_at, actor)
    SELECT 1 + (n * 40503) % :n, 'bonus', 300, '', 'b' || n, CAST(:now AS timestamptz), n % 300,
        CAST(:now AS timestamptz) + ((n % 400) - 30) * interval '1 day', ''
    FROM generate_series(1::bigint, :n) n
    """,
    "SELECT setval('customers_id_seq', :n)",
]


async def fill(engine: AsyncEngine, customers: int, now: datetime) -> float:
    postgres = engine.dialect.name == "postgresql"
    started = time.perf_counter()
    stamp: Any = now if postgres else now.strftime("%Y-%m-%d %H:%M:%S")
    async with engine.begin() as connection:
        for statement in _PG_FILL if postgres else _SQLITE_FILL:
            await connection.execute(text(statement), {"n": customers, "now": stamp})
    # What autovacuum does soon after a bulk load: statistics, and the visibility map without
    # which PostgreSQL cannot answer from the covering indexes alone (6-9 s instead of 1 s).
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    return time.perf_counter() - started


async def best_of(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await call()
        best = min(best, time.perf_counter() - started)
    return best, result


async def measure(sessions: async_sessionmaker, now: datetime) -> None:
    rules = repo.LifecycleRules(now - timedelta(days=90), now - timedelta(days=90), 3_000_000)
    week0 = stats.week_start(now) - timedelta(weeks=stats.WEEKS - 1)
    months = [now - timedelta(days=30 * i) for i in range(stats.MONTHS)][::-1]

    async def timed(name: str, query: Callable[[Any], Awaitable[Any]]) -> None:
        async def call() -> Any:
            async with sessions() as session:
                return await query(session)

        seconds, _ = await best_of(call)
        print(f"  {name:<34} {seconds * 1000:9.0f} ms")

    print("queries (best of 3):")
    await timed("customer groups (lifecycle, LTV)", lambda s: repo.customer_groups(s, rules))
    await timed("signups before the weeks", lambda s: repo.signups_before(s, week0))
    await timed("signups per week", lambda s: repo.signups_per_week(s, week0))
    await timed("revenue per week", lambda s: repo.revenue_per_week(s, week0))
    await timed("purchase totals (average check)", repo.purchase_totals)
    await timed("liability", lambda s: repo.liability(s, now, now + timedelta(days=30)))
    await timed("lapsing per week", lambda s: repo.lapsing_per_week(s, now))
    await timed("decay (6 months)", lambda s: repo.decay(s, months, 90))
    await timed("top customers", lambda s: repo.top_customers(s, stats.TOP))

    async def whole() -> stats.StatsReport:
        async with sessions() as session:
            return await stats.report(
                session, LINK_KEY, PROGRAM, active_days=90, quiet_days=90, now=now
            )

    seconds, report = await best_of(whole)
    print(f"whole report (best of 3):            {seconds * 1000:9.0f} ms")
    tracemalloc.start()
    await whole()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    async with sessions() as session:
        funnel = await funnel_report(session, LINK_KEY)
    started = time.perf_counter()
    drawn = stats.draw_charts(report, funnel, texts_for("ru"))
    drawing = time.perf_counter() - started
    print(f"five charts drawn:                   {drawing * 1000:9.0f} ms")
    print(f"Python peak during one report:       {peak / 1e6:9.1f} MB")
    print(f"process max RSS:                     {_max_rss_mb():9.0f} MB")
    print(
        f"customers {report.customers}, segments "
        + ", ".join(f"{s.segment} {s.customers}" for s in report.segments)
        + f"; outstanding {report.liability.outstanding} points; {len(drawn)} charts"
    )


def _max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1e6 if sys.platform == "darwin" else rss / 1e3


async def run(url: str, customers: int) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC).replace(microsecond=0)
        print(f"{engine.dialect.name}, {customers} customers, Python {platform.python_version()}")
        async with engine.connect() as connection:
            filled = (await connection.execute(text("SELECT count(*) FROM customers"))).scalar()
        if filled:
            print(f"reusing the {filled} customers already there (data dated from its fill)")
            async with engine.connect() as connection:
                stamp = (
                    await connection.execute(text("SELECT max(created_at) FROM sources"))
                ).scalar()
            now = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
            now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
        else:
            seconds = await fill(engine, customers, now)
            print(f"filled in {seconds:.0f} s")
        await measure(create_session_factory(engine), now)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", help="an EMPTY database (default: a temporary SQLite)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.database_url:
        url = make_url(args.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        asyncio.run(run(url.render_as_string(hide_password=False), args.customers))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args.customers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
