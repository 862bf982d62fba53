"""Promo codes: promotions, personal codes, checking a code and redeeming it with a sale.

A sale with a code is one unit of work (`record_sale`): the code is checked, the discount
computed (`bot.domain.promos`), the purchase recorded on the discounted amount (so points accrue
on what is paid and the points cap applies to it), then the use is taken with a conditional
UPDATE and recorded under unique keys, linked to the purchase; a points code adds its bonus
lot in the same transaction. Two tills redeeming one single-use code at once: one UPDATE finds
the use left and the other finds none, and that whole sale rolls back with `promo_used`.
The same receipt twice is one sale and one use: the repeat answers as the first.

A refund of the whole purchase releases the use (`ledger._refund` calls the repository in the
refund's transaction) and takes a points code's bonus back with the accrual.

Wrong guesses are slowed per actor (a cashier, a till's store) by `GuessGuard`: an in-process
sliding window of refusals. In process, not in the database, because a refused sale rolls its
transaction back (a counter written there would vanish with it) and because the limit only has
to make guessing hopeless: 40 bits of code against a handful of tries per window per actor.
With several processes each keeps its own window, so the limit holds per process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import promos as rules
from bot.domain.program import Program
from bot.domain.promos import CodeFacts, Kind, Refusal
from bot.services import audit, ledger
from bot.services.permissions import Action, Actor, require
from bot.settings import Settings
from db.base import utcnow
from db.repositories import ledger as ledger_repo
from db.repositories import promos as repo

__all__ = [
    "Applied",
    "CodeView",
    "GuessGuard",
    "PromoRefusedError",
    "PromoSale",
    "PromotionView",
    "active_codes",
    "add_sale",
    "applied_to_purchase",
    "check_code",
    "create_promotion",
    "guard_from",
    "issue_personal_codes",
    "list_promotions",
    "record_sale",
]


class PromoRefusedError(Exception):
    """The code cannot be used; `reason.value` is the stable code for the till."""

    def __init__(self, reason: Refusal, retry_after: int = 0) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        return self.reason.value


Clock = Callable[[], float]


class GuessGuard:
    """At most `limit` refused codes per actor in `window` seconds; then every try is refused
    with THROTTLED until the oldest refusal leaves the window. Successes do not count."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._refusals: dict[str, deque[float]] = {}

    def _recent(self, actor: str) -> deque[float]:
        now = self._clock()
        refusals = self._refusals.setdefault(actor, deque())
        while refusals and refusals[0] <= now - self.window:
            refusals.popleft()
        if not refusals:
            del self._refusals[actor]
        return refusals

    def admit(self, actor: str) -> None:
        refusals = self._recent(actor)
        if len(refusals) >= self.limit:
            wait = refusals[0] + self.window - self._clock()
            raise PromoRefusedError(Refusal.THROTTLED, retry_after=max(1, int(wait) + 1))

    def refused(self, actor: str) -> None:
        self._recent(actor)
        self._refusals.setdefault(actor, deque()).append(self._clock())


def guard_from(settings: Settings) -> GuessGuard:
    """The guard for one channel of one process (the bot's cashiers, or the POS API)."""
    return GuessGuard(settings.promo_failed_attempts, settings.promo_attempt_window_minutes * 60)


@dataclass(frozen=True)
class Applied:
    """A code as it applies to one check: what comes off and what it adds."""

    code: str
    name: str
    kind: Kind
    value: int
    amount: int  # the check before the discount, kopecks
    discount: int  # kopecks off
    bonus: int  # points added

    @property
    def due(self) -> int:
        return self.amount - self.discount


@dataclass(frozen=True)
class PromoSale:
    purchase: ledger.PurchaseResult
    promo: Applied | None


@dataclass(frozen=True)
class CodeView:
    code: str  # as shown: K7QM-3XWP
    name: str
    kind: Kind
    value: int
    expires_at: datetime | None
    personal: bool


@dataclass(frozen=True)
class PromotionView:
    id: int
    name: str
    kind: Kind
    value: int
    expires_at: datetime | None
    multi_use: bool
    personal: bool
    max_uses: int | None
    active: bool
    code: str | None  # the shared code, as shown
    codes: int
    uses: int


