"""Statement budgets of the hot paths, counted (not timed) on SQLite and PostgreSQL.

Every statement the engine sends passes `before_cursor_execute` once (an executemany too);
transactions are counted by their BEGIN. COMMIT is not a statement sent through a cursor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.services import ledger
from db.models import Customer
from tests.db.conftest import PROGRAM, T0

RUB = 100


@dataclass
class Count:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0


@contextlib.contextmanager
def counting(engine: AsyncEngine) -> Iterator[Count]:
    count = Count()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        count.statements.append(" ".join(sql.split())[:60])

    def begin(_conn: Any) -> None:
        count.transactions += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "begin", begin)
    try:
        yield count
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        event.remove(engine.sync_engine, "begin", begin)


async def _buy(sessions: async_sessionmaker, customer: int, roubles: int, **options: Any):
    async with sessions() as session:
        return await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            roubles * RUB,
            store="Тверская",
            channel="test",
            actor="till:1",
            now=T0,
            **options,
        )


async def test_an_accrual_is_one_transaction_of_at_most_five_statements(
    engine, sessions, new_customer
) -> None:
    customer = await new_customer()
    await _buy(sessions, customer, 100, receipt_id="R-1")  # not the first purchase any more
    with counting(engine) as count:
        sale = await _buy(sessions, customer, 1000, receipt_id="R-2")
    assert sale.accrued == 50 and sale.balance == 55
    assert count.transactions == 1
    assert len(count.statements) <= 5, count.statements


async def test_a_redemption_is_one_transaction_of_at_most_five_statements(
    engine, sessions, new_customer
) -> None:
    """The customer's notice in the outbox included (issue 9): the lots drained by a trigger."""
    customer = await new_customer()
    for number in range(3):
        async with sessions() as session:
            await ledger.grant_bonus(
                session, PROGRAM, customer, 100, key=f"gift:{number}", reason="test", now=T0
            )
    await _buy(sessions, customer, 100, receipt_id="R-1")
    with counting(engine) as count:
        sale = await _buy(sessions, customer, 1000, receipt_id="R-2", redeem=250)
    assert (sale.redeemed, sale.accrued, sale.balance) == (250, 37, 300 + 5 - 250 + 37)
    assert count.transactions == 1
    assert len(count.statements) <= 5, count.statements


async def test_a_first_purchase_paying_a_referral_stays_within_six_statements(
    engine, sessions, new_customer
) -> None:
    referrer = await new_customer()
    friend = await new_customer(referrer_id=referrer)
    with counting(engine) as count:
        sale = await _buy(sessions, friend, 1000)
    assert sale.referrer_rewarded == referrer and sale.balance == 50 + 200
    assert count.transactions == 1
    assert len(count.statements) <= 6, count.statements


async def test_a_retried_receipt_writes_nothing(engine, sessions, new_customer) -> None:
    customer = await new_customer()
    first = await _buy(sessions, customer, 1000, receipt_id="R-1")
    with counting(engine) as count:
        again = await _buy(sessions, customer, 1000, receipt_id="R-1")
    assert again.duplicate and again.purchase_id == first.purchase_id
    assert count.transactions == 1
    assert not [sql for sql in count.statements if sql.startswith("INSERT")], count.statements


async def test_the_balance_of_a_member_is_one_statement(engine, sessions, new_customer) -> None:
    customer = await new_customer()
    await _buy(sessions, customer, 1000)
    async with sessions() as session:
        telegram_id = await session.scalar(
            select(Customer.telegram_id).where(Customer.id == customer)
        )
    async with sessions() as session:
        with counting(engine) as count:
            view = await ledger.member_balance(session, PROGRAM, telegram_id, T0)
    assert view is not None and view.points == 50
    assert len(count.statements) == 1, count.statements
