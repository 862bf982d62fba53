"""Campaigns' SQL: state changes as conditional UPDATEs, the start as two INSERT … SELECTs.

Starting a campaign writes its target into `campaign_members` (each row holdout or not, drawn
by the database's own random()) and the outbox rows of the non-holdout members into
`deliveries`, in the caller's transaction: no customer passes through Python, so a million
recipients are two statements. The outbox's `dedup_key` (campaign:ID:customer) makes a second
expansion of the same campaign a unique-key error, never a second message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UtcDateTime
from db.models import (
    Campaign,
    CampaignMember,
    Consent,
    Customer,
    Delivery,
    PromoCode,
    PromoRedemption,
    Purchase,
)
from db.repositories.rows import rows_changed

HELD_STATES = ("paused", "cancelled")
KIND = "campaign"
CANCELLED_REASON = "campaign cancelled"


async def add(session: AsyncSession, **values: Any) -> Campaign:
    row = Campaign(**values)
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def newest(
    session: AsyncSession, limit: int, created_by: str | None = None
) -> list[Campaign]:
    query = select(Campaign)
    if created_by is not None:
        query = query.where(Campaign.created_by == created_by)
    return list(await session.scalars(query.order_by(Campaign.id.desc()).limit(limit)))


async def photo(session: AsyncSession, campaign_id: int) -> bytes | None:
    return await session.scalar(select(Campaign.photo_data).where(Campaign.id == campaign_id))


async def change_state(
    session: AsyncSession,
    campaign_id: int,
    before: tuple[str, ...],
    after: str,
    **values: Any,
) -> bool:
    """`before` → `after` if the campaign is in one of `before` now; False otherwise."""
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state.in_(before))
        .values(state=after, **values)
    )
    return bool(rows_changed(result))


async def due(session: AsyncSession, now: datetime) -> list[int]:
    """Scheduled campaigns whose time has come."""
    query = select(Campaign.id).where(Campaign.state == "scheduled", Campaign.start_at <= now)
    return list(await session.scalars(query.order_by(Campaign.start_at, Campaign.id)))


def _holdout_draw(session: AsyncSession, basis_points: int) -> ColumnElement[bool]:
    """True for about `basis_points` / 10 000 of the rows, at random (each engine's random())."""
    if basis_points <= 0:
        return literal(False, Boolean)
    if session.get_bind().dialect.name == "postgresql":
        return func.random() * 10000 < basis_points
    return func.abs(func.random()) % 10000 < basis_points  # SQLite: a random 64-bit integer


async def highest_customer_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Customer.id))) or 0)


async def claim_slice(session: AsyncSession, campaign_id: int, after: int, through: int) -> bool:
    """Take the slice of ids (after, through] of a running or paused campaign's expansion.

    The conditional UPDATE is the claim: of two processes expanding at once, one moves
    `expanded_through` on and the other finds it moved (no rows); it also locks the campaign's
    row on PostgreSQL until the slice commits.
    """
    result = await session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.expanded_through == after,
            Campaign.state.in_(("running", "paused")),
        )
        .values(expanded_through=through)
    )
    return bool(rows_changed(result))


async def unexpanded(session: AsyncSession) -> list[int]:
    """Running or paused campaigns whose expansion stopped half-way (a crash)."""
    query = select(Campaign.id).where(
        Campaign.state.in_(("running", "paused")),
        Campaign.expanded_through < Campaign.expand_until,
    )
    return list(await session.scalars(query))


