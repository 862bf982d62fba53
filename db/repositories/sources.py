"""Sources: where customers come from."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Source


async def get(session: AsyncSession, source_id: int) -> Source | None:
    return await session.get(Source, source_id)


async def add(session: AsyncSession, store: str, campaign: str, employee: str) -> Source:
    source = Source(store=store, campaign=campaign, employee=employee)
    session.add(source)
    await session.flush()
    return source
