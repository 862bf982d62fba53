"""What every job gets: the database, its settings as plain values, the clock and the lease."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.program import Program

PAGE = 200  # customers per transaction for the jobs that only queue messages


@dataclass(frozen=True)
class JobConfig:
    zone: ZoneInfo
    program: Program
    catch_up_days: int = 3
    birthday_hour: int = 10
    birthday_days_before: int = 0
    birthday_bonus_days: int = 30
    expiring_points_hour: int = 11
    expiring_points_days: int = 7
    points_expiry_hour: int = 1
    balance_digest_hour: int = 12
    balance_digest_day: int = 1
    housekeeping_hour: int = 4
    pending_purge_days: int = 30
    receipt_window: timedelta = timedelta(hours=24)
    winback_hour: int = 13
    winback_days: int = 60  # no purchase for this long: a win-back code
    winback_every_days: int = 90  # at most one win-back code per customer in this many days
    winback_kind: str = "percent"
    winback_value: int = 10  # percent, kopecks (fixed) or points
    winback_code_days: int = 30
    winback_name: str = "Win-back"  # what customers see in /promos


@dataclass(frozen=True)
class JobCounts:
    done: int = 0  # messages queued, customers written off, rows purged
    skipped: int = 0  # already done by an earlier (or another process's) run


@dataclass(frozen=True)
class RunContext:
    """One run: `now` is the run's clock (tests set it); `heartbeat` keeps the lease alive and
    raises LeaseLostError when another process has taken the run over."""

    sessions: async_sessionmaker[AsyncSession]
    config: JobConfig
    now: datetime
    heartbeat: Callable[[], Awaitable[None]]
    # The owner's wording of this job's message per language (`/schedule`); none: the default.
    texts: Mapping[str, str] = field(default_factory=dict)


class LeaseLostError(Exception):
    """Another process took this run over (our lease lapsed): stop without finishing it."""


def own_texts(ctx: RunContext) -> dict[str, dict[str, str]]:
    """The payload's part that carries the owner's texts (queued with each message, so a
    message keeps the wording of the run that queued it)."""
    return {"texts": dict(ctx.texts)} if ctx.texts else {}
