"""Segments: their size before anything is sent, their recipients, and the owner's saved ones.

A segment is a `SegmentFilter` (bot.domain.segments) judged against the data as it is now:
nothing about members is stored, so a saved segment is always current. Recipients are only the
customers an advertising message may reach: status active, advertising consent given (and not
pending from an import), not marked unreachable (blocked the bot), with a messenger account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import Program
from bot.domain.segments import SegmentError, SegmentFilter, SegmentRules
from bot.services import audit
from bot.services.permissions import Action, Actor, Grant, NotAllowedError, require
from bot.settings import Settings
from db.base import utcnow
from db.repositories import segments as repo

ALL = "all"  # the whole base (every reachable customer): not a saved segment's name
NAME_MAX = 100


class UnknownSegmentError(LookupError):
    """No saved segment of that name; `names` lists the saved ones."""

    def __init__(self, name: str, names: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.names = names


class SegmentNameError(ValueError):
    """A name that cannot be saved: empty, too long, `all`, or taken (`taken` is True)."""

    def __init__(self, name: str, *, taken: bool = False) -> None:
        super().__init__(name)
        self.name = name
        self.taken = taken


@dataclass(frozen=True)
class SegmentSize:
    members: int  # active customers matching the filter
    recipients: int  # of them, those an advertising message may be sent to


@dataclass(frozen=True)
class SavedSegment:
    id: int
    name: str
    segment: SegmentFilter
    created_by: str
    created_at: datetime
    size: SegmentSize | None = None


def rules_for(
    program: Program,
    *,
    active_days: int,
    quiet_days: int,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> SegmentRules:
    """Thresholds from the program and settings; ages by the shop's local date."""
    now = now or utcnow()
    today = now.astimezone(zone).date() if zone else now.date()
    tiers = tuple((tier.name, tier.threshold) for tier in program.tiers)
    return SegmentRules(
        now=now,
        today=today,
        active_days=active_days,
        quiet_days=quiet_days,
        vip_spend=program.tiers[-1].threshold if len(program.tiers) > 1 else None,
        tiers=tiers,
    )


def rules_from(settings: Settings, now: datetime | None = None) -> SegmentRules:
    """The rules as the settings say (ACTIVE_DAYS, QUIET_DAYS, TIERS, TIMEZONE)."""
    return rules_for(
        settings.program,
        active_days=settings.active_days,
        quiet_days=settings.quiet_days,
        zone=settings.zone,
        now=now,
    )


async def size(session: AsyncSession, segment: SegmentFilter, rules: SegmentRules) -> SegmentSize:
    """How many customers the segment holds now, and how many a broadcast would reach."""
    members, recipients = await repo.size(session, segment, rules)
    return SegmentSize(members, recipients)


async def recipient_ids(
    session: AsyncSession, segment: SegmentFilter, rules: SegmentRules
) -> list[int]:
    """The recipients' customer ids (for small segments and tests; campaigns expand in SQL)."""
    return await repo.recipient_ids(session, segment, rules)


async def resolve(session: AsyncSession, name: str) -> SegmentFilter:
    """A saved segment's filter by name; `all` is everyone. Raises UnknownSegmentError."""
    if name.strip().casefold() == ALL:
        return SegmentFilter()
    row = await repo.by_name(session, name.strip())
    if row is None:
        names = [saved.name for saved in await repo.all_saved(session)]
        raise UnknownSegmentError(name, names)
    return SegmentFilter.from_dict(row.definition)


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX or name.casefold() == ALL:
        raise SegmentNameError(name)
    return name


async def save(
    session: AsyncSession,
    name: str,
    segment: SegmentFilter,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
) -> SavedSegment:
    """Save the filter under `name` (unique; SegmentNameError(taken=True) if taken). Commits.
    Whoever may broadcast saves filters; a manager's sends are cut to their customers
    anyway (`campaigns.restricted`)."""
    require(by, Action.BROADCAST)
    name = _valid_name(name)
    row = await repo.add(session, name, segment.to_dict(), actor[:64], utcnow())
    if row is None:
        await session.rollback()
        raise SegmentNameError(name, taken=True)
    await audit.record(session, actor, channel, "segment_saved", row.id, name=name)
    await session.commit()
    return SavedSegment(row.id, row.name, segment, row.created_by, row.created_at)


async def saved(session: AsyncSession, rules: SegmentRules | None = None) -> list[SavedSegment]:
    """Saved segments by name; with `rules`, each with its current size (one scan each)."""
    out = []
    for row in await repo.all_saved(session):
        try:
            segment = SegmentFilter.from_dict(row.definition)
        except SegmentError:  # saved by a newer version, say: listed, not counted
            continue
        counted = await size(session, segment, rules) if rules is not None else None
        out.append(SavedSegment(row.id, row.name, segment, row.created_by, row.created_at, counted))
    return out


async def delete(
    session: AsyncSession, name: str, *, by: Actor, actor: str, channel: audit.Channel | str
) -> bool:
    """Delete a saved segment (campaigns keep their own snapshot). False if none. Commits.
    Only who may broadcast to everyone (the list is shared)."""
    if require(by, Action.BROADCAST) is not Grant.ALL:
        raise NotAllowedError(Action.BROADCAST)
    if not await repo.remove(session, name.strip()):
        await session.rollback()
        return False
    await audit.record(session, actor, channel, "segment_deleted", None, name=name.strip())
    await session.commit()
    return True