async def expand_slice(
    session: AsyncSession,
    campaign_id: int,
    recipients: Any,
    holdout_percent: int,
    payload: dict[str, Any],
    now: datetime,
    after: int,
    through: int,
) -> tuple[int, int]:
    """Members (holdout drawn) with ids in (after, through] and their outbox rows, as two
    INSERT … SELECTs; (targeted, held out) in the slice, added to the campaign's counts."""
    ids = recipients.where(Customer.id > after, Customer.id <= through).subquery("target")
    await session.execute(
        insert(CampaignMember).from_select(
            ["campaign_id", "customer_id", "holdout"],
            select(
                literal(campaign_id, Integer),
                ids.c.id,
                _holdout_draw(session, holdout_percent * 100),
            ),
        )
    )
    m = CampaignMember
    in_slice = and_(m.campaign_id == campaign_id, m.customer_id > after, m.customer_id <= through)
    at = literal(now, UtcDateTime())
    await session.execute(
        insert(Delivery).from_select(
            [
                "customer_id",
                "channel",
                "kind",
                "payload",
                "advertising",
                "campaign_id",
                "dedup_key",
                "state",
                "attempts",
                "due_at",
                "created_at",
                "error",
            ],
            select(
                m.customer_id,
                literal("telegram", String),
                literal(KIND, String),
                literal(payload, JSON),
                true(),
                literal(campaign_id, Integer),
                literal(f"campaign:{campaign_id}:", String) + cast(m.customer_id, String),
                literal("pending", String),
                literal(0, Integer),
                at,
                at,
                literal("", String),
            ).where(in_slice, m.holdout.is_(False)),
        )
    )
    rows = await session.execute(
        select(m.holdout, func.count()).where(in_slice).group_by(m.holdout)
    )
    counts = {bool(holdout): int(n) for holdout, n in rows.all()}
    held = counts.get(True, 0)
    targeted = held + counts.get(False, 0)
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(targeted=Campaign.targeted + targeted, held_out=Campaign.held_out + held)
    )
    return targeted, held


