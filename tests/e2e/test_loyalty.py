"""Points at the till and in the member's chat: cashiers, cards, tiers, history, friends."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser
from db.models import Purchase, Staff
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up
from tests.qr_reading import decode_png

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")


async def _hire_cashier(bot: RunningBot, store: str = "Тверская, 1") -> FakeUser:
    invite = await bot.say(OWNER, f"/cashier {store}")
    link = invite.text.split("\n")[-1]
    assert link.startswith("https://t.me/clientbase_test_bot?start=i")
    cashier = FakeUser(id=700_001, first_name="Мария")
    welcome = await bot.start_bot(cashier, link.split("start=")[1])
    assert "Вы добавлены как кассир (Тверская, 1)" in welcome.text
    return cashier


async def _card_link(bot: RunningBot, customer: FakeUser) -> tuple[str, str]:
    card = await bot.say(customer, "/card")
    assert card.method == "sendPhoto"
    code = card.text.split("<b>")[1].split("</b>")[0]
    return decode_png(card.file_bytes), code


async def test_a_cashier_scans_the_card_and_the_customer_sees_the_points(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    link, code = await _card_link(bot, customer)
    assert link.startswith("https://t.me/clientbase_test_bot?start=c") and len(code) == 8

    shown = await bot.start_bot(cashier, link.split("start=")[1])
    assert "Клиент: <b>Анна</b>, +7 *** ***-" in shown.text and "100 баллов" in shown.text
    assert customer.first_name in shown.text and "+7916" not in shown.text
    await bot.reply(cashier)  # the amount question
    receipt_q = await bot.say(cashier, "1 250")
    redeem_q = await bot.say(cashier, "R-1")
    assert redeem_q.button_texts() == ["Списать 100", "Не списывать", "✖️ Отмена"]
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    assert "К оплате: <b>1\u00a0250\u00a0₽</b>" in confirm.text
    bot.fake.press(cashier, confirm, "✅ Провести")
    bot.fake.press(cashier, confirm, "✅ Провести")  # a double tap records one sale
    done = await bot.reply(cashier)
    assert done.text.startswith("✅ Проведено. Начислено 62 балла, списано 0 баллов")
    notice = await bot.reply(customer)
    assert notice.text == (
        "🧾 Покупка на 1\u00a0250\u00a0₽: начислено 62 балла. Баланс: <b>162 балла</b>."
    )
    await bot.quiet()
    assert receipt_q.button_texts() == ["Без номера", "✖️ Отмена"]
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_typed_card_redeems_and_a_big_sale_upgrades_the_tier(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    _, code = await _card_link(bot, customer)
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"{code[:4]} {code[4:]}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "12000")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.say(cashier, "60")
    waiting = await bot.press(cashier, confirm, "✅ Провести")
    assert waiting.text.startswith("⏳ Ждём согласия клиента")  # REDEEM_CONFIRMATION is on
    asked = await bot.reply(customer)
    assert asked.button_texts() == ["✅ Списать", "✖️ Не списывать"]
    bot.fake.press(customer, asked, "✅ Списать")
    # The request's buttons are taken away and the purchase notice comes: in either order.
    answers = [await bot.reply(customer), await bot.reply(customer)]
    notice = next(message for message in answers if not message.edited)
    done = await bot.reply(cashier)
    assert "списано 60 баллов" in done.text
    assert "списано 60 баллов" in notice.text
    # One notice per sale (one outbox row, sent once): the upgrade is its second paragraph.
    upgrade = notice.text.split("\n\n")[1]
    assert upgrade.startswith("🎉 Поздравляем! Ваш уровень теперь «Серебро»: 7%")
    balance = await bot.say(customer, "/balance")
    assert "Уровень: <b>Серебро</b>, 7%" in balance.text
    assert "До уровня «Золото» осталось потратить 18\u00a0000\u00a0₽" in balance.text
    assert "сгорят в ближайшие 30 дней" not in balance.text
    assert redeem_q.text.startswith("Списать баллы? Можно до 100 баллов")


async def test_wrong_inputs_at_the_till_lose_nothing(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    await bot.say(cashier, "/sale")
    assert "Клиент не найден" in (await bot.say(cashier, "12345678")).text  # bad check digit
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)
    assert "Не понял сумму" in (await bot.say(cashier, "тысяча")).text
    bot.fake.send_sticker(cashier)
    assert "Не понял сумму" in (await bot.reply(cashier)).text
    receipt_q = await bot.say(cashier, "500,50")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    assert "от 0 до 100 баллов" in (await bot.say(cashier, "101")).text
    confirm = await bot.press(cashier, redeem_q, "Списать 100")
    cancelled = await bot.press(cashier, confirm, "✖️ Отмена")
    assert cancelled.text.startswith("Отменено")
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0


async def test_bring_a_friend_pays_both_after_the_first_purchase(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up(bot, anna)
    invite = await bot.say(anna, "/invite")
    link = next(line for line in invite.text.split("\n") if line.startswith("https://"))
    assert "200 баллов" in invite.text and "По ней присоединились: 0" in invite.text
    boris = bot.new_user(first_name="Борис")
    await sign_up(bot, boris, link.split("start=")[1])
    self_invite = await bot.start_bot(anna, link.split("start=")[1])
    assert "С возвращением" in self_invite.text

    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{boris.id:07d}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "1000")
    redeem_q = await bot.say(cashier, "B-1")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "✅ Провести")
    paid = await bot.reply(anna)
    assert paid.text == "🎁 Ваш друг совершил первую покупку — вам начислено 200 баллов!"
    assert "<b>300 баллов</b>" in (await bot.say(anna, "/balance")).text
    assert "<b>350 баллов</b>" in (await bot.say(boris, "/balance")).text
    assert "По ней присоединились: 1" in (await bot.say(anna, "/invite")).text
    assert receipt_q.button_texts() == ["Без номера", "✖️ Отмена"]


async def test_history_pages_through_operations(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    for number in range(9):
        await bot.say(cashier, "/sale")
        await bot.say(cashier, f"+7916{customer.id:07d}")
        await bot.reply(cashier)
        await bot.say(cashier, "100")
        redeem_q = await bot.say(cashier, f"H-{number}")
        confirm = await bot.press(cashier, redeem_q, "Не списывать")
        await bot.press(cashier, confirm, "✅ Провести")
        await bot.reply(customer)
    history = await bot.say(customer, "/history")
    assert "История операций</b> (стр. 1)" in history.text
    assert history.text.count("Покупка 100\u00a0₽: +5 баллов") == 8
    assert history.button_texts() == ["Раньше ▶️"]
    older = await bot.press(customer, history, "Раньше ▶️")
    assert older.edited and "(стр. 2)" in older.text
    assert "+5 баллов" in older.text and "Бонус за регистрацию: +100 баллов" in older.text


async def test_staff_commands_are_refused_and_invites_are_single_use(running: RunningBot) -> None:
    bot = running
    await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    assert (await bot.say(customer, "/sale")).text == "Эта команда для сотрудников магазина."
    assert (await bot.say(customer, "/cashier")).text == "Эта команда для сотрудников магазина."
    invite = await bot.say(OWNER, "/cashier")
    payload = invite.text.split("start=")[1]
    await bot.start_bot(FakeUser(id=700_002, first_name="Олег"), payload)
    late = await bot.start_bot(FakeUser(id=700_003, first_name="Вор"), payload)
    assert "уже использована или устарела" in late.text
    async with bot.sessions() as session:
        assert set(await session.scalars(select(Staff.telegram_id))) == {700_001, 700_002}
