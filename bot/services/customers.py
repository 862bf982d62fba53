"""What a signed-up customer can look up about themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.signup import EntryStatus
from db.models import Customer
from db.repositories import customers as customer_repo


@dataclass(frozen=True)
class Profile:
    customer_id: int
    name: str
    phone: str
    birthday: date | None
    gender: str | None
    city: str | None
    ads_opt_in: bool
    card_code: str
    interests: list[str] = field(default_factory=list)


async def active_profile(session: AsyncSession, telegram_id: int) -> Profile | None:
    """The customer's profile, or None until signup is complete."""
    return profile_from(await customer_repo.by_telegram_id(session, telegram_id))


def profile_from(customer: Customer | None) -> Profile | None:
    """A member's profile from their row (any messenger); None unless signup is complete."""
    if customer is None or customer.status != EntryStatus.ACTIVE:
        return None
    return Profile(
        customer_id=customer.id,
        name=customer.name or "",
        phone=customer.phone or "",
        birthday=customer.birthday,
        gender=customer.gender,
        city=customer.city,
        ads_opt_in=customer.ads_opt_in,
        card_code=customer.card_code or "",
        interests=list(customer.interests or []),
    )
