"""The customer's side of advertising (38-FZ): withdrawing the consent with one tap, or giving
it later from the profile."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.consent import ConsentKind, text_version
from db.repositories import consents
from db.repositories import customers as customer_repo


async def unsubscribe(
    session: AsyncSession, telegram_id: int, language: str, ads_text: str
) -> bool:
    """Withdraw the advertising consent; False when there was none to withdraw.

    The withdrawal is recorded against the wording the customer was shown (its version), with
    the time, beside the original grant; the opt-in flag the delivery engine reads goes off in
    the same transaction, so no advertising row claimed after this commit reaches them.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        return False
    return await unsubscribe_customer(session, customer.id, language, ads_text)


async def unsubscribe_customer(
    session: AsyncSession, customer_id: int, language: str, ads_text: str
) -> bool:
    """`unsubscribe` by customer id, from any messenger."""
    if not await customer_repo.stop_advertising(session, customer_id):
        await session.rollback()
        return False
    version = text_version(ConsentKind.ADVERTISING, language, ads_text)
    await consents.remember_text(session, version, ConsentKind.ADVERTISING, language, ads_text)
    await consents.add(session, customer_id, ConsentKind.ADVERTISING, False, version)
    await session.commit()
    return True


async def subscribe(session: AsyncSession, telegram_id: int, language: str, ads_text: str) -> bool:
    """Give the advertising consent from the profile; False when it was already on.

    Recorded like the one at signup: the wording's version and the time, beside earlier records.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None or not await customer_repo.start_advertising(session, customer.id):
        await session.rollback()
        return False
    version = text_version(ConsentKind.ADVERTISING, language, ads_text)
    await consents.remember_text(session, version, ConsentKind.ADVERTISING, language, ads_text)
    await consents.add(session, customer.id, ConsentKind.ADVERTISING, True, version)
    await session.commit()
    return True
