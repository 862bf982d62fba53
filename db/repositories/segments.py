"""Segments as SQL: one WHERE clause per filter, evaluated by the database over the whole base.

Set-based throughout, for a million customers: a segment is counted with one aggregate and
expanded into a campaign with one `INSERT … SELECT`; no customer passes through Python. Spend
and the number of purchases are the columns the ledger keeps on `customers`; the last
purchase is a correlated `max()` read from the `(customer_id, created_at, …)` index of
purchases, and only when a criterion needs it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    extract,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.segments import (
    FREQUENCY_PURCHASES,
    MONETARY_ROUBLES,
    RECENCY_DAYS,
    Lifecycle,
    SegmentFilter,
    SegmentRules,
    parse_rfm,
)
from db.models import Customer, Purchase, Segment
from db.repositories.rows import insert_unique, rows_changed

_ACTIVE = "active"


def last_purchase() -> Any:
    """The customer's last purchase (NULL without one), correlated to the outer customers row."""
    return (
        select(func.max(Purchase.created_at))
        .where(Purchase.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )


def _like_json_item(column: Any, item: str) -> ColumnElement[bool]:
    """The JSON list column holds `item` (as SQLAlchemy's json.dumps wrote it), on both engines.

    `!` is the LIKE escape on both: PostgreSQL's default escape, the backslash, occurs in JSON.
    """
    needle = json.dumps(item)
    escaped = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return cast(column, String).like(f"%{escaped}%", escape="!")


def _lifecycle(kind: Lifecycle, rules: SegmentRules) -> ColumnElement[bool]:
    last = last_purchase()
    if kind is Lifecycle.POTENTIAL:
        return Customer.purchase_count == 0
    if kind is Lifecycle.ONE_PURCHASE:
        return Customer.purchase_count == 1
    if kind is Lifecycle.ACTIVE:
        return last > rules.active_since
    if kind is Lifecycle.QUIET:
        return last <= rules.quiet_before
    if kind is Lifecycle.VIP:
        return Customer.spend >= rules.vip_spend if rules.vip_spend is not None else false()
    return and_(Customer.ads_opt_in.is_(True), Customer.purchase_count == 0)


def condition(segment: SegmentFilter, rules: SegmentRules) -> ColumnElement[bool]:
    """The WHERE clause of the filter (members of the base: status active)."""
    s = segment
    parts: list[ColumnElement[bool]] = [Customer.status == _ACTIVE]
    if s.lifecycle is not None:
        parts.append(_lifecycle(s.lifecycle, rules))
    if s.gender is not None:
        parts.append(Customer.gender == s.gender)
    earliest, latest = s.birthday_bounds(rules.today)
    if latest is not None:
        parts.append(Customer.birthday <= latest)
    if earliest is not None:
        parts.append(Customer.birthday > earliest)
    if s.birthday_month is not None:
        parts.append(extract("month", Customer.birthday) == s.birthday_month)
    if s.cities:
        parts.append(Customer.city.in_(s.cities))
    if s.interests:
        parts.append(or_(*(_like_json_item(Customer.interests, i) for i in s.interests)))
    if s.source_ids:
        parts.append(Customer.source_id.in_(s.source_ids))
    if s.tier is not None:
        low, high = rules.tier_range(s.tier)
        parts.append(Customer.spend >= low)
        if high is not None:
            parts.append(Customer.spend < high)
    if s.spend_min is not None:
        parts.append(Customer.spend >= s.spend_min)
    if s.spend_max is not None:
        parts.append(Customer.spend <= s.spend_max)
    if s.purchases_min is not None:
        parts.append(Customer.purchase_count >= s.purchases_min)
    if s.purchases_max is not None:
        parts.append(Customer.purchase_count <= s.purchases_max)
    if s.last_purchase_before is not None:
        parts.append(last_purchase() < s.last_purchase_before)
    if s.last_purchase_after is not None:
        parts.append(last_purchase() >= s.last_purchase_after)
    if s.rfm_min is not None:
        parts.extend(_rfm(s.rfm_min, rules))
    return and_(*parts)


def _rfm(code: str, rules: SegmentRules) -> list[ColumnElement[bool]]:
    """R ≥ r, F ≥ f, M ≥ m as plain comparisons (a score is a threshold crossed)."""
    r, f, m = parse_rfm(code)
    parts: list[ColumnElement[bool]] = []
    if r > 1:
        days = RECENCY_DAYS[5 - r]
        parts.append(last_purchase() > rules.now - timedelta(days=days))
    if f > 1:
        parts.append(Customer.purchase_count >= FREQUENCY_PURCHASES[f - 2])
    if m > 1:
        parts.append(Customer.spend >= MONETARY_ROUBLES[m - 2] * 100)
    return parts


def reachable() -> ColumnElement[bool]:
    """Who an advertising message may go to: consent given (and not pending), not blocked."""
    return and_(
        Customer.ads_opt_in.is_(True),
        Customer.consent_pending.is_(False),
        Customer.unreachable_at.is_(None),
        Customer.telegram_id.is_not(None),
    )


async def size(
    session: AsyncSession, segment: SegmentFilter, rules: SegmentRules
) -> tuple[int, int]:
    """(members of the segment, of whom reachable recipients), in one scan."""
    query = select(func.count(), func.coalesce(func.sum(case((reachable(), 1), else_=0)), 0)).where(
        condition(segment, rules)
    )
    members, recipients = (await session.execute(query)).one()
    return int(members), int(recipients)


def recipients(segment: SegmentFilter, rules: SegmentRules) -> Select[Any]:
    """The ids of the segment's recipients, as a SELECT to count, page or INSERT … SELECT."""
    return select(Customer.id).where(condition(segment, rules), reachable())


async def recipient_ids(
    session: AsyncSession, segment: SegmentFilter, rules: SegmentRules
) -> list[int]:
    return list(await session.scalars(recipients(segment, rules).order_by(Customer.id)))


# --- saved segments ------------------------------------------------------------------------------


async def add(
    session: AsyncSession, name: str, definition: dict[str, Any], by: str, at: datetime
) -> Segment | None:
    """Insert under the unique name; None (nothing written) when the name is taken."""
    row = Segment(name=name, definition=definition, created_by=by, created_at=at)
    return row if await insert_unique(session, row) else None


async def by_name(session: AsyncSession, name: str) -> Segment | None:
    return await session.scalar(select(Segment).where(Segment.name == name))


async def all_saved(session: AsyncSession) -> list[Segment]:
    return list(await session.scalars(select(Segment).order_by(Segment.name)))


async def remove(session: AsyncSession, name: str) -> bool:
    return bool(rows_changed(await session.execute(delete(Segment).where(Segment.name == name))))


__all__ = [
    "add",
    "all_saved",
    "by_name",
    "condition",
    "reachable",
    "recipient_ids",
    "recipients",
    "remove",
    "size",
]
