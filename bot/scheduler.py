"""APScheduler 3 for timing only: each job fires at its local hour and calls the job service.

Exactly-once lives in the database (`bot.services.jobs.runner`): any number of processes may
run this scheduler. Besides the hourly triggers, a watchdog every few minutes catches up what
is due and not finished: runs missed while the process was down, a day whose hour a DST change
skipped, a run whose process died (once its lease lapses). It runs once at start, too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.schedule import Timing
from bot.services.jobs.context import JobConfig
from bot.services.jobs.runner import JobName, new_owner, run_due, timing
from db.base import utcnow

log = logging.getLogger(__name__)
WATCHDOG_MINUTES = 5


class JobScheduler:
    def __init__(self, sessions: async_sessionmaker, config: JobConfig) -> None:
        self._sessions = sessions
        self._config = config
        self._owner = new_owner()
        self._scheduler = AsyncIOScheduler(timezone=config.zone)
        for job in JobName:
            when = timing(config, job)
            self._scheduler.add_job(
                self.fire,
                CronTrigger(hour=when.hour, minute=0, day=_cron_day(when), timezone=config.zone),
                args=[job],
                id=job.value,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        self._scheduler.add_job(
            self.catch_up,
            IntervalTrigger(minutes=WATCHDOG_MINUTES, timezone=config.zone),
            id="catch_up",
            coalesce=True,
            max_instances=1,
            next_run_time=None,
        )

    def every(self, seconds: float, job_id: str, work: Callable[[], Awaitable[None]]) -> None:
        """A job every few seconds (e.g. scheduled campaigns); a failure is logged, not fatal."""

        async def guarded() -> None:
            try:
                await work()
            except Exception:
                log.exception("scheduled job %s could not run", job_id)

        self._scheduler.add_job(
            guarded,
            IntervalTrigger(seconds=seconds, timezone=self._config.zone),
            id=job_id,
            coalesce=True,
            max_instances=1,
        )

    def start(self) -> None:
        """Start the triggers and catch up at once (call inside the running event loop)."""
        self._scheduler.start()
        self._scheduler.modify_job("catch_up", next_run_time=utcnow())

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def next_fire(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return job.next_run_time if job else None

    async def fire(self, job: JobName) -> None:
        try:
            await run_due(self._sessions, self._config, job, owner=self._owner)
        except Exception:  # a database outage must not stop the scheduler for good
            log.exception("scheduled job %s could not run", job)

    async def catch_up(self) -> None:
        for job in JobName:
            await self.fire(job)


def _cron_day(when: Timing) -> str | None:
    """Every day, or the job's day of the month (its last day when the month is shorter)."""
    if when.month_day is None:
        return None
    return f"{when.month_day},last" if when.month_day > 28 else str(when.month_day)
