"""`/schedule`: the owner changes a job's text and the birthday bonus; the next run uses them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser
from bot.services.jobs import config_from
from bot.services.jobs.runner import JobName, run_period
from bot.telegram.job_texts import render
from bot.texts import texts_for
from db.base import utcnow
from db.models import AuditEntry, JobText
from tests.e2e.conftest import OWNER_ID, RunningBot

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
RU = texts_for("ru")


async def _member_born_today(bot: RunningBot, born: date) -> FakeUser:
    user = bot.new_user()
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
    return user


async def test_owner_changes_the_birthday_text_and_bonus_for_the_next_run(
    running: RunningBot,
) -> None:
    bot = running
    config = config_from(bot.settings)
    today = utcnow().astimezone(config.zone).date()
    born = date(1992 if (today.month, today.day) == (2, 29) else 1990, today.month, today.day)

    listing = await bot.say(OWNER, "/schedule")
    card = await bot.press(OWNER, listing, "✏️ Дни рождения")
    assert "Текст (ru): по умолчанию" in card.text and "Подстановки: нет" in card.text
    assert card.button_texts() == [
        "✏️ Текст (ru)",
        "✏️ Текст (en)",
        "🎁 Бонус: 300 баллов",
    ]
    await bot.press(OWNER, card, "✏️ Текст (ru)")
    wrong = await bot.say(OWNER, "С праздником, {name}!")
    assert wrong.text.startswith("В этом тексте можно использовать только: нет")
    saved = await bot.say(OWNER, "С праздником от <Зерна>!")
    assert saved.text == RU.schedule_text_saved
    card = await bot.reply(OWNER)
    assert "Текст (ru): С праздником от &lt;Зерна&gt;!" in card.text
    assert "↩️ Текст по умолчанию (ru)" in card.button_texts()

    await bot.press(OWNER, card, "🎁 Бонус: 300 баллов")
    confirm = await bot.say(OWNER, "500")
    assert "<code>300</code> → <code>500</code>" in confirm.text
    await bot.press(OWNER, confirm, "✅ Изменить")

    user = await _member_born_today(bot, born)
    await run_period(bot.sessions, config, JobName.BIRTHDAY, today, owner="test")
    greeting = await bot.reply(user)
    assert greeting.text.startswith("С праздником от &lt;Зерна&gt;!")
    assert "Дарим вам 500 баллов" in greeting.text
    assert "600 баллов" in (await bot.say(user, "/balance")).text  # 100 welcome + 500

    async with bot.sessions() as session:
        [text] = list(await session.scalars(select(JobText)))
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert (text.job, text.language, text.updated_by) == ("birthday", "ru", f"owner:{OWNER_ID}")
    assert actions == ["job_text_change", "program_change"]


async def test_a_text_with_placeholders_is_used_and_a_reset_brings_back_the_default(
    running: RunningBot,
) -> None:
    bot = running
    listing = await bot.say(OWNER, "/schedule")
    card = await bot.press(OWNER, listing, "✏️ Напоминание о сгорании баллов")
    assert "<code>{points}</code>, <code>{date}</code>" in card.text
    await bot.press(OWNER, card, "✏️ Текст (en)")
    await bot.say(OWNER, "Hurry: {points} go on {date}")
    card = await bot.reply(OWNER)
    async with bot.sessions() as session:
        assert [t.text for t in await session.scalars(select(JobText))] == [
            "Hurry: {points} go on {date}"
        ]
    # What the next run queues carries the text; the worker renders it per language.
    payload = {"points": 5, "date": "2026-12-31", "texts": {"en": "Hurry: {points} go on {date}"}}
    assert render("points_expiring", payload, texts_for("en")) == "Hurry: 5 points go on 31.12.2026"
    assert render("points_expiring", payload, RU) == render(
        "points_expiring", {"points": 5, "date": "2026-12-31"}, RU
    )  # no Russian text set: the default
    reset = await bot.press(OWNER, card, "↩️ Текст по умолчанию (en)")
    assert "Текст (en): по умолчанию" in reset.text
    async with bot.sessions() as session:
        assert list(await session.scalars(select(JobText))) == []


async def test_customers_cannot_edit_job_texts(running: RunningBot) -> None:
    bot = running
    customer = bot.new_user()
    before = len(bot.fake.sent)
    bot.fake.press_data(customer, "jobedit:birthday:text:ru")
    await bot.quiet()
    assert len(bot.fake.sent) == before
    assert bot.fake.answered_callbacks[-1]["text"] == RU.owner_only
