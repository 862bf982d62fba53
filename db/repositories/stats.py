"""The statistics' SQL: every figure is an aggregate computed by the database, never a loop.

Designed for a base of a million customers: each function is one statement (or two), reading
indexes where it can (see the `ix_*` indexes named for statistics in `db/models.py`). Weeks are
counted in whole days from a given start, portably: `julianday` on SQLite, the epoch on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy import Integer as SqlInteger
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OPEN_LOT, Customer, LedgerEntry, Purchase

ACTIVE = "active"
_UNIX_EPOCH_JULIAN_DAY = 2440587.5


@dataclass(frozen=True)
class CustomerGroup:
    """Customers of one source in one lifecycle segment, with their purchase figures."""

    source_id: int | None
    segment: str
    customers: int
    net_revenue: int  # kopecks, returns deducted
    buyers: int  # with at least one purchase
    repeaters: int  # with two purchases or more
    recent_buyers: int  # bought within the active window


@dataclass(frozen=True)
class LifecycleRules:
    active_since: datetime  # a purchase after this makes a customer active
    quiet_before: datetime  # the last purchase before this: gone quiet
    vip_spend: int | None  # net spend (kopecks) of the top tier; None when there is one tier


Scope = Sequence[int] | None  # None: the whole base; else only customers of these sources


def _of_sources(column: Any, scope: Scope) -> ColumnElement[bool]:
    """`column` (a customer id) belongs to a customer of the scope's sources; true for None."""
    if scope is None:
        return true()
    return column.in_(select(Customer.id).where(Customer.source_id.in_(list(scope))))


def _customer_in(scope: Scope) -> ColumnElement[bool]:
    return true() if scope is None else Customer.source_id.in_(list(scope))


