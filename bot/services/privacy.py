"""The customer's rights under 152-FZ: see what is stored, and withdraw consent with proof kept.

Withdrawal erases the person, not the shop's books: the customer row stays as an anonymous
accounting record (`forgotten`, every identifying column blanked, the Telegram link cut), so
purchases and the ledger keep their totals, and the consent records stay as the proof the law
asks the operator for (art. 9(3)): which text was agreed to and when, and when it was withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.consent import ConsentKind, text_version
from bot.domain.program import Program
from bot.services import audit, ledger
from bot.services.signup import phone_alert_keys
from db.engine import checkpoint_after_erasure
from db.models import Customer
from db.repositories import consents, events, identities
from db.repositories import customers as customer_repo
from db.repositories import privacy as repo

MYDATA_ACTION = "mydata"
WRITE_OFF_REASON = "consent withdrawn"


@dataclass(frozen=True)
class ConsentRecord:
    kind: str
    granted: bool
    version: str
    at: datetime
    text: str | None  # the wording behind the version, as it was shown


@dataclass(frozen=True)
class AccountRecord:
    """One messenger account of the person: Telegram's user id, WhatsApp's number."""

    channel: str
    account: str
    since: datetime
    last_message_at: datetime | None


@dataclass(frozen=True)
class LinkRecord:
    """A request to add a messenger account to the person's card, and whether it was confirmed."""

    channel: str
    account: str
    at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True)
