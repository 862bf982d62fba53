"""The base in and out of spreadsheets: the export's one query, the import's bulk writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Consent,
    Customer,
    Delivery,
    LedgerEntry,
    Purchase,
    ReceiptToken,
)
from db.repositories.rows import rows_changed
from db.repositories.stats import purchase_figures

CHUNK = 500  # bound parameters per IN (...) list, well under every engine's limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def export_rows(session: AsyncSession, now: datetime) -> list[Any]:
    """Every member with the latest personal-data decision, live points and purchase figures."""
    latest = (
        select(Consent.customer_id, func.max(Consent.id).label("consent_id"))
        .where(Consent.kind == "personal_data")
        .group_by(Consent.customer_id)
        .subquery("latest")
    )
    points = (
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.remaining).label("points"))
        .where(
            LedgerEntry.remaining > 0,
            or_(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at > now),
        )
        .group_by(LedgerEntry.customer_id)
        .subquery("points")
    )
    figures = purchase_figures()
    query = (
        select(
            Customer,
            Consent.granted,
            Consent.created_at,
            func.coalesce(points.c.points, 0),
            func.coalesce(figures.c.purchases, 0),
            func.coalesce(figures.c.net, 0),
            figures.c.last_at,
        )
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .outerjoin(Consent, Consent.id == latest.c.consent_id)
        .outerjoin(points, points.c.customer_id == Customer.id)
        .outerjoin(figures, figures.c.customer_id == Customer.id)
        .where(Customer.status == "active")
        .order_by(Customer.id)
    )
    return list(await session.execute(query))


async def ids_by_phone(session: AsyncSession, phones: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(phones):
        rows = await session.execute(
            select(Customer.phone, Customer.id).where(Customer.phone.in_(chunk))
        )
        found.update({phone: customer_id for phone, customer_id in rows if phone is not None})
    return found


async def taken_card_codes(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for chunk in _chunks(codes):
        taken.update(
            await session.scalars(select(Customer.card_code).where(Customer.card_code.in_(chunk)))
        )
    return taken


async def insert_customers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT per chunk: ten thousand customers in a few statements."""
    for chunk in _chunks(rows):
        await session.execute(insert(Customer), list(chunk))


async def insert_consents(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        await session.execute(insert(Consent), list(chunk))


async def unclaimed_import(session: AsyncSession, phone: str) -> int | None:
    """An imported customer with this phone nobody has taken over in the bot yet."""
    return await session.scalar(
        select(Customer.id).where(
            Customer.phone == phone,
            Customer.telegram_id.is_(None),
            Customer.imported_at.is_not(None),
        )
    )


async def hand_over(session: AsyncSession, imported_id: int, customer_id: int) -> bool:
    """Give an imported row's points, purchases and consent records to the customer who
    proved the phone, then remove the imported row. The conditional DELETE claims it once."""
    claimed = await session.execute(
        update(Customer)
        .where(
            Customer.id == imported_id,
            Customer.telegram_id.is_(None),
            Customer.imported_at.is_not(None),
        )
        .values(imported_at=None)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(claimed):
        return False
    for model in (LedgerEntry, Purchase, Consent, Delivery):
        await session.execute(
            update(model)
            .where(model.customer_id == imported_id)
            .values(customer_id=customer_id)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(ReceiptToken)
        .where(ReceiptToken.claimed_by == imported_id)
        .values(claimed_by=customer_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Customer)
        .where(Customer.id == imported_id)
        .execution_options(synchronize_session=False)
    )
    return True
