"""The audit trail: who did what, when, from where (issue 13).

`record` writes in the caller's transaction, so an audited action and its entry commit or roll
back together: there is no export without its entry, and no entry for an import that failed.
Details hold ids and counts only; a phone or a name must never be passed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.permissions import Action, Actor, require
from db.models import AuditEntry
from db.repositories import audit as repo

PAGE_SIZE = 20


class Channel(StrEnum):
    MESSENGER = "messenger"
    POS = "pos"
    SHELL = "shell"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    channel: str
    action: str
    subject: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    records: list[AuditRecord]
    page: int
    pages: int
    total: int


def messenger_actor(telegram_id: int) -> str:
    return f"tg:{telegram_id}"


async def record(
    session: AsyncSession,
    actor: str,
    channel: Channel | str,
    action: str,
    subject: str | int | None = None,
    **details: Any,
) -> AuditRecord:
    """Add an entry to the caller's transaction (flushed, not committed)."""
    entry = await repo.add(
        session,
        actor[:64],
        Channel(channel).value,
        action[:40],
        None if subject is None else str(subject)[:64],
        details,
    )
    return _record(entry)


async def page(
    session: AsyncSession, number: int = 0, size: int = PAGE_SIZE, *, by: Actor
) -> AuditPage:
    """Page `number` (0 = the newest entries)."""
    require(by, Action.AUDIT)
    total = await repo.count(session)
    pages = max(1, -(-total // size))
    number = min(max(number, 0), pages - 1)
    entries = await repo.page(session, number * size, size)
    return AuditPage([_record(entry) for entry in entries], number, pages, total)


def _record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        entry.id,
        entry.at,
        entry.actor,
        entry.channel,
        entry.action,
        entry.subject,
        dict(entry.details or {}),
    )
