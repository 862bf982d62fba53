"""The scheduler through the real bot: the owner's /schedule, and a birthday a member sees."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser
from bot.services.jobs import config_from
from bot.services.jobs.runner import JobName, RunOutcome, run_period
from bot.telegram.job_texts import render
from bot.texts import texts_for
from db.base import utcnow
from db.models import Delivery, JobSetting
from tests.e2e.conftest import OWNER_ID, RunningBot

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")


async def test_owner_turns_a_job_off_and_on_without_a_restart(
    running: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = running
    listing = await bot.say(OWNER, "/schedule")
    assert "Дни рождения" in listing.text and "ещё не запускалось" in listing.text
    assert "Europe/Moscow" in listing.text
    assert "Выключить: Дни рождения" in listing.button_texts()

    bot.fake.press(OWNER, listing, "Выключить: Дни рождения")
    bot.fake.press(OWNER, listing, "Выключить: Дни рождения")  # a double tap: one change
    off = await bot.reply(OWNER)
    await bot.quiet()
    edits = [m for m in bot.fake.history if m.chat_id == OWNER.id and m.edited]
    assert len(edits) == 1 and len(bot.fake.messages_to(OWNER.id)) == 1
    # The second tap is answered "already done", not an edit Telegram refuses as "not modified".
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert off.edited and "⚪️ выключено · <b>Дни рождения</b>" in off.text
    assert "Включить: Дни рождения" in off.button_texts()
    config = config_from(bot.settings)
    today = utcnow().astimezone(config.zone).date()
    result = await run_period(bot.sessions, config, JobName.BIRTHDAY, today, owner="test")
    assert result.outcome is RunOutcome.DISABLED

    on = await bot.press(OWNER, off, "Включить: Дни рождения")
    assert "⚪️ выключено · <b>Дни рождения</b>" not in on.text
    async with bot.sessions() as session:
        switch = await session.get(JobSetting, "birthday")
        assert switch is not None and switch.enabled and switch.updated_by == f"owner:{OWNER_ID}"


async def test_a_customer_cannot_see_the_schedule(running: RunningBot) -> None:
    customer = running.new_user()
    answer = await running.say(customer, "/schedule")
    assert answer.text == texts_for("ru").owner_only


async def test_a_member_with_a_birthday_today_gets_the_gift_once(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    config = config_from(bot.settings)
    today = utcnow().astimezone(config.zone).date()
    born = date(1992 if (today.month, today.day) == (2, 29) else 1990, today.month, today.day)

    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, user.first_name)
    bot.fake.share_contact(user, f"+7916{user.id:07d}")
    await bot.reply(user)  # the phone confirmation
    await bot.reply(user)  # the birthday question
    gender_q = await bot.say(user, f"{born:%d.%m.%Y}")
    city_q = await bot.press(user, gender_q, "Пропустить")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    await bot.press(user, ads_q, "Нет, спасибо")

    for owner in ("one process", "another process"):
        await run_period(
            bot.sessions, config, JobName.BIRTHDAY, today, owner=owner, rerun_done=True
        )
    sent = await bot.reply(user)  # the delivery engine sends the greeting
    assert sent.text.startswith("🎂 С днём рождения!") and "Дарим вам 300 баллов" in sent.text
    balance = await bot.say(user, "/balance")
    assert "400 баллов" in balance.text  # 100 welcome + 300 birthday, once

    async with bot.sessions() as session:
        [greeting] = list(
            await session.scalars(select(Delivery).where(Delivery.kind == "birthday"))
        )
    text = render(greeting.kind, greeting.payload, texts_for("ru"))
    assert text.startswith("🎂 С днём рождения!") and "Дарим вам 300 баллов" in text
