"""The statements behind a customer's rights: erasing the person, reading back all we hold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Consent, ConsentText, Customer, Delivery, Purchase, Source
from db.repositories.rows import rows_changed

FORGOTTEN = "forgotten"


async def anonymise(session: AsyncSession, customer_id: int) -> bool:
    """Blank every column that identifies the person; False when already done (a second tap).

    The row stays, keyed by its number only, so the purchases, the ledger and the consent
    records that point to it remain as anonymous accounting records and proof of consent.
    """
    result = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.status != FORGOTTEN)
        .values(
            status=FORGOTTEN,
            telegram_id=None,
            name=None,
            phone=None,
            birthday=None,
            gender=None,
            city=None,
            interests=[],
            ads_opt_in=False,
            card_code=None,
            referrer_id=None,
            consent_pending=False,
        )
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def skip_pending_deliveries(session: AsyncSession, customer_id: int) -> int:
    """Cancel what is queued for the person: nothing reaches them after they are forgotten."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.customer_id == customer_id, Delivery.state == "pending")
        .values(state="skipped", error="forgotten")
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def scrub_deliveries(session: AsyncSession, customer_id: int, needles: list[str]) -> int:
    """Blank the outbox payloads that name the person (their phone, name, account id).

    Their own messages and the staff's (alerts carry customer numbers only, but a free text
    could quote a name): each payload is read as JSON text, both with and without escapes,
    so the search is the same on every engine. The row stays (the count of what was sent).
    """
    wanted = [needle for needle in needles if needle]
    if not wanted:
        return 0
    rows = await session.execute(
        select(Delivery.id, Delivery.payload).where(
            or_(Delivery.customer_id == customer_id, Delivery.customer_id.is_(None))
        )
    )
    hit = []
    for row_id, payload in rows:
        plain = json.dumps(payload, ensure_ascii=False, default=str)
        escaped = json.dumps(payload, default=str)
        if any(needle in plain or needle in escaped for needle in wanted):
            hit.append(row_id)
    if hit:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(hit))
            .values(payload={})
            .execution_options(synchronize_session=False)
        )
    return len(hit)


async def drop_chat_notices(session: AsyncSession, telegram_ids: list[int]) -> None:
    """The notices sent to the person's own chat outside their customer row (a link confirmed)."""
    if telegram_ids:
        await session.execute(
            delete(Delivery)
            .where(
                Delivery.customer_id.is_(None),
                Delivery.kind == "account_linked",
                Delivery.chat_id.in_(telegram_ids),
            )
            .execution_options(synchronize_session=False)
        )


async def consent_history(
    session: AsyncSession, customer_id: int
) -> Sequence[Row[str, bool, str, datetime, str]]:
    """Every consent given or withdrawn, oldest first, with the wording it points to."""
    result = await session.execute(
        select(
            Consent.kind,
            Consent.granted,
            Consent.text_version,
            Consent.created_at,
            ConsentText.text,
        )
        .outerjoin(ConsentText, ConsentText.version == Consent.text_version)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.id)
    )
    return result.all()


async def purchase_summary(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """(purchases, kopecks spent net of returns)."""
    row = (
        await session.execute(
            select(
                func.count(Purchase.id),
                func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0),
            ).where(Purchase.customer_id == customer_id)
        )
    ).one()
    return int(row[0]), int(row[1])


async def source_name(session: AsyncSession, source_id: int | None) -> str | None:
    """The store and campaign a person came from, as the shop named them."""
    if source_id is None:
        return None
    source = await session.get(Source, source_id)
    if source is None:
        return None
    return " / ".join(part for part in (source.store, source.campaign) if part)
