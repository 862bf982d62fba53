"""The loyalty program as the owner set it: read cheaply on every update, changed with audit.

The values live in `program_settings`, seeded from the environment on first start (keys the
table lacks only); afterwards the database is the truth and `Settings.program` is only the seed.

Reading is on the hot path (every sale), so each process keeps the program it read for
`CACHE_SECONDS` per database. A change made in this process is seen by its next operation
(the cache is dropped after the commit); another process (a second bot, the POS API in its own
process, the shell) sees it within `CACHE_SECONDS` at most. Past operations never change: a
purchase stores the points it earned, a lot its expiry.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import KEYS, Program, ProgramValueError, format_value, with_value
from bot.services import audit
from bot.services.audit import Channel
from bot.services.permissions import Action, Actor, NotAllowedError, ShellActor, require
from bot.services.staff import StaffMember
from db.base import utcnow
from db.repositories import program as repo

log = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
AUDIT_ACTION = "program_change"

__all__ = [
    "AUDIT_ACTION",
    "CACHE_SECONDS",
    "KEYS",
    "NotAllowedError",
    "ProgramChange",
    "ProgramChangedError",
    "ProgramValueError",
    "actor_for",
    "change",
    "current",
    "ensure_seeded",
    "invalidate",
    "load",
    "preview",
]


@dataclass(frozen=True)
class ProgramChange:
    key: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def actor_for(
    by: Actor, channel: Channel, shell_user: str = "", action: Action = Action.PROGRAM_SETTINGS
) -> str:
    """Who the audit names; NotAllowedError for anyone who may not do `action` outside the
    shell (the program and the jobs' texts: an owner)."""
    if channel is Channel.SHELL or isinstance(by, ShellActor):
        return f"shell:{shell_user}"[:64]
    require(by, action)
    assert isinstance(by, StaffMember)
    return by.actor


class ProgramChangedError(Exception):
    """The value changed between the preview the owner confirmed and the confirmation."""


@dataclass(frozen=True)
class _Cached:
    program: Program
    at: float


# Per database (the engine), so two bots in one process (tests) never share a program.
_cache: weakref.WeakKeyDictionary[Engine, _Cached] = weakref.WeakKeyDictionary()
# Bumped by every change: a read that began before a change never caches what it read.
_generation = [0]


def _engine(session: AsyncSession) -> Engine:
    return session.get_bind().engine


def build(seed: Program, stored: dict[str, str]) -> Program:
    """The seed with every stored value applied; a value that no longer parses keeps the seed's
    (logged by key, never silently)."""
    program = seed
    for key in KEYS:
        if key in stored:
            try:
                program = with_value(program, key, stored[key])
            except ProgramValueError:
                log.warning("program setting %s in the database is not valid; using the seed", key)
    return program


async def load(session: AsyncSession, seed: Program) -> Program:
    """The program as stored now (one query, no cache): for jobs and the shell."""
    generation = _generation[0]
    program = build(seed, await repo.values(session))
    if generation == _generation[0]:
        _cache[_engine(session)] = _Cached(program, time.monotonic())
    return program


async def current(session: AsyncSession, seed: Program) -> Program:
    """The program for this operation: cached per process for at most CACHE_SECONDS."""
    cached = _cache.get(_engine(session))
    if cached is not None and time.monotonic() - cached.at < CACHE_SECONDS:
        return cached.program
    return await load(session, seed)


def invalidate(session: AsyncSession) -> None:
    _generation[0] += 1
    _cache.pop(_engine(session), None)


def seed_values(program: Program) -> dict[str, str]:
    return {key: format_value(program, key) for key in KEYS}


async def ensure_seeded(session: AsyncSession, seed: Program) -> None:
    """Store the environment's values for the keys the database lacks (first start); commits."""
    await repo.seed(session, seed_values(seed), utcnow())
    await session.commit()
    invalidate(session)


def preview(program: Program, key: str, raw: str) -> ProgramChange:
    """What a change would do (old → new, in the stored form), or ProgramValueError."""
    old = format_value(program, key)
    return ProgramChange(key, old, format_value(with_value(program, key, raw), key))


async def change(
    session: AsyncSession,
    seed: Program,
    key: str,
    raw: str,
    *,
    by: Actor,
    channel: Channel,
    expected: str | None = None,
    shell_user: str = "",
) -> ProgramChange:
    """Set one value, audited (who, from where, old → new), committed; the next operation in
    this process uses it. `expected` is the old value the owner confirmed: if another change
    came first, ProgramChangedError and nothing is written. Only an owner (or the shell)."""
    actor = actor_for(by, channel, shell_user)
    stored = await repo.values(session)
    result = preview(build(seed, stored), key, raw)
    if expected is not None and expected != result.old:
        raise ProgramChangedError(key)
    if not result.changed:
        return result
    if not await repo.set_value(session, key, stored.get(key), result.new, actor, utcnow()):
        await session.rollback()
        raise ProgramChangedError(key)
    await audit.record(session, actor, channel, AUDIT_ACTION, key, old=result.old, new=result.new)
    await session.commit()
    invalidate(session)
    return result
