"""The till in the messenger (issue 13): returns, redemptions the customer confirms, customer
lookup and an employee's own figures.

Points move only through the ledger (`bot.services.ledger`): a return here is the POS API's
`ledger.refund`, a confirmed redemption is `ledger.add_purchase` with the points. Each staff
action asks its own small permission check below (`may_*`), so that one permission module can
take them over; a refusal says nothing about what exists.

Redemption the customer confirms: a sale that spends points first becomes a `redemptions` row
and a message with two buttons in the customer's own chat (the outbox, in the same transaction:
the commit rings the delivery worker at once, and the worker retries, respects Telegram's limits
and notices a blocked chat; a direct send would lose the request on a network error). The
customer taps "spend" (or reads the one-time code out to the cashier); only then, in that
transaction, is the purchase recorded with the points. The request's status is taken with a
conditional UPDATE: a tap from another chat changes no row, a double tap spends once, a
lapsed request spends nothing. Until then the cashier may record the sale without points.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phone import mask_phone
from bot.domain.program import Program
from bot.services import audit, ledger, members, permissions, promos
from bot.services.permissions import Action, Grant
from bot.services.sources import attributed_source_ids
from bot.services.staff import Role, StaffMember
from db.base import utcnow
from db.models import Customer
from db.repositories import customers as customer_repo
from db.repositories import deliveries
from db.repositories import staff as staff_repo
from db.repositories import till as repo

RECENT = 5  # purchases shown on a card, offered for a return
FOUND_AT_MOST = 8  # customers listed for one lookup by name
CODE_DIGITS = 6

__all__ = [
    "CustomerCard",
    "CustomerUnreachableError",
    "MyFigures",
    "NotAllowedError",
    "PurchaseLine",
    "RedemptionAnswer",
    "RedemptionView",
    "TillError",
    "WrongCodeError",
    "answer_redemption",
    "ask_redemption",
    "confirm_with_code",
    "customer_card",
    "find_customers",
    "my_figures",
    "purchase_for_return",
    "purchases_to_return",
    "redemption_status",
    "return_purchase",
    "sell_without_points",
]


class TillError(Exception):
    code = "till_error"


class NotAllowedError(TillError):
    """Not this person's to do, or not there: the two are not told apart."""

    code = "not_found"


class CustomerUnreachableError(TillError):
    """The customer has no chat with the bot (imported, or blocked it): nobody to confirm."""

    code = "customer_not_in_messenger"


class WrongCodeError(TillError):
    code = "wrong_confirmation_code"


# --- permissions: one check per action ----------------------------------------------------------


def may_sell(staff: StaffMember | None) -> bool:
    return permissions.allowed(staff, Action.RECORD_SALE) is not None


def may_return(staff: StaffMember | None, store: str) -> bool:
    """An owner returns any purchase; a cashier or a manager only those of their own store."""
    if permissions.allowed(staff, Action.RETURN) is None or staff is None:
        return False
    return staff.role == Role.OWNER or staff.store == store


def may_find(staff: StaffMember | None) -> bool:
    return permissions.allowed(staff, Action.FIND_CUSTOMER) is not None


def sees_everything(staff: StaffMember) -> bool:
    """Full name and phone for the owner; a cashier (and a manager, for customers who are not
    theirs) sees a first name and a masked phone (`Grant.LIMITED` / `Grant.OWN`)."""
    return permissions.allowed(staff, Action.VIEW_CUSTOMER) is Grant.ALL


def may_see_figures(staff: StaffMember | None) -> bool:
    return permissions.allowed(staff, Action.OWN_FIGURES) is not None


def _actor(staff: StaffMember) -> str:
    return audit.messenger_actor(staff.telegram_id)


# --- redemption the customer confirms -----------------------------------------------------------


@dataclass(frozen=True)
class RedemptionView:
    id: int
    customer_id: int
    status: str  # pending | confirmed | declined | cancelled | expired
    amount: int
    points: int
    store: str
    receipt_id: str
    expires_at: datetime


@dataclass(frozen=True)
class RedemptionAnswer:
    """What came of a request: its state, and the purchase when one was recorded."""

    redemption: RedemptionView
    purchase: ledger.PurchaseResult | None = None


