"""The signup funnel per source: which QR codes bring customers, and which do not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.permissions import Action, Actor, require
from bot.services.sources import SourceLink, list_sources
from db.repositories import sources as source_repo


@dataclass(frozen=True)
class SourceFunnel:
    """One row: `source` is None for people who came without a valid link ("unknown")."""

    source: SourceLink | None
    opens: int
    consents: int
    declines: int
    signups: int
    first_purchases: int
    customers: int

    @property
    def conversion(self) -> float | None:
        """Signups per open; None when nobody opened the link yet."""
        return self.signups / self.opens if self.opens else None


@dataclass(frozen=True)
class FunnelReport:
    rows: list[SourceFunnel]
    best: SourceFunnel | None
    worst: SourceFunnel | None
    purchases: int = 0
    receipt_qr_purchases: int = 0  # claimed by customers scanning a purchase QR themselves
    # Per messenger (telegram, whatsapp): opens, consents, declines, signups.
    channels: tuple[tuple[str, int, int, int, int], ...] = ()


async def funnel_report(
    session: AsyncSession, link_key: bytes, scope: Sequence[int] | None = None
) -> FunnelReport:
    """Every source's funnel; with `scope`, only those sources' (no per-messenger figures)."""
    counts = await source_repo.event_counts(session)
    customers = await source_repo.active_customers_by_source(session)
    sources: list[SourceLink | None] = [*await list_sources(session, link_key), None]
    rows = []
    for source in sources:
        key = source.id if source else None
        row = SourceFunnel(
            source=source,
            opens=counts.get((key, "opened"), 0),
            consents=counts.get((key, "consent_given"), 0),
            declines=counts.get((key, "consent_declined"), 0),
            signups=counts.get((key, "completed"), 0),
            first_purchases=counts.get((key, "first_purchase"), 0),
            customers=customers.get(key, 0),
        )
        if scope is not None and (source is None or source.id not in scope):
            continue
        if source is not None or row.opens or row.customers:
            rows.append(row)
    # Rank only real sources that were scanned; ties go to the one with more signups.
    ranked = sorted(
        (row for row in rows if row.source is not None and row.opens),
        key=lambda row: (row.conversion or 0.0, row.signups),
    )
    best = ranked[-1] if ranked else None
    worst = ranked[0] if len(ranked) > 1 else None
    if scope is not None:
        return FunnelReport(rows, best, worst)
    channels = await source_repo.purchases_by_channel(session)
    by_channel = await source_repo.event_counts_by_channel(session)
    messengers = tuple(
        (
            name,
            by_channel.get((name, "opened"), 0),
            by_channel.get((name, "consent_given"), 0),
            by_channel.get((name, "consent_declined"), 0),
            by_channel.get((name, "completed"), 0),
        )
        for name in sorted({channel for channel, _ in by_channel})
    )
    return FunnelReport(
        rows,
        best,
        worst,
        sum(channels.values()),
        channels.get("receipt_qr", 0),
        messengers,
    )


async def sources_report(session: AsyncSession, link_key: bytes, *, by: Actor) -> FunnelReport:
    """`/sources`: every source's funnel, for who may see the sources."""
    require(by, Action.VIEW_SOURCES)
    return await funnel_report(session, link_key)
