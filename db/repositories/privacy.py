"""The statements behind a customer's rights: erasing the person, reading back all we hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, update
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
