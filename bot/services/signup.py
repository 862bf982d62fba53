"""Signup: consent, questionnaire answers and the welcome bonus, as one messenger-free service.

The answers live on the pending customer row from the moment consent is given, one write per
answered question; a messenger's form state keeps only which question is next. So no name or
phone sits in aiogram's storage (database rows or Redis keys), and a restart loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain import links
from bot.domain.cards import new_card_code
from bot.domain.consent import ConsentKind, text_version
from bot.domain.program import Program
from bot.domain.questionnaire import SignupAnswers, Step
from bot.services import exchange, ledger
from bot.services.sources import resolve_start
from db.base import utcnow
from db.models import Customer
from db.repositories import consents, deliveries, events, identities
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
    owner_customer_id: int
    claimant_customer_id: int
    # The shop imported this phone: the person may claim it by sharing their own contact.
    imported: bool = False
    # The phone's member is on WhatsApp only: they may add this Telegram account to their card
    # by sending this one-time code from their WhatsApp (nothing is merged before that).
    link_code: str | None = None


@dataclass(frozen=True)
class Welcome:
    name: str
    bonus: int
    balance: int


class PhoneTakenError(Exception):
    """The phone was taken by someone else between the question and the last answer."""


class NotSigningUpError(Exception):
    """An answer from someone with no pending customer row (no consent, or already a member)."""


class MissingAnswerError(Exception):
    """The last step came before a required answer was stored: ask that question again."""

    def __init__(self, step: Step) -> None:
        super().__init__(step)
        self.step = step


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
    if customer is not None and customer.unreachable_at is not None:
        # They write to the bot again (Telegram's "Restart" after unblocking sends /start):
        # messages reach them once more.
        await customer_repo.mark_reachable(session, customer.id)
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
    await identities.attach(session, customer.id, identities.TELEGRAM, str(telegram_id))
    await events.add_funnel_event(session, "consent_given", source_id)
    await session.commit()
    return customer.id


async def decline_consent(session: AsyncSession, source_id: int | None) -> None:
    """Only an anonymous funnel event: nothing that identifies the person is stored."""
    await events.add_funnel_event(session, "consent_declined", source_id)
    await session.commit()


_ANSWER_COLUMNS = {
    Step.NAME: "name",
    Step.BIRTHDAY: "birthday",
    Step.GENDER: "gender",
    Step.CITY: "city",
    Step.INTERESTS: "interests",
}
ANSWER_COLUMNS = _ANSWER_COLUMNS  # for the channel-generic signup (bot/services/accounts.py)


async def save_answer(session: AsyncSession, telegram_id: int, step: Step, value: object) -> None:
    """Keep one answer (None for a skipped question) on the pending customer row.

    One statement: its own unit of work when the session has nothing under way (a step of
    the questionnaire), else the end of the session's."""
    answer = {_ANSWER_COLUMNS[step]: value}
    if not session.in_transaction():
        engine = session.bind
        assert isinstance(engine, AsyncEngine)
        if not await customer_repo.save_pending(engine, telegram_id, **answer):
            raise NotSigningUpError(telegram_id)
        return
    if not await customer_repo.update_pending(session, telegram_id, **answer):
        await session.rollback()
        raise NotSigningUpError(telegram_id)
    await session.commit()


async def interests_of(session: AsyncSession, telegram_id: int) -> list[str]:
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    return list(customer.interests or []) if customer else []


async def toggle_interest(session: AsyncSession, telegram_id: int, interest: str) -> list[str]:
    """Tick or untick one interest; the chosen ones, in the order they were ticked."""
    chosen = await interests_of(session, telegram_id)
    chosen = [item for item in chosen if item != interest] + (
        [] if interest in chosen else [interest]
    )
    await save_answer(session, telegram_id, Step.INTERESTS, chosen)
    return chosen


