"""What the person came with and what they answered stays on the server, where it belongs."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser, SentMessage
from db.models import Customer, FsmRecord, Purchase
from tests.e2e.conftest import RunningBot
from tests.e2e.test_receipt_qr import _issue_on_screen
from tests.e2e.test_signup import sign_up


async def _finish(bot: RunningBot, user: FakeUser, consent: SentMessage) -> SentMessage:
    """From the consent message to the welcome: agree, name, phone, skips, no advertising."""
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, user.first_name)
    bot.fake.share_contact(user, f"+7916{user.id:07d}")
    await bot.reply(user)  # the phone confirmation
    birthday_q = await bot.reply(user)
    gender_q = await bot.press(user, birthday_q, "Пропустить")
    city_q = await bot.press(user, gender_q, "Пропустить")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    return await bot.press(user, ads_q, "Нет, спасибо")


async def _form_storage(bot: RunningBot) -> str:
    """Everything aiogram's storage holds right now, keys and values, as one string."""
    if bot.settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(bot.settings.redis_url)
        parts = []
        async for key in redis.scan_iter(f"{bot.fsm_prefix}:*"):
            parts.append(key.decode())
            value = await redis.get(key)
            parts.append(value.decode() if value else "")
        await redis.aclose()
        return "\n".join(parts)
    async with bot.sessions() as session:
        rows = (await session.scalars(select(FsmRecord))).all()
    return "\n".join(f"{r.key} {r.state} {json.dumps(r.data, ensure_ascii=False)}" for r in rows)


async def test_answers_mid_form_are_not_in_the_form_storage(running: RunningBot) -> None:
    bot, user = running, running.new_user(first_name="Аглая")
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, "Аглая Петрова")
    await bot.say(user, "+7 916 765-43-21")
    birthday_q = await bot.reply(user)
    gender_q = await bot.say(user, "01.02.1985")
    city_q = await bot.press(user, gender_q, "Женский")
    interests_q = await bot.say(user, "Ржев")
    ticked = await bot.press(user, interests_q, "Кофе")
    assert "Шаг 3 из 6" in birthday_q.text and ticked.button_texts()[0] == "✅ Кофе"
    assert "Шаг 5 из 6" in city_q.text

    stored = await _form_storage(bot)
    assert "Signup:interests" in stored  # the step is there, and nothing the person said
    for said in ("Аглая", "Петрова", "7654321", "765-43", "1985", "female", "Ржев", "Кофе"):
        assert said not in stored
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer))
    assert customer is not None and customer.status == "pending"
    assert (customer.name, customer.phone, customer.city) == (
        "Аглая Петрова",
        "+79167654321",
        "Ржев",
    )
    assert customer.interests == ["Кофе"]

    await bot.restart()
    ads_q = await bot.press(user, ticked, "Готово ✔️")
    welcome = await bot.press(user, ads_q, "Нет, спасибо")
    assert "Готово, Аглая Петрова" in welcome.text and "<b>150 баллов</b>" in welcome.text


async def test_the_sale_form_keeps_no_customer_name(running: RunningBot) -> None:
    from tests.e2e.test_loyalty import _hire_cashier

    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user(first_name="Евлампия")
    await sign_up(bot, customer)
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "100")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    assert "Клиент: <b>Евлампия</b>" in confirm.text
    stored = await _form_storage(bot)
    assert "SaleForm:confirm" in stored and "Евлампия" not in stored


async def test_a_forged_changed_mind_button_sets_no_inviter(running: RunningBot) -> None:
    bot = running
    anna, boris = bot.new_user(), bot.new_user(first_name="Борис")
    await sign_up(bot, anna)
    async with bot.sessions() as session:
        anna_id = await session.scalar(select(Customer.id))
    # The forgery of the report, then one in today's shape with a made-up signature.
    bot.fake.press_data(boris, f"consent:again:0:{anna_id}")
    bot.fake.press_data(boris, f"consent:again:0:{anna_id}:0:AAAAAAAAAAAA")
    consent = await bot.reply(boris)
    assert "152-ФЗ" in consent.text
    bot.fake.press_data(boris, f"consent:agree:0:{anna_id}:0:")  # ids on "agree" are not read
    welcome = await _finish(bot, boris, consent)
    assert "Готово, Борис" in welcome.text
    async with bot.sessions() as session:
        signed_up = await session.scalar(select(Customer).where(Customer.telegram_id == boris.id))
    assert signed_up is not None and signed_up.referrer_id is None


async def test_the_inviter_survives_decline_and_changed_mind(running: RunningBot) -> None:
    bot = running
    anna, boris = bot.new_user(), bot.new_user(first_name="Борис")
    await sign_up(bot, anna)
    invite = await bot.say(anna, "/invite")
    link = next(line for line in invite.text.split("\n") if line.startswith("https://"))
    consent = await bot.start_bot(boris, link.split("start=")[1])
    declined = await bot.press(boris, consent, "Отказаться")
    again = await bot.press(boris, declined, "Я передумал(а)")
    await _finish(bot, boris, again)
    async with bot.sessions() as session:
        ids = dict(
            (await session.execute(select(Customer.telegram_id, Customer.referrer_id))).all()
        )
    assert ids[boris.id] is not None and ids[boris.id] != ids[anna.id]


async def test_a_held_receipt_survives_decline_and_changed_mind(running: RunningBot) -> None:
    bot = running
    payload = await _issue_on_screen(bot, "2000")
    newcomer = bot.new_user(first_name="Вера")
    held = await bot.start_bot(newcomer, payload)
    assert held.text == "Баллы за покупку начислим сразу после регистрации."
    consent = await bot.reply(newcomer)
    declined = await bot.press(newcomer, consent, "Отказаться")
    again = await bot.press(newcomer, declined, "Я передумал(а)")
    welcome = await _finish(bot, newcomer, again)
    assert "Готово, Вера" in welcome.text
    notice = await bot.reply(newcomer)
    assert notice.text == (
        "🧾 Покупка на 2\u00a0000\u00a0₽: начислено 100 баллов. Баланс: <b>200 баллов</b>."
    )
    async with bot.sessions() as session:
        assert len((await session.scalars(select(Purchase))).all()) == 1
