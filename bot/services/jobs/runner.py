"""Running jobs exactly once per period, in any number of processes, catching up after downtime.

A run is claimed in `job_runs` (unique job + period) under a lease that the run renews as it
goes; a process that dies mid-run is replaced by the next one to look after its lease lapses.
Every message and bonus is further guarded by its own unique key, so even a run taken over
halfway, or forced again by hand, greets nobody twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.schedule import Timing
from bot.services import program as program_service
from bot.services.jobs import (
    balance_digest,
    birthdays,
    expiring_points,
    housekeeping,
    points_expiry,
    winback,
)
from bot.services.jobs.context import JobConfig, JobCounts, LeaseLostError, RunContext
from bot.services.permissions import Action, Actor, require
from db.base import utcnow
from db.repositories import jobs as repo
from db.repositories import program as program_repo

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


class JobName(StrEnum):
    BIRTHDAY = "birthday"
    EXPIRING_POINTS = "expiring_points"
    POINTS_EXPIRY = "points_expiry"
    BALANCE_DIGEST = "balance_digest"
    HOUSEKEEPING = "housekeeping"
    WINBACK = "winback"


Work = Callable[[RunContext, date], Awaitable[JobCounts]]
WORK: dict[JobName, Work] = {
    JobName.BIRTHDAY: birthdays.run,
    JobName.EXPIRING_POINTS: expiring_points.run,
    JobName.POINTS_EXPIRY: points_expiry.run,
    JobName.BALANCE_DIGEST: balance_digest.run,
    JobName.HOUSEKEEPING: housekeeping.run,
    JobName.WINBACK: winback.run,
}


class UnknownJobError(Exception):
    """No job of that name; `names` lists the ones there are."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.names = [job.value for job in JobName]


class RunOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    BUSY = "busy"  # another process holds the run
    ALREADY_DONE = "already_done"
    DISABLED = "disabled"
    LEASE_LOST = "lease_lost"


@dataclass(frozen=True)
class RunResult:
    job: str
    period: str
    outcome: RunOutcome
    counts: JobCounts = field(default_factory=JobCounts)


@dataclass(frozen=True)
class JobStatus:
    name: str
    enabled: bool
    next_run: datetime
    last_period: str | None = None
    last_state: str | None = None
    last_done: int = 0
    last_skipped: int = 0
    last_finished: datetime | None = None


def timing(config: JobConfig, job: JobName) -> Timing:
    hours = {
        JobName.BIRTHDAY: config.birthday_hour,
        JobName.EXPIRING_POINTS: config.expiring_points_hour,
        JobName.POINTS_EXPIRY: config.points_expiry_hour,
        JobName.BALANCE_DIGEST: config.balance_digest_hour,
        JobName.HOUSEKEEPING: config.housekeeping_hour,
        JobName.WINBACK: config.winback_hour,
    }
    month_day = config.balance_digest_day if job is JobName.BALANCE_DIGEST else None
    return Timing(hours[job], month_day)


def job_named(name: str) -> JobName:
    try:
        return JobName(name)
    except ValueError:
        raise UnknownJobError(name) from None


