"""The audit log: one row per audited action, read newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import AuditEntry


async def add(
    session: AsyncSession,
    actor: str,
    channel: str,
    action: str,
    subject: str | None,
    details: dict[str, Any],
) -> AuditEntry:
    entry = AuditEntry(
        at=utcnow(), actor=actor, channel=channel, action=action, subject=subject, details=details
    )
    session.add(entry)
    await session.flush()
    return entry


async def page(session: AsyncSession, offset: int, limit: int) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    return list(await session.scalars(query))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
