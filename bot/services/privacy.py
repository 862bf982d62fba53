"""Withdrawing consent (152-FZ): the person's data goes, all of it, at once."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.signup import phone_alert_keys
from db.engine import checkpoint_after_erasure
from db.models import Customer
from db.repositories import customers as customer_repo
from db.repositories import events


async def forget(session: AsyncSession, link_key: bytes, telegram_id: int) -> bool:
    """Delete the customer with their answers, consents, points and purchases; False if none.

    The database cascades the deletion; the owner's alerts about their phone or account go too.
    What stays is anonymous (funnel counts, a referral's friend keeps their own points). The
    shop's totals lose this customer's purchases.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        return False
    source_id = customer.source_id
    await events.delete_alerts(session, phone_alert_keys(link_key, customer.phone, telegram_id))
    await session.execute(delete(Customer).where(Customer.id == customer.id))
    await events.add_funnel_event(session, "consent_withdrawn", source_id)
    await session.commit()
    await checkpoint_after_erasure(session)
    return True