def new_owner() -> str:
    """Who holds a lease: host, process and a random tag (two schedulers in one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_period(
    sessions: async_sessionmaker[AsyncSession],
    config: JobConfig,
    job: JobName,
    day: date,
    *,
    owner: str,
    now: datetime | None = None,
    rerun_done: bool = False,
) -> RunResult:
    """Run `job` for the period of `day` if this process can claim it; the claim is the guard.

    A job the owner turned off still claims its period and closes it as skipped: turning it
    back on later does not send the days it was off as a belated catch-up.
    """
    now = now or utcnow()
    started = time.monotonic()

    def clock() -> datetime:  # the run's clock: `now` moved on by the time the run has taken
        return now + timedelta(seconds=time.monotonic() - started)

    period = timing(config, job).period(day)
    async with sessions() as session:
        # The program and the owner's texts as they are now: changed without a restart.
        program = await program_service.load(session, config.program)
        config = replace(config, program=program, receipt_window=program.receipt_window)
        own_texts = (await program_repo.job_texts(session, job)).get(job, {})
        enabled = (await repo.switches(session)).get(job, True)
        claimed = await repo.claim_run(
            session, job, period, owner, now, now + LEASE, rerun_done=rerun_done and enabled
        )
        if claimed and not enabled:
            await repo.finish_run(
                session, job, period, owner, state="skipped", now=now, done=0, skipped=0
            )
        await session.commit()
    if not enabled:
        return RunResult(job, period, RunOutcome.DISABLED)
    if not claimed:
        async with sessions() as session:
            done = period in await repo.done_periods(session, job, period)
        return RunResult(job, period, RunOutcome.ALREADY_DONE if done else RunOutcome.BUSY)

    async def heartbeat() -> None:
        async with sessions() as session:
            held = await repo.renew_lease(session, job, period, owner, clock() + LEASE)
            await session.commit()
        if not held:
            raise LeaseLostError

    try:
        counts = await WORK[job](RunContext(sessions, config, now, heartbeat, own_texts), day)
    except LeaseLostError:
        log.warning("job %s %s: lease lost, another process carries on", job, period)
        return RunResult(job, period, RunOutcome.LEASE_LOST)
    except Exception as error:
        log.exception("job %s %s failed", job, period)
        counts, state, failure = JobCounts(), "failed", type(error).__name__
    else:
        state, failure = "done", ""
    async with sessions() as session:
        await repo.finish_run(
            session, job, period, owner, state=state, now=clock(), done=counts.done,
            skipped=counts.skipped, error=failure,
        )  # fmt: skip
        await session.commit()
    if state == "failed":
        return RunResult(job, period, RunOutcome.FAILED)
    log.info("job %s %s: %s done, %s skipped", job, period, counts.done, counts.skipped)
    return RunResult(job, period, RunOutcome.DONE, counts)


async def run_due(
    sessions: async_sessionmaker[AsyncSession],
    config: JobConfig,
    job: JobName,
    *,
    owner: str,
    now: datetime | None = None,
) -> list[RunResult]:
    """Run every period of `job` whose time has come and that no run has finished.

    Looks back `catch_up_days` (downtime over the run time is caught up, not dropped), but not
    before the job's first recorded run: a new installation does not greet last week's birthdays.
    """
    now = now or utcnow()
    today = now.astimezone(config.zone).date()
    window_start = today - timedelta(days=config.catch_up_days)
    when = timing(config, job)
    async with sessions() as session:
        first = await repo.first_period(session, job)
        latest = await repo.latest_done_period(session, job)
        finished = await repo.done_periods(session, job, when.period(window_start))
    if latest is not None:
        _warn_missed(job, when, latest, now, config, window_start)
    since = today if first is None else max(window_start, _period_start(when, first))
    results = []
    for day in when.due_days(now, config.zone, since):
        if when.period(day) not in finished:
            results.append(await run_period(sessions, config, job, day, owner=owner, now=now))
    return results


def _warn_missed(
    job: JobName, when: Timing, latest: str, now: datetime, config: JobConfig, window_start: date
) -> None:
    """Periods older than the grace period are not run by themselves: say so, never silently."""
    missed = [
        day
        for day in when.due_days(now, config.zone, _period_start(when, latest))
        if day < window_start and when.period(day) > latest
    ]
    if missed:
        log.warning(
            "job %s: runs from %s to %s were missed beyond JOBS_CATCH_UP_DAYS and are not caught"
            " up; run them with `clientbase jobs run %s --date YYYY-MM-DD` if still wanted",
            job, missed[0], missed[-1], job,
        )  # fmt: skip


def _period_start(when: Timing, period: str) -> date:
    return date.fromisoformat(period if when.month_day is None else f"{period}-01")


async def statuses(
    session: AsyncSession, config: JobConfig, now: datetime | None = None
) -> list[JobStatus]:
    """Every job with its switch, next run and last run, for `/schedule` and `clientbase jobs`."""
    now = now or utcnow()
    switches = await repo.switches(session)
    last = await repo.last_runs(session)
    result = []
    for job in JobName:
        run = last.get(job)
        result.append(
            JobStatus(
                name=job.value,
                enabled=switches.get(job, True),
                next_run=timing(config, job).next_run(now, config.zone),
                last_period=run.period if run else None,
                last_state=run.state if run else None,
                last_done=run.done if run else 0,
                last_skipped=run.skipped if run else 0,
                last_finished=run.finished_at if run else None,
            )
        )
    return result


async def set_enabled(
    session: AsyncSession,
    name: str,
    enabled: bool,
    by: str,
    now: datetime | None = None,
    *,
    actor: Actor,
) -> None:
    """The owner's switch; the next run (in any process) reads it, so no restart is needed.
    `by` is the name stored with the switch, `actor` who may flip it."""
    require(actor, Action.SCHEDULE)
    await repo.set_switch(session, job_named(name), enabled, by, now or utcnow())
    await session.commit()