def _view(row: repo.RedemptionRow, now: datetime) -> RedemptionView:
    status = row.status
    if status == "pending" and row.expires_at <= now:
        status = "expired"
    return RedemptionView(
        row.id,
        row.customer_id,
        status,
        row.amount,
        row.points,
        row.store,
        row.receipt_id,
        row.expires_at,
    )


async def ask_redemption(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    amount: int,
    points: int,
    *,
    receipt_id: str,
    store: str,
    channel: str,
    actor: str,
    notify_chat: int | None,
    lifetime: timedelta,
    promo_code: str | None = None,
    promo_guard: promos.GuessGuard | None = None,
    now: datetime | None = None,
) -> RedemptionView:
    """Ask the customer to confirm spending `points` on a check of `amount` kopecks.

    With `promo_code` the code is checked now (PromoRefusedError), the cap applies to the
    discounted check, and the code goes with the request: the purchase recorded on the
    customer's consent takes it (`promos.add_sale`), in that same transaction.

    Nothing is spent here. The same (store, receipt) asked again answers with the request made
    the first time (a till's retry), whatever its state now. Commits.
    """
    now = now or utcnow()
    if amount <= 0 or points <= 0:
        raise ValueError("a redemption has a positive amount and points")
    store = store.strip()
    known = await repo.redemption_by_receipt(session, store, receipt_id)
    if known is not None:  # a retry: its code was checked (and may be taken by now)
        if known.customer_id != customer_id:
            raise ledger.ReceiptClaimedError("this receipt belongs to another customer")
        return _view(known, now)
    due, code = amount, None
    if promo_code is not None:
        applied = await promos.check_code(
            session, promo_code, customer_id, amount, actor=actor, guard=promo_guard, now=now
        )
        due, code = applied.due, applied.code
    if points > (cap := program.redeem_cap(due)):
        raise ledger.RedeemCapError(cap)
    customer = await customer_repo.by_id(session, customer_id)
    if customer is None or customer.status != "active":
        raise ledger.CustomerNotFoundError(f"no customer {customer_id}")
    if customer.telegram_id is None or customer.unreachable_at is not None:
        raise CustomerUnreachableError("the customer cannot be asked in the messenger")
    available = await ledger.points_of(session, customer_id, now)
    if points > available:
        raise ledger.NotEnoughPointsError(points, available)
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "store": store,
        "receipt_id": receipt_id,
        "amount": amount,
        "points": points,
        "code": f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}",
        "channel": channel,
        "actor": actor,
        "notify_chat": notify_chat,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "expires_at": now + lifetime,
        "promo_code": code,
    }
    row = await repo.add_redemption(session, values)
    if row is None:  # asked at the same moment by a retry: answer with that one
        await session.rollback()
        known = await repo.redemption_by_receipt(session, store, receipt_id)
        assert known is not None
        return _view(known, now)
    await deliveries.enqueue(
        session,
        "redeem_ask",
        {
            "redemption_id": row.id,
            "amount": due,
            "points": points,
            "store": store,
            "code": row.code,
            "minutes": max(1, int(lifetime.total_seconds()) // 60),
        },
        customer_id=customer_id,
    )
    await session.commit()
    return _view(row, now)


async def _spend(
    session: AsyncSession, program: Program, row: repo.RedemptionRow, now: datetime
) -> ledger.PurchaseResult | None:
    """The purchase with the points, in the caller's transaction; None when the receipt was
    recorded meanwhile (without the points), or the promo code can no longer be used: the
    caller rolls back, nothing is spent. A request with a promo code is recorded through the
    promo codes (the discount, the use taken, the cap on the discounted check)."""
    try:
        sale = await promos.add_sale(  # without a code, exactly `ledger.add_purchase`
            session,
            program,
            row.customer_id,
            row.amount,
            code=row.promo_code or None,
            redeem=row.points,
            receipt_id=row.receipt_id,
            store=row.store,
            channel=row.channel,
            actor=row.actor,
            now=now,
        )
    except (ledger.RecordedMeanwhileError, promos.PromoRefusedError):
        return None
    return None if sale.purchase.duplicate else sale.purchase


def _answer_payload(confirmed: bool, result: ledger.PurchaseResult | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"confirmed": confirmed}
    if result is not None:
        payload.update(redeemed=result.redeemed, accrued=result.accrued, balance=result.balance)
    return payload


async def answer_redemption(
    session: AsyncSession,
    program: Program,
    redemption_id: int,
    telegram_id: int,
    *,
    confirm: bool,
    now: datetime | None = None,
) -> RedemptionAnswer | None:
    """The customer's tap in their own chat. None when it changes nothing: not their request
    (a forged callback), answered already (a double tap), withdrawn or lapsed. Commits."""
    now = now or utcnow()
    to = "confirmed" if confirm else "declined"
    try:
        row = await repo.decide_by_customer(session, redemption_id, telegram_id, to, now)
        if row is None:
            await session.rollback()
            return None
        result = await _spend(session, program, row, now) if confirm else None
        if confirm and result is None:
            await session.rollback()
            return None
        if row.notify_chat is not None:
            payload = _answer_payload(confirm, result)
            await deliveries.enqueue(session, "redeem_answer", payload, chat_id=row.notify_chat)
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return RedemptionAnswer(_view(row, now), result)


async def confirm_with_code(
    session: AsyncSession,
    program: Program,
    redemption_id: int,
    code: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> RedemptionAnswer:
    """The code the customer read out, typed by the one who asked. A wrong code counts against
    a few attempts; then only the customer's button works. Commits."""
    now = now or utcnow()
    known = await repo.redemption(session, redemption_id)
    if known is None or known.actor != actor:
        raise NotAllowedError("no such request")
    try:
        row = await repo.confirm_by_code(session, redemption_id, code.strip(), now)
        if row is None:
            await repo.note_wrong_code(session, redemption_id)
            await session.commit()
            fresh = await repo.redemption(session, redemption_id)
            assert fresh is not None
            if fresh.status == "confirmed":  # the customer tapped meanwhile
                return await _settled(session, program, fresh, now)
            raise WrongCodeError("wrong or used code")
        result = await _spend(session, program, row, now)
        if result is None:
            await session.rollback()
            return await _settled(session, program, known, now)
    except (WrongCodeError, ledger.LedgerError):
        await session.rollback()
        raise
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return RedemptionAnswer(_view(row, now), result)


async def _settled(
    session: AsyncSession, program: Program, row: repo.RedemptionRow, now: datetime
) -> RedemptionAnswer:
    """A request decided before: its state and, if a purchase was recorded, that purchase."""
    fresh = await repo.redemption(session, row.id) or row
    purchase = None
    if fresh.status == "confirmed":
        purchase = await ledger.record_purchase(
            session,
            program,
            fresh.customer_id,
            fresh.amount,
            redeem=fresh.points,
            receipt_id=fresh.receipt_id,
            store=fresh.store,
            channel=fresh.channel,
            actor=fresh.actor,
            now=now,
        )  # the receipt is there: this answers as a duplicate and writes nothing
    return RedemptionAnswer(_view(fresh, now), purchase)


async def sell_without_points(
    session: AsyncSession,
    program: Program,
    redemption_id: int,
    *,
    actor: str,
    now: datetime | None = None,
) -> RedemptionAnswer:
    """The cashier stops waiting: the request is withdrawn and the sale recorded without the
    points, under the same receipt. If the customer confirmed first, that purchase stands."""
    now = now or utcnow()
    known = await repo.redemption(session, redemption_id)
    if known is None or known.actor != actor:
        raise NotAllowedError("no such request")
    row = await repo.cancel_by_actor(session, redemption_id, actor, now)
    if row is None:  # decided already: confirmed stands; declined or withdrawn sells as asked
        row = await repo.redemption(session, redemption_id) or known
        if row.status == "confirmed":
            await session.rollback()
            return await _settled(session, program, row, now)
    try:
        if row.promo_code:  # the sale keeps its promo code, without the points
            result = (
                await promos.add_sale(
                    session,
                    program,
                    row.customer_id,
                    row.amount,
                    code=row.promo_code,
                    receipt_id=row.receipt_id,
                    store=row.store,
                    channel=row.channel,
                    actor=row.actor,
                    now=now,
                )
            ).purchase
        else:
            result = await ledger.add_purchase(
                session,
                program,
                row.customer_id,
                row.amount,
                receipt_id=row.receipt_id,
                store=row.store,
                channel=row.channel,
                actor=row.actor,
                now=now,
            )
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return RedemptionAnswer(_view(row, now), result)


async def cancel_redemption(
    session: AsyncSession, redemption_id: int, *, actor: str, now: datetime | None = None
) -> bool:
    """The sale is abandoned: the request can no longer be confirmed. False if it was decided."""
    now = now or utcnow()
    row = await repo.cancel_by_actor(session, redemption_id, actor, now)
    await session.commit()
    return row is not None


async def redemption_status(
    session: AsyncSession,
    program: Program,
    redemption_id: int,
    *,
    store: str,
    now: datetime | None = None,
) -> RedemptionAnswer:
    """For a till polling its request: another store's request is not there."""
    now = now or utcnow()
    row = await repo.redemption(session, redemption_id)
    if row is None or row.store != store.strip():
        raise NotAllowedError("no such request")
    return await _settled(session, program, row, now)


# --- returns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseLine:
    id: int
    store: str
    receipt_id: str | None
    amount: int
    redeemed: int
    accrued: int
    refunded: int
    at: datetime

    @property
    def left(self) -> int:
        return self.amount - self.refunded


def _line(info: repo.PurchaseInfo) -> PurchaseLine:
    return PurchaseLine(
        info.id,
        info.store,
        info.receipt_id,
        info.amount,
        info.redeemed,
        info.accrued,
        info.refunded_amount,
        info.created_at,
    )


def _their_store(staff: StaffMember) -> str | None:
    """The store whose purchases this person may return; None: any."""
    return None if staff.role == Role.OWNER else staff.store


async def purchases_to_return(
    session: AsyncSession,
    staff: StaffMember | None,
    *,
    receipt_id: str | None = None,
    customer_id: int | None = None,
) -> list[PurchaseLine]:
    """Purchases this person may return, by receipt number or a customer's recent ones;
    NotAllowedError for anyone without the right to return."""
    if staff is None or permissions.allowed(staff, Action.RETURN) is None:
        raise NotAllowedError("staff only")
    store = _their_store(staff)
    if receipt_id is not None:
        found = await repo.purchases_with_receipt(session, receipt_id, store)
    elif customer_id is not None:
        found = await repo.recent_purchases(
            session, customer_id, RECENT, store=store, returnable=True
        )
    else:
        return []
    return [_line(info) for info in found if may_return(staff, info.store)]


async def purchase_for_return(
    session: AsyncSession, staff: StaffMember | None, purchase_id: int
) -> PurchaseLine:
    """One purchase, when this person may return it (else NotAllowedError: a forged callback
    or another store's purchase look the same)."""
    info = await repo.purchase(session, purchase_id)
    if info is None or not may_return(staff, info.store):
        raise NotAllowedError("no such purchase")
    return _line(info)


async def return_purchase(
    session: AsyncSession,
    staff: StaffMember | None,
    purchase_id: int,
    *,
    amount: int | None,
    return_id: str,
    now: datetime | None = None,
) -> ledger.RefundResult:
    """A return from the messenger: the very rule of the POS API (`ledger.refund`), its audit
    entry in the same transaction. `return_id` makes a repeated confirm one return."""
    line = await purchase_for_return(session, staff, purchase_id)
    assert staff is not None
    await session.rollback()  # end the read before the ledger's unit of work begins

    async def audited(session: AsyncSession, result: ledger.RefundResult) -> None:
        await audit.record(
            session,
            _actor(staff),
            audit.Channel.MESSENGER,
            "purchase.return",
            line.id,
            amount=result.amount,
            reversed_points=result.reversed_points,
            returned_points=result.returned_points,
            customer_id=result.customer_id,
        )

    return await ledger.refund(
        session,
        purchase_id=line.id,
        amount=amount,
        refund_id=return_id,
        actor=staff.actor,
        now=now,
        before_commit=audited,
    )


# --- customer lookup ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCard:
    customer_id: int
    name: str  # the first name for a cashier, the whole name for an owner
    phone: str  # masked for a cashier
    card_code: str
    points: int
    tier: str
    purchases: list[PurchaseLine]
    personal_data_consent: datetime | None  # when given (None: not given, e.g. imported)
    advertising: bool
    full: bool  # everything shown (an owner)
    in_messenger: bool


@dataclass(frozen=True)
class Found:
    customer_id: int
    name: str
    phone: str


def _query_kind(query: str) -> str:
    member_query = "".join(query.split())
    if member_query.isdigit() and len(member_query) == 8:
        return "card"
    if sum(ch.isdigit() for ch in query) >= 7:
        return "phone"
    return "name"


def _shown(staff: StaffMember, customer: Customer) -> tuple[str, str]:
    name, phone = customer.name or "", customer.phone or ""
    if sees_everything(staff):
        return name, phone
    return name.split(" ")[0], mask_phone(phone) if phone else ""


async def find_customers(
    session: AsyncSession, staff: StaffMember | None, query: str
) -> list[Found]:
    """Customers by card number, phone or a part of the name; the lookup is audited (who asked,
    what kind of query, how many found: never the query itself). Commits the audit entry."""
    if staff is None or not may_find(staff):
        raise NotAllowedError("staff only")
    query = " ".join(query.split())[:100]
    kind = _query_kind(query)
    found: list[Customer] = []
    if kind in ("card", "phone"):
        member = await members.find(session, query)
        customer = await customer_repo.by_id(session, member.customer_id) if member else None
        found = [customer] if customer else []
    elif len(query) >= 2:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        variants = sorted({escaped, escaped.lower(), escaped.capitalize(), escaped.title()})
        found = await repo.customers_named(session, variants, FOUND_AT_MOST)
    await audit.record(
        session,
        _actor(staff),
        audit.Channel.MESSENGER,
        "customer.find",
        found[0].id if len(found) == 1 else None,
        by=kind,
        found=len(found),
        customer_ids=[customer.id for customer in found],
    )
    await session.commit()
    return [Found(customer.id, *_shown(staff, customer)) for customer in found]


async def customer_card(
    session: AsyncSession,
    program: Program,
    staff: StaffMember | None,
    customer_id: int,
    now: datetime | None = None,
) -> CustomerCard:
    """A customer's card as this person may see it; audited. Commits the audit entry."""
    if staff is None or not may_find(staff):
        raise NotAllowedError("staff only")
    customer = await customer_repo.by_id(session, customer_id)
    if customer is None or customer.status != "active":
        raise NotAllowedError("no such customer")
    view = await ledger.balance(session, program, customer_id, now)
    recent = await repo.recent_purchases(session, customer_id, RECENT)
    consents = await repo.last_consents(session, customer_id)
    given = consents.get("personal_data")
    name, phone = _shown(staff, customer)
    await audit.record(
        session, _actor(staff), audit.Channel.MESSENGER, "customer.view", customer_id
    )
    await session.commit()
    return CustomerCard(
        customer_id,
        name,
        phone,
        customer.card_code or "",
        view.points,
        view.tier.name,
        [_line(info) for info in recent],
        given[1] if given and given[0] and not customer.consent_pending else None,
        customer.ads_opt_in,
        sees_everything(staff),
        customer.telegram_id is not None,
    )


# --- an employee's own figures ------------------------------------------------------------------


@dataclass(frozen=True)
class MyFigures:
    name: str  # the employee name their QR codes carry
    has_codes: bool  # any QR code made for that name
    brought: int  # customers signed up through those codes
    bought: int  # of whom made a first purchase
    week_sales: int
    week_amount: int  # kopecks, net of returns
    month_sales: int
    month_amount: int


async def my_figures(
    session: AsyncSession,
    staff: StaffMember | None,
    fallback_name: str,
    now: datetime | None = None,
) -> MyFigures:
    """What `/qr` promises an employee: the customers their code brought and their first
    purchases, and the sales they recorded since Monday and since the 1st (UTC).

    The employee's QR codes are those `/qr` made for them from the staff list (linked by
    `sources.staff_id`, never by name); `fallback_name` names an owner who is not on it."""
    if staff is None or not may_see_figures(staff):
        raise NotAllowedError("staff only")
    row = await staff_repo.active_member(session, staff.telegram_id)
    name = row.name if row is not None and row.name else fallback_name
    now = now or utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week, month = day - timedelta(days=day.weekday()), day.replace(day=1)
    ids = await attributed_source_ids(session, staff)
    brought, bought = await repo.brought_by(session, ids)
    codes = len(ids)
    week_sales, week_amount = await repo.sales_by(session, staff.actor, week)
    month_sales, month_amount = await repo.sales_by(session, staff.actor, month)
    return MyFigures(
        name.strip(), codes > 0, brought, bought, week_sales, week_amount, month_sales, month_amount
    )
