"""Owner alerts about the point-of-sale API: bursts of bad tokens or of lookups that miss.

Queued in the outbox (`deliveries`, kind "owner_alert"), one per owner, under a dedup key per
burst window: several processes that see the same burst alert once between them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import deliveries

AUTH_FAILURES = "pos_auth_failures"
LOOKUP_MISSES = "pos_lookup_misses"


async def alert_owners(
    session: AsyncSession,
    owner_ids: Sequence[int],
    alert: str,
    fields: dict[str, Any],
    *,
    source: str,
    window: int,
) -> bool:
    """Queue the alert for every owner and commit; False when `source` (an address or a token)
    was already alerted in this `window` (by another process)."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    try:
        for owner_id in owner_ids:
            await deliveries.enqueue(
                session,
                "owner_alert",
                {"alert": alert, **fields},
                chat_id=owner_id,
                dedup_key=f"{alert}:{digest}:{window}:{owner_id}",
            )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True
