"""The points ledger: purchases, redemptions, returns, bonuses, expiry and adjustments.

Every change to a customer's points happens here, inside one transaction that first takes the
customer's ledger lock (an UPDATE of their row), so two cashiers at once can never overdraw a
balance. Credits are lots with an expiry; debits consume lots oldest first (`bot.domain.ledger`).
Lapsed lots are written off at the start of a change when any are due, so a balance is exact
even when no scheduler has run; balances are read from the lots, never cached.

Each public function that changes points is a unit of work: it commits what it did or rolls it
all back. A sale is at most five statements: the lock (which also yields spend and the purchase
count), the purchase (insert-once under its receipt, handing back the lot totals), the entries,
and for a redemption the allocations and the lots they drain; then the customer's notice goes
into the outbox in the same transaction. The till, Telegram and the shell share these rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ledger as rules
from bot.domain.ledger import NotEnoughPointsError
from bot.domain.program import Program, Tier
from bot.services.permissions import Action, Actor, require
from db.base import utcnow
from db.repositories import balances, deliveries, events
from db.repositories import ledger as repo
from db.repositories import promos as promo_codes

EXPIRING_WINDOW = timedelta(days=30)
RUB = 100  # kopecks in a point's worth of money

__all__ = [
    "BalanceView",
    "CustomerNotFoundError",
    "LedgerError",
    "NotEnoughPointsError",
    "PurchaseNotFoundError",
    "PurchaseResult",
    "ReceiptClaimedError",
    "RecordedMeanwhileError",
    "RedeemCapError",
    "RefundResult",
    "RefundTooLargeError",
    "VoidedReceipt",
    "add_bonus",
    "add_purchase",
    "adjust",
    "balance",
    "correct",
    "expire_all_due",
    "grant_bonus",
    "grant_bonuses",
    "member_balance",
    "points_of",
    "record_purchase",
    "refund",
    "refund_receipt",
]


class LedgerError(Exception):
    """A change the rules refuse; `code` is stable for the POS API and for messages."""

    code = "ledger_error"


class CustomerNotFoundError(LedgerError):
    """No customer with this id (deleted since it was looked up, or never there)."""

    code = "customer_not_found"


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


class RecordedMeanwhileError(Exception):
    """Another transaction wrote the same receipt (or refund) while this one waited: roll back
    and run the unit of work again, and it answers as a duplicate."""


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


@dataclass(frozen=True)
class VoidedReceipt:
    """A receipt returned before anyone scanned its purchase QR: no points moved, and the QR can
    no longer earn any."""

    store: str
    receipt_id: str


# --- rows ---------------------------------------------------------------------------------------


def _entry(
    customer_id: int,
    kind: str,
    points: int,
    key: str,
    now: datetime,
    *,
    lot_days: int | None = None,
    reason: str = "",
    actor: str = "",
    purchase_id: int | None = None,
) -> dict[str, Any]:
    """A ledger entry; with `lot_days` a lot (a credit that debits draw on, 0 days: no expiry)."""
    lot = lot_days is not None
    return {
        "customer_id": customer_id,
        "kind": kind,
        "points": points,
        "reason": reason,
        "idempotency_key": key,
        "created_at": now,
        "remaining": points if lot else None,
        "expires_at": now + timedelta(days=lot_days) if lot_days else None,
        "purchase_id": purchase_id,
        "actor": actor,
    }


def _flat(result: Any) -> dict[str, Any]:
    """A result of plain fields as the notice's payload: `asdict` without its deep copies."""
    return {field.name: getattr(result, field.name) for field in fields(result)}


def _receipt(receipt_id: str | None) -> str | None:
    return receipt_id.strip() if receipt_id and receipt_id.strip() else None


async def _lock(session: AsyncSession, customer_id: int) -> None:
    if not await repo.lock_customer(session, customer_id):
        raise CustomerNotFoundError(f"no customer {customer_id}")