async def save_phone(
    session: AsyncSession,
    link_key: bytes,
    telegram_id: int,
    phone: str,
    owner_ids: Sequence[int] = (),
    *,
    shared_contact: bool = False,
) -> PhoneConflict | None:
    """Keep the phone as this person's answer, or say whose it is (recorded for the owner).

    A member's phone is theirs. A phone someone else only typed mid-signup is no claim yet: it
    moves to this person, and the other is asked for it again when they finish. A customer the
    shop imported from its spreadsheet (no messenger account yet) with this phone is taken over
    here (points, purchases, consent records), but only when the person shared their own
    contact: Telegram vouches for that number, while a typed one could be anybody's. Consent to
    processing is on record by this step.
    """
    holder = await customer_repo.by_phone(session, phone)
    if holder is not None and holder.telegram_id != telegram_id:
        if holder.telegram_id is None and holder.imported_at is not None:
            if not shared_contact:
                return PhoneConflict(False, holder.id, 0, imported=True)
            claimant = await customer_repo.by_telegram_id(session, telegram_id)
            if claimant is None or claimant.status != EntryStatus.PENDING:
                await session.rollback()
                raise NotSigningUpError(telegram_id)
            await exchange.adopt_imported(session, claimant.id, phone)
        elif holder.status == EntryStatus.ACTIVE and holder.telegram_id is None:
            if await identities.has_channel(session, holder.id, identities.WHATSAPP):
                code = await identities.offer_link_code(
                    session, holder.id, identities.TELEGRAM, str(telegram_id), utcnow()
                )
                await session.commit()
                return PhoneConflict(False, holder.id, 0, link_code=code)
            return await _phone_conflict(
                session, link_key, telegram_id, phone, holder.id, owner_ids
            )
        elif holder.status == EntryStatus.ACTIVE:
            return await _phone_conflict(
                session, link_key, telegram_id, phone, holder.id, owner_ids
            )
        await customer_repo.release_pending_phone(session, holder.id, phone)
    try:
        async with session.begin_nested():
            saved = await customer_repo.update_pending(session, telegram_id, phone=phone)
    except IntegrityError:  # another person's last step took it a moment ago
        await session.rollback()
        raise PhoneTakenError from None
    if not saved:
        await session.rollback()
        raise NotSigningUpError(telegram_id)
    await session.commit()
    return None


def _phone_digest(link_key: bytes, phone: str) -> str:
    """Names a phone in an alert's key without keeping it: a keyed hash, not reversible by
    hashing every possible number (an unsalted one is, in under a second)."""
    return hmac.new(link_key, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:32]


def phone_alert_keys(link_key: bytes, phone: str | None, telegram_id: int) -> list[str]:
    """Patterns (SQL LIKE) of the alerts that concern this person: about their phone, or made
    by their account; deleted with their data."""
    keys = [f"phone:%:{telegram_id}"]
    if phone:
        keys.append(f"phone:{_phone_digest(link_key, phone)}:%")
    return keys


async def _phone_conflict(
    session: AsyncSession,
    link_key: bytes,
    telegram_id: int,
    phone: str,
    holder_id: int,
    owner_ids: Sequence[int],
) -> PhoneConflict:
    """Record for the owner that a member's phone was claimed; customer numbers only, no phone
    (not even masked). The owners' alert is queued in the transaction that records it: they
    hear of each conflict once, and only of one that was recorded."""
    claimant = await customer_repo.by_telegram_id(session, telegram_id)
    claimant_id = claimant.id if claimant else 0
    is_new = await events.add_alert_once(
        session,
        "phone_conflict",
        f"phone:{_phone_digest(link_key, phone)}:{telegram_id}",
        {"owner_customer_id": holder_id, "claimant_customer_id": claimant_id},
    )
    if is_new:
        alert = {
            "alert": "phone_conflict",
            "owner_customer_id": holder_id,
            "claimant_customer_id": claimant_id,
        }
        for owner_id in owner_ids:
            await deliveries.enqueue(session, "owner_alert", alert, chat_id=owner_id)
    await session.commit()
    log.warning(
        "phone conflict: customer %s claims the phone of customer %s", claimant_id, holder_id
    )
    return PhoneConflict(is_new, holder_id, claimant_id)