def _limit(row: repo.CodeRow) -> int | None:
    """Uses a code may have: a single-use personal code one; otherwise the promotion's cap."""
    if row.owner_id is not None and not row.multi_use:
        return 1
    return row.max_uses


def _facts(row: repo.CodeRow) -> CodeFacts:
    return CodeFacts(
        kind=Kind(row.kind),
        value=row.value,
        active=row.active,
        expires_at=row.expires_at,
        owner_id=row.owner_id,
        uses=row.uses,
        use_limit=_limit(row),
        used_by_this_customer=row.used_by_customer and not row.multi_use,
    )


async def _look_up(
    session: AsyncSession,
    typed: str,
    customer_id: int,
    amount: int,
    *,
    actor: str,
    guard: GuessGuard | None,
    now: datetime,
) -> tuple[repo.CodeRow, Applied]:
    if guard is not None:
        guard.admit(actor)
    code = rules.normalize_code(typed)
    row = await repo.code_row(session, code, customer_id) if code else None
    reason = (
        Refusal.UNKNOWN if row is None else rules.refusal(_facts(row), customer_id, amount, now)
    )
    if reason is not None:
        if guard is not None:
            guard.refused(actor)
        raise PromoRefusedError(reason)
    assert row is not None
    kind = Kind(row.kind)
    return row, Applied(
        rules.format_code(row.code),
        row.name,
        kind,
        row.value,
        amount,
        rules.discount(kind, row.value, amount),
        rules.bonus(kind, row.value),
    )


async def check_code(
    session: AsyncSession,
    typed: str,
    customer_id: int,
    amount: int,
    *,
    actor: str,
    guard: GuessGuard | None,
    now: datetime | None = None,
) -> Applied:
    """What the code would do on this check (the cashier's preview); PromoRefusedError if it
    cannot be used. Nothing is taken: `record_sale` checks again and takes the use."""
    _, applied = await _look_up(
        session, typed, customer_id, amount, actor=actor, guard=guard, now=now or utcnow()
    )
    return applied


async def record_sale(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    amount: int,
    *,
    code: str | None,
    guard: GuessGuard,
    redeem: int = 0,
    receipt_id: str | None = None,
    store: str = "",
    channel: str,
    actor: str,
    now: datetime | None = None,
) -> PromoSale:
    """`ledger.record_purchase` with an optional promo code, as one unit of work (committed).

    `amount` is the check before the discount; the purchase is recorded on what is paid.
    Raises PromoRefusedError (nothing recorded) or the ledger's errors.
    """
    sale = partial(
        _sale,
        session,
        program,
        customer_id,
        amount,
        code=code,
        guard=guard,
        redeem=redeem,
        receipt_id=receipt_id,
        store=store,
        channel=channel,
        actor=actor,
        now=now or utcnow(),
    )
    return await ledger.commit_sale(session, sale)


async def add_sale(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    amount: int,
    *,
    code: str | None,
    redeem: int = 0,
    receipt_id: str | None = None,
    store: str = "",
    channel: str,
    actor: str,
    guard: GuessGuard | None = None,
    now: datetime | None = None,
) -> PromoSale:
    """`record_sale` in the caller's transaction (not committed, nothing rolled back): for a
    unit of work that records the sale among other changes (a redemption the customer
    confirmed). The points cap applies to the discounted amount. Raises PromoRefusedError,
    the ledger's errors, or `ledger.RecordedMeanwhileError` (the caller rolls back)."""
    return await _sale(
        session,
        program,
        customer_id,
        amount,
        code=code,
        guard=guard,
        redeem=redeem,
        receipt_id=receipt_id,
        store=store,
        channel=channel,
        actor=actor,
        now=now or utcnow(),
    )


async def applied_to_purchase(session: AsyncSession, purchase_id: int, paid: int) -> Applied | None:
    """The code a recorded purchase (of `paid` kopecks) used, as it applied; None without one."""
    return await _applied_to(session, purchase_id, paid)


