"""Identities: Telegram ids carried over by migration 0014; the same signup on both channels."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.questionnaire import Step
from bot.services import accounts, ledger, signup
from bot.services.accounts import Account
from db import migrate
from db.models import Customer, Identity
from db.repositories import identities
from tests.db.conftest import PROGRAM

ROWS_AT_0008 = [
    "INSERT INTO customers (id, telegram_id, status, language, interests, ads_opt_in,"
    " created_at, ledger_version, spend, purchase_count, consent_pending) VALUES"
    " (1, 101, 'active', 'ru', '[]', false, '2026-01-01 00:00:00', 0, 0, 0, false),"
    " (2, 9007199254740993, 'pending', 'en', '[]', false, '2026-01-02 00:00:00', 0, 0, 0,"
    " false),"
    " (3, NULL, 'active', 'ru', '[]', false, '2026-01-03 00:00:00', 0, 0, 0, true)",
]


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_every_telegram_account_is_carried_over_and_back(engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "0008_rights")
    async with engine.begin() as connection:
        for statement in ROWS_AT_0008:
            await connection.execute(text(statement))
    await migrate.upgrade(engine)
    assert await _rows(
        engine, "SELECT customer_id, channel, account_id FROM identities ORDER BY customer_id"
    ) == [(1, "telegram", "101"), (2, "telegram", "9007199254740993")]
    assert await _rows(engine, "SELECT id, telegram_id FROM customers ORDER BY id") == [
        (1, 101),
        (2, 9007199254740993),
        (3, None),
    ]
    await migrate.downgrade(engine, "0008_rights")
    assert await _rows(engine, "SELECT id, telegram_id FROM customers ORDER BY id") == [
        (1, 101),
        (2, 9007199254740993),
        (3, None),
    ]


CHANNELS = [Account("telegram", "700001"), Account("whatsapp", "79160000001")]


@pytest.mark.parametrize("account", CHANNELS, ids=lambda a: a.channel)
async def test_the_same_signup_on_either_channel(
    sessions: async_sessionmaker, account: Account
) -> None:
    async with sessions() as session:
        customer_id = await accounts.give_consent(session, account, "ru", None, "consent v1")
        assert await accounts.give_consent(session, account, "ru", None, "consent v1") == (
            customer_id
        )
        await accounts.save_answer(session, customer_id, Step.NAME, "Анна")
        assert await accounts.save_verified_phone(session, customer_id, "+79160000001")
        chosen = await accounts.toggle_interest(session, customer_id, "Кофе")
        assert chosen == ["Кофе"]
        welcome = await accounts.complete(session, account, False, "ads v1", "ru", PROGRAM)
        assert welcome.name == "Анна"
    async with sessions() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None and customer.status == "active"
        assert customer.telegram_id == (700001 if account.channel == "telegram" else None)
        identity = (await session.scalars(select(Identity))).one()
        assert (identity.channel, identity.account_id) == (account.channel, account.id)
        assert (await accounts.profile_of(session, account)) is not None
        assert await ledger.points_of(session, customer_id) == welcome.balance


async def test_telegram_signup_writes_its_identity(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        customer_id = await signup.give_consent(session, 700002, "ru", None, "consent v1")
    async with sessions() as session:
        rows = (await session.execute(select(Identity.customer_id, Identity.account_id))).all()
        assert rows == [(customer_id, "700002")]
        found = await accounts.customer_of(session, Account("telegram", "700002"))
        assert found is not None and found.id == customer_id


async def test_a_link_code_is_taken_once_by_its_member_only(
    sessions: async_sessionmaker, new_customer
) -> None:
    member, other = await new_customer(), await new_customer()
    wa = Account("whatsapp", "79169999999")
    async with sessions() as session:
        for customer_id in (member, other):
            customer = await session.get(Customer, customer_id)
            assert customer is not None
            await identities.attach(session, customer_id, "telegram", str(customer.telegram_id))
        await session.commit()
        offer = await accounts.offer_link(session, wa, member)
        other_account = Account("telegram", str((await session.get(Customer, other)).telegram_id))
        assert await accounts.confirm_link(session, other_account, offer.code) is None
        member_account = Account("telegram", str((await session.get(Customer, member)).telegram_id))
        assert await accounts.confirm_link(session, member_account, offer.code) == wa
        assert await accounts.confirm_link(session, member_account, offer.code) is None
        linked = await accounts.customer_of(session, wa)
        assert linked is not None and linked.id == member
