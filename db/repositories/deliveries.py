"""The outbox: messages queued in the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Delivery
from db.repositories.rows import table_of

_ENQUEUE = insert(table_of(Delivery))  # Core, built once: a sale's notice is on its hot path


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    customer_id: int | None = None,
    chat_id: int | None = None,
    advertising: bool = False,
    campaign_id: int | None = None,
    dedup_key: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """One INSERT, no flush of anything else: the caller's transaction commits it or not."""
    now = utcnow()
    await session.execute(
        _ENQUEUE,
        {
            "customer_id": customer_id,
            "chat_id": chat_id,
            "channel": "telegram",
            "kind": kind,
            "payload": payload,
            "advertising": advertising,
            "campaign_id": campaign_id,
            "dedup_key": dedup_key,
            "state": "pending",
            "attempts": 0,
            "due_at": due_at or now,
            "created_at": now,
            "error": "",
        },
    )
