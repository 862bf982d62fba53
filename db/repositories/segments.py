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
    exists,
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
from db.models import Customer, Identity, Purchase, Segment
from db.repositories.rows import insert_unique, rows_changed

_ACTIVE = "active"


def bought(since: datetime | None = None, *, strictly: bool = True) -> ColumnElement[bool]:
    """A purchase by the outer customers row (after `since`, when given): one index seek."""
    condition = Purchase.customer_id == Customer.id
    if since is not None:
        condition = and_(
            condition, Purchase.created_at > since if strictly else Purchase.created_at >= since
        )
    return exists().where(condition).correlate(Customer)


def _like_json_item(column: Any, item: str) -> ColumnElement[bool]:
    """The JSON list column holds `item` (as SQLAlchemy's json.dumps wrote it), on both engines.

    `!` is the LIKE escape on both: PostgreSQL's default escape, the backslash, occurs in JSON.
    """
    needle = json.dumps(item)
    escaped = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return cast(column, String).like(f"%{escaped}%", escape="!")


def _lifecycle(kind: Lifecycle, rules: SegmentRules) -> ColumnElement[bool]:
    """The last purchase is compared through EXISTS probes of the purchases index:
    last > t ⇔ a purchase after t; last ≤ t ⇔ a purchase, and none after t."""
    if kind is Lifecycle.POTENTIAL:
        return Customer.purchase_count == 0
    if kind is Lifecycle.ONE_PURCHASE:
        return Customer.purchase_count == 1
    if kind is Lifecycle.ACTIVE:
        return bought(rules.active_since)
    if kind is Lifecycle.QUIET:
        return and_(bought(), ~bought(rules.quiet_before))
    if kind is Lifecycle.VIP:
        return Customer.spend >= rules.vip_spend if rules.vip_spend is not None else false()
    return and_(Customer.ads_opt_in.is_(True), Customer.purchase_count == 0)


def condition(segment: SegmentFilter, rules: SegmentRules) -> ColumnElement[bool]:
    """The WHERE clause of the filter (members of the base: status active).

    Plain column tests come first and the probes of purchases last, so that the probes run only
    for the customers the columns let through.
    """
    s = segment
    parts: list[ColumnElement[bool]] = [Customer.status == _ACTIVE]
    probes: list[ColumnElement[bool]] = []
    if s.lifecycle is not None:
        lifecycle = _lifecycle(s.lifecycle, rules)
        uses_purchases = s.lifecycle in (Lifecycle.ACTIVE, Lifecycle.QUIET)
        (probes if uses_purchases else parts).append(lifecycle)
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
    if s.rfm_min is not None:
        r, f, m = parse_rfm(s.rfm_min)
        if f > 1:
            parts.append(Customer.purchase_count >= FREQUENCY_PURCHASES[f - 2])
        if m > 1:
            parts.append(Customer.spend >= MONETARY_ROUBLES[m - 2] * 100)
        if r > 1:
            probes.append(bought(rules.now - timedelta(days=RECENCY_DAYS[5 - r])))
    if s.last_purchase_before is not None:
        probes.append(and_(bought(), ~bought(s.last_purchase_before, strictly=False)))
    if s.last_purchase_after is not None:
        probes.append(bought(s.last_purchase_after, strictly=False))
    return and_(*parts, *probes)


def reachable() -> ColumnElement[bool]:
    """Who an advertising message may go to: consent given (and not pending), not blocked, on
    a messenger (Telegram, read from the row; else a WhatsApp identity)."""
    on_whatsapp = exists().where(
        Identity.customer_id == Customer.id, Identity.channel == "whatsapp"
    )
    return and_(
        Customer.ads_opt_in.is_(True),
        Customer.consent_pending.is_(False),
        Customer.unreachable_at.is_(None),
        or_(Customer.telegram_id.is_not(None), on_whatsapp),
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