def _week_of(session: AsyncSession, column: Any, start: datetime) -> ColumnElement:
    """Whole weeks from `start` to the column's time (rows before `start` are filtered out)."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", column) - start.timestamp()
        return cast(func.floor(seconds / 604800), SqlInteger)
    start_day = start.timestamp() / 86400 + _UNIX_EPOCH_JULIAN_DAY
    # Never negative here, so truncation is the floor (SQLite may lack floor()).
    return cast((func.julianday(column) - start_day) / 7, SqlInteger)


def purchase_figures() -> Subquery:
    """Per customer: purchases, the last one, net spend (read from one covering index)."""
    return (
        select(
            Purchase.customer_id.label("customer_id"),
            func.count().label("purchases"),
            func.max(Purchase.created_at).label("last_at"),
            func.sum(Purchase.amount - Purchase.refunded_amount).label("net"),
        )
        .group_by(Purchase.customer_id)
        .subquery("figures")
    )


async def customer_groups(
    session: AsyncSession, rules: LifecycleRules, scope: Scope = None
) -> list[CustomerGroup]:
    """The whole base in one pass, grouped by source and lifecycle segment.

    Segments are exclusive, first match wins: potential (no purchase), vip (top tier, not gone
    quiet), gone_quiet, one_purchase, active (bought within the window), cooling (the rest,
    only when the quiet window is longer than the active one).
    """
    p = purchase_figures()
    segment = case(
        (p.c.purchases.is_(None), "potential"),
        (
            and_(p.c.net >= rules.vip_spend, p.c.last_at > rules.quiet_before)
            if rules.vip_spend is not None
            else false(),
            "vip",
        ),
        (p.c.last_at <= rules.quiet_before, "gone_quiet"),
        (p.c.purchases == 1, "one_purchase"),
        (p.c.last_at > rules.active_since, "active"),
        else_="cooling",
    ).label("segment")
    query = (
        select(
            Customer.source_id,
            segment,
            func.count(),
            func.coalesce(func.sum(p.c.net), 0),
            func.count(p.c.purchases),
            func.coalesce(func.sum(case((p.c.purchases >= 2, 1), else_=0)), 0),
            func.coalesce(func.sum(case((p.c.last_at > rules.active_since, 1), else_=0)), 0),
        )
        .select_from(Customer)
        .outerjoin(p, p.c.customer_id == Customer.id)
        .where(Customer.status == ACTIVE, _customer_in(scope))
        .group_by(Customer.source_id, segment)
    )
    return [
        CustomerGroup(source, seg, int(n), int(net), int(buyers), int(rep), int(recent))
        for source, seg, n, net, buyers, rep, recent in await session.execute(query)
    ]


async def signups_before(session: AsyncSession, start: datetime, scope: Scope = None) -> int:
    """Members who joined before `start` (imported ones without a date count as before)."""
    query = select(func.count()).where(
        Customer.status == ACTIVE,
        _customer_in(scope),
        or_(Customer.signed_up_at < start, Customer.signed_up_at.is_(None)),
    )
    return int(await session.scalar(query) or 0)


async def signups_per_week(
    session: AsyncSession, start: datetime, scope: Scope = None
) -> dict[int, int]:
    week = _week_of(session, Customer.signed_up_at, start).label("week")
    query = (
        select(week, func.count())
        .where(Customer.status == ACTIVE, Customer.signed_up_at >= start, _customer_in(scope))
        .group_by(week)
    )
    return {int(w): int(n) for w, n in await session.execute(query)}


async def revenue_per_week(
    session: AsyncSession, start: datetime, scope: Scope = None
) -> dict[int, tuple[int, int]]:
    """Week → (net revenue in kopecks, purchases)."""
    week = _week_of(session, Purchase.created_at, start).label("week")
    query = (
        select(week, func.sum(Purchase.amount - Purchase.refunded_amount), func.count())
        .where(Purchase.created_at >= start, _of_sources(Purchase.customer_id, scope))
        .group_by(week)
    )
    return {int(w): (int(net), int(n)) for w, net, n in await session.execute(query)}


async def purchase_totals(session: AsyncSession, scope: Scope = None) -> tuple[int, int]:
    """(purchases, net revenue in kopecks) over all time."""
    row = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)
            ).where(_of_sources(Purchase.customer_id, scope))
        )
    ).one()
    return int(row[0]), int(row[1])


def _live(now: datetime) -> ColumnElement[bool]:
    return and_(
        OPEN_LOT,
        or_(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at > now),
    )


async def liability(
    session: AsyncSession, now: datetime, until: datetime, scope: Scope = None
) -> tuple[int, int]:
    """(points held by live lots, of which lapse by `until`)."""
    lapsing = case((LedgerEntry.expires_at <= until, LedgerEntry.remaining), else_=0)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.remaining), 0),
                func.coalesce(func.sum(lapsing), 0),
            ).where(_live(now), _of_sources(LedgerEntry.customer_id, scope))
        )
    ).one()
    return int(row[0]), int(row[1])


async def lapsing_per_week(
    session: AsyncSession, now: datetime, scope: Scope = None
) -> dict[int | None, int]:
    """Week from now (0 = the coming seven days) → live points lapsing then; None: never."""
    week = case(
        (LedgerEntry.expires_at.is_(None), None),
        else_=_week_of(session, LedgerEntry.expires_at, now),
    ).label("week")
    query = (
        select(week, func.sum(LedgerEntry.remaining))
        .where(_live(now), _of_sources(LedgerEntry.customer_id, scope))
        .group_by(week)
    )
    return {
        None if w is None else int(w): int(points) for w, points in await session.execute(query)
    }


async def decay(
    session: AsyncSession,
    points: Sequence[datetime],
    active_window_days: int,
    scope: Scope = None,
) -> list[tuple[int, int, int]]:
    """At each point in time: (members by then, unreachable by then, buyers in the window).

    One pass over customers and one over the purchases of the window, whatever the number of
    points: each point is a column of conditional sums.
    """
    window = timedelta(days=active_window_days)
    joined = [
        func.sum(
            case((or_(Customer.signed_up_at <= t, Customer.signed_up_at.is_(None)), 1), else_=0)
        )
        for t in points
    ]
    gone = [func.sum(case((Customer.unreachable_at <= t, 1), else_=0)) for t in points]
    row = (
        await session.execute(
            select(*joined, *gone).where(Customer.status == ACTIVE, _customer_in(scope))
        )
    ).one()
    # Per buyer first (the purchases index is read in customer order, no DISTINCT sets), then
    # one sum per point: counting distinct buyers per point directly is several times slower.
    flags = (
        select(
            *[
                func.max(
                    case(
                        (and_(Purchase.created_at > t - window, Purchase.created_at <= t), 1),
                        else_=0,
                    )
                ).label(f"at{index}")
                for index, t in enumerate(points)
            ]
        )
        .where(Purchase.created_at > min(points) - window, _of_sources(Purchase.customer_id, scope))
        .group_by(Purchase.customer_id)
        .subquery("flags")
    )
    bought = (
        await session.execute(
            select(*[func.coalesce(func.sum(flags.c[f"at{i}"]), 0) for i in range(len(points))])
        )
    ).one()
    count = len(points)
    return [(int(row[i] or 0), int(row[count + i] or 0), int(bought[i] or 0)) for i in range(count)]


async def top_customers(
    session: AsyncSession, limit: int, scope: Scope = None
) -> list[tuple[str, str, int, int]]:
    """(name, phone, net spend, purchases) of the biggest spenders, biggest first."""
    p = purchase_figures()
    query = (
        select(Customer.name, Customer.phone, p.c.net, p.c.purchases)
        .join(p, p.c.customer_id == Customer.id)
        .where(Customer.status == ACTIVE, _customer_in(scope))
        .order_by(p.c.net.desc(), Customer.id)
        .limit(limit)
    )
    return [
        (name or "", phone or "", int(net or 0), int(n))
        for name, phone, net, n in await session.execute(query)
    ]
