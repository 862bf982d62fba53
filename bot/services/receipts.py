"""Purchase QR codes that customers scan themselves: issued at the till, claimed once.

The payload names a token row (`p<id>_<signature>`); the row holds the store, amount and receipt
id, so the link stays short and nothing about the purchase can be altered in it. Claiming is a
conditional UPDATE (`claimed_by IS NULL`): of two customers scanning at once, one wins.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.program import Program
from bot.services import ledger
from bot.services.ledger import PurchaseResult
from db.base import utcnow
from db.models import ReceiptToken
from db.repositories import ledger as ledger_repo

log = logging.getLogger(__name__)
RECEIPT_KIND = "p"


class Refusal(StrEnum):
    FORGED = "forged"
    EXPIRED = "expired"
    CLAIMED = "claimed"
    VOIDED = "voided"


class ReceiptRefusedError(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedReceipt:
    token_id: int
    payload: str
    store: str
    amount: int
    receipt_id: str
    expires_at: datetime


def _issued(link_key: bytes, token: ReceiptToken, window: timedelta) -> IssuedReceipt:
    return IssuedReceipt(
        token.id,
        links.sign(link_key, RECEIPT_KIND, token.id),
        token.store,
        token.amount,
        token.receipt_id,
        token.issued_at + window,
    )


async def issue(
    session: AsyncSession,
    link_key: bytes,
    *,
    store: str,
    amount: int,
    receipt_id: str | None,
    issued_by: str,
    window: timedelta,
    now: datetime | None = None,
) -> IssuedReceipt:
    """A QR for one purchase; issuing the same receipt again returns the same QR."""
    if amount <= 0:
        raise ValueError("a purchase has a positive amount")
    now = now or utcnow()
    store = " ".join(store.split())[:100]
    receipt_id = " ".join((receipt_id or "").split())[:64] or None
    if receipt_id:
        existing = await ledger_repo.token_by_receipt(session, store, receipt_id)
        if existing is not None:
            return _issued(link_key, existing, window)
    token = ReceiptToken(
        store=store,
        amount=amount,
        # A placeholder no other token holds, until the token's own number is known.
        receipt_id=receipt_id or f"pending-{uuid.uuid4().hex}",
        issued_by=issued_by,
        issued_at=now,
    )
    session.add(token)
    await session.flush()
    if receipt_id is None:
        # Without a receipt number from the till, the token's own number stands in for it.
        token.receipt_id = f"QR-{token.id}"
    await session.commit()
    return _issued(link_key, token, window)


async def check(
    session: AsyncSession,
    link_key: bytes,
    payload: str,
    window: timedelta,
    now: datetime | None = None,
) -> ReceiptToken:
    """The token a scanned payload names, if it can still be claimed; else why not."""
    now = now or utcnow()
    ref = links.verify(link_key, payload)
    token = (
        await ledger_repo.token_by_id(session, ref.id) if ref and ref.kind == RECEIPT_KIND else None
    )
    if token is None:
        log.warning("receipt payload refused: forged or unknown payload=%.64r", payload)
        raise ReceiptRefusedError(Refusal.FORGED)
    if token.voided_at is not None:
        raise ReceiptRefusedError(Refusal.VOIDED)
    if token.claimed_by is not None:
        raise ReceiptRefusedError(Refusal.CLAIMED)
    if token.issued_at + window <= now:
        raise ReceiptRefusedError(Refusal.EXPIRED)
    return token


async def claim(
    session: AsyncSession,
    program: Program,
    link_key: bytes,
    payload: str,
    customer_id: int,
    window: timedelta,
    now: datetime | None = None,
) -> PurchaseResult:
    """Credit the purchase to the customer who scanned first; every later scan is refused."""
    now = now or utcnow()
    token = await check(session, link_key, payload, window, now)
    for _attempt in range(2):
        if not await ledger_repo.claim_token(session, token.id, customer_id, now):
            await session.rollback()
            raise ReceiptRefusedError(Refusal.CLAIMED)
        try:
            result = await ledger.add_purchase(
                session,
                program,
                customer_id,
                token.amount,
                receipt_id=token.receipt_id,
                store=token.store,
                channel="receipt_qr",
                actor=f"receipt:{token.id}",
                now=now,
            )
        except ledger.RecordedMeanwhileError:
            await session.rollback()  # the till recorded this receipt meanwhile: look again
            continue
        except ledger.ReceiptClaimedError:
            await session.rollback()  # the till recorded this receipt for someone else
            raise ReceiptRefusedError(Refusal.CLAIMED) from None
        except BaseException:
            await session.rollback()
            raise
        await ledger_repo.link_token(session, token.id, result.purchase_id)
        await session.commit()
        return result
    raise ReceiptRefusedError(Refusal.CLAIMED)  # recorded meanwhile twice: let the member retry


async def void(
    session: AsyncSession, store: str, receipt_id: str, now: datetime | None = None
) -> bool:
    """A receipt returned before anyone scanned it: its QR can no longer be claimed."""
    store = " ".join(store.split())
    voided = await ledger_repo.void_token(session, store, receipt_id.strip(), now or utcnow())
    await session.commit()
    return voided
