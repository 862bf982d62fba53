"""/profile: a member edits each answer with the signup rules; the profile bonus is paid once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser, SentMessage
from bot.texts import texts_for
from db.models import Customer, LedgerEntry
from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup import sign_up

RU = texts_for("ru")


async def _edit(bot: RunningBot, user: FakeUser, label: str) -> SentMessage:
    profile = await bot.say(user, "/profile")
    return await bot.press(user, profile, label)


async def _stored(bot: RunningBot, user: FakeUser) -> Customer:
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.telegram_id == user.id))
        assert customer is not None
        return customer


async def _profile_bonuses(bot: RunningBot) -> list[int]:
    async with bot.sessions() as session:
        return list(
            await session.scalars(select(LedgerEntry.points).where(LedgerEntry.reason == "profile"))
        )


async def test_each_answer_is_edited_with_the_signup_rules(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    profile = await bot.say(user, "/profile")
    assert "✏️ Имя" in profile.button_texts() and "✏️ Интересы" in profile.button_texts()

    await bot.press(user, profile, "✏️ Имя")
    assert (await bot.say(user, "12345")).text == RU.bad_name
    assert (await bot.say(user, "  Анна   Петрова ")).text == RU.profile_saved
    ask = await _edit(bot, user, "✏️ День рождения")
    assert ask.text.startswith(RU.ask_birthday)
    assert (await bot.say(user, "32.13.1990")).text == RU.bad_birthday_format
    assert (await bot.say(user, "01.02.1990")).text == RU.profile_saved
    await _edit(bot, user, "✏️ Город")
    assert (await bot.say(user, "<b>Тверь</b>")).text == RU.profile_saved
    stored = await _stored(bot, user)
    assert stored.name == "Анна Петрова" and stored.birthday == date(1990, 2, 1)
    assert stored.city == "<b>Тверь</b>"
    shown = await bot.say(user, "/profile")
    assert "&lt;b&gt;Тверь&lt;/b&gt;" in shown.text and "<b>Тверь</b>" not in shown.text
    assert await _profile_bonuses(bot) == []  # gender and interests still missing


async def test_the_profile_bonus_is_paid_once_even_if_completed_emptied_completed(
    running: RunningBot,
) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    await _edit(bot, user, "✏️ День рождения")
    await bot.say(user, "01.02.1990")
    gender_q = await _edit(bot, user, "✏️ Пол")
    assert (await bot.press(user, gender_q, "Женский")).text == RU.profile_saved
    city_q = await _edit(bot, user, "✏️ Город")
    assert (await bot.press(user, city_q, "Тверь")).text == RU.profile_saved
    interests_q = await _edit(bot, user, "✏️ Интересы")
    ticked = await bot.press(user, interests_q, "Кофе")  # the profile is now complete
    assert ticked.edited and "✅ Кофе" in ticked.button_texts()
    paid = await bot.reply(user)
    assert paid.text == "Профиль заполнен: +50 баллов! 🎉"
    assert (await bot.press(user, ticked, "Готово ✔️")).text == RU.profile_saved
    assert "<b>150 баллов</b>" in (await bot.say(user, "/balance")).text

    city_q = await _edit(bot, user, "✏️ Город")
    assert (await bot.press(user, city_q, "🗑 Очистить ответ")).text == RU.profile_saved
    assert (await _stored(bot, user)).city is None
    city_q = await _edit(bot, user, "✏️ Город")
    assert (await bot.press(user, city_q, "Москва")).text == RU.profile_saved  # complete again
    await bot.quiet()
    assert not [m for m in bot.fake.messages_to(user.id) if "Профиль заполнен" in m.text][1:]
    assert "<b>150 баллов</b>" in (await bot.say(user, "/balance")).text
    assert await _profile_bonuses(bot) == [50]
    # A stale button of a finished edit changes nothing.
    before = len(bot.fake.sent)
    bot.fake.press(user, city_q, "Тверь")
    await bot.quiet()
    assert len(bot.fake.sent) == before and (await _stored(bot, user)).city == "Москва"


async def test_a_stranger_or_a_forgotten_member_cannot_edit_a_profile(
    running: RunningBot,
) -> None:
    bot, stranger, member = running, running.new_user(), running.new_user()
    for data in ("myedit:city:pick:0", "myedit:city:ask:"):
        bot.fake.press_data(stranger, data)
    await sign_up(bot, member)
    profile = await bot.say(member, "/profile")
    city_q = await bot.press(member, profile, "✏️ Город")
    ask = await bot.press(member, profile, "🗑 Отозвать согласие и удалить данные")
    await bot.press(member, ask, "Да, удалить")  # answered with what was kept and why
    before = len(bot.fake.sent)
    bot.fake.press(member, city_q, "Тверь")  # the form was cleared with the data
    bot.fake.press(member, profile, "✏️ Город")  # an old /profile message
    await bot.quiet()
    assert len(bot.fake.sent) == before
    answers = [a["text"] for a in bot.fake.answered_callbacks[-2:]]
    assert answers == [RU.already_done, RU.not_signed_up]
    async with bot.sessions() as session:
        assert (await session.scalars(select(Customer.city))).all() == [None]
