"""Sources: where customers come from."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, FunnelEvent, Purchase, Source
from db.repositories.rows import rows_changed


async def get(session: AsyncSession, source_id: int) -> Source | None:
    return await session.get(Source, source_id)


async def add(
    session: AsyncSession, store: str, campaign: str, employee: str, staff_id: int | None = None
) -> Source:
    source = Source(store=store, campaign=campaign, employee=employee, staff_id=staff_id)
    session.add(source)
    await session.flush()
    return source


async def find(
    session: AsyncSession,
    store: str,
    campaign: str,
    employee: str,
    staff_id: int | None = None,
    *,
    unlinked: bool = False,
) -> Source | None:
    """The oldest enabled source with exactly these names (a reprint reuses its QR code) and
    this member of staff (with `unlinked`: one linked to nobody yet)."""
    query = select(Source).where(
        Source.store == store,
        Source.campaign == campaign,
        Source.employee == employee,
        Source.enabled.is_(True),
    )
    if unlinked or staff_id is None:
        query = query.where(Source.staff_id.is_(None))
    else:
        query = query.where(Source.staff_id == staff_id)
    return await session.scalar(query.order_by(Source.id).limit(1))


async def link_staff(session: AsyncSession, source_id: int, staff_id: int) -> bool:
    """Link an unlinked source to a member of staff (a conditional UPDATE)."""
    result = await session.execute(
        update(Source)
        .where(Source.id == source_id, Source.staff_id.is_(None))
        .values(staff_id=staff_id)
    )
    return rows_changed(result) == 1


async def ids_of_staff(session: AsyncSession, staff_id: int) -> list[int]:
    """The sources (QR codes) linked to this member of staff, disabled ones too: the customers
    they brought stay theirs."""
    return list(await session.scalars(select(Source.id).where(Source.staff_id == staff_id)))


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
