"""The outbox: messages queued in the transaction of the change that causes them, and the
statements the delivery engine drains it with (claim under a lease, record each outcome).

A claim is one statement: `WITH picked AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED)
UPDATE … WHERE id IN picked` on PostgreSQL, so several workers take disjoint rows; SQLite
ignores the row lock, and its single writer makes the same conditional UPDATE atomic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, event, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.base import utcnow
from db.hot import HotInsert
from db.models import Campaign, Customer, Delivery
from db.repositories import identities
from db.repositories.rows import table_of

_ENQUEUE = HotInsert(table_of(Delivery))  # a sale's notice is on its hot path

_ENQUEUED = "deliveries_enqueued"


class Doorbell:
    """Wakes this process's delivery workers after a commit that queued something.

    Each worker registers its own event (an `asyncio.Event` belongs to one loop); other
    processes and the shell are found by the workers' short polling interval instead.
    """

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def register(self, wakeup: asyncio.Event) -> None:
        self._events.add(wakeup)

    def unregister(self, wakeup: asyncio.Event) -> None:
        self._events.discard(wakeup)

    def ring(self) -> None:
        for wakeup in list(self._events):
            wakeup.set()


doorbell = Doorbell()


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        doorbell.ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    customer_id: int | None = None,
    chat_id: int | None = None,
    advertising: bool = False,
    campaign_id: int | None = None,
    dedup_key: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """One INSERT, no flush of anything else: the caller's transaction commits it or not.

    The commit wakes this process's workers (a session flag read by an `after_commit` hook).
    """
    now = utcnow()
    await _ENQUEUE.rows(
        session,
        [
            {
                "customer_id": customer_id,
                "chat_id": chat_id,
                "channel": "telegram",
                "kind": kind,
                "payload": payload,
                "advertising": advertising,
                "campaign_id": campaign_id,
                "dedup_key": dedup_key,
                "state": "pending",
                "attempts": 0,
                "due_at": due_at or now,
                "created_at": now,
                "error": "",
            }
        ],
    )
    session.sync_session.info[_ENQUEUED] = True


def ring_after_commit(session: AsyncSession) -> None:
    """Wake this process's workers when `session` commits (rows queued or released in bulk)."""
    session.sync_session.info[_ENQUEUED] = True


@dataclass(frozen=True)
class Claimed:
    """A row taken by a worker, with what its recipient looks like right now."""

    id: int
    kind: str
    payload: dict[str, Any]
    advertising: bool
    attempts: int
    customer_id: int | None
    chat_id: int | None  # the bare chat, or the customer's Telegram account
    language: str | None  # None: not a customer (staff chat): the default language
    ads_opt_in: bool
    unreachable: bool
    # The customer's messenger (the one they last wrote on) and their last message there.
    channel: str = "telegram"
    last_message_at: datetime | None = None


# A paused or cancelled campaign's rows stay where they are: no worker claims them.
_HELD_CAMPAIGN = exists().where(
    Campaign.id == Delivery.campaign_id, Campaign.state.in_(("paused", "cancelled"))
)


def _due(now: datetime) -> Any:
    return and_(
        or_(
            and_(Delivery.state == "pending", Delivery.due_at <= now),
            and_(Delivery.state == "sending", Delivery.lease_until < now),
        ),
        or_(Delivery.campaign_id.is_(None), ~_HELD_CAMPAIGN),
    )


