"""The points ledger: purchases, redemptions, returns, bonuses, expiry and adjustments.

Every change to a customer's points happens here, inside one transaction that first takes the
customer's ledger lock (`lock_customer`), so two cashiers at once can never overdraw a balance.
Credits are lots with an expiry; debits consume lots oldest first (`bot.domain.ledger`).
Expired lots are written off lazily at the start of every change, so a balance is exact even
when no scheduler has run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ledger as rules
from bot.domain.ledger import NotEnoughPointsError
from bot.domain.program import Program, Tier
from db.base import utcnow
from db.models import Customer, LedgerEntry, Purchase, PurchaseRefund
from db.repositories import events
from db.repositories import ledger as repo
from db.repositories.rows import insert_unique

EXPIRING_WINDOW = timedelta(days=30)
DEBIT_BATCH = 50  # lots read for a debit before falling back to all of them

__all__ = [
    "BalanceView",
    "LedgerError",
    "NotEnoughPointsError",
    "PurchaseNotFoundError",
    "PurchaseResult",
    "ReceiptClaimedError",
    "RedeemCapError",
    "RefundResult",
    "RefundTooLargeError",
    "adjust",
    "balance",
    "expire_all_due",
    "grant_bonus",
    "grant_bonuses",
    "member_balance",
    "points_of",
    "receipt_key",
    "record_purchase",
    "refund",
]


class LedgerError(Exception):
    """A change the rules refuse; `code` is stable for the POS API and for messages."""

    code = "ledger_error"


class RedeemCapError(LedgerError):
    code = "redeem_over_cap"

    def __init__(self, cap: int) -> None:
        super().__init__(f"at most {cap} points may pay this check")
        self.cap = cap


class ReceiptClaimedError(LedgerError):
    code = "receipt_used_by_another_customer"


class PurchaseNotFoundError(LedgerError):
    code = "purchase_not_found"


class RefundTooLargeError(LedgerError):
    code = "refund_exceeds_purchase"

    def __init__(self, left: int) -> None:
        super().__init__(f"only {left} kopecks are left to refund")
        self.left = left


@dataclass(frozen=True)
class BalanceView:
    points: int
    tier: Tier
    next_tier: Tier | None
    to_next_tier: int  # kopecks still to spend; 0 at the top tier
    expiring_soon: int  # points that lapse within EXPIRING_WINDOW
    spend: int


@dataclass(frozen=True)
class PurchaseResult:
    purchase_id: int
    customer_id: int
    amount: int
    redeemed: int
    accrued: int
    balance: int
    tier_before: str
    tier_after: str
    duplicate: bool = False
    referrer_rewarded: int | None = None  # the referrer's customer id, when this paid them

    @property
    def upgraded(self) -> bool:
        return self.tier_after != self.tier_before


@dataclass(frozen=True)
class RefundResult:
    purchase_id: int
    customer_id: int
    amount: int
    reversed_points: int
    returned_points: int
    shortfall: int  # accrued points already spent, that could not be taken back
    balance: int
    duplicate: bool = False


def _lots(entries: list[LedgerEntry]) -> list[rules.Lot]:
    return [
        rules.Lot(entry.id, entry.remaining or 0, entry.created_at, entry.expires_at)
        for entry in entries
    ]


async def _credit(
    session: AsyncSession,
    customer_id: int,
    kind: str,
    points: int,
    *,
    key: str,
    lifetime_days: int,
    now: datetime,
    reason: str = "",
    actor: str = "",
    purchase_id: int | None = None,
) -> bool:
    expires = now + timedelta(days=lifetime_days) if lifetime_days > 0 else None
    entry = LedgerEntry(
        customer_id=customer_id,
        kind=kind,
        points=points,
        remaining=points,
        expires_at=expires,
        idempotency_key=key,
        reason=reason,
        actor=actor,
        purchase_id=purchase_id,
        created_at=now,
    )
    return await repo.add_once(session, entry)


async def _debit(
    session: AsyncSession,
    customer_id: int,
    kind: str,
    points: int,
    *,
    key: str,
    now: datetime,
    reason: str = "",
    actor: str = "",
    purchase_id: int | None = None,
    first_lot: int | None = None,
) -> LedgerEntry:
    lots = await repo.live_lots(session, customer_id, now, first=first_lot, limit=DEBIT_BATCH)
    if sum(lot.remaining or 0 for lot in lots) < points:
        lots = await repo.live_lots(session, customer_id, now, first=first_lot)
    allocations = rules.take(_lots(lots), points, now, first=first_lot)
    entry = LedgerEntry(
        customer_id=customer_id,
        kind=kind,
        points=-points,
        idempotency_key=key,
        reason=reason,
        actor=actor,
        purchase_id=purchase_id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    by_id = {lot.id: lot for lot in lots}
    for lot_id, portion in allocations:
        repo.allocate(session, entry, by_id[lot_id], portion)
    return entry


async def _expire(session: AsyncSession, customer_id: int, now: datetime) -> int:
    """Write off lots whose time is up; the state (not a key) makes a second run a no-op."""
    lots = await repo.lapsed_lots(session, customer_id, now)
    by_id = {lot.id: lot for lot in lots}
    total = 0
    for lot_id, points in rules.expired(_lots(lots), now):
        entry = LedgerEntry(
            customer_id=customer_id,
            kind="expiry",
            points=-points,
            idempotency_key=f"expiry:{lot_id}:{uuid.uuid4().hex[:12]}",
            reason=f"lot {lot_id} expired",
            actor="system",
            created_at=now,
        )
        session.add(entry)
        await session.flush()
        repo.allocate(session, entry, by_id[lot_id], points)
        total += points
    return total


async def _locked(session: AsyncSession, customer_id: int, now: datetime) -> int:
    """Take the customer's ledger lock and write off lapsed lots; returns the points written off."""
    if not await repo.lock_customer(session, customer_id):
        raise LookupError(f"no customer {customer_id}")
    return await _expire(session, customer_id, now)


