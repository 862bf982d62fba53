"""Signup: consent, questionnaire answers and the welcome bonus, as one messenger-free service."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.cards import new_card_code
from bot.domain.consent import ConsentKind, text_version
from bot.domain.phone import mask_phone
from bot.domain.program import Program
from bot.domain.questionnaire import SignupAnswers
from bot.services import exchange, ledger
from bot.services.sources import resolve_start
from db.base import utcnow
from db.models import Customer
from db.repositories import consents, events
from db.repositories import customers as customer_repo
from db.repositories.rows import insert_unique

log = logging.getLogger(__name__)
REFERRAL_KIND = "r"


class EntryStatus(StrEnum):
    NEW = "new"
    PENDING = "pending"
    ACTIVE = "active"


@dataclass(frozen=True)
class Entry:
    """Who opened the bot: a stranger, someone mid-signup, or a member with a balance."""

    status: EntryStatus
    source_id: int | None
    name: str | None = None
    balance: int = 0
    referrer_id: int | None = None


@dataclass(frozen=True)
class PhoneConflict:
    """A phone already belongs to another customer; `is_new` is False for a repeated attempt."""

    is_new: bool
    masked_phone: str
    owner_customer_id: int
    claimant_customer_id: int
    # The shop imported this phone: the person may claim it by sharing their own contact.
    imported: bool = False


@dataclass(frozen=True)
class Welcome:
    name: str
    bonus: int
    balance: int


class PhoneTakenError(Exception):
    """The phone was taken by someone else between the question and the last answer."""


async def open_bot(
    session: AsyncSession,
    link_key: bytes,
    program: Program,
    telegram_id: int,
    payload: str | None,
) -> Entry:
    """Who opened the bot, and from where: a source's QR code or a friend's invite link."""
    ref = links.verify(link_key, payload) if payload else None
    referrer_id = None
    if ref is not None and ref.kind == REFERRAL_KIND:
        referrer_id = await _referrer(session, ref.id, telegram_id)
        payload = None  # an invite is not a source: the funnel counts it as "unknown"
    elif ref is not None and ref.kind == exchange.IMPORT_KIND:
        payload = None  # an imported customer's invite: matched by phone after consent
    source_id = await resolve_start(session, link_key, payload)
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    await session.commit()
    if customer is None:
        return Entry(EntryStatus.NEW, source_id, referrer_id=referrer_id)
    if customer.status == EntryStatus.PENDING:
        return Entry(EntryStatus.PENDING, customer.source_id)
    view = await ledger.balance(session, program, customer.id)
    return Entry(EntryStatus.ACTIVE, customer.source_id, customer.name, view.points)


async def is_known(session: AsyncSession, telegram_id: int) -> bool:
    """Whether this person has a customer record (mid-signup or a member)."""
    return await customer_repo.by_telegram_id(session, telegram_id) is not None


async def _referrer(session: AsyncSession, referrer_id: int, telegram_id: int) -> int | None:
    """Only an existing member, never oneself; a member can be invited once, before joining."""
    referrer = await customer_repo.by_id(session, referrer_id)
    if referrer is None or referrer.status != EntryStatus.ACTIVE:
        return None
    return None if referrer.telegram_id == telegram_id else referrer.id


def invite_payload(link_key: bytes, customer_id: int) -> str:
    return links.sign(link_key, REFERRAL_KIND, customer_id)


async def give_consent(
    session: AsyncSession,
    telegram_id: int,
    language: str,
    source_id: int | None,
    consent_text: str,
    referrer_id: int | None = None,
) -> int:
    """Record consent to personal-data processing and open a pending customer; idempotent."""
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is not None:
        return customer.id
    version = text_version(ConsentKind.PERSONAL_DATA, language, consent_text)
    await consents.remember_text(
        session, version, ConsentKind.PERSONAL_DATA, language, consent_text
    )
    customer = Customer(
        telegram_id=telegram_id,
        status=EntryStatus.PENDING,
        language=language,
        source_id=source_id,
        referrer_id=referrer_id,
    )
    if not await insert_unique(session, customer):  # "Agree" in two processes at once
        await session.rollback()
        existing = await customer_repo.by_telegram_id(session, telegram_id)
        assert existing is not None
        return existing.id
    await consents.add(session, customer.id, ConsentKind.PERSONAL_DATA, True, version)
    await events.add_funnel_event(session, "consent_given", source_id)
    await session.commit()
    return customer.id


async def decline_consent(session: AsyncSession, source_id: int | None) -> None:
    """Only an anonymous funnel event: nothing that identifies the person is stored."""
    await events.add_funnel_event(session, "consent_declined", source_id)
    await session.commit()


async def check_phone(
    session: AsyncSession, telegram_id: int, phone: str, *, shared_contact: bool = False
) -> PhoneConflict | None:
    """None when the phone is free for this person; otherwise record it for the owner.

    A customer imported from the shop's spreadsheet (no messenger account yet) with this phone
    is taken over at the end of signup, but only when the person shared their own contact:
    Telegram vouches for that number, while a typed one could be anybody's.
    """
    holder = await customer_repo.by_phone(session, phone)
    if holder is None or holder.telegram_id == telegram_id:
        return None
    if holder.telegram_id is None and holder.imported_at is not None:
        if shared_contact:
            return None
        return PhoneConflict(False, mask_phone(phone), holder.id, 0, imported=True)
    claimant = await customer_repo.by_telegram_id(session, telegram_id)
    claimant_id = claimant.id if claimant else 0
    phone_hash = hashlib.sha256(phone.encode()).hexdigest()[:24]
    masked = mask_phone(phone)
    is_new = await events.add_alert_once(
        session,
        "phone_conflict",
        f"phone:{phone_hash}:{telegram_id}",
        {"phone": masked, "owner_customer_id": holder.id, "claimant_customer_id": claimant_id},
    )
    await session.commit()
    log.warning(
        "phone conflict: customer %s claims the phone of customer %s", claimant_id, holder.id
    )
    return PhoneConflict(is_new, masked, holder.id, claimant_id)


async def complete(
    session: AsyncSession,
    telegram_id: int,
    answers: SignupAnswers,
    ads_opt_in: bool,
    ads_text: str,
    language: str,
    program: Program,
) -> Welcome:
    """Store the answers, the advertising decision and the welcome bonus in one transaction.

    Safe to call twice (a double-tapped last button): the second call finds an active customer
    and the bonuses' idempotency keys, and grants nothing more.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        raise LookupError("complete() before give_consent()")
    if customer.status == EntryStatus.PENDING:
        # Consent is given by now: an imported row with this (contact-proved) phone is theirs.
        await exchange.adopt_imported(session, customer.id, answers.phone)
        version = text_version(ConsentKind.ADVERTISING, language, ads_text)
        await consents.remember_text(session, version, ConsentKind.ADVERTISING, language, ads_text)
        customer.name = answers.name
        customer.phone = answers.phone
        customer.birthday = answers.birthday
        customer.gender = answers.gender
        customer.city = answers.city
        customer.interests = list(answers.interests)
        customer.ads_opt_in = ads_opt_in
        customer.language = language
        customer.status = EntryStatus.ACTIVE
        customer.signed_up_at = utcnow()
        customer.card_code = await _free_card_code(session)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            await session.rollback()
            raise PhoneTakenError from None
        await consents.add(session, customer.id, ConsentKind.ADVERTISING, ads_opt_in, version)
        await events.add_funnel_event(session, "completed", customer.source_id)
    bonus = 0
    for points, key, complete_enough in (
        (program.welcome_bonus, "welcome", True),
        (program.profile_bonus, "profile", answers.is_complete),
    ):
        if complete_enough and await ledger.grant_bonus(
            session,
            program,
            customer.id,
            points,
            key=f"{key}:{customer.id}",
            reason=key,
            commit=False,
        ):
            bonus += points
    await session.commit()
    balance = await ledger.points_of(session, customer.id)
    return Welcome(customer.name or answers.name, bonus, balance)


async def _free_card_code(session: AsyncSession) -> str:
    while await customer_repo.by_card_code(session, code := new_card_code()):
        pass
    return code
