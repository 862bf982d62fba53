"""An open form never swallows a command: /cancel, "отмена" and the Cancel button leave it,
other commands do what they say, and /start leaves a sale without losing anything."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser
from db.models import Purchase
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
NOT_FOUND = "не найден"
BAD_AMOUNT = "Не понял сумму"


async def _sale_at_amount(bot: RunningBot, customer: FakeUser) -> None:
    """The owner opens a sale and names the customer: the form waits for the amount."""
    card = await bot.say(customer, "/card")
    code = card.text.split("<b>")[1].split("</b>")[0]
    asked = await bot.say(OWNER, "/sale")
    assert asked.button_texts() == ["✖️ Отмена"]
    await bot.say(OWNER, code)  # the customer shown
    amount_q = await bot.reply(OWNER)
    assert "сумм" in amount_q.text.lower() and amount_q.button_texts() == ["✖️ Отмена"]


async def _skip_unread(bot: RunningBot, user: FakeUser) -> None:
    while True:
        try:
            await bot.fake.next_message(user.id, timeout=0.1)
        except TimeoutError:
            return


async def test_commands_mid_sale_are_commands(running: RunningBot) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    await _sale_at_amount(bot, customer)

    receipt = await bot.say(OWNER, "/receipt 1200 X-1")
    assert receipt.method == "sendPhoto" and "X-1" in (receipt.text or "")
    balance = await bot.say(OWNER, "/balance")
    assert BAD_AMOUNT not in balance.text and "Вы ещё не в программе" in balance.text
    # The sale is still open after both: the amount is taken.
    receipt_q = await bot.say(OWNER, "1250")
    assert "Без номера" in receipt_q.button_texts()

    for leave in ("/cancel", "отмена", "Отмена"):
        await _sale_at_amount(bot, customer)
        assert (await bot.say(OWNER, leave)).text == "Отменено."
        after = await bot.say(OWNER, "1250")  # no longer an amount
        assert BAD_AMOUNT not in after.text and "Покупка" not in after.text
    await bot.quiet()
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0


async def test_the_cancel_button_leaves_the_sale_at_any_step(running: RunningBot) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    await _sale_at_amount(bot, customer)
    receipt_q = await bot.say(OWNER, "1250")
    assert receipt_q.button_texts() == ["Без номера", "✖️ Отмена"]
    assert (await bot.press(OWNER, receipt_q, "✖️ Отмена")).text == "Отменено."
    bot.fake.press(OWNER, receipt_q, "Без номера")  # an old button: the form is gone
    await bot.quiet()
    after = await bot.say(OWNER, "R-1")  # not a receipt number any more
    assert "Списать" not in after.text and "К оплате" not in after.text


async def test_cancel_with_nothing_open_says_so(running: RunningBot) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    assert (await bot.say(customer, "/cancel")).text == "Отменять нечего: вы ничего не заполняете."
    assert "<b>100 баллов</b>" in (await bot.say(customer, "/balance")).text


async def test_start_mid_sale_leaves_it_and_loses_nothing(running: RunningBot) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    await _sale_at_amount(bot, customer)
    receipt_q = await bot.say(OWNER, "1250")
    confirm_or_redeem = await bot.press(OWNER, receipt_q, "Без номера")
    redeem_none = "Не списывать"
    if redeem_none in confirm_or_redeem.button_texts():
        confirm_or_redeem = await bot.press(OWNER, confirm_or_redeem, redeem_none)
    done = await bot.press(OWNER, confirm_or_redeem, "✅ Провести")
    assert done.text.startswith("✅ Проведено")
    await bot.reply(customer)  # the purchase notice

    await _sale_at_amount(bot, customer)
    bot.fake.send_start(OWNER)
    await bot.quiet()
    await _skip_unread(bot, OWNER)  # whatever /start shows (a later issue makes it a console)
    after = await bot.say(OWNER, "999")
    assert BAD_AMOUNT not in after.text and "Без номера" not in after.button_texts()
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1
    assert "162 балла" in (await bot.say(customer, "/balance")).text