async def skip_pending(session: AsyncSession, campaign_id: int, now: datetime) -> int:
    """A cancelled campaign's queued rows become `skipped` (rows a worker holds finish)."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.state == "pending")
        .values(state="skipped", error=CANCELLED_REASON, due_at=now)
    )
    return rows_changed(result)


async def finish_done(session: AsyncSession, now: datetime) -> list[int]:
    """Running campaigns with nothing left to send become `done`; their ids."""
    left = exists().where(
        Delivery.campaign_id == Campaign.id, Delivery.state.in_(("pending", "sending"))
    ) | (Campaign.expanded_through < Campaign.expand_until)
    candidates = list(
        await session.scalars(select(Campaign.id).where(Campaign.state == "running", ~left))
    )
    finished = []
    for campaign_id in candidates:  # a handful at most: each a conditional UPDATE
        result = await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state == "running", ~left)
            .values(state="done", finished_at=now)
        )
        if rows_changed(result):
            finished.append(campaign_id)
    return finished


@dataclass(frozen=True)
class Outcomes:
    sent: int
    failed: int
    blocked: int  # refused by the messenger (blocked the bot, account gone) or known unreachable
    skipped: int  # consent withdrawn meanwhile, frequency cap, cancelled
    left: int  # pending or being sent


async def outcomes(session: AsyncSession, campaign_id: int) -> Outcomes:
    d = Delivery
    other_skip = (
        d.error.in_(("no advertising consent", CANCELLED_REASON, "no recipient"))
        | d.error.like("frequency cap%")
        | d.error.like("quiet hours%")
    )
    category = case(
        (d.state == "sent", "sent"),
        (d.state == "failed", "failed"),
        (d.state.in_(("pending", "sending")), "left"),
        (and_(d.state == "skipped", other_skip), "skipped"),
        else_="blocked",
    )
    rows = await session.execute(
        select(category, func.count()).where(d.campaign_id == campaign_id).group_by(category)
    )
    counts = {str(name): int(n) for name, n in rows.all()}
    return Outcomes(
        counts.get("sent", 0),
        counts.get("failed", 0),
        counts.get("blocked", 0),
        counts.get("skipped", 0),
        counts.get("left", 0),
    )


@dataclass(frozen=True)
class GroupRow:
    holdout: bool
    heads: int
    buyers: int
    purchases: int
    revenue: int


async def groups(
    session: AsyncSession, campaign_id: int, start: datetime, end: datetime
) -> list[GroupRow]:
    """Per side (holdout or not): members, buyers, purchases and net revenue in [start, end)."""
    m, p = CampaignMember, Purchase
    heads = dict(
        (bool(h), int(n))
        for h, n in (
            await session.execute(
                select(m.holdout, func.count())
                .where(m.campaign_id == campaign_id)
                .group_by(m.holdout)
            )
        ).all()
    )
    bought = (
        await session.execute(
            select(
                m.holdout,
                func.count(func.distinct(p.customer_id)),
                func.count(),
                func.coalesce(func.sum(p.amount - p.refunded_amount), 0),
            )
            .select_from(m)
            .join(p, p.customer_id == m.customer_id)
            .where(m.campaign_id == campaign_id, p.created_at >= start, p.created_at < end)
            .group_by(m.holdout)
        )
    ).all()
    figures = {bool(h): (int(b), int(n), int(r)) for h, b, n, r in bought}
    return [
        GroupRow(side, heads.get(side, 0), *figures.get(side, (0, 0, 0))) for side in (False, True)
    ]


async def unsubscribed_after(session: AsyncSession, campaign_id: int) -> int:
    """Recipients who withdrew the advertising consent after the message reached them."""
    d, c = Delivery, Consent
    query = select(func.count(func.distinct(d.customer_id))).where(
        d.campaign_id == campaign_id,
        d.state == "sent",
        exists().where(
            c.customer_id == d.customer_id,
            c.kind == "advertising",
            c.granted.is_(False),
            c.created_at >= d.sent_at,
        ),
    )
    return int(await session.scalar(query) or 0)


async def holdout_sent(session: AsyncSession, campaign_id: int) -> int:
    """Outbox rows of holdout members (always 0: the check the tests make)."""
    m, d = CampaignMember, Delivery
    query = (
        select(func.count())
        .select_from(d)
        .join(m, and_(m.customer_id == d.customer_id, m.campaign_id == d.campaign_id))
        .where(d.campaign_id == campaign_id, m.holdout.is_(True))
    )
    return int(await session.scalar(query) or 0)


async def recipient_ids(
    session: AsyncSession, campaign_id: int, after: int, through: int
) -> list[int]:
    """The non-holdout members with ids in (after, through]: those who get a personal code."""
    m = CampaignMember
    rows = await session.scalars(
        select(m.customer_id)
        .where(
            m.campaign_id == campaign_id,
            m.customer_id > after,
            m.customer_id <= through,
            m.holdout.is_(False),
        )
        .order_by(m.customer_id)
    )
    return list(rows)


async def member_code(session: AsyncSession, campaign_id: int, telegram_id: int) -> str | None:
    """The personal code of the campaign's promotion held by the non-holdout member with this
    Telegram id; None otherwise."""
    m, c = CampaignMember, Customer
    query = (
        select(PromoCode.code)
        .select_from(m)
        .join(Campaign, Campaign.id == m.campaign_id)
        .join(c, c.id == m.customer_id)
        .join(
            PromoCode,
            and_(
                PromoCode.promotion_id == Campaign.promotion_id,
                PromoCode.customer_id == m.customer_id,
            ),
        )
        .where(m.campaign_id == campaign_id, m.holdout.is_(False), c.telegram_id == telegram_id)
    )
    return await session.scalar(query.limit(1))


async def delivery_code(session: AsyncSession, delivery_id: int) -> str | None:
    """The personal code of the campaign's promotion for the recipient of one outbox row."""
    d = Delivery
    query = (
        select(PromoCode.code)
        .select_from(d)
        .join(Campaign, Campaign.id == d.campaign_id)
        .join(
            PromoCode,
            and_(
                PromoCode.promotion_id == Campaign.promotion_id,
                PromoCode.customer_id == d.customer_id,
            ),
        )
        .where(d.id == delivery_id)
    )
    return await session.scalar(query.limit(1))


async def promo_redemptions(
    session: AsyncSession, campaign_id: int, promotion_id: int, start: datetime, end: datetime
) -> int:
    """Standing redemptions in [start, end) of the promotion's codes held by the campaign's
    non-holdout members."""
    m, r = CampaignMember, PromoRedemption
    query = (
        select(func.count())
        .select_from(m)
        .join(
            PromoCode,
            and_(PromoCode.promotion_id == promotion_id, PromoCode.customer_id == m.customer_id),
        )
        .join(r, r.code_id == PromoCode.id)
        .where(
            m.campaign_id == campaign_id,
            m.holdout.is_(False),
            r.released_at.is_(None),
            r.created_at >= start,
            r.created_at < end,
        )
    )
    return int(await session.scalar(query) or 0)