async def balance(
    session: AsyncSession, program: Program, customer_id: int, now: datetime | None = None
) -> BalanceView:
    """What the customer may spend now; lapsed lots count for nothing even before write-off."""
    now = now or utcnow()
    points, lapsing = await repo.lot_totals(session, customer_id, now, now + EXPIRING_WINDOW)
    spend, _ = await repo.purchase_totals(session, customer_id)
    return _view(program, points, lapsing, spend)


async def points_of(session: AsyncSession, customer_id: int, now: datetime | None = None) -> int:
    """Spendable points: what the open lots hold, never the whole history summed again."""
    now = now or utcnow()
    return (await repo.lot_totals(session, customer_id, now, now))[0]


async def member_balance(
    session: AsyncSession, program: Program, telegram_id: int, now: datetime | None = None
) -> BalanceView | None:
    """The balance of a member by their Telegram id; None for anyone not signed up."""
    now = now or utcnow()
    totals = await repo.member_totals(session, telegram_id, now, now + EXPIRING_WINDOW)
    if totals is None:
        return None
    _, points, lapsing, spend = totals
    return _view(program, points, lapsing, spend)


def _view(program: Program, points: int, lapsing: int, spend: int) -> BalanceView:
    following = program.next_tier(spend)
    return BalanceView(
        points=points,
        tier=program.tier_for(spend),
        next_tier=following,
        to_next_tier=following.threshold - spend if following else 0,
        expiring_soon=lapsing,
        spend=spend,
    )


async def expire_all_due(
    session: AsyncSession, customer_id: int, now: datetime | None = None
) -> int:
    """For the scheduler: write off one customer's lapsed lots, committing."""
    expired = await _locked(session, customer_id, now or utcnow())
    await session.commit()
    return expired


async def grant_bonus(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    points: int,
    *,
    key: str,
    reason: str,
    actor: str = "system",
    now: datetime | None = None,
    commit: bool = True,
) -> bool:
    """A bonus lot (welcome, profile, birthday, referral); the key makes it once per occasion."""
    if points <= 0:
        return False
    added = await _credit(
        session,
        customer_id,
        "bonus",
        points,
        key=key,
        lifetime_days=program.bonus_points_days,
        now=now or utcnow(),
        reason=reason,
        actor=actor,
    )
    if commit:
        await session.commit()
    return added