async def _debit(
    session: AsyncSession,
    customer_id: int,
    kind: str,
    points: int,
    key: str,
    now: datetime,
    *,
    lots: repo.Lots | None = None,
    first: int | None = None,
    reason: str = "",
    actor: str = "",
    purchase_id: int | None = None,
) -> None:
    """Take `points` from live lots (`first`, then oldest first); all of them or none."""
    if lots is None or sum(points for _, points in lots) < points:
        lots = await repo.live_lots(session, customer_id, now, first=first)
    portions = rules.take_in_order(lots, points)
    ids = await repo.add_entries(
        session,
        [
            _entry(
                customer_id,
                kind,
                -points,
                key,
                now,
                reason=reason,
                actor=actor,
                purchase_id=purchase_id,
            )
        ],
    )
    await repo.allocate(session, [(ids[key], lot, taken) for lot, taken in portions])


async def _write_off(session: AsyncSession, customer_id: int, now: datetime) -> int:
    """Write off lots whose time is up; the state (not a key) makes a second run a no-op."""
    lapsed = await repo.lapsed_lots(session, customer_id, now)
    if not lapsed:
        return 0
    rows = [
        _entry(
            customer_id,
            "expiry",
            -points,
            f"expiry:{lot}:{uuid.uuid4().hex[:12]}",
            now,
            reason=f"lot {lot} expired",
            actor="system",
        )
        for lot, points in lapsed
    ]
    ids = await repo.add_entries(session, rows)
    await repo.allocate(
        session,
        [
            (ids[row["idempotency_key"]], lot, points)
            for row, (lot, points) in zip(rows, lapsed, strict=True)
        ],
    )
    return sum(points for _, points in lapsed)


# --- balances -----------------------------------------------------------------------------------


async def balance(
    session: AsyncSession, program: Program, customer_id: int, now: datetime | None = None
) -> BalanceView:
    """What the customer may spend now; lapsed lots count for nothing even before write-off."""
    now = now or utcnow()
    totals = await repo.customer_totals(session, customer_id, now, now + EXPIRING_WINDOW)
    if totals is None:
        raise CustomerNotFoundError(f"no customer {customer_id}")
    points, lapsing, spend = totals
    return _view(program, points, lapsing, spend)


async def points_of(session: AsyncSession, customer_id: int, now: datetime | None = None) -> int:
    """Spendable points: what the open lots hold, never the whole history summed again."""
    now = now or utcnow()
    return (await repo.lot_sums(session, customer_id, now))[0]


async def member_balance(
    session: AsyncSession, program: Program, telegram_id: int, now: datetime | None = None
) -> BalanceView | None:
    """The balance of a member by their Telegram id, in one statement; None for anyone not
    signed up."""
    now = now or utcnow()
    totals = await balances.member_totals(session, telegram_id, now, now + EXPIRING_WINDOW)
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


# --- bonuses, expiry, adjustments ---------------------------------------------------------------


async def add_bonus(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    points: int,
    *,
    key: str,
    reason: str,
    actor: str = "system",
    now: datetime | None = None,
) -> bool:
    """A bonus lot inside the caller's unit of work (signup's); True when the key was new.

    A new lot needs no lock: a debit running at the same time either sees it or does not, and
    either is a correct balance.
    """
    if points <= 0:
        return False
    row = _entry(
        customer_id,
        "bonus",
        points,
        key,
        now or utcnow(),
        lot_days=program.bonus_points_days,
        reason=reason,
        actor=actor,
    )
    return key in await repo.add_entries(session, [row])


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
) -> bool:
    """A bonus lot (welcome, profile, birthday, referral) as its own unit of work; the key makes
    it once per occasion."""
    try:
        added = await add_bonus(
            session, program, customer_id, points, key=key, reason=reason, actor=actor, now=now
        )
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return added


async def expire_all_due(
    session: AsyncSession, customer_id: int, now: datetime | None = None
) -> int:
    """For the scheduler: write off one customer's lapsed lots; the points written off."""
    try:
        await _lock(session, customer_id)
        expired = await _write_off(session, customer_id, now or utcnow())
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return expired