async def _sale(
    session: AsyncSession,
    program: Program,
    customer_id: int,
    amount: int,
    *,
    code: str | None,
    guard: GuessGuard | None,
    redeem: int,
    receipt_id: str | None,
    store: str,
    channel: str,
    actor: str,
    now: datetime,
) -> PromoSale:
    purchase = partial(
        ledger.add_purchase,
        session,
        program,
        customer_id,
        redeem=redeem,
        receipt_id=receipt_id,
        store=store,
        channel=channel,
        actor=actor,
        now=now,
    )
    receipt = (receipt_id or "").strip()
    if code is None:
        return PromoSale(await purchase(amount), None)
    if receipt and (
        known := await ledger_repo.purchase_by_receipt(session, store.strip(), receipt)
    ):
        # A repeat of a recorded sale: answer as the first, take no second use.
        result = await purchase(known.amount)
        return PromoSale(result, await _applied_to(session, result.purchase_id, known.amount))
    row, applied = await _look_up(
        session, code, customer_id, amount, actor=actor, guard=guard, now=now
    )
    result = await purchase(applied.due)
    if result.duplicate:  # recorded by a concurrent repeat meanwhile
        return PromoSale(result, await _applied_to(session, result.purchase_id, result.amount))
    if not await repo.take_use(session, row.code_id, _limit(row), now):
        raise PromoRefusedError(Refusal.USED)
    redemption = await repo.add_redemption(
        session,
        {
            "code_id": row.code_id,
            "customer_id": customer_id,
            "purchase_id": result.purchase_id,
            "once_key": None if row.multi_use else f"{row.code_id}:{customer_id}",
            "discount": applied.discount,
            "bonus": applied.bonus,
            "actor": actor,
            "created_at": now,
        },
    )
    if redemption is None:  # this customer's single use was taken by a concurrent sale
        raise PromoRefusedError(Refusal.USED)
    await repo.link_purchase(session, row.code_id, result.purchase_id)
    if applied.bonus:
        await ledger.add_bonus(
            session,
            program,
            customer_id,
            applied.bonus,
            key=f"promo:{redemption}",
            reason="promo",
            actor=actor,
            now=now,
        )
    return PromoSale(result, applied)


async def _applied_to(session: AsyncSession, purchase_id: int, due: int) -> Applied | None:
    found = await repo.redemption_of(session, purchase_id)
    if found is None:
        return None
    kind = Kind(found.kind)
    return Applied(
        rules.format_code(found.code),
        found.name,
        kind,
        0,
        due + found.discount,
        found.discount,
        found.bonus,
    )


# --- promotions and codes -----------------------------------------------------------------------


async def create_promotion(
    session: AsyncSession,
    *,
    name: str,
    kind: Kind,
    value: int,
    expires_at: datetime | None,
    multi_use: bool = False,
    personal: bool = False,
    max_uses: int | None = None,
    by: Actor,
    actor: str,
    channel: audit.Channel,
    now: datetime | None = None,
) -> PromotionView:
    """A promotion (with its shared code unless `personal`), audited; one unit of work.

    ValueError for a value that makes no sense for the kind, an empty name, or an expiry
    in the past."""
    require(by, Action.PROMOS)
    now = now or utcnow()
    name = " ".join(name.split())[:100]
    rules.check_value(kind, value)
    if not name:
        raise ValueError("a promotion needs a name")
    if expires_at is not None and expires_at <= now:
        raise ValueError("the expiry is in the past")
    if max_uses is not None and max_uses <= 0:
        raise ValueError("max uses must be positive")
    try:
        promotion_id = await repo.add_promotion(
            session,
            {
                "name": name,
                "kind": kind.value,
                "value": value,
                "expires_at": expires_at,
                "multi_use": multi_use,
                "personal": personal,
                "max_uses": max_uses,
                "created_by": actor[:64],
                "created_at": now,
                "active": True,
            },
        )
        code = None
        if not personal:
            code = (await _issue(session, promotion_id, [None], now, None))[None]
        await audit.record(
            session,
            actor,
            channel,
            "promo_create",
            promotion_id,
            kind=kind.value,
            value=value,
            personal=personal,
            multi_use=multi_use,
        )
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return PromotionView(
        promotion_id, name, kind, value, expires_at, multi_use, personal, max_uses, True,
        rules.format_code(code) if code else None, 0 if personal else 1, 0,
    )  # fmt: skip