async def complete(
    session: AsyncSession,
    telegram_id: int,
    ads_opt_in: bool,
    ads_text: str,
    language: str,
    program: Program,
) -> Welcome:
    """Make the stored answers a member, with the advertising decision and the welcome bonus,
    in one transaction.

    Safe to call twice (a double-tapped last button): the second call finds an active customer
    and the bonuses' idempotency keys, and grants nothing more.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        raise NotSigningUpError(telegram_id)
    return await finish(session, customer, ads_opt_in, ads_text, language, program)


async def finish(
    session: AsyncSession,
    customer: Customer,
    ads_opt_in: bool,
    ads_text: str,
    language: str,
    program: Program,
    channel: str = "telegram",
) -> Welcome:
    """`complete` for a customer already found, on any messenger."""
    if customer.name is None:
        raise MissingAnswerError(Step.NAME)
    if customer.phone is None:  # taken by someone who joined with it first
        raise PhoneTakenError
    answers = SignupAnswers(
        customer.name,
        customer.phone,
        customer.birthday,
        customer.gender,
        customer.city,
        list(customer.interests or []),
    )
    if customer.status == EntryStatus.PENDING:
        version = text_version(ConsentKind.ADVERTISING, language, ads_text)
        await consents.remember_text(session, version, ConsentKind.ADVERTISING, language, ads_text)
        customer.ads_opt_in = ads_opt_in
        customer.language = language
        customer.status = EntryStatus.ACTIVE
        customer.signed_up_at = utcnow()
        customer.card_code = await _free_card_code(session)
        await consents.add(session, customer.id, ConsentKind.ADVERTISING, ads_opt_in, version)
        await events.add_funnel_event(session, "completed", customer.source_id, channel)
    bonus = 0
    for points, key, complete_enough in (
        (program.welcome_bonus, "welcome", True),
        (program.profile_bonus, "profile", answers.is_complete),
    ):
        if complete_enough and await ledger.add_bonus(
            session,
            program,
            customer.id,
            points,
            key=f"{key}:{customer.id}",
            reason=key,
        ):
            bonus += points
    await session.commit()
    balance = await ledger.points_of(session, customer.id)
    return Welcome(answers.name, bonus, balance)


async def _free_card_code(session: AsyncSession) -> str:
    while await customer_repo.by_card_code(session, code := new_card_code()):
        pass
    return code


# --- the member's /profile: editing answers after signup ----------------------------------------

EDITABLE = (Step.NAME, Step.BIRTHDAY, Step.GENDER, Step.CITY, Step.INTERESTS)


@dataclass(frozen=True)
class ProfileEdit:
    answers: SignupAnswers
    bonus: int  # the complete-profile bonus granted by this edit (once ever), else 0


async def _member_answers(session: AsyncSession, telegram_id: int) -> tuple[int, SignupAnswers]:
    row = await customer_repo.member_answers(session, telegram_id)
    if row is None:
        raise NotSigningUpError(telegram_id)
    customer_id, name, phone, birthday, gender, city, interests = row
    return customer_id, SignupAnswers(
        name or "", phone or "", birthday, gender, city, list(interests or [])
    )


async def edit_answer(
    session: AsyncSession, program: Program, telegram_id: int, step: Step, value: object
) -> ProfileEdit:
    """A member changes one answer (None clears an optional one), validated by the caller as at
    signup. The complete-profile bonus is paid the first time the profile is complete, under
    its ledger key `profile:{customer}` (the same as at signup): completing, emptying and
    completing again pays nothing more. One transaction, committed here."""
    if step not in EDITABLE or (step is Step.NAME and not value):
        raise MissingAnswerError(step)
    if not await customer_repo.update_member(
        session, telegram_id, **{_ANSWER_COLUMNS[step]: value}
    ):
        await session.rollback()
        raise NotSigningUpError(telegram_id)
    customer_id, answers = await _member_answers(session, telegram_id)
    bonus = 0
    if answers.is_complete and await ledger.add_bonus(
        session,
        program,
        customer_id,
        program.profile_bonus,
        key=f"profile:{customer_id}",
        reason="profile",
    ):
        bonus = program.profile_bonus
    await session.commit()
    return ProfileEdit(answers, bonus)


async def change_phone(
    session: AsyncSession,
    link_key: bytes,
    telegram_id: int,
    phone: str,
    owner_ids: Sequence[int] = (),
) -> PhoneConflict | None:
    """A member's new phone from /profile (normalised by the caller), with the signup's rules.

    A phone that is another customer's (a member on any messenger, or one the shop imported)
    is never moved: the owners hear of it as at signup and nothing changes. A phone someone
    only typed mid-signup in Telegram is released to this member. The change itself is one
    conditional UPDATE on the member's row (the card number stays); WhatsApp identities are
    not touched.
    Committed here; PhoneTakenError when another person took the phone a moment ago.
    """
    holder = await customer_repo.by_phone(session, phone)
    if holder is not None and holder.telegram_id != telegram_id:
        if (
            holder.status != EntryStatus.PENDING
            or holder.imported_at is not None
            # A WhatsApp signup's phone is its account, vouched for by WhatsApp: not released.
            or await identities.has_channel(session, holder.id, identities.WHATSAPP)
        ):
            return await _phone_conflict(
                session, link_key, telegram_id, phone, holder.id, owner_ids
            )
        await customer_repo.release_pending_phone(session, holder.id, phone)
    try:
        async with session.begin_nested():
            changed = await customer_repo.update_member(session, telegram_id, phone=phone)
    except IntegrityError:  # another person's signup took it a moment ago
        await session.rollback()
        raise PhoneTakenError from None
    if not changed:
        await session.rollback()
        raise NotSigningUpError(telegram_id)
    await session.commit()
    return None


async def member_interests(session: AsyncSession, telegram_id: int) -> list[str]:
    return (await _member_answers(session, telegram_id))[1].interests


async def toggle_member_interest(
    session: AsyncSession, program: Program, telegram_id: int, interest: str
) -> ProfileEdit:
    """Tick or untick one interest in the member's profile."""
    chosen = await member_interests(session, telegram_id)
    chosen = [item for item in chosen if item != interest] + (
        [] if interest in chosen else [interest]
    )
    return await edit_answer(session, program, telegram_id, Step.INTERESTS, chosen)
