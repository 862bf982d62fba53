"""`clientbase jobs`: the scheduled jobs with their next and last run; run one by hand.

A run by hand goes through the same claim and keys as the scheduler's own, so catching up a
missed day from the shell while a bot process runs the scheduler still greets nobody twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services.jobs import config_from
from bot.services.jobs.runner import (
    RunOutcome,
    UnknownJobError,
    job_named,
    new_owner,
    run_period,
    statuses,
)
from bot.settings import Settings
from db import migrate
from db.base import utcnow
from db.engine import create_engine, create_session_factory


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker]:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def list_jobs(settings: Settings) -> int:
    config = config_from(settings)
    async with _database(settings) as sessions, sessions() as session:
        jobs = await statuses(session, config)
    print(f"{'job':<16} {'on':<4} {'next run (' + config.zone.key + ')':<28} last run")
    for job in jobs:
        last = "never"
        if job.last_period:
            last = f"{job.last_period} {job.last_state}: {job.last_done} done"
            last += f", {job.last_skipped} skipped"
        next_run = f"{job.next_run.astimezone(config.zone):%Y-%m-%d %H:%M}"
        print(f"{job.name:<16} {'yes' if job.enabled else 'no':<4} {next_run:<28} {last}")
    return 0


async def run_job(settings: Settings, name: str, day_text: str | None) -> int:
    """Run NAME now as it would have run on DAY (today by default); exit 1 when it did not run."""
    config = config_from(settings)
    try:
        job = job_named(name)
    except UnknownJobError as error:
        print(f"no job {name!r}; jobs: {', '.join(error.names)}")
        return 2
    try:
        day = date.fromisoformat(day_text) if day_text else utcnow().astimezone(config.zone).date()
    except ValueError:
        print(f"not a date: {day_text!r} (write YYYY-MM-DD)")
        return 2
    async with _database(settings) as sessions:
        result = await run_period(sessions, config, job, day, owner=new_owner(), rerun_done=True)
    counts = result.counts
    if result.outcome is RunOutcome.DONE:
        print(f"{job} {result.period}: {counts.done} done, {counts.skipped} already done before")
        return 0
    print(f"{job} {result.period}: {result.outcome.value.replace('_', ' ')}")
    return 1