async def adjust(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    points: int,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """A manual correction by a person, with the reason kept; returns the new balance."""
    if not reason.strip() or points == 0:
        raise ValueError("an adjustment needs a non-zero amount and a reason")
    now = now or utcnow()
    await _locked(session, customer_id, now)
    key = f"adjust:{uuid.uuid4().hex}"
    if points > 0:
        await _credit(
            session,
            customer_id,
            "adjustment",
            points,
            key=key,
            lifetime_days=program.bonus_points_days,
            now=now,
            reason=reason,
            actor=actor,
        )
    else:
        await _debit(
            session,
            customer_id,
            "adjustment",
            -points,
            key=key,
            now=now,
            reason=reason,
            actor=actor,
        )
    await session.commit()
    return await points_of(session, customer_id, now)


def receipt_key(store: str, receipt_id: str | None) -> str | None:
    return f"{store.strip()}:{receipt_id.strip()}" if receipt_id and receipt_id.strip() else None


async def _duplicate(
    session: AsyncSession, program: Program, purchase: Purchase, customer_id: int, now: datetime
) -> PurchaseResult:
    if purchase.customer_id != customer_id:
        raise ReceiptClaimedError("this receipt was already credited to another customer")
    spend, _ = await repo.purchase_totals(session, customer_id)
    tier = program.tier_for(spend).name
    return PurchaseResult(
        purchase.id,
        customer_id,
        purchase.amount,
        purchase.redeemed,
        purchase.accrued,
        await points_of(session, customer_id, now),
        tier,
        tier,
        duplicate=True,
    )


async def record_purchase(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    amount: int,
    *,
    redeem: int = 0,
    receipt_id: str | None = None,
    store: str = "",
    channel: str,
    actor: str,
    now: datetime | None = None,
) -> PurchaseResult:
    """A check of `amount` kopecks, paid with `redeem` points; accrues by the customer's tier.

    The same receipt id (per store) twice is one purchase: the second call returns the first.
    """
    if amount <= 0 or redeem < 0:
        raise ValueError("a purchase has a positive amount and a non-negative redemption")
    now = now or utcnow()
    key = receipt_key(store, receipt_id)
    if key and (known := await repo.purchase_by_receipt(session, key)):
        return await _duplicate(session, program, known, customer_id, now)
    if redeem > (cap := program.redeem_cap(amount)):
        raise RedeemCapError(cap)
    await _locked(session, customer_id, now)
    if key and await repo.purchase_by_receipt(session, key):
        await session.rollback()  # another till recorded it while we waited for the lock
        known = await repo.purchase_by_receipt(session, key)  # the rollback expired it
        assert known is not None
        return await _duplicate(session, program, known, customer_id, now)
    spend_before, purchases_before = await repo.purchase_totals(session, customer_id)
    first = purchases_before == 0
    purchase = Purchase(
        customer_id=customer_id,
        store=store.strip(),
        amount=amount,
        redeemed=redeem,
        accrued=0,
        receipt_id=receipt_id.strip() if receipt_id else None,
        receipt_key=key,
        channel=channel,
        actor=actor,
        created_at=now,
    )
    if not await insert_unique(session, purchase):
        await session.rollback()
        known = await repo.purchase_by_receipt(session, key or "")
        assert known is not None
        return await _duplicate(session, program, known, customer_id, now)
    if redeem:
        await _debit(
            session,
            customer_id,
            "redemption",
            redeem,
            key=f"redeem:{purchase.id}",
            now=now,
            actor=actor,
            purchase_id=purchase.id,
        )
    purchase.accrued = program.accrual(amount - redeem * 100, spend_before)
    if purchase.accrued:
        await _credit(
            session,
            customer_id,
            "accrual",
            purchase.accrued,
            key=f"accrual:{purchase.id}",
            lifetime_days=program.purchase_points_days,
            now=now,
            actor=actor,
            purchase_id=purchase.id,
        )
    referrer = await _first_purchase(session, program, customer_id, now) if first else None
    await session.commit()
    return PurchaseResult(
        purchase.id,
        customer_id,
        amount,
        redeem,
        purchase.accrued,
        await points_of(session, customer_id, now),
        program.tier_for(spend_before).name,
        program.tier_for(spend_before + amount).name,
        referrer_rewarded=referrer,
    )


async def _first_purchase(
    session: AsyncSession, program: Program, customer_id: int, now: datetime
) -> int | None:
    """Count the funnel step and pay "bring a friend" to both sides, once."""
    customer = await session.get(Customer, customer_id)
    assert customer is not None
    await events.add_funnel_event(session, "first_purchase", customer.source_id)
    if customer.referrer_id is None or program.referral_bonus <= 0:
        return None
    for who, key in ((customer_id, "friend"), (customer.referrer_id, "referrer")):
        await grant_bonus(
            session,
            program,
            who,
            program.referral_bonus,
            key=f"referral:{key}:{customer_id}",
            reason="referral",
            now=now,
            commit=False,
        )
    return customer.referrer_id


async def refund(
    session: AsyncSession,
    *,
    purchase_id: int | None = None,
    store: str = "",
    receipt_id: str | None = None,
    amount: int | None = None,
    refund_id: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> RefundResult:
    """A return of `amount` kopecks (the rest of the check when None).

    The accrual is reversed in proportion and the points that paid for the returned part come
    back to the lots they were taken from. Accrued points the customer already spent cannot be
    taken back below zero: they are reported as `shortfall` (the shop's call, not the ledger's).
    """
    now = now or utcnow()
    key = receipt_key(store, receipt_id)
    purchase = await (
        repo.purchase_by_id(session, purchase_id)
        if purchase_id is not None
        else repo.purchase_by_receipt(session, key or "")
    )
    if purchase is None:
        raise PurchaseNotFoundError("no such purchase")
    refund_key = f"{purchase.id}:{refund_id}" if refund_id else None
    if refund_key and (done := await repo.refund_by_key(session, refund_key)):
        return RefundResult(
            purchase.id,
            purchase.customer_id,
            done.amount,
            done.reversed_points,
            done.returned_points,
            0,
            await points_of(session, purchase.customer_id, now),
            duplicate=True,
        )
    found = purchase.id
    await _locked(session, purchase.customer_id, now)
    if refund_key and await repo.refund_by_key(session, refund_key):
        await session.rollback()  # a retry of this refund finished while we waited for the lock
        return await refund(session, purchase_id=found, refund_id=refund_id, actor=actor)
    purchase = await repo.purchase_by_id(session, found)  # fresh, under the lock
    assert purchase is not None
    left = purchase.amount - purchase.refunded_amount
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise RefundTooLargeError(left)
    refunded = purchase.refunded_amount + amount
    returned = purchase.redeemed * refunded // purchase.amount - (
        await repo.entries_for_purchase(session, purchase.id, "refund")
    )
    to_reverse = purchase.accrued * refunded // purchase.amount + (
        await repo.entries_for_purchase(session, purchase.id, "reversal")
    )
    tag = refund_id or uuid.uuid4().hex[:12]
    if returned:
        await _give_back(session, purchase, returned, f"refund:{purchase.id}:{tag}", actor, now)
    reversed_points = 0
    if to_reverse:
        accrual = await repo.entry_by_key(session, f"accrual:{purchase.id}")
        available = await points_of(session, purchase.customer_id, now)
        reversed_points = min(to_reverse, available)
        if reversed_points:
            await _debit(
                session,
                purchase.customer_id,
                "reversal",
                reversed_points,
                key=f"reversal:{purchase.id}:{tag}",
                now=now,
                actor=actor,
                purchase_id=purchase.id,
                first_lot=accrual.id if accrual else None,
                reason=f"return of {amount} kopecks",
            )
    # Points given back to lots that lapsed meanwhile lapse again: they were due to.
    await _expire(session, purchase.customer_id, now)
    purchase.refunded_amount = refunded
    session.add(
        PurchaseRefund(
            purchase_id=purchase.id,
            refund_key=refund_key or f"{purchase.id}:{tag}",
            amount=amount,
            reversed_points=reversed_points,
            returned_points=returned,
            actor=actor,
            created_at=now,
        )
    )
    await session.commit()
    return RefundResult(
        purchase.id,
        purchase.customer_id,
        amount,
        reversed_points,
        returned,
        to_reverse - reversed_points,
        await points_of(session, purchase.customer_id, now),
    )


