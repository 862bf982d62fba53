"""Withdrawing consent from the profile deletes the person's data, as the consent text promises."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.sandbox.fake_telegram import FakeUser
from db.models import Consent, Customer, FunnelEvent, LedgerEntry, OwnerAlert
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up


async def test_withdrawal_deletes_everything_and_the_way_back_is_open(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    await sign_up(bot, anna)
    profile = await bot.say(anna, "/profile")
    assert "Телефон: +7 *** ***-" in profile.text
    ask = await bot.press(anna, profile, "🗑 Отозвать согласие и удалить данные")
    assert "100 баллов" in ask.text and "нельзя отменить" in ask.text
    kept = await bot.press(anna, ask, "Нет, оставить")
    assert kept.text == "Хорошо, всё осталось как было."

    ask = await bot.press(anna, profile, "🗑 Отозвать согласие и удалить данные")
    bot.fake.press(anna, ask, "Да, удалить")
    bot.fake.press(anna, ask, "Да, удалить")  # a double tap deletes once and says so once
    done = await bot.reply(anna)
    assert done.text.startswith("Согласие отозвано, ваши данные удалены")
    await bot.quiet()
    assert [m.text for m in bot.fake.messages_to(anna.id)].count(done.text) == 1
    async with bot.sessions() as session:
        for table in (Customer, Consent, LedgerEntry):
            assert await session.scalar(select(func.count()).select_from(table)) == 0
        kinds = set(await session.scalars(select(FunnelEvent.kind)))
    assert "consent_withdrawn" in kinds

    again = await bot.start_bot(anna)
    assert "152-ФЗ" in again.text


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
