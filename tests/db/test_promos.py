"""Promo codes on SQLite and PostgreSQL: redemption, every refusal, races, refunds, guessing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain import promos as rules
from bot.domain.promos import Kind, Refusal
from bot.services import audit, ledger, promos
from bot.services.permissions import SHELL
from db.models import AuditEntry, LedgerEntry, PromoCode, PromoRedemption, Purchase
from tests.db.conftest import PROGRAM, T0

RUB = 100


def _guard(limit: int = 100) -> promos.GuessGuard:
    return promos.GuessGuard(limit, 900)


async def _promotion(sessions: async_sessionmaker, **kw: object) -> promos.PromotionView:
    values: dict = {
        "name": "Осень",
        "kind": Kind.PERCENT,
        "value": 10,
        "expires_at": T0 + timedelta(days=30),
        "actor": "owner:1",
        "channel": audit.Channel.SHELL,
        "now": T0,
    }
    values.update(kw)
    async with sessions() as session:
        return await promos.create_promotion(session, **values, by=SHELL)


async def _sell(
    sessions: async_sessionmaker,
    customer: int,
    amount: int,
    code: str | None,
    *,
    receipt: str | None = None,
    redeem: int = 0,
    guard: promos.GuessGuard | None = None,
    actor: str = "cashier:7",
    at=T0,
) -> promos.PromoSale:
    async with sessions() as session:
        return await promos.record_sale(
            session,
            PROGRAM,
            customer,
            amount,
            code=code,
            guard=guard or _guard(),
            redeem=redeem,
            receipt_id=receipt,
            store="S",
            channel="test",
            actor=actor,
            now=at,
        )


async def _refused(coro) -> Refusal:
    with pytest.raises(promos.PromoRefusedError) as caught:
        await coro
    return caught.value.reason


async def _count(sessions: async_sessionmaker, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_codes_are_readable_and_typed_any_way() -> None:
    code = rules.new_code()
    assert len(code) == 8 and not set(code) & set("0O1I")
    shown = rules.format_code(code)
    assert shown[4] == "-" and rules.normalize_code(f" {shown.lower()} ") == code
    assert rules.normalize_code("K7QM 3XWO") is None  # O is not in the alphabet
    assert len(rules.ALPHABET) ** rules.CODE_LENGTH == 2**rules.ENTROPY_BITS


async def test_a_percent_code_lowers_what_is_paid_and_points_accrue_on_it(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    promo = await _promotion(sessions)
    assert promo.code is not None
    sale = await _sell(sessions, customer, 1000 * RUB, promo.code.lower(), receipt="R1")
    assert sale.promo is not None and sale.promo.discount == 100 * RUB
    assert sale.purchase.amount == 900 * RUB and sale.purchase.accrued == 45  # 5 % of 900
    async with sessions() as session:
        stored = await session.scalar(select(Purchase.amount))
        use = (await session.execute(select(PromoRedemption))).scalar_one()
        code_row = (await session.execute(select(PromoCode))).scalar_one()
        audited = await session.scalar(
            select(AuditEntry.action).where(AuditEntry.action == "promo_create")
        )
    assert stored == 900 * RUB and use.discount == 100 * RUB
    assert use.purchase_id == sale.purchase.purchase_id == code_row.purchase_id
    assert code_row.uses == 1 and audited == "promo_create"
    # Single use: the same customer cannot use the shared code again; another customer can.
    assert await _refused(_sell(sessions, customer, 500 * RUB, promo.code)) is Refusal.USED
    other = await _new(new_customer)
    assert (await _sell(sessions, other, 500 * RUB, promo.code)).promo is not None


async def _new(new_customer) -> int:
    return int(await new_customer())


async def test_the_points_cap_applies_to_the_discounted_check(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    async with sessions() as session:
        await ledger.add_bonus(session, PROGRAM, customer, 1000, key="gift", reason="t", now=T0)
        await session.commit()
    promo = await _promotion(sessions, kind=Kind.FIXED, value=500 * RUB)
    # A check of 1000 ₽ less 500 ₽: the cap (30 %) is of the 500 ₽ paid, not of 1000 ₽.
    assert PROGRAM.redeem_cap(1000 * RUB) == 300
    with pytest.raises(ledger.RedeemCapError) as capped:
        await _sell(sessions, customer, 1000 * RUB, promo.code, redeem=300)
    assert capped.value.cap == 150
    sale = await _sell(sessions, customer, 1000 * RUB, promo.code, redeem=150)
    assert sale.purchase.amount == 500 * RUB and sale.purchase.redeemed == 150


async def test_every_refusal_names_its_reason(sessions: async_sessionmaker, new_customer) -> None:
    anna, boris = await new_customer(), await new_customer()
    personal = await _promotion(sessions, personal=True, kind=Kind.FIXED, value=200 * RUB)
    async with sessions() as session:
        codes = await promos.issue_personal_codes(session, personal.id, [anna], now=T0)
        await session.commit()
    code = codes[anna]
    assert await _refused(_sell(sessions, boris, 1000 * RUB, code)) is Refusal.FOREIGN
    assert await _refused(_sell(sessions, anna, 1000 * RUB, "ZZZZ-ZZZZ")) is Refusal.UNKNOWN
    assert await _refused(_sell(sessions, anna, 1000 * RUB, "hello")) is Refusal.UNKNOWN
    assert await _refused(_sell(sessions, anna, 200 * RUB, code)) is Refusal.AMOUNT_TOO_SMALL
    late = T0 + timedelta(days=31)
    assert await _refused(_sell(sessions, anna, 1000 * RUB, code, at=late)) is Refusal.EXPIRED
    await _sell(sessions, anna, 1000 * RUB, code)
    assert await _refused(_sell(sessions, anna, 1000 * RUB, code)) is Refusal.USED
    shared = await _promotion(sessions)
    async with sessions() as session:
        await promos.set_active(
            session, shared.id, False, actor="owner:1", channel=audit.Channel.SHELL, by=SHELL
        )
    assert await _refused(_sell(sessions, anna, 1000 * RUB, shared.code)) is Refusal.INACTIVE
    # Nothing of the refused sales was recorded.
    assert await _count(sessions, Purchase) == 1
    assert await _count(sessions, PromoRedemption) == 1


async def test_two_tills_redeeming_one_single_use_code_at_once_one_wins(
    sessions: async_sessionmaker, new_customer
) -> None:
    customers = [await new_customer() for _ in range(6)]
    promo = await _promotion(sessions, max_uses=1)  # one use in all, whoever comes first

    async def till(number: int, customer: int) -> bool:
        try:
            await _sell(sessions, customer, 1000 * RUB, promo.code, receipt=f"T{number}")
        except promos.PromoRefusedError as refused:
            assert refused.reason is Refusal.USED
            return False
        return True

    results = await asyncio.gather(*(till(n, c) for n, c in enumerate(customers)))
    assert results.count(True) == 1
    assert await _count(sessions, Purchase) == 1
    assert await _count(sessions, PromoRedemption) == 1


async def test_a_personal_code_at_two_tills_at_once_is_used_once(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    promo = await _promotion(sessions, personal=True)
    async with sessions() as session:
        code = (await promos.issue_personal_codes(session, promo.id, [customer], now=T0))[customer]
        await session.commit()

    async def till(number: int) -> bool:
        try:
            await _sell(sessions, customer, 1000 * RUB, code, receipt=f"P{number}")
        except promos.PromoRefusedError:
            return False
        return True

    assert (await asyncio.gather(*(till(n) for n in range(4)))).count(True) == 1
    assert await _count(sessions, Purchase) == 1


async def test_the_same_receipt_twice_is_one_use(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    promo = await _promotion(sessions)
    first = await _sell(sessions, customer, 1000 * RUB, promo.code, receipt="R9")
    again = await _sell(sessions, customer, 1000 * RUB, promo.code, receipt="R9")
    assert again.purchase.duplicate and again.purchase.purchase_id == first.purchase.purchase_id
    assert again.promo is not None and again.promo.discount == 100 * RUB
    assert await _count(sessions, PromoRedemption) == 1


async def test_a_full_refund_releases_the_code_and_takes_back_its_bonus(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    points = await _promotion(sessions, kind=Kind.POINTS, value=300)
    sale = await _sell(sessions, customer, 1000 * RUB, points.code, receipt="B1")
    assert sale.promo is not None and sale.promo.bonus == 300 and sale.promo.discount == 0
    async with sessions() as session:
        assert await ledger.points_of(session, customer, T0) == 300 + 50
    assert await _refused(_sell(sessions, customer, 800 * RUB, points.code)) is Refusal.USED
    # A partial return keeps the code used.
    async with sessions() as session:
        await ledger.refund(
            session, store="S", receipt_id="B1", amount=100 * RUB, actor="t", now=T0
        )
    assert await _refused(_sell(sessions, customer, 800 * RUB, points.code)) is Refusal.USED
    async with sessions() as session:
        done = await ledger.refund(session, store="S", receipt_id="B1", actor="t", now=T0)
        assert done.reversed_points == 45 + 300
        assert await ledger.points_of(session, customer, T0) == 0
        released = await session.scalar(select(PromoRedemption.released_at))
        uses = await session.scalar(select(PromoCode.uses))
    assert released is not None and uses == 0
    again = await _sell(sessions, customer, 800 * RUB, points.code, receipt="B2")
    assert again.promo is not None and again.promo.bonus == 300
    async with sessions() as session:
        bonuses = await session.scalar(select(func.count()).where(LedgerEntry.reason == "promo"))
    assert bonuses == 2


async def test_personal_codes_are_issued_in_bulk_once_per_customer(
    sessions: async_sessionmaker, new_customer
) -> None:
    customers = [await new_customer() for _ in range(30)]
    promo = await _promotion(sessions, personal=True)
    async with sessions() as session:
        codes = await promos.issue_personal_codes(session, promo.id, customers, now=T0)
        again = await promos.issue_personal_codes(session, promo.id, customers[:5], now=T0)
        await session.commit()
    assert set(codes) == set(customers) and len(set(codes.values())) == 30
    assert again == {customer: codes[customer] for customer in customers[:5]}
    assert await _count(sessions, PromoCode) == 30
    async with sessions() as session:
        shown = await promos.active_codes(session, customers[0], T0)
    assert [view.code for view in shown] == [codes[customers[0]]]


async def test_a_burst_of_wrong_guesses_is_slowed_per_actor(
    sessions: async_sessionmaker, new_customer
) -> None:
    customer = await new_customer()
    promo = await _promotion(sessions)
    now = [0.0]
    guard = promos.GuessGuard(3, 600, clock=lambda: now[0])
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"):
        refused = await _refused(_sell(sessions, customer, 1000 * RUB, guess, guard=guard))
        assert refused is Refusal.UNKNOWN
    # The fourth try is refused before the code is even looked at, the right code too.
    with pytest.raises(promos.PromoRefusedError) as slowed:
        await _sell(sessions, customer, 1000 * RUB, promo.code, guard=guard)
    assert slowed.value.reason is Refusal.THROTTLED and 0 < slowed.value.retry_after <= 601
    # Another cashier is not slowed; and after the window the first may try again.
    assert (await _sell(sessions, customer, 1000 * RUB, promo.code, guard=guard, actor="x")).promo
    now[0] = 601.0
    other = await new_customer()
    assert (await _sell(sessions, other, 1000 * RUB, promo.code, guard=guard)).promo