async def adjust(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    points: int,
    *,
    by: Actor,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """A manual correction by a person who may adjust points, with the reason kept; returns
    the new balance."""
    require(by, Action.ADJUST_POINTS)
    return await correct(session, program, customer_id, points, reason=reason, actor=actor, now=now)


async def correct(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    points: int,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """A correction the system makes itself (an erasure writes the points off): `adjust`
    without the rights check. Returns the new balance."""
    if not reason.strip() or points == 0:
        raise ValueError("an adjustment needs a non-zero amount and a reason")
    now = now or utcnow()
    key = f"adjust:{uuid.uuid4().hex}"
    try:
        await _lock(session, customer_id)
        live, lapsed = await repo.lot_sums(session, customer_id, now)
        if lapsed:
            await _write_off(session, customer_id, now)
        if points > 0:
            row = _entry(
                customer_id,
                "adjustment",
                points,
                key,
                now,
                lot_days=program.bonus_points_days,
                reason=reason,
                actor=actor,
            )
            await repo.add_entries(session, [row])
        else:
            if -points > live:
                raise NotEnoughPointsError(-points, live)
            await _debit(
                session, customer_id, "adjustment", -points, key, now, reason=reason, actor=actor
            )
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return live + points


# --- purchases ----------------------------------------------------------------------------------


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
    One transaction, committed here, with the customer's notice in the outbox.
    """
    sale = partial(
        add_purchase,
        session,
        program,
        customer_id,
        amount,
        redeem=redeem,
        receipt_id=receipt_id,
        store=store,
        channel=channel,
        actor=actor,
        now=now or utcnow(),
    )
    return await commit_sale(session, sale)


T = TypeVar("T")


async def commit_sale(session: AsyncSession, sale: Callable[[], Awaitable[T]]) -> T:
    """Run `sale` as one unit of work and commit it; once more if the same receipt was being
    recorded meanwhile (the second run then finds it and answers as a duplicate)."""
    try:
        try:
            result = await sale()
        except RecordedMeanwhileError:
            await session.rollback()
            result = await sale()
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return result


async def add_purchase(
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
    """The sale's steps inside the caller's unit of work (`record_purchase`, a receipt claim).

    Raises RecordedMeanwhileError when a concurrent transaction recorded the same receipt first.
    """
    if amount <= 0 or redeem < 0:
        raise ValueError("a purchase has a positive amount and a non-negative redemption")
    if redeem > (cap := program.redeem_cap(amount)):
        raise RedeemCapError(cap)
    now = now or utcnow()
    store, receipt = store.strip(), _receipt(receipt_id)
    account = await repo.lock_for_sale(session, customer_id, amount, store, receipt)
    if account is None:
        return await _recorded(session, program, customer_id, store, receipt, now)
    accrued = program.accrual(amount - redeem * RUB, account.spend_before)
    values = {
        "customer_id": customer_id,
        "store": store,
        "amount": amount,
        "redeemed": redeem,
        "accrued": accrued,
        "refunded_amount": 0,
        "receipt_id": receipt,
        "channel": channel,
        "actor": actor,
        "created_at": now,
    }
    inserted = await repo.insert_purchase(session, values, with_lots=redeem > 0)
    if inserted is None:
        raise RecordedMeanwhileError
    if redeem > inserted.live:
        raise NotEnoughPointsError(redeem, inserted.live)
    if inserted.lapsed:
        await _write_off(session, customer_id, now)
    purchase_id = inserted.purchase_id
    rows = []
    if accrued:
        rows.append(
            _entry(
                customer_id,
                "accrual",
                accrued,
                f"accrual:{purchase_id}",
                now,
                lot_days=program.purchase_points_days,
                actor=actor,
                purchase_id=purchase_id,
            )
        )
    referrer = None
    if account.first_purchase:
        await events.add_funnel_event(session, "first_purchase", account.source_id)
        if account.referrer_id is not None and program.referral_bonus > 0:
            referrer = account.referrer_id
            rows += [
                _entry(
                    who,
                    "bonus",
                    program.referral_bonus,
                    f"referral:{side}:{customer_id}",
                    now,
                    lot_days=program.bonus_points_days,
                    reason="referral",
                    actor="system",
                )
                for who, side in ((customer_id, "friend"), (referrer, "referrer"))
            ]
    gained = accrued
    if redeem:
        # The debit row rides in the same INSERT as the credits; the lots were read above.
        lots = inserted.lots
        if sum(points for _, points in lots) < redeem:
            lots = await repo.live_lots(session, customer_id, now)
        portions = rules.take_in_order(lots, redeem)
        key = f"redeem:{purchase_id}"
        rows.insert(
            0,
            _entry(
                customer_id, "redemption", -redeem, key, now, actor=actor, purchase_id=purchase_id
            ),
        )
        ids = await repo.add_entries(session, rows)
        await repo.allocate(session, [(ids[key], lot, taken) for lot, taken in portions])
    else:
        ids = await repo.add_entries(session, rows)
    if f"referral:friend:{customer_id}" in ids:
        gained += program.referral_bonus
    result = PurchaseResult(
        purchase_id,
        customer_id,
        amount,
        redeem,
        accrued,
        inserted.live - redeem + gained,
        program.tier_for(account.spend_before).name,
        program.tier_for(account.spend_before + amount).name,
        referrer_rewarded=referrer,
    )
    await deliveries.enqueue(session, "purchase", _flat(result), customer_id=customer_id)
    if referrer is not None and f"referral:referrer:{customer_id}" in ids:
        payload = {"bonus": program.referral_bonus, "friend_id": customer_id}
        await deliveries.enqueue(session, "referral_paid", payload, customer_id=referrer)
    return result


async def _recorded(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    store: str,
    receipt: str | None,
    now: datetime,
) -> PurchaseResult:
    """The lock found no customer, or a receipt recorded before: answer the retry as the first."""
    known = await repo.purchase_by_receipt(session, store, receipt) if receipt else None
    if known is None:
        raise CustomerNotFoundError(f"no customer {customer_id}")
    if known.customer_id != customer_id:
        raise ReceiptClaimedError("this receipt was already credited to another customer")
    totals = await repo.customer_totals(session, customer_id, now, now)
    if totals is None:
        raise CustomerNotFoundError(f"no customer {customer_id}")
    points, _, spend = totals
    tier = program.tier_for(spend).name
    return PurchaseResult(
        known.id,
        customer_id,
        known.amount,
        known.redeemed,
        known.accrued,
        points,
        tier,
        tier,
        duplicate=True,
    )


# --- returns ------------------------------------------------------------------------------------


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
    before_commit: Callable[[AsyncSession, RefundResult], Awaitable[None]] | None = None,
) -> RefundResult:
    """A return of `amount` kopecks (the rest of the check when None), as one unit of work.

    `before_commit` runs inside that unit of work once a new refund is written (not for a
    duplicate): a caller's audit entry commits or rolls back with the refund itself.

    The accrual is reversed in proportion and the points that paid for the returned part come
    back to the lots they were taken from. Accrued points the customer already spent cannot be
    taken back below zero: they are reported as `shortfall` (the shop's call, not the ledger's).
    The same refund id twice is one refund, also when two tills send it at once.
    """
    args: dict[str, Any] = {
        "purchase_id": purchase_id,
        "store": store,
        "receipt_id": receipt_id,
        "amount": amount,
        "refund_id": _receipt(refund_id),
        "actor": actor,
        "now": now or utcnow(),
    }
    try:
        try:
            result = await _refund(session, **args)
        except RecordedMeanwhileError:
            await session.rollback()  # a retry of this refund finished while we waited
            result = await _refund(session, **args)
        if before_commit is not None and not result.duplicate:
            await before_commit(session, result)
    except RefundTooLargeError:
        await session.commit()  # what the lock wrote off stands: those lots were due
        raise
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return result


async def refund_receipt(
    session: AsyncSession,
    *,
    store: str,
    receipt_id: str | None,
    amount: int | None = None,
    refund_id: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> RefundResult | VoidedReceipt:
    """A till's return by receipt: the purchase's refund, or, when nobody has scanned the
    receipt's purchase QR yet, that QR voided so that it can no longer earn points."""
    now = now or utcnow()
    try:
        return await refund(
            session,
            store=store,
            receipt_id=receipt_id,
            amount=amount,
            refund_id=refund_id,
            actor=actor,
            now=now,
        )
    except PurchaseNotFoundError:
        receipt = _receipt(receipt_id)
        qr_store = " ".join(store.split())  # as receipt QR tokens keep it
        if receipt is None or not await repo.void_token(session, qr_store, receipt, now):
            await session.rollback()
            raise
    await session.commit()
    return VoidedReceipt(qr_store, receipt)


async def _refund(
    session: AsyncSession,
    *,
    purchase_id: int | None,
    store: str,
    receipt_id: str | None,
    amount: int | None,
    refund_id: str | None,
    actor: str,
    now: datetime,
) -> RefundResult:
    receipt = _receipt(receipt_id)
    if purchase_id is not None:
        found = await repo.purchase_by_id(session, purchase_id)
    else:
        found = await repo.purchase_by_receipt(session, store.strip(), receipt) if receipt else None
    if found is None:
        raise PurchaseNotFoundError("no such purchase")
    customer_id = found.customer_id
    if refund_id and (done := await repo.refund_done(session, found.id, refund_id)):
        return await _refunded(session, found, done, now)
    await _lock(session, customer_id)
    purchase = await repo.purchase_by_id(session, found.id)  # fresh, under the lock
    if purchase is None:
        raise PurchaseNotFoundError("no such purchase")
    if refund_id and (done := await repo.refund_done(session, purchase.id, refund_id)):
        return await _refunded(session, purchase, done, now)
    if (await repo.lot_sums(session, customer_id, now))[1]:
        await _write_off(session, customer_id, now)
    left = purchase.amount - purchase.refunded_amount
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise RefundTooLargeError(left)
    refunded = purchase.refunded_amount + amount
    given_back, reversed_before = await repo.refunded_points(session, purchase.id)
    returned = purchase.redeemed * refunded // purchase.amount - given_back
    to_reverse = purchase.accrued * refunded // purchase.amount + reversed_before
    if refunded == purchase.amount:
        # The whole check is back: a promo code it used is free again, and the bonus points a
        # points code gave are taken back with the accrual (so a refund cannot mint them).
        to_reverse += await promo_codes.release(session, purchase.id, now) or 0
    tag = refund_id or uuid.uuid4().hex[:12]
    if returned:
        await _give_back(session, purchase, returned, f"refund:{purchase.id}:{tag}", actor, now)
    available, lapsed = await repo.lot_sums(session, customer_id, now)
    reversed_points = min(to_reverse, available)
    if reversed_points > 0:
        await _debit(
            session,
            customer_id,
            "reversal",
            reversed_points,
            f"reversal:{purchase.id}:{tag}",
            now,
            first=await repo.entry_id(session, f"accrual:{purchase.id}"),
            actor=actor,
            purchase_id=purchase.id,
            reason=f"return of {amount} kopecks",
        )
    if lapsed:
        # Points given back to lots that lapsed meanwhile lapse again: they were due to.
        await _write_off(session, customer_id, now)
    await repo.set_refunded(session, purchase.id, refunded)
    added = await repo.add_refund_once(
        session,
        {
            "purchase_id": purchase.id,
            "refund_id": tag,
            "amount": amount,
            "reversed_points": reversed_points,
            "returned_points": returned,
            "actor": actor,
            "created_at": now,
        },
    )
    if not added:
        raise RecordedMeanwhileError
    await repo.lower_spend(session, customer_id, amount)
    result = RefundResult(
        purchase.id,
        customer_id,
        amount,
        reversed_points,
        returned,
        to_reverse - reversed_points,
        available - reversed_points,
    )
    await deliveries.enqueue(session, "refund", _flat(result), customer_id=customer_id)
    return result


async def _refunded(
    session: AsyncSession, purchase: repo.PurchaseRow, done: repo.RefundRow, now: datetime
) -> RefundResult:
    return RefundResult(
        purchase.id,
        purchase.customer_id,
        done.amount,
        done.reversed_points,
        done.returned_points,
        0,
        (await repo.lot_sums(session, purchase.customer_id, now))[0],
        duplicate=True,
    )


async def _give_back(
    session: AsyncSession,
    purchase: repo.PurchaseRow,
    points: int,
    key: str,
    actor: str,
    now: datetime,
) -> None:
    """Return redeemed points to the very lots the redemption took them from, newest first."""
    redemption = await repo.entry_id(session, f"redeem:{purchase.id}")
    assert redemption is not None
    taken: dict[int, int] = {}
    for lot, portion in await repo.allocations_of(session, redemption):
        taken[lot] = taken.get(lot, 0) + portion
    for lot, given in await repo.returned_to_lots(session, purchase.id):
        taken[lot] -= given
    row = _entry(
        purchase.customer_id, "refund", points, key, now, actor=actor, purchase_id=purchase.id
    )
    ids = await repo.add_entries(session, [row])
    portions = []
    for lot in sorted(taken, reverse=True):
        portion = min(points, taken[lot])
        if portion <= 0:
            continue
        portions.append((ids[key], lot, -portion))
        points -= portion
        if points == 0:
            break
    await repo.allocate(session, portions)


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
