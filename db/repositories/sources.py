"""Sources: where customers come from."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, FunnelEvent, Purchase, Source


async def get(session: AsyncSession, source_id: int) -> Source | None:
    return await session.get(Source, source_id)


async def add(session: AsyncSession, store: str, campaign: str, employee: str) -> Source:
    source = Source(store=store, campaign=campaign, employee=employee)
    session.add(source)
    await session.flush()
    return source


async def find(session: AsyncSession, store: str, campaign: str, employee: str) -> Source | None:
    """The oldest enabled source with exactly these names (a reprint reuses its QR code)."""
    return await session.scalar(
        select(Source)
        .where(
            Source.store == store,
            Source.campaign == campaign,
            Source.employee == employee,
            Source.enabled.is_(True),
        )
        .order_by(Source.id)
        .limit(1)
    )


async def all_sources(session: AsyncSession) -> list[Source]:
    return list(await session.scalars(select(Source).order_by(Source.store, Source.id)))


async def event_counts(session: AsyncSession) -> dict[tuple[int | None, str], int]:
    rows = await session.execute(
        select(FunnelEvent.source_id, FunnelEvent.kind, func.count()).group_by(
            FunnelEvent.source_id, FunnelEvent.kind
        )
    )
    return {(source_id, kind): count for source_id, kind, count in rows}


async def event_counts_by_channel(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(channel, step) -> how many: the funnel per messenger."""
    rows = await session.execute(
        select(FunnelEvent.channel, FunnelEvent.kind, func.count()).group_by(
            FunnelEvent.channel, FunnelEvent.kind
        )
    )
    return {(channel, kind): count for channel, kind, count in rows}


async def active_customers_by_source(session: AsyncSession) -> dict[int | None, int]:
    rows = await session.execute(
        select(Customer.source_id, func.count())
        .where(Customer.status == "active")
        .group_by(Customer.source_id)
    )
    return {source_id: count for source_id, count in rows}


async def purchases_by_channel(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Purchase.channel, func.count()).group_by(Purchase.channel))
    return {channel: count for channel, count in rows}