async def claim(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Take up to `limit` due rows (or rows whose worker's lease lapsed) until `lease_until`."""
    # A materialised CTE: a plain `IN (subquery)` may be re-run by PostgreSQL's plan, and each
    # run of a SKIP LOCKED query can pick other rows, so more than `limit` would be taken.
    picked = (
        select(Delivery.id)
        .where(_due(now))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = (
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(select(picked.c.id)), _due(now))
            .values(state="sending", lease_until=lease_until)
            .returning(
                Delivery.id,
                Delivery.kind,
                Delivery.payload,
                Delivery.advertising,
                Delivery.attempts,
                Delivery.customer_id,
                Delivery.chat_id,
            )
        )
    ).all()
    customer_ids = {row.customer_id for row in rows if row.customer_id is not None}
    people: dict[int, Any] = {}
    if customer_ids:
        found = await session.execute(
            select(
                Customer.id,
                Customer.telegram_id,
                Customer.language,
                Customer.ads_opt_in,
                Customer.unreachable_at,
            ).where(Customer.id.in_(customer_ids))
        )
        people = {person.id: person for person in found}
    accounts = await identities.preferred(session, customer_ids, now)
    claimed = []
    for row in sorted(rows, key=lambda row: row.id):
        person = people.get(row.customer_id) if row.customer_id is not None else None
        channel, chat, last = "telegram", person.telegram_id if person else row.chat_id, None
        account = accounts.get(row.customer_id) if row.customer_id is not None else None
        if account is not None and account[1].isdigit():
            channel, chat, last = account[0], int(account[1]), account[2]
            window_closed = last is None or now - last >= identities.WINDOW
            tg = person.telegram_id if person is not None else None
            if channel != "telegram" and tg is not None and window_closed:
                channel, chat, last = "telegram", tg, None  # Telegram is free
        claimed.append(
            Claimed(
                id=row.id,
                kind=row.kind,
                payload=row.payload,
                advertising=row.advertising,
                attempts=row.attempts,
                customer_id=row.customer_id,
                chat_id=chat,
                language=person.language if person else None,
                ads_opt_in=bool(person and person.ads_opt_in),
                unreachable=bool(person and person.unreachable_at is not None),
                channel=channel,
                last_message_at=last,
            )
        )
    return claimed


async def advertising_sent_since(
    session: AsyncSession, customer_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """How many advertising messages each customer got after `since` (the frequency cap)."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(Delivery.customer_id, func.count())
        .where(
            Delivery.customer_id.in_(customer_ids),
            Delivery.advertising.is_(True),
            Delivery.state == "sent",
            Delivery.sent_at > since,
        )
        .group_by(Delivery.customer_id)
    )
    return {customer_id: count for customer_id, count in rows.all() if customer_id is not None}


_table = table_of(Delivery)
_MARK_SENT = (
    update(_table)
    .where(_table.c.id == bindparam("row_id"), _table.c.state == "sending")
    .values(
        state="sent",
        sent_at=bindparam("at"),
        message_id=bindparam("message_id"),
        lease_until=None,
        error="",
    )
)
_RESCHEDULE = (
    update(_table)
    .where(_table.c.id == bindparam("row_id"), _table.c.state == "sending")
    .values(
        state=bindparam("new_state"),
        due_at=bindparam("due"),
        attempts=bindparam("tries"),
        error=bindparam("reason"),
        lease_until=None,
    )
)


@dataclass(frozen=True)
class Sent:
    id: int
    message_id: int
    at: datetime


@dataclass(frozen=True)
class Settled:
    """Any other outcome: back to `pending` (retry, postponed, released) or final."""

    id: int
    state: str  # pending, failed, skipped
    due_at: datetime
    attempts: int
    error: str = ""


async def record(
    session: AsyncSession,
    sent: Sequence[Sent],
    settled: Sequence[Settled],
    unreachable: Sequence[int],
    now: datetime,
) -> None:
    """Write a group of outcomes (executemany); the caller commits them as one transaction."""
    if sent:
        await session.execute(
            _MARK_SENT,
            [{"row_id": s.id, "at": s.at, "message_id": s.message_id} for s in sent],
        )
    if settled:
        await session.execute(
            _RESCHEDULE,
            [
                {
                    "row_id": s.id,
                    "new_state": s.state,
                    "due": s.due_at,
                    "tries": s.attempts,
                    "reason": s.error[:200],
                }
                for s in settled
            ],
        )
    if unreachable:
        await session.execute(
            update(Customer)
            .where(Customer.id.in_(set(unreachable)), Customer.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