async def _give_back(
    session: AsyncSession, purchase: Purchase, points: int, key: str, actor: str, now: datetime
) -> None:
    """Return redeemed points to the very lots the redemption took them from, newest first."""
    redemption = await repo.entry_by_key(session, f"redeem:{purchase.id}")
    assert redemption is not None
    entry = LedgerEntry(
        customer_id=purchase.customer_id,
        kind="refund",
        points=points,
        idempotency_key=key,
        actor=actor,
        purchase_id=purchase.id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    taken: dict[int, int] = {}
    for allocation in await repo.allocations_of(session, redemption.id):
        taken[allocation.lot_id] = taken.get(allocation.lot_id, 0) + allocation.points
    for lot_id, given in await repo.returned_to_lots(session, purchase.id, entry.id):
        taken[lot_id] -= given
    for lot_id in sorted(taken, reverse=True):
        portion = min(points, taken[lot_id])
        if portion <= 0:
            continue
        lot = await session.get(LedgerEntry, lot_id)
        assert lot is not None
        repo.allocate(session, entry, lot, -portion)
        points -= portion
        if points == 0:
            break


async def grant_bonuses(
    session: AsyncSession,
    program: Program,
    grants: list[tuple[int, int, str]],
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Many bonus lots at once, `(customer id, points, key)`, as `grant_bonus` makes them one
    by one; keys already used are skipped. For an import of thousands of customers: a few
    statements instead of a savepoint per lot. Returns the points granted; not committed."""
    now = now or utcnow()
    grants = [grant for grant in grants if grant[1] > 0]
    taken = await repo.existing_keys(session, [key for _, _, key in grants])
    expires = (
        now + timedelta(days=program.bonus_points_days) if program.bonus_points_days > 0 else None
    )
    rows: list[dict[str, object]] = [
        {
            "customer_id": customer_id,
            "kind": "bonus",
            "points": points,
            "remaining": points,
            "expires_at": expires,
            "idempotency_key": key,
            "reason": reason,
            "actor": actor,
            "created_at": now,
        }
        for customer_id, points, key in grants
        if key not in taken
    ]
    await repo.add_many(session, rows)
    return sum(int(row["points"]) for row in rows)  # type: ignore[call-overload]
