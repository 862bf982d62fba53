"""The till's services on both engines: a return from the messenger is the POS API's refund,
to the point; spending points waits for the customer's own consent (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import ledger, till
from bot.services.staff import Role, StaffMember
from db.models import AuditEntry, Customer, LedgerEntry, Purchase, Redemption
from tests.db.conftest import PROGRAM, T0

RUB = 100
STORE = "Тверская, 1"
CASHIER = StaffMember(700_001, Role.CASHIER, STORE)
OTHER_CASHIER = StaffMember(700_002, Role.CASHIER, "Ленина, 5")
OWNER = StaffMember(900_001, Role.OWNER)
WINDOW = timedelta(minutes=3)


async def _gift(sessions: async_sessionmaker, customer: int, points: int) -> None:
    async with sessions() as session:
        await ledger.grant_bonus(
            session, PROGRAM, customer, points, key=f"gift:{customer}", reason="test", now=T0
        )


async def _sale(
    sessions: async_sessionmaker, customer: int, receipt: str, roubles: int, redeem: int
) -> ledger.PurchaseResult:
    async with sessions() as session:
        return await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            roubles * RUB,
            redeem=redeem,
            receipt_id=receipt,
            store=STORE,
            channel="test",
            actor="till:1",
            now=T0,
        )


async def _points(sessions: async_sessionmaker, customer: int) -> int:
    async with sessions() as session:
        return await ledger.points_of(session, customer, T0)


def _same(result: ledger.RefundResult) -> tuple[int, int, int, int, int]:
    return (
        result.amount,
        result.reversed_points,
        result.returned_points,
        result.shortfall,
        result.balance,
    )


@pytest.mark.parametrize("parts", [[None], [400 * RUB, None], [300 * RUB, 300 * RUB, None]])
async def test_a_return_from_the_messenger_is_the_pos_apis_refund(
    sessions, new_customer, parts
) -> None:
    """Twin customers, twin purchases (with points spent); one returned through the POS API's
    rule (`refund_receipt`), the other from the messenger: the same figures at every step."""
    twins = [await new_customer(), await new_customer()]
    for number, customer in enumerate(twins):
        await _gift(sessions, customer, 500)
        await _sale(sessions, customer, f"R-{number}", 1000, redeem=300)
    purchase_ids = []
    async with sessions() as session:
        for number in range(2):
            query = select(Purchase.id).where(Purchase.receipt_id == f"R-{number}")
            purchase_ids.append(await session.scalar(query))
    for step, amount in enumerate(parts):
        async with sessions() as session:
            pos = await ledger.refund_receipt(
                session,
                store=STORE,
                receipt_id="R-0",
                amount=amount,
                refund_id=f"pos-{step}",
                actor="pos:x",
                now=T0,
            )
        async with sessions() as session:
            chat = await till.return_purchase(
                session, CASHIER, purchase_ids[1], amount=amount, return_id=f"tg-{step}", now=T0
            )
        assert isinstance(pos, ledger.RefundResult)
        assert _same(chat) == _same(pos)
    assert await _points(sessions, twins[0]) == await _points(sessions, twins[1]) == 500
    async with sessions() as session:
        refunded = (await session.scalars(select(Purchase.refunded_amount))).all()
        audited = (
            await session.scalars(
                select(AuditEntry.subject).where(AuditEntry.action == "purchase.return")
            )
        ).all()
    assert refunded == [1000 * RUB, 1000 * RUB]
    assert audited == [str(purchase_ids[1])] * len(parts)


async def test_a_repeated_return_is_one_and_another_stores_cashier_changes_nothing(
    sessions, new_customer
) -> None:
    customer = await new_customer()
    await _sale(sessions, customer, "R-1", 1000, redeem=0)
    async with sessions() as session:
        purchase_id = await session.scalar(select(Purchase.id))
    assert purchase_id is not None
    async with sessions() as session:
        with pytest.raises(till.NotAllowedError):
            await till.return_purchase(
                session, OTHER_CASHIER, purchase_id, amount=None, return_id="x", now=T0
            )
        with pytest.raises(till.NotAllowedError):  # a forged id is the same refusal
            await till.purchase_for_return(session, CASHIER, purchase_id + 1000)
        assert await till.purchases_to_return(session, OTHER_CASHIER, receipt_id="R-1") == []
    assert await _points(sessions, customer) == 50
    for _ in range(2):
        async with sessions() as session:
            done = await till.return_purchase(
                session, CASHIER, purchase_id, amount=500 * RUB, return_id="once", now=T0
            )
    assert done.duplicate and done.amount == 500 * RUB
    async with sessions() as session:
        assert await session.scalar(select(Purchase.refunded_amount)) == 500 * RUB


# --- redemption the customer confirms -----------------------------------------------------------


async def _ask(sessions, customer: int, receipt: str = "R-1", points: int = 200):
    async with sessions() as session:
        return await till.ask_redemption(
            session,
            PROGRAM,
            customer,
            1000 * RUB,
            points,
            receipt_id=receipt,
            store=STORE,
            channel="cashier",
            actor=CASHIER.actor,
            notify_chat=CASHIER.telegram_id,
            lifetime=WINDOW,
            now=T0,
        )


async def _telegram(sessions, customer: int) -> int:
    async with sessions() as session:
        telegram_id = await session.scalar(
            select(Customer.telegram_id).where(Customer.id == customer)
        )
    assert telegram_id is not None
    return telegram_id


async def _spent(sessions, customer: int) -> int:
    async with sessions() as session:
        return -int(
            await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                    LedgerEntry.customer_id == customer, LedgerEntry.kind == "redemption"
                )
            )
            or 0
        )


async def test_without_the_customers_consent_nothing_is_spent(sessions, new_customer) -> None:
    customer, stranger = await new_customer(), await new_customer()
    await _gift(sessions, customer, 500)
    asked = await _ask(sessions, customer)
    assert asked.status == "pending"
    assert await _spent(sessions, customer) == 0 and await _points(sessions, customer) == 500
    # A forged tap from another chat, then a lapsed one: no row taken, nothing spent.
    async with sessions() as session:
        forged = await till.answer_redemption(
            session, PROGRAM, asked.id, await _telegram(sessions, stranger), confirm=True, now=T0
        )
    async with sessions() as session:
        late = await till.answer_redemption(
            session,
            PROGRAM,
            asked.id,
            await _telegram(sessions, customer),
            confirm=True,
            now=T0 + WINDOW,
        )
    assert forged is None and late is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0
        assert await session.scalar(select(Redemption.status)) == "pending"
    assert await _spent(sessions, customer) == 0


async def test_a_double_tap_spends_once(sessions, new_customer) -> None:
    customer = await new_customer()
    await _gift(sessions, customer, 500)
    asked = await _ask(sessions, customer)
    telegram_id = await _telegram(sessions, customer)
    answers = []
    for _ in range(2):
        async with sessions() as session:
            answers.append(
                await till.answer_redemption(
                    session, PROGRAM, asked.id, telegram_id, confirm=True, now=T0
                )
            )
    first, second = answers
    assert first is not None and first.purchase is not None and second is None
    assert (first.purchase.redeemed, first.purchase.balance) == (200, 500 - 200 + 40)
    assert await _spent(sessions, customer) == 200
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1
        # The cashier is told through the outbox, in the same transaction.
        kinds = await session.execute(select(func.count()).where(Redemption.status == "confirmed"))
        assert kinds.scalar_one() == 1


async def test_the_code_read_out_spends_a_wrong_one_does_not(sessions, new_customer) -> None:
    customer = await new_customer()
    await _gift(sessions, customer, 500)
    asked = await _ask(sessions, customer)
    async with sessions() as session:
        code = await session.scalar(select(Redemption.code))
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    async with sessions() as session:
        with pytest.raises(till.WrongCodeError):
            await till.confirm_with_code(
                session, PROGRAM, asked.id, wrong, actor=CASHIER.actor, now=T0
            )
        with pytest.raises(till.NotAllowedError):  # another cashier's request
            await till.confirm_with_code(
                session, PROGRAM, asked.id, code, actor=OTHER_CASHIER.actor, now=T0
            )
    assert await _spent(sessions, customer) == 0
    async with sessions() as session:
        answer = await till.confirm_with_code(
            session, PROGRAM, asked.id, code, actor=CASHIER.actor, now=T0
        )
    assert answer.purchase is not None and answer.purchase.redeemed == 200
    async with sessions() as session:
        again = await till.confirm_with_code(
            session, PROGRAM, asked.id, code, actor=CASHIER.actor, now=T0
        )
    assert again.purchase is not None and again.purchase.duplicate
    assert await _spent(sessions, customer) == 200


async def test_selling_without_points_withdraws_the_request(sessions, new_customer) -> None:
    customer = await new_customer()
    await _gift(sessions, customer, 500)
    asked = await _ask(sessions, customer)
    async with sessions() as session:
        sold = await till.sell_without_points(
            session, PROGRAM, asked.id, actor=CASHIER.actor, now=T0
        )
    assert sold.purchase is not None and sold.purchase.redeemed == 0
    async with sessions() as session:
        late = await till.answer_redemption(
            session, PROGRAM, asked.id, await _telegram(sessions, customer), confirm=True, now=T0
        )
    assert late is None
    assert await _spent(sessions, customer) == 0 and await _points(sessions, customer) == 550
