"""The right words where there was silence or the wrong ones, and dates on the shop's clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.services import ledger
from db.models import Customer
from tests.e2e.conftest import RunningBot
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_receipt_qr import _issue_on_screen
from tests.e2e.test_signup import sign_up


async def _customer_id(bot: RunningBot, telegram_id: int) -> int:
    async with bot.sessions() as session:
        found = await session.scalar(select(Customer.id).where(Customer.telegram_id == telegram_id))
    assert found is not None
    return found


async def test_a_receipt_the_till_already_credited_says_so(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    await sign_up(bot, anna)
    async with bot.sessions() as session:
        await ledger.record_purchase(
            session,
            bot.settings.program,
            await _customer_id(bot, anna.id),
            125_000,
            receipt_id="R-9",
            channel="pos",
            actor="pos:test",
        )
    notice = await bot.fake.next_message(anna.id)  # the till's sale, told by the delivery engine
    assert notice.text.startswith("🧾 Покупка на 1")
    payload = await _issue_on_screen(bot, "1250 R-9")
    scanned = await bot.start_bot(anna, payload)
    assert scanned.text == "Этот чек уже зачислен — повторно баллы не начисляются."


async def test_a_cut_receipt_link_is_not_recognised(running: RunningBot) -> None:
    bot, anna, vera = running, running.new_user(), running.new_user(first_name="Вера")
    await sign_up(bot, anna)
    payload = await _issue_on_screen(bot, "1250")
    cut = payload[: len(payload) - 5]
    assert (await bot.start_bot(anna, cut)).text == (
        "QR-код чека не распознан. Обратитесь к кассиру."
    )
    newcomer = await bot.start_bot(vera, payload.split("_")[0])
    assert newcomer.text == "QR-код чека не распознан. Обратитесь к кассиру."
    assert "152-ФЗ" in (await bot.reply(vera)).text  # signup goes on without it


async def test_the_friends_first_purchase_notice_names_their_own_bonus(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna, boris = bot.new_user(), bot.new_user(first_name="Борис")
    await sign_up(bot, anna)
    invite = await bot.say(anna, "/invite")
    link = next(line for line in invite.text.split("\n") if line.startswith("https://"))
    await sign_up(bot, boris, link.split("start=")[1])
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{boris.id:07d}")
    await bot.reply(cashier)
    await bot.say(cashier, "1000")
    redeem_q = await bot.say(cashier, "F-1")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "✅ Провести")
    notice = await bot.reply(boris)
    assert notice.text == (
        "🧾 Покупка на 1\u00a0000\u00a0₽: начислено 50 баллов. Баланс: <b>350 баллов</b>.\n\n"
        "🎁 И ещё 200 баллов — за первую покупку по приглашению друга (они уже в балансе)."
    )


async def test_history_dates_are_on_the_shops_clock(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    await sign_up(bot, anna)
    day = datetime.now(UTC).date() - timedelta(days=10)
    late_evening_utc = datetime.combine(day, time(22, 30), tzinfo=UTC)  # 01:30 next day, Moscow
    async with bot.sessions() as session:
        await ledger.grant_bonus(
            session,
            bot.settings.program,
            await _customer_id(bot, anna.id),
            7,
            key="test:late",
            reason="referral",
            now=late_evening_utc,
        )
    history = await bot.say(anna, "/history")
    assert f"{day + timedelta(days=1):%d.%m.%Y} · Бонус за друга: +7 баллов" in history.text
    assert f"{day:%d.%m.%Y}" not in history.text
