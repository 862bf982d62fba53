"""The till under faults and mistakes: a lost reply, a reused receipt number, a mistyped card."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser, SentMessage
from db.models import Purchase
from tests.e2e.conftest import RunningBot
from tests.e2e.test_loyalty import OWNER, _hire_cashier
from tests.e2e.test_signup import sign_up


async def _confirm_sale(
    bot: RunningBot, cashier: FakeUser, customer: FakeUser, amount: str, receipt: str | None
) -> SentMessage:
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)  # the amount question
    receipt_q = await bot.say(cashier, amount)
    if receipt is None:
        redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    else:
        redeem_q = await bot.say(cashier, receipt)
    return await bot.press(cashier, redeem_q, "Не списывать")


async def test_a_lost_recorded_reply_still_notifies_and_a_repeat_is_one_purchase(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    confirm = await _confirm_sale(bot, cashier, customer, "1000", receipt=None)

    bot.fake.fail_next("sendMessage", chat_id=cashier.id)  # 429 on "✅ Проведено"
    bot.fake.press(cashier, confirm, "✅ Провести")
    notice = await bot.reply(customer)
    assert notice.text.startswith("🧾 Покупка на 1\u00a0000\u00a0₽: начислено 50 баллов")

    apology = await bot.reply(cashier)  # the lost reply: the error handler says sorry instead
    assert apology.text.startswith("Извините, что-то пошло не так.")
    again = await bot.press(cashier, confirm, "✅ Провести")  # the cashier saw nothing: again
    assert again.text.startswith("Этот чек уже проведён (начислено 50 баллов)")
    await bot.quiet()
    assert [m.text for m in bot.fake.messages_to(customer.id)].count(notice.text) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_a_receipt_number_reused_with_another_amount_names_both(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    done = await bot.press(
        cashier, await _confirm_sale(bot, cashier, customer, "500", "R-7"), "✅ Провести"
    )
    assert done.text.startswith("✅ Проведено")
    await bot.reply(customer)
    again = await bot.press(
        cashier, await _confirm_sale(bot, cashier, customer, "700", "R-7"), "✅ Провести"
    )
    assert "уже проведён на 500\u00a0₽" in again.text and "введено 700\u00a0₽" in again.text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_a_mistyped_card_number_is_called_a_typo(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    await bot.say(cashier, "/sale")
    typo = await bot.say(cashier, "1234 5678")
    assert "контрольная цифра" in typo.text and "опечатка" in typo.text
    unknown = await bot.say(cashier, "+7 999 000-00-00")
    assert unknown.text.startswith("Клиент не найден.")


async def test_a_cashier_asking_for_an_invite_hears_it_is_for_owners(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    assert (await bot.say(cashier, "/cashier")).text == (
        "Эта команда доступна только владельцу магазина."
    )
    english = FakeUser(id=700_009, first_name="Mary", language_code="en")
    invite = await bot.say(OWNER, "/cashier")
    await bot.start_bot(english, invite.text.split("start=")[1])
    answer = await bot.say(english, "/cashier")
    assert answer.text == "This command is for the shop owner only."
    await bot.say(english, "/sale")
    typo = await bot.say(english, "12345678")
    assert "check digit is wrong" in typo.text
