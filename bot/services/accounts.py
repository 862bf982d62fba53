"""Customers by messenger account: the channel-generic side of signup and lookups.

A customer is a customer id; a Telegram or WhatsApp account is an identity row pointing to it.
The Telegram handlers keep calling `bot.services.signup` with a Telegram id (its hot path reads
`customers.telegram_id`); the WhatsApp adapter calls these, with (channel, account). Both reach
the same rules: consent records, answers on the pending row, the welcome bonus, the ledger.

One person on two messengers is one customer. When a WhatsApp number (verified by WhatsApp)
belongs to a member who joined elsewhere, nothing is merged: a one-time code is issued, and
only that member, confirming it from their own account (`/link CODE` in Telegram), adds the
WhatsApp account to their customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.consent import ConsentKind, text_version
from bot.domain.program import Program
from bot.domain.questionnaire import Step
from bot.services import advertising, exchange, ledger, privacy
from bot.services.customers import Profile, profile_from
from bot.services.signup import (
    ANSWER_COLUMNS,
    REFERRAL_KIND,
    Entry,
    EntryStatus,
    NotSigningUpError,
    Welcome,
    finish,
)
from bot.services.sources import resolve_start
from db.base import utcnow
from db.models import Customer
from db.repositories import consents, deliveries, events, identities
from db.repositories import customers as customer_repo

log = logging.getLogger(__name__)
TELEGRAM = identities.TELEGRAM
WHATSAPP = identities.WHATSAPP
LINK_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Account:
    """A messenger account: `channel` is 'telegram' or 'whatsapp', `id` the account's id."""

    channel: str
    id: str


@dataclass(frozen=True)
class LinkOffer:
    """The phone belongs to a member from another messenger: they confirm with this code."""

    code: str
    customer_id: int


async def customer_of(session: AsyncSession, account: Account) -> Customer | None:
    return await identities.customer_of(session, account.channel, account.id)


async def customer_id_of(session: AsyncSession, account: Account) -> int | None:
    customer = await customer_of(session, account)
    return customer.id if customer is not None else None


async def profile_of(session: AsyncSession, account: Account) -> Profile | None:
    """The member's profile, or None until signup is complete."""
    return profile_from(await customer_of(session, account))


async def open_chat(
    session: AsyncSession,
    link_key: bytes,
    program: Program,
    account: Account,
    payload: str | None,
    now: datetime | None = None,
) -> Entry:
    """Who wrote, and from where (a source's code, a friend's invite); the window opens."""
    now = now or utcnow()
    ref = links.verify(link_key, payload) if payload else None
    referrer_id = None
    if ref is not None and ref.kind == REFERRAL_KIND:
        referrer = await customer_repo.by_id(session, ref.id)
        if referrer is not None and referrer.status == EntryStatus.ACTIVE:
            referrer_id = referrer.id
        payload = None
    elif ref is not None and ref.kind == exchange.IMPORT_KIND:
        payload = None
    source_id = await resolve_start(session, link_key, payload, account.channel)
    customer = await customer_of(session, account)
    if customer is not None:
        await identities.touch(session, account.channel, account.id, now)
        if customer.unreachable_at is not None:
            await customer_repo.mark_reachable(session, customer.id)
    await session.commit()
    if customer is None:
        return Entry(EntryStatus.NEW, source_id, referrer_id=referrer_id)
    if referrer_id == customer.id:
        referrer_id = None
    if customer.status == EntryStatus.PENDING:
        return Entry(EntryStatus.PENDING, customer.source_id)
    view = await ledger.balance(session, program, customer.id)
    return Entry(EntryStatus.ACTIVE, customer.source_id, customer.name, view.points)


async def seen(
    session: AsyncSession,
    account: Account,
    now: datetime | None = None,
    *,
    reachable_again: bool = False,
) -> None:
    """The customer wrote now (WhatsApp's 24-hour window; reachable again); commits."""
    await identities.touch(session, account.channel, account.id, now or utcnow())
    if reachable_again and (customer := await customer_of(session, account)) is not None:
        await customer_repo.mark_reachable(session, customer.id)
    await session.commit()


async def member_elsewhere(session: AsyncSession, account: Account, phone: str) -> int | None:
    """A member (on another messenger) who holds this verified phone, not yet on this one."""
    holder = await customer_repo.by_phone(session, phone)
    if holder is None or holder.status != EntryStatus.ACTIVE:
        return None
    if await customer_of(session, account) is not None:
        return None
    return holder.id


async def offer_link(
    session: AsyncSession, account: Account, customer_id: int, now: datetime | None = None
) -> LinkOffer:
    """A one-time code the member confirms from their other messenger; nothing merged yet."""
    now = now or utcnow()
    code = await identities.offer_link_code(
        session, customer_id, account.channel, account.id, now, LINK_TTL
    )
    await session.commit()
    return LinkOffer(code, customer_id)


async def confirm_link(
    session: AsyncSession, account: Account, code: str, now: datetime | None = None
) -> Account | None:
    """The member, from `account`, confirms a code: the other account becomes theirs too."""
    now = now or utcnow()
    customer = await customer_of(session, account)
    if customer is None or customer.status != EntryStatus.ACTIVE:
        return None
    link = await identities.take_link(session, code.strip(), customer.id, now)
    if link is None:
        await session.rollback()
        return None
    other = await identities.customer_of(session, link.channel, link.account_id)
    if other is not None and other.id != customer.id:
        # The account began a signup of its own before the phone showed whose it is.
        if not await identities.release_pending(session, other.id):
            await session.rollback()  # a member of their own: never merged
            return None
        session.expunge(other)
    if not await identities.attach(session, customer.id, link.channel, link.account_id, now):
        await session.rollback()  # that account joined on its own meanwhile
        return None
    # The account just added hears of it too, through the outbox: the Telegram chat by its id;
    # WhatsApp as any notice to the customer (there while its 24-hour window is open, which it
    # is unless the code was used a day after it was asked for).
    if link.channel == TELEGRAM and link.account_id.isdigit():
        await deliveries.enqueue(
            session, "account_linked", {"linked": TELEGRAM}, chat_id=int(link.account_id)
        )
    else:
        await deliveries.enqueue(
            session, "account_linked", {"linked": link.channel}, customer_id=customer.id
        )
    await session.commit()
    return Account(link.channel, link.account_id)


