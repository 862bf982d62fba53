"""/profile: a member changes their phone by their own shared contact or typed, with the
signup's rules; someone else's phone is never moved; /cancel changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser, SentMessage
from bot.texts import texts_for
from db.models import Customer, OwnerAlert
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

RU = texts_for("ru")


async def _ask_phone(bot: RunningBot, user: FakeUser) -> SentMessage:
    profile = await bot.say(user, "/profile")
    assert "✏️ Телефон" in profile.button_texts()
    ask = await bot.press(user, profile, "✏️ Телефон")
    assert ask.text.startswith(RU.profile_ask_phone)
    assert ask.reply_markup["keyboard"][0][0]["request_contact"] is True
    return ask


async def _row(bot: RunningBot, user: FakeUser) -> tuple[str | None, str | None]:
    async with bot.sessions() as session:
        row = (
            await session.execute(
                select(Customer.phone, Customer.card_code).where(Customer.telegram_id == user.id)
            )
        ).one()
        return row[0], row[1]


async def test_the_phone_is_changed_by_own_contact_or_typed(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    _, card = await _row(bot, user)

    await _ask_phone(bot, user)
    bot.fake.share_contact(user, "79161112233")  # Telegram's form, without the "+"
    saved = await bot.reply(user)
    assert saved.text == f"{RU.profile_saved} +7 *** ***-22-33"
    assert saved.reply_markup == {"remove_keyboard": True}
    assert await _row(bot, user) == ("+79161112233", card)  # the card number stays

    await _ask_phone(bot, user)
    assert (await bot.say(user, "12")).text == RU.bad_phone  # the step stays open
    saved = await bot.say(user, "8 (916) 444-55-66")  # the signup's parsing
    assert saved.text == f"{RU.profile_saved} +7 *** ***-55-66"
    assert await _row(bot, user) == ("+79164445566", card)
    assert "+7 *** ***-55-66" in (await bot.say(user, "/profile")).text


async def test_someone_elses_contact_is_refused(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    before = await _row(bot, user)
    await _ask_phone(bot, user)
    bot.fake.share_contact(user, "+79165550000", contact_user_id=424242)
    assert (await bot.reply(user)).text == RU.phone_not_own
    assert await _row(bot, user) == before


async def test_a_phone_of_another_member_is_refused_and_nothing_changes(
    running: RunningBot,
) -> None:
    bot = running
    bot.fake.register_user(FakeUser(id=OWNER_ID, first_name="Owner"))
    owner_of_phone, member = bot.new_user(), bot.new_user(first_name="Пётр")
    await sign_up(bot, owner_of_phone)
    await sign_up(bot, member)
    theirs, mine = await _row(bot, owner_of_phone), await _row(bot, member)

    await _ask_phone(bot, member)
    bot.fake.share_contact(member, theirs[0] or "")  # even a shared contact cannot move it
    refused = await bot.reply(member)
    assert refused.text == RU.profile_phone_taken
    assert owner_of_phone.first_name not in refused.text
    alert = await bot.fake.next_message(OWNER_ID)
    assert "не объединяем" in alert.text
    # Typed again: refused again, the owners hear of it once.
    assert (await bot.say(member, f"+7916{owner_of_phone.id:07d}")).text == (RU.profile_phone_taken)
    await bot.quiet()
    assert len(bot.fake.messages_to(OWNER_ID)) == 1
    assert await _row(bot, owner_of_phone) == theirs and await _row(bot, member) == mine
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerAlert)) == 1


async def test_an_abandoned_signup_gives_the_phone_up(running: RunningBot) -> None:
    bot, member, quitter = running, running.new_user(), running.new_user()
    await sign_up(bot, member)
    consent = await bot.start_bot(quitter)
    await bot.press(quitter, consent, "✅ Согласен(на)")
    await bot.say(quitter, "Вера")
    await bot.say(quitter, "+79167778899")  # typed mid-signup, never finished
    await bot.reply(quitter)  # the birthday question
    await _ask_phone(bot, member)
    saved = await bot.say(member, "+79167778899")
    assert saved.text == f"{RU.profile_saved} +7 *** ***-88-99"
    assert (await _row(bot, member))[0] == "+79167778899"
    assert (await _row(bot, quitter))[0] is None


async def test_cancel_leaves_the_phone_as_it_was(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    before = await _row(bot, user)
    await _ask_phone(bot, user)
    cancelled = await bot.say(user, "/cancel")
    assert cancelled.text == RU.cancelled
    assert cancelled.reply_markup == {"remove_keyboard": True}
    bot.fake.share_contact(user, "+79161112233")  # after the step: not a phone edit
    await bot.quiet()
    assert await _row(bot, user) == before
