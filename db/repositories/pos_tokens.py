"""Keys of the point-of-sale API, by hash: the lookup runs on every till request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.hot import Hot
from db.models import PosToken
from db.repositories.rows import rows_changed

_LIVE = Hot(
    select(PosToken.store, PosToken.token_hash).where(
        PosToken.token_hash == bindparam("digest"), PosToken.revoked_at.is_(None)
    )
)


def add(session: AsyncSession, store: str, digest: str, now: datetime) -> None:
    session.add(PosToken(store=store, token_hash=digest, created_at=now))


async def live(session: AsyncSession, digest: str) -> tuple[str, str] | None:
    """(store, hash) of the live token with this hash."""
    row = await _LIVE.one_or_none(session, digest=digest)
    return None if row is None else (row[0], row[1])


async def revoke_store(session: AsyncSession, store: str, now: datetime) -> int:
    result = await session.execute(
        update(PosToken)
        .where(PosToken.store == store, PosToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return rows_changed(result)
