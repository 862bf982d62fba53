"""Funnel events and owner alerts: small append-only logs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.hot import HotInsert
from db.models import FunnelEvent, OwnerAlert
from db.repositories.rows import insert_unique, table_of

# A customer's first purchase writes one: on the sale's hot path.
_ADD_FUNNEL_EVENT = HotInsert(table_of(FunnelEvent))


async def add_funnel_event(
    session: AsyncSession, kind: str, source_id: int | None, channel: str = "telegram"
) -> None:
    row = {"kind": kind, "source_id": source_id, "channel": channel, "created_at": utcnow()}
    await _ADD_FUNNEL_EVENT.rows(session, [row])


async def add_alert_once(
    session: AsyncSession, kind: str, dedup_key: str, details: dict[str, Any]
) -> bool:
    """Record an alert unless the same one is already there; True when it is new."""
    if await session.scalar(select(OwnerAlert.id).where(OwnerAlert.dedup_key == dedup_key)):
        return False
    return await insert_unique(session, OwnerAlert(kind=kind, dedup_key=dedup_key, details=details))


async def delete_alerts(session: AsyncSession, key_patterns: list[str]) -> None:
    """Remove the alerts whose keys match any of these LIKE patterns."""
    await session.execute(
        delete(OwnerAlert).where(or_(*(OwnerAlert.dedup_key.like(p) for p in key_patterns)))
    )