async def give_consent(
    session: AsyncSession,
    account: Account,
    language: str,
    source_id: int | None,
    consent_text: str,
    referrer_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Record consent and open a pending customer with this account; idempotent."""
    now = now or utcnow()
    existing = await customer_of(session, account)
    if existing is not None:
        return existing.id
    version = text_version(ConsentKind.PERSONAL_DATA, language, consent_text)
    await consents.remember_text(
        session, version, ConsentKind.PERSONAL_DATA, language, consent_text
    )
    customer = Customer(
        telegram_id=int(account.id) if account.channel == TELEGRAM else None,
        status=EntryStatus.PENDING,
        language=language,
        source_id=source_id,
        referrer_id=referrer_id,
    )
    session.add(customer)
    await session.flush()
    if not await identities.attach(session, customer.id, account.channel, account.id, now):
        await session.rollback()  # "Agree" twice at once: the other one opened it
        again = await customer_of(session, account)
        assert again is not None
        return again.id
    await consents.add(session, customer.id, ConsentKind.PERSONAL_DATA, True, version)
    await events.add_funnel_event(session, "consent_given", source_id, account.channel)
    await session.commit()
    return customer.id


async def decline_consent(session: AsyncSession, account: Account, source_id: int | None) -> None:
    await events.add_funnel_event(session, "consent_declined", source_id, account.channel)
    await session.commit()


async def save_verified_phone(session: AsyncSession, customer_id: int, phone: str) -> bool:
    """The messenger vouches for this phone (WhatsApp's own number): it is the answer.

    A phone someone only typed mid-signup moves here; an imported customer with it is taken
    over (points, purchases). False when a member already holds it (see `member_elsewhere`).
    """
    holder = await customer_repo.by_phone(session, phone)
    if holder is not None and holder.id != customer_id:
        if holder.status == EntryStatus.ACTIVE and holder.imported_at is None:
            return False
        if holder.imported_at is not None and holder.telegram_id is None:
            await exchange.adopt_imported(session, customer_id, phone)
        await customer_repo.release_pending_phone(session, holder.id, phone)
    try:
        async with session.begin_nested():
            saved = await customer_repo.update_pending_of(session, customer_id, phone=phone)
    except IntegrityError:
        await session.rollback()
        return False
    if not saved:
        await session.rollback()
        raise NotSigningUpError(customer_id)
    await session.commit()
    return True


async def save_answer(session: AsyncSession, customer_id: int, step: Step, value: object) -> None:
    """One answer (None for a skipped question) on the pending customer row."""
    if not await customer_repo.update_pending_of(
        session, customer_id, **{ANSWER_COLUMNS[step]: value}
    ):
        await session.rollback()
        raise NotSigningUpError(customer_id)
    await session.commit()


async def toggle_interest(session: AsyncSession, customer_id: int, interest: str) -> list[str]:
    customer = await customer_repo.by_id(session, customer_id)
    chosen = list(customer.interests or []) if customer else []
    chosen = [item for item in chosen if item != interest] + (
        [] if interest in chosen else [interest]
    )
    await save_answer(session, customer_id, Step.INTERESTS, chosen)
    return chosen


async def complete(
    session: AsyncSession,
    account: Account,
    ads_opt_in: bool,
    ads_text: str,
    language: str,
    program: Program,
) -> Welcome:
    customer = await customer_of(session, account)
    if customer is None:
        raise NotSigningUpError(account.id)
    return await finish(session, customer, ads_opt_in, ads_text, language, program, account.channel)


async def unsubscribe(
    session: AsyncSession, account: Account, language: str, ads_text: str
) -> bool:
    customer = await customer_of(session, account)
    if customer is None:
        return False
    return await advertising.unsubscribe_customer(session, customer.id, language, ads_text)


async def my_data(
    session: AsyncSession, program: Program, account: Account
) -> privacy.MyData | None:
    """Everything held about the person behind this account (audited); None for a stranger."""
    customer = await customer_of(session, account)
    if customer is None:
        return None
    return await privacy.my_data_of(session, program, customer)


async def forget(
    session: AsyncSession,
    program: Program,
    link_key: bytes,
    account: Account,
    language: str,
    consent_text: str,
    ads_text: str,
) -> bool:
    customer = await customer_of(session, account)
    if customer is None:
        return False
    return await privacy.forget_customer(
        session, program, link_key, customer, language, consent_text, ads_text
    )


def form_key(account: Account) -> str:
    return f"{account.channel}:{account.id}"


async def form_of(session: AsyncSession, account: Account) -> tuple[str | None, dict[str, Any]]:
    """Where the chat is in a conversation (state, data); answers live on the customer row."""
    return await identities.chat_form(session, form_key(account))


async def set_form(
    session: AsyncSession, account: Account, state: str | None, data: dict[str, Any] | None = None
) -> None:
    await identities.set_chat_form(session, form_key(account), state, data or {})
    await session.commit()
