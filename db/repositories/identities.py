"""A customer's messenger accounts: lookups by (channel, account), the 24-hour window, links.

Telegram's account is also kept on `customers.telegram_id` (the hot path reads it without a
join); every write of one here writes the other in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Customer, FsmRecord, Identity, IdentityLink, LedgerEntry
from db.repositories.rows import InsertOnce, rows_changed, table_of

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"

_identities = table_of(Identity)
_ATTACH = InsertOnce(
    _identities, [_identities.c.channel, _identities.c.account_id], [_identities.c.customer_id]
)


async def customer_of(session: AsyncSession, channel: str, account_id: str) -> Customer | None:
    """The customer behind a messenger account, or None for a stranger."""
    if channel == TELEGRAM and account_id.isdigit():
        return await session.scalar(select(Customer).where(Customer.telegram_id == int(account_id)))
    return await session.scalar(
        select(Customer)
        .join(Identity, Identity.customer_id == Customer.id)
        .where(Identity.channel == channel, Identity.account_id == account_id)
    )


async def attach(
    session: AsyncSession,
    customer_id: int,
    channel: str,
    account_id: str,
    now: datetime | None = None,
) -> bool:
    """Give the customer this account; False when the account already belongs to someone."""
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "channel": channel,
        "account_id": account_id,
        "last_message_at": now,
    }
    values["created_at"] = now or utcnow()
    row = (await session.execute(_ATTACH(session).values(**values))).first()
    if row is None:
        return False
    if channel == TELEGRAM and account_id.isdigit():
        await session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.telegram_id.is_(None))
            .values(telegram_id=int(account_id))
            .execution_options(synchronize_session=False)
        )
    return True


async def detach_all(session: AsyncSession, customer_id: int) -> list[tuple[str, str]]:
    """Forget every account of the customer (with the person: /forget); the accounts it held.

    Everything keyed by one of those accounts goes too: link codes made for the customer or
    offered to one of their accounts (a WhatsApp account's id is the phone number), and the
    chat's place in a conversation (`fsm_records` keyed `<channel>:<account>`).
    """
    accounts = [
        (row.channel, row.account_id)
        for row in await session.execute(
            select(Identity.channel, Identity.account_id).where(Identity.customer_id == customer_id)
        )
    ]
    await session.execute(delete(Identity).where(Identity.customer_id == customer_id))
    await session.execute(delete(IdentityLink).where(IdentityLink.customer_id == customer_id))
    for channel, account_id in accounts:
        await session.execute(
            delete(IdentityLink).where(
                IdentityLink.channel == channel, IdentityLink.account_id == account_id
            )
        )
        await session.execute(delete(FsmRecord).where(FsmRecord.key == f"{channel}:{account_id}"))
    return accounts


async def purge_links(session: AsyncSession, now: datetime) -> int:
    """Link codes nobody confirmed in time: they name a messenger account (a phone number)."""
    result = await session.execute(
        delete(IdentityLink)
        .where(IdentityLink.used_at.is_(None), IdentityLink.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def touch(session: AsyncSession, channel: str, account_id: str, now: datetime) -> None:
    """The customer wrote on this channel now: the 24-hour window opens again."""
    await session.execute(
        update(Identity)
        .where(Identity.channel == channel, Identity.account_id == account_id)
        .values(last_message_at=now)
        .execution_options(synchronize_session=False)
    )


async def of_customer(session: AsyncSession, customer_id: int) -> list[Identity]:
    return list(
        await session.scalars(
            select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
        )
    )


async def preferred(
    session: AsyncSession, customer_ids: Iterable[int], now: datetime | None = None
) -> dict[int, tuple[str, str, datetime | None]]:
    """Where to write to each customer: (channel, account, their last message there).

    WhatsApp while its 24-hour window is open (a free message); else Telegram when they have it
    (free at any time); else WhatsApp (a template). A customer with no identity row (imported,
    never came) is absent.
    """
    now = now or utcnow()
    ids = set(customer_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Identity.customer_id,
            Identity.channel,
            Identity.account_id,
            Identity.last_message_at,
            Identity.id,
        ).where(Identity.customer_id.in_(ids))
    )
    best: dict[int, Any] = {}
    for row in rows:
        current = best.get(row.customer_id)
        if current is None or _rank(row, now) > _rank(current, now):
            best[row.customer_id] = row
    return {key: (row.channel, row.account_id, row.last_message_at) for key, row in best.items()}


WINDOW = timedelta(hours=24)


def _rank(row: Any, now: datetime) -> tuple[int, float, int]:
    when = row.last_message_at
    if row.channel == WHATSAPP and when is not None and now - when < WINDOW:
        tier = 2
    else:
        tier = 1 if row.channel == TELEGRAM else 0
    return (tier, when.timestamp() if when is not None else 0.0, row.id)


# --- links: one person on two messengers ---------------------------------------------------


async def add_link(
    session: AsyncSession,
    code: str,
    customer_id: int,
    channel: str,
    account_id: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        IdentityLink(
            code=code,
            customer_id=customer_id,
            channel=channel,
            account_id=account_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def offer_link_code(
    session: AsyncSession,
    customer_id: int,
    channel: str,
    account_id: str,
    now: datetime,
    ttl: timedelta = timedelta(hours=24),
) -> str:
    """A fresh one-time six-digit code for adding this account to the customer (not committed)."""
    for _attempt in range(5):
        code = f"{secrets.randbelow(10**6):06d}"
        try:
            async with session.begin_nested():
                await add_link(session, code, customer_id, channel, account_id, now, now + ttl)
            return code
        except IntegrityError:
            continue
    raise RuntimeError("no free link code")


async def has_channel(session: AsyncSession, customer_id: int, channel: str) -> bool:
    found = await session.scalar(
        select(Identity.id).where(Identity.customer_id == customer_id, Identity.channel == channel)
    )
    return found is not None


async def release_pending(session: AsyncSession, customer_id: int) -> bool:
    """Drop a signup in progress (no points, no purchases) whose account joins a member's card.

    The same person confirmed from their other messenger that the account is theirs: the
    half-filled row goes, as an abandoned signup would (its identity and consent rows with it).
    """
    holds = select(LedgerEntry.id).where(LedgerEntry.customer_id == customer_id).exists()
    result = await session.execute(
        delete(Customer)
        .where(Customer.id == customer_id, Customer.status == "pending", ~holds)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def links_of(session: AsyncSession, customer_id: int) -> list[IdentityLink]:
    """Every request to add an account to the customer, oldest first (for /mydata)."""
    return list(
        await session.scalars(
            select(IdentityLink)
            .where(IdentityLink.customer_id == customer_id)
            .order_by(IdentityLink.id)
        )
    )


async def take_link(
    session: AsyncSession, code: str, customer_id: int, now: datetime
) -> IdentityLink | None:
    """Use a code once, only by the customer it was made for, before it lapses."""
    result = await session.execute(
        update(IdentityLink)
        .where(
            IdentityLink.code == code,
            IdentityLink.customer_id == customer_id,
            IdentityLink.used_at.is_(None),
            IdentityLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        return None
    return await session.scalar(select(IdentityLink).where(IdentityLink.code == code))


# --- a WhatsApp chat's place in a conversation (the signup form's next question) ------------


async def chat_form(session: AsyncSession, key: str) -> tuple[str | None, dict[str, Any]]:
    row = await session.get(FsmRecord, key)
    return (row.state, dict(row.data or {})) if row is not None else (None, {})


async def set_chat_form(
    session: AsyncSession, key: str, state: str | None, data: dict[str, Any]
) -> None:
    row = await session.get(FsmRecord, key)
    if state is None and not data:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        session.add(FsmRecord(key=key, state=state, data=data, updated_at=utcnow()))
    else:
        row.state, row.data, row.updated_at = state, data, utcnow()
