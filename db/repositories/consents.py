"""Consent records and the texts they point to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Consent, ConsentText
from db.repositories.rows import insert_unique


async def remember_text(
    session: AsyncSession, version: str, kind: str, language: str, text: str
) -> None:
    """Store the wording once per version; a concurrent first store by another user is fine."""
    if await session.get(ConsentText, version) is not None:
        return
    await insert_unique(
        session, ConsentText(version=version, kind=kind, language=language, text=text)
    )


async def add(
    session: AsyncSession, customer_id: int, kind: str, granted: bool, version: str
) -> Consent:
    record = Consent(customer_id=customer_id, kind=kind, granted=granted, text_version=version)
    session.add(record)
    await session.flush()
    return record


async def latest(session: AsyncSession, customer_id: int, kind: str) -> Consent | None:
    return await session.scalar(
        select(Consent)
        .where(Consent.customer_id == customer_id, Consent.kind == kind)
        .order_by(Consent.id.desc())
        .limit(1)
    )