class MyData:
    """Everything the shop holds about one person, as they may ask for it (152-FZ art. 14)."""

    customer_id: int
    status: str
    name: str | None
    phone: str | None
    birthday: date | None
    gender: str | None
    city: str | None
    language: str
    source: str | None
    created_at: datetime
    signed_up_at: datetime | None
    card_code: str | None
    ads_opt_in: bool
    points: int
    tier: str
    purchases: int
    spent: int  # kopecks, net of returns
    interests: list[str] = field(default_factory=list)
    consents: tuple[ConsentRecord, ...] = ()
    accounts: tuple[AccountRecord, ...] = ()
    links: tuple[LinkRecord, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The file the person receives: plain JSON types, dates in ISO 8601."""
        return {
            "customer_id": self.customer_id,
            "status": self.status,
            "name": self.name,
            "phone": self.phone,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "gender": self.gender,
            "city": self.city,
            "interests": list(self.interests),
            "language": self.language,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "signed_up_at": self.signed_up_at.isoformat() if self.signed_up_at else None,
            "card_code": self.card_code,
            "advertising_opt_in": self.ads_opt_in,
            "points": self.points,
            "tier": self.tier,
            "purchases": {"count": self.purchases, "spent_kopecks": self.spent},
            "consents": [
                {
                    "kind": record.kind,
                    "granted": record.granted,
                    "text_version": record.version,
                    "at": record.at.isoformat(),
                    "text": record.text,
                }
                for record in self.consents
            ],
            "messenger_accounts": [
                {
                    "channel": record.channel,
                    "account": record.account,
                    "since": record.since.isoformat(),
                    "last_message_at": (
                        record.last_message_at.isoformat() if record.last_message_at else None
                    ),
                }
                for record in self.accounts
            ],
            "account_links": [
                {
                    "channel": record.channel,
                    "account": record.account,
                    "requested_at": record.at.isoformat(),
                    "confirmed_at": record.confirmed_at.isoformat()
                    if record.confirmed_at
                    else None,
                }
                for record in self.links
            ],
        }


async def my_data(session: AsyncSession, program: Program, telegram_id: int) -> MyData | None:
    """All we hold about this Telegram account, None for a stranger; the request is audited."""
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        return None
    return await my_data_of(session, program, customer)


async def my_data_of(session: AsyncSession, program: Program, customer: Customer) -> MyData:
    """`my_data` for a customer already found, on any messenger; audited, commits."""
    view = await ledger.balance(session, program, customer.id)
    purchases, spent = await repo.purchase_summary(session, customer.id)
    history = tuple(
        ConsentRecord(row.kind, row.granted, row.text_version, row.created_at, row.text)
        for row in await repo.consent_history(session, customer.id)
    )
    data = MyData(
        customer_id=customer.id,
        status=customer.status,
        name=customer.name,
        phone=customer.phone,
        birthday=customer.birthday,
        gender=customer.gender,
        city=customer.city,
        language=customer.language,
        source=await repo.source_name(session, customer.source_id),
        created_at=customer.created_at,
        signed_up_at=customer.signed_up_at,
        card_code=customer.card_code,
        ads_opt_in=customer.ads_opt_in,
        points=view.points,
        tier=view.tier.name,
        purchases=purchases,
        spent=spent,
        interests=list(customer.interests or []),
        consents=history,
        accounts=tuple(
            AccountRecord(row.channel, row.account_id, row.created_at, row.last_message_at)
            for row in await identities.of_customer(session, customer.id)
        ),
        links=tuple(
            LinkRecord(row.channel, row.account_id, row.created_at, row.used_at)
            for row in await identities.links_of(session, customer.id)
        ),
    )
    # The actor is the customer's number, not their Telegram id: the log outlives a withdrawal.
    await audit.record(
        session,
        f"customer:{customer.id}",
        audit.Channel.MESSENGER,
        MYDATA_ACTION,
        customer.id,
        consents=len(history),
    )
    await session.commit()
    return data


async def points_to_lose(session: AsyncSession, program: Program, telegram_id: int) -> int | None:
    """What a withdrawal would cost the person, for the confirmation; None for a stranger."""
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        return None
    return (await ledger.balance(session, program, customer.id)).points


async def forget(
    session: AsyncSession,
    program: Program,
    link_key: bytes,
    telegram_id: int,
    language: str,
    consent_text: str,
    ads_text: str,
) -> bool:
    """Withdraw the personal-data consent and erase the person; False if nothing to erase.

    In one transaction: the withdrawal is recorded against the wording in force (and the
    advertising consent's too, when it was on); the customer row loses everything that
    identifies them, the link to the Telegram account included, so a return starts afresh;
    the owner's alerts about them go; whatever was queued for them is skipped. Then their
    points are written off (nobody can spend them now, so they are no longer the shop's
    liability), by the one caller that won the erasure. On SQLite the WAL is then checkpointed
    so the old values do not linger in the files.
    """
    customer = await customer_repo.by_telegram_id(session, telegram_id)
    if customer is None:
        return False
    return await forget_customer(
        session, program, link_key, customer, language, consent_text, ads_text
    )


async def forget_customer(
    session: AsyncSession,
    program: Program,
    link_key: bytes,
    customer: Customer,
    language: str,
    consent_text: str,
    ads_text: str,
) -> bool:
    """`forget` for a customer already found, on any messenger: every account of theirs goes."""
    telegram_id = customer.telegram_id or 0
    customer_id, phone, name, source_id, ads_on = (
        customer.id,
        customer.phone,
        customer.name,
        customer.source_id,
        customer.ads_opt_in,
    )
    session.expunge(customer)  # the row is rewritten below with a Core UPDATE
    if not await repo.anonymise(session, customer_id):
        await session.rollback()
        return False
    accounts = await identities.detach_all(session, customer_id)
    needles = [phone or "", (phone or "").lstrip("+"), name or ""]
    needles += [account_id for channel, account_id in accounts if channel == identities.WHATSAPP]
    await repo.scrub_deliveries(session, customer_id, needles)
    telegram_ids = {telegram_id} | {
        int(account_id)
        for channel, account_id in accounts
        if channel == identities.TELEGRAM and account_id.isdigit()
    }
    await repo.drop_chat_notices(session, sorted(telegram_ids - {0}))
    withdrawals = [(ConsentKind.PERSONAL_DATA, consent_text)]
    if ads_on:
        withdrawals.append((ConsentKind.ADVERTISING, ads_text))
    for kind, text in withdrawals:
        version = text_version(kind, language, text)
        await consents.remember_text(session, version, kind, language, text)
        await consents.add(session, customer_id, kind, False, version)
    await events.delete_alerts(session, phone_alert_keys(link_key, phone, telegram_id))
    await repo.skip_pending_deliveries(session, customer_id)
    await events.add_funnel_event(session, "consent_withdrawn", source_id)
    await session.commit()
    points = await ledger.points_of(session, customer_id)
    if points > 0:
        await ledger.correct(
            session,
            program,
            customer_id,
            -points,
            reason=WRITE_OFF_REASON,
            actor=f"customer:{customer_id}",
        )
    await checkpoint_after_erasure(session)
    return True
