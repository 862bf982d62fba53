"""Finding a member at the till: by card (scanned or typed) or by phone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.cards import CARD_LENGTH, normalize_card_code
from bot.domain.phone import mask_phone, normalize_phone
from db.repositories import customers as customer_repo

CARD_KIND = "c"


@dataclass(frozen=True)
class Member:
    """What a cashier may see of a customer: the first name and a masked phone, nothing more."""

    customer_id: int
    telegram_id: int | None  # None: imported from a spreadsheet, not in the messenger yet
    first_name: str
    masked_phone: str
    card_code: str
    language: str


def _member(
    customer_id: int,
    telegram_id: int | None,
    name: str | None,
    phone: str | None,
    card_code: str | None,
    language: str,
) -> Member:
    return Member(
        customer_id,
        telegram_id,
        (name or "").split(" ")[0],
        mask_phone(phone) if phone else "",
        card_code or "",
        language,
    )


def card_payload(link_key: bytes, customer_id: int) -> str:
    """The deep-link payload inside a card's QR code."""
    return links.sign(link_key, CARD_KIND, customer_id)


async def by_card_payload(session: AsyncSession, link_key: bytes, payload: str) -> Member | None:
    ref = links.verify(link_key, payload)
    if ref is None or ref.kind != CARD_KIND:
        return None
    return await by_id(session, ref.id)


async def by_id(session: AsyncSession, customer_id: int) -> Member | None:
    customer = await customer_repo.by_id(session, customer_id)
    if customer is None or customer.status != "active":
        return None
    c = customer
    return _member(c.id, c.telegram_id, c.name, c.phone, c.card_code, c.language)


async def find(session: AsyncSession, query: str) -> Member | None:
    """A typed card number (8 digits with a valid check digit) or a phone in any spelling."""
    row = None
    if code := normalize_card_code(query):
        row = await customer_repo.active_by_card(session, code)
    elif phone := normalize_phone(query):
        row = await customer_repo.active_by_phone(session, phone)
    return None if row is None else _member(*row)


def is_mistyped_card(query: str) -> bool:
    """A card number's length and digits but a wrong check digit: a typo, worth saying so."""
    digits = "".join(query.split())
    return len(digits) == CARD_LENGTH and digits.isdigit() and normalize_card_code(digits) is None