async def issue_personal_codes(
    session: AsyncSession,
    promotion_id: int,
    customer_ids: Sequence[int],
    *,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> dict[int, str]:
    """Personal codes of a promotion for these customers, in the caller's transaction (not
    committed): {customer id: code as shown, e.g. "K7QM-3XWP"}.

    Set-based: one INSERT per 500 customers and one SELECT to read them back, whatever the
    number. Idempotent: a customer who has a code in this promotion keeps it (one code per
    promotion and customer), so a broadcast retried after a crash hands out the same codes.
    `expires_at` gives the codes their own expiry (otherwise the promotion's applies).
    """
    codes = await _issue(session, promotion_id, list(customer_ids), now or utcnow(), expires_at)
    return {customer: rules.format_code(code) for customer, code in codes.items() if customer}


async def _issue(
    session: AsyncSession,
    promotion_id: int,
    customer_ids: list[int | None],
    now: datetime,
    expires_at: datetime | None,
) -> dict[int | None, str]:
    wanted = list(dict.fromkeys(customer_ids))
    have = await repo.codes_of(session, promotion_id, wanted)
    for _ in range(5):  # a clash of random codes is a one-in-a-billion event; retry those
        missing = [customer for customer in wanted if customer not in have]
        if not missing:
            return have
        await repo.insert_codes(
            session,
            [
                {
                    "code": rules.new_code(),
                    "promotion_id": promotion_id,
                    "customer_id": customer,
                    "expires_at": expires_at,
                    "uses": 0,
                    "created_at": now,
                }
                for customer in missing
            ],
        )
        have.update(await repo.codes_of(session, promotion_id, missing))
    raise RuntimeError("could not find free promo codes")


async def system_promotion(
    session: AsyncSession,
    key: str,
    *,
    name: str,
    kind: Kind,
    value: int,
    now: datetime | None = None,
) -> int:
    """The bot's own personal promotion under `key` (the win-back's), made once."""
    rules.check_value(kind, value)
    return await repo.system_promotion(
        session,
        key,
        {
            "name": name[:100],
            "kind": kind.value,
            "value": value,
            "expires_at": None,
            "multi_use": False,
            "personal": True,
            "max_uses": None,
            "created_by": "system",
            "created_at": now or utcnow(),
            "active": True,
        },
    )


async def active_codes(
    session: AsyncSession, customer_id: int, now: datetime | None = None
) -> list[CodeView]:
    """The codes the customer may use now: their personal ones and the shared ones."""
    rows = await repo.active_codes(session, customer_id, now or utcnow())
    return [
        CodeView(rules.format_code(code), name, Kind(kind), value, own_expiry or expiry, personal)
        for code, name, kind, value, own_expiry, expiry, personal in rows
    ]


async def list_promotions(session: AsyncSession, *, by: Actor) -> list[PromotionView]:
    require(by, Action.PROMOS)
    return await _promotions(session)


async def _promotions(session: AsyncSession) -> list[PromotionView]:
    return [
        PromotionView(
            row.id,
            row.name,
            Kind(row.kind),
            row.value,
            row.expires_at,
            row.multi_use,
            row.personal,
            row.max_uses,
            row.active,
            rules.format_code(row.code) if row.code else None,
            row.codes,
            row.uses,
        )
        for row in await repo.promotions(session)
    ]


async def set_active(
    session: AsyncSession,
    promotion_id: int,
    active: bool,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel,
) -> bool:
    """Switch a promotion off (its codes are refused as inactive) or on again; audited."""
    require(by, Action.PROMOS)
    changed = await repo.set_active(session, promotion_id, active)
    if changed:
        await audit.record(
            session, actor, channel, "promo_on" if active else "promo_off", promotion_id
        )
    await session.commit()
    return changed


def shown_code(code: str) -> str:
    """A stored code as people read it: K7QM-3XWP."""
    return rules.format_code(code)


async def usable_for_campaign(
    session: AsyncSession, promotion_id: int, now: datetime | None = None
) -> bool:
    """An active personal-code promotion, not expired: one a broadcast may hand codes out for."""
    return await repo.personal_usable(session, promotion_id, now or utcnow())


async def campaign_promotions(
    session: AsyncSession, *, by: Actor, now: datetime | None = None
) -> list[PromotionView]:
    """The promotions a broadcast may carry: active, personal, not expired, the bot's own
    (win-back) ones left out. Whoever may broadcast may attach one."""
    require(by, Action.BROADCAST)
    now = now or utcnow()
    usable = set(await repo.personal_usable_ids(session, now))
    return [view for view in await _promotions(session) if view.id in usable]
