"""Withdrawing consent erases the person, as the consent text promises, and keeps the proof of
consent and the shop's books as anonymous records (152-FZ art. 9(3) and 21(5))."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.sandbox.fake_telegram import FakeUser
from db.base import Base
from db.models import (
    Consent,
    ConsentText,
    Customer,
    Delivery,
    FunnelEvent,
    LedgerEntry,
    OwnerAlert,
    Purchase,
)
from db.repositories import deliveries
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_signup import sign_up

NAME = "Евлампия"  # in no consent text, store or button: found only if her data lingers


async def _sale(bot: RunningBot, cashier: FakeUser, phone: str, amount: str) -> None:
    await bot.say(cashier, "/sale")
    await bot.say(cashier, phone)
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, amount)
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "✅ Провести")


async def _everything_stored(bot: RunningBot) -> str:
    """Every row of every table, as text: what a search of the whole database would see."""
    found = []
    async with bot.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                # Times left out: their microseconds could look like a Telegram id.
                found.append(str([v for v in row if not isinstance(v, datetime | date)]))
    return "\n".join(found)


async def test_withdrawal_erases_the_person_and_keeps_the_proof_and_the_books(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user(first_name=NAME)
    phone = f"+7916{anna.id:07d}"
    await sign_up(bot, anna)
    await _sale(bot, cashier, phone, "500")
    notice = await bot.reply(anna)
    assert notice.text.startswith("🧾 Покупка на 500")
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.telegram_id == anna.id))
        assert customer is not None
        sent = await session.scalar(select(Delivery).where(Delivery.kind == "purchase"))
        assert sent is not None
        # A notice still queued (due later) when she withdraws: it must never reach her.
        await deliveries.enqueue(
            session,
            "purchase",
            sent.payload,
            customer_id=customer.id,
            due_at=datetime.now(UTC) + timedelta(hours=1),
        )
        await session.commit()
        ledger_before = set(await session.scalars(select(LedgerEntry.id)))
    assert NAME in await _everything_stored(bot)

    profile = await bot.say(anna, "/profile")
    assert "Телефон: +7 *** ***-" in profile.text
    ask = await bot.press(anna, profile, "🗑 Отозвать согласие и удалить данные")
    assert "125 баллов" in ask.text and "нельзя отменить" in ask.text
    kept = await bot.press(anna, ask, "Нет, оставить")
    assert kept.text == "Хорошо, всё осталось как было."

    ask = await bot.say(anna, "/forget")
    assert ask.button_texts() == ["Да, удалить", "Нет, оставить"]
    bot.fake.press(anna, ask, "Да, удалить")
    bot.fake.press(anna, ask, "Да, удалить")  # a double tap erases once and says so once
    done = await bot.reply(anna)
    assert done.text.startswith("Согласие отозвано, ваши данные удалены")
    assert "152-ФЗ" in done.text and "бухгалтерского учёта" in done.text
    await bot.quiet()
    assert [m.text for m in bot.fake.messages_to(anna.id)].count(done.text) == 1
    assert bot.fake.messages_to(anna.id)[-1].text == done.text  # nothing after it

    async with bot.sessions() as session:
        row = await session.get(Customer, customer.id)
        assert row is not None
        assert (row.status, row.telegram_id, row.name, row.phone, row.card_code) == (
            "forgotten",
            None,
            None,
            None,
            None,
        )
        assert (row.birthday, row.gender, row.city, row.interests, row.ads_opt_in) == (
            None,
            None,
            None,
            [],
            False,
        )
        proof = (
            await session.execute(
                select(Consent.kind, Consent.granted, Consent.text_version)
                .where(Consent.customer_id == customer.id)
                .order_by(Consent.id)
            )
        ).all()
        texts = set(await session.scalars(select(ConsentText.version)))
        purchases = (await session.execute(select(Purchase.customer_id, Purchase.amount))).all()
        ledger_after = (
            await session.execute(
                select(LedgerEntry.id, LedgerEntry.points, LedgerEntry.reason).order_by(
                    LedgerEntry.id
                )
            )
        ).all()
        outstanding = await session.scalar(select(func.sum(LedgerEntry.remaining)))
        queued = await session.scalar(
            select(Delivery).where(Delivery.kind == "purchase", Delivery.id != sent.id)
        )
        kinds = set(await session.scalars(select(FunnelEvent.kind)))
    assert [(kind, granted) for kind, granted, _ in proof] == [
        ("personal_data", True),
        ("advertising", False),  # declined at signup
        ("personal_data", False),
    ]
    assert proof[0].text_version == proof[2].text_version  # the same wording, withdrawn
    assert proof[0].text_version in texts
    assert purchases == [(customer.id, 50000)]
    assert ledger_before < {entry_id for entry_id, _, _ in ledger_after}  # nothing removed
    assert ledger_after[-1][1:] == (-125, "consent withdrawn")  # nobody can spend them now
    assert outstanding == 0
    assert queued is not None and queued.state == "skipped"
    assert "consent_withdrawn" in kinds

    stored = await _everything_stored(bot)
    assert NAME not in stored and phone[2:] not in stored
    assert not re.search(rf"\b{anna.id}\b", stored)  # the Telegram account is unlinked
    if bot.settings.database_url.startswith("sqlite"):
        database = Path(make_url(bot.settings.database_url).database or "")
        for path in (database, Path(f"{database}-wal")):
            if path.exists():
                data = path.read_bytes()
                assert phone[2:].encode() not in data and NAME.encode() not in data, path

    again = await bot.start_bot(anna)
    assert "152-ФЗ" in again.text
    await bot.press(anna, again, "✅ Согласен(на)")
    async with bot.sessions() as session:
        fresh = await session.scalar(select(Customer).where(Customer.telegram_id == anna.id))
    assert fresh is not None and fresh.id != customer.id and fresh.status == "pending"


async def test_forget_mid_signup_erases_the_answers_given_so_far(running: RunningBot) -> None:
    bot, anna = running, running.new_user(first_name=NAME)
    consent = await bot.start_bot(anna)
    await bot.press(anna, consent, "✅ Согласен(на)")
    await bot.say(anna, NAME)  # the name is stored; the phone question is open
    ask = await bot.say(anna, "/forget")
    assert "0 баллов" in ask.text
    done = await bot.press(anna, ask, "Да, удалить")
    assert done.text.startswith("Согласие отозвано")
    await bot.quiet()
    assert NAME not in await _everything_stored(bot)
    async with bot.sessions() as session:
        rows = (await session.execute(select(Customer.status, Customer.telegram_id))).all()
        proof = list(await session.scalars(select(Consent.granted).order_by(Consent.id)))
    assert rows == [("forgotten", None)] and proof == [True, False]

    again = await bot.say(anna, "/forget")
    assert again.text == "У нас нет ваших данных."
    restart = await bot.start_bot(anna)
    assert "152-ФЗ" in restart.text


async def test_an_erased_phone_is_not_left_in_the_sqlite_files(running: RunningBot) -> None:
    """The database file is private (0600), and deleted rows do not linger in it or its WAL."""
    bot, anna = running, running.new_user()
    if not bot.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's own files")
    database = Path(make_url(bot.settings.database_url).database or "")
    digits = f"916{anna.id:07d}".encode()
    await sign_up(bot, anna)
    files = [database, Path(f"{database}-wal")]
    assert any(digits in path.read_bytes() for path in files if path.exists())
    for path in [*files, Path(f"{database}-shm")]:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    profile = await bot.say(anna, "/profile")
    ask = await bot.press(anna, profile, "🗑 Отозвать согласие и удалить данные")
    done = await bot.press(anna, ask, "Да, удалить")
    assert done.text.startswith("Согласие отозвано")
    await bot.quiet()
    for path in files:
        if path.exists():
            assert digits not in path.read_bytes(), path


async def test_owner_alerts_keep_no_phone_and_go_with_the_data(running: RunningBot) -> None:
    bot = running
    bot.fake.register_user(FakeUser(id=OWNER_ID, first_name="Owner"))
    anna, petr = bot.new_user(), bot.new_user(first_name="Пётр")
    await sign_up(bot, anna)
    phone = f"+7916{anna.id:07d}"
    consent = await bot.start_bot(petr)
    await bot.press(petr, consent, "✅ Согласен(на)")
    await bot.say(petr, "Пётр")
    await bot.say(petr, phone)  # Anna's phone: the owner is alerted
    alert = await bot.fake.next_message(OWNER_ID)
    assert phone[-4:] not in alert.text
    async with bot.sessions() as session:
        row = await session.scalar(select(OwnerAlert))
    assert row is not None
    stored = row.dedup_key + json.dumps(row.details)
    assert phone[-4:] not in stored and phone[-2:] + '"' not in stored
    for digest in (
        hashlib.sha256(phone.encode()).hexdigest(),
        hashlib.md5(phone.encode()).hexdigest(),
    ):
        assert digest[:12] not in stored  # a plain hash is reversed by trying every number

    profile = await bot.say(anna, "/profile")
    ask = await bot.press(anna, profile, "🗑 Отозвать согласие и удалить данные")
    done = await bot.press(anna, ask, "Да, удалить")
    assert done.text.startswith("Согласие отозвано")
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerAlert)) == 0
