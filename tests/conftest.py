"""Databases for tests: SQLite always; PostgreSQL and Redis when their URLs are set.

`TEST_DATABASE_URL` names a PostgreSQL database the tests may use as an admin connection: each
test gets its own database, cloned from a template migrated once per run, and dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from db import migrate
from db.engine import create_engine, create_session_factory

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")


@dataclass(frozen=True)
class Backend:
    """Where a test keeps its data: the database engine, and Redis for forms when set."""

    name: str
    database_url: str
    redis_url: str | None = None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _sqlalchemy_pg(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated template database, made once per run, for fast per-test clones."""
    if not PG_URL:
        yield None
        return
    import asyncio

    name = f"clientbase_tpl_{os.getpid()}"

    async def create() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        engine = create_engine(_sqlalchemy_pg(PG_URL, name))
        await migrate.upgrade(engine)
        await engine.dispose()

    async def drop() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


async def _clone_pg(template: str) -> str:
    name = f"clientbase_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL or ""))
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    await admin.close()
    return name


async def _drop_pg(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL or ""))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def backend_params(with_redis: bool = False) -> list:
    skip_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")
    skip_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL not set")
    params = [pytest.param("sqlite"), pytest.param("postgresql", marks=skip_pg)]
    if with_redis:
        params.append(pytest.param("redis", marks=skip_redis))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on each engine; end-to-end ones on Redis too."""
    if "backend" in metafunc.fixturenames:
        with_redis = "e2e" in str(metafunc.definition.path)
        metafunc.parametrize("backend", backend_params(with_redis), indirect=True)


@pytest.fixture
async def backend(request: pytest.FixtureRequest, tmp_path, pg_template) -> AsyncIterator[Backend]:
    """Parametrised by `backend_params()`: sqlite, postgresql, redis (SQLite + Redis forms)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        name = await _clone_pg(pg_template)
        yield Backend(kind, _sqlalchemy_pg(PG_URL or "", name))
        await _drop_pg(name)
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'clientbase.db'}"
    yield Backend(kind, url, REDIS_URL if kind == "redis" else None)


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(backend.database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return create_session_factory(engine)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Which engines this run covers, first thing in the output (CI must show PG and Redis)."""
    return [
        "engines: sqlite"
        + (", postgresql (TEST_DATABASE_URL)" if PG_URL else "; postgresql skipped (no URL)")
        + (", redis (REDIS_URL)" if REDIS_URL else "; redis skipped (no URL)")
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skips counted per reason in one line each, instead of a line per skipped test."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"skipped {count}: {reason}")
