"""The till in the messenger, acted out through the fake Telegram (issue 13): returns that
match the POS API's rule, spending points only with the customer's own tap, /find and /my."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser, SentMessage
from bot.services import ledger, sources
from bot.services.permissions import SHELL
from db.models import AuditEntry, Customer, Purchase, PurchaseRefund, Redemption, Staff
from tests.e2e.conftest import RunningBot
from tests.e2e.test_loyalty import OWNER, _hire_cashier
from tests.e2e.test_signup import sign_up

STORE = "Тверская, 1"


async def _sell(
    bot: RunningBot, cashier: FakeUser, customer: FakeUser, amount: str, receipt: str
) -> SentMessage:
    """/sale up to the redemption question; returns it."""
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)  # the amount question
    await bot.say(cashier, amount)
    return await bot.say(cashier, receipt)


async def _customer_id(bot: RunningBot, user: FakeUser) -> int:
    async with bot.sessions() as session:
        found = await session.scalar(select(Customer.id).where(Customer.telegram_id == user.id))
    assert found is not None
    return found


async def _points(bot: RunningBot, user: FakeUser) -> int:
    async with bot.sessions() as session:
        return await ledger.points_of(session, await _customer_id(bot, user))


async def _refunds(bot: RunningBot, receipt: str) -> list[tuple[int, int, int]]:
    async with bot.sessions() as session:
        rows = await session.execute(
            select(
                PurchaseRefund.amount,
                PurchaseRefund.reversed_points,
                PurchaseRefund.returned_points,
            )
            .join(Purchase, Purchase.id == PurchaseRefund.purchase_id)
            .where(Purchase.receipt_id == receipt)
            .order_by(PurchaseRefund.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_return_from_the_messenger_matches_the_pos_apis_refund(
    running: RunningBot,
) -> None:
    """Twin customers with twin purchases: one returned at the till's API (the rule
    `ledger.refund_receipt` that POST /refunds runs), the other from the messenger, partly by
    receipt number and the rest from the customer's purchases: the same points move."""
    bot = running
    cashier = await _hire_cashier(bot)
    anna, twin = bot.new_user(), bot.new_user(first_name="Вера")
    await sign_up(bot, anna)
    await sign_up(bot, twin)
    redeem_q = await _sell(bot, cashier, anna, "1000", "R-1")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "✅ Провести")
    await bot.reply(anna)  # the purchase notice
    async with bot.sessions() as session:
        await ledger.record_purchase(
            session,
            bot.settings.program,
            await _customer_id(bot, twin),
            1000_00,
            receipt_id="R-2",
            store=STORE,
            channel="pos",
            actor="pos:test",
        )

    asked = await bot.say(cashier, "/return")
    assert asked.text.startswith("Возврат.")
    how_much = await bot.say(cashier, "R-1")
    assert "вернуть можно до 1\u00a0000\u00a0₽" in how_much.text
    check = await bot.say(cashier, "400")
    assert check.text.startswith("Вернуть 400\u00a0₽ по покупке на 1\u00a0000\u00a0₽?")
    done = await bot.press(cashier, check, "↩️ Оформить возврат")
    assert done.text.startswith("↩️ Возврат оформлен: 400\u00a0₽. Снято 20 баллов")
    notice = await bot.reply(anna)
    assert notice.text.startswith("↩️ Возврат на 400\u00a0₽")
    async with bot.sessions() as session:
        await ledger.refund_receipt(
            session, store=STORE, receipt_id="R-2", amount=400_00, actor="pos:test"
        )
    assert await _refunds(bot, "R-1") == await _refunds(bot, "R-2") == [(400_00, 20, 0)]

    # Another purchase each; the rest of the first found by the customer's phone, among their
    # purchases offered as buttons (newest first).
    for user, receipt in ((anna, "R-3"), (twin, "R-4")):
        async with bot.sessions() as session:
            await ledger.record_purchase(
                session,
                bot.settings.program,
                await _customer_id(bot, user),
                500_00,
                receipt_id=receipt,
                store=STORE,
                channel="pos",
                actor="pos:test",
            )
    await bot.say(cashier, "/return")
    pick = await bot.say(cashier, f"+7916{anna.id:07d}")
    assert pick.text == "Какую покупку возвращаем?"
    assert [label.split(" · ", 1)[1] for label in pick.button_texts()[:2]] == [
        "500 ₽ · №R-3",
        "1 000 ₽ · №R-1",
    ]
    how_much = await bot.press(cashier, pick, pick.button_texts()[1])
    check = await bot.press(cashier, how_much, "Вернуть всё: 600\u00a0₽")
    await bot.press(cashier, check, "↩️ Оформить возврат")
    async with bot.sessions() as session:
        await ledger.refund_receipt(session, store=STORE, receipt_id="R-2", actor="pos:test")
    assert await _refunds(bot, "R-1") == await _refunds(bot, "R-2")
    assert await _points(bot, anna) == await _points(bot, twin) == 100 + 25
    again = await bot.say(cashier, "/return R-1")
    assert again.text == "Эта покупка уже возвращена полностью."
    async with bot.sessions() as session:
        audited = await session.scalar(
            select(func.count()).where(AuditEntry.action == "purchase.return")
        )
    assert audited == 2


async def _ask_to_spend(
    bot: RunningBot, cashier: FakeUser, customer: FakeUser, receipt: str
) -> tuple[SentMessage, SentMessage]:
    """/sale of 1000 ₽ spending 100 points: (the cashier's waiting message, the customer's
    request)."""
    redeem_q = await _sell(bot, cashier, customer, "1000", receipt)
    confirm = await bot.press(cashier, redeem_q, "Списать 100")
    waiting = await bot.press(cashier, confirm, "✅ Провести")
    assert waiting.text.startswith("⏳ Ждём согласия клиента")
    asked = await bot.reply(customer)
    assert asked.text.startswith("🔐 Списать <b>100 баллов</b> за покупку на 1\u00a0000\u00a0₽")
    return waiting, asked


async def _pressed(bot: RunningBot, update: dict[str, Any]) -> dict[str, Any]:
    """The answer to a callback, once the bot has handled it."""
    query_id = update["callback_query"]["id"]
    await bot.quiet()
    return next(a for a in bot.fake.answered_callbacks if a["callback_query_id"] == query_id)


async def _redeemed(bot: RunningBot) -> list[int]:
    async with bot.sessions() as session:
        return list((await session.scalars(select(Purchase.redeemed))).all())


async def test_points_are_spent_only_when_the_customer_confirms(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna, stranger = bot.new_user(), bot.new_user(first_name="Олег")
    await sign_up(bot, anna)
    await sign_up(bot, stranger)
    _, asked = await _ask_to_spend(bot, cashier, anna, "R-1")
    yes = asked.buttons()[0]["callback_data"]
    assert await _redeemed(bot) == [] and await _points(bot, anna) == 100  # not yet

    # A forged tap from another chat: nothing spent, nothing recorded, nothing said.
    forged = await _pressed(bot, bot.fake.press_data(stranger, yes))
    assert forged["text"] == "Этот запрос уже не действует."
    assert await _redeemed(bot) == [] and await _points(bot, anna) == 100
    assert bot.fake.messages_to(anna.id)[-1].message_id == asked.message_id

    # A double tap: the points are spent once, one notice, one word to the cashier.
    first = bot.fake.press(anna, asked, "✅ Списать")
    second = bot.fake.press_data(anna, yes)
    answers = [await _pressed(bot, first), await _pressed(bot, second)]
    assert sorted(a["text"] for a in answers) == [
        "Баллы списаны 👌",
        "Этот запрос уже не действует.",
    ]
    assert await _redeemed(bot) == [100]
    assert await _points(bot, anna) == 100 - 100 + 45
    notices = [m for m in bot.fake.messages_to(anna.id) if m.text.startswith("🧾 Покупка")]
    assert len(notices) == 1 and "списано 100 баллов" in notices[0].text
    told = [m for m in bot.fake.messages_to(cashier.id) if m.text.startswith("✅ Клиент")]
    assert len(told) == 1 and "списано 100 баллов" in told[0].text


async def test_without_the_customers_consent_the_sale_goes_on_without_points(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up(bot, anna)
    waiting, asked = await _ask_to_spend(bot, cashier, anna, "R-1")
    done = await bot.press(cashier, waiting, "Провести без списания")
    assert done.text.startswith("✅ Проведено. Начислено 50 баллов, списано 0 баллов")
    late = await _pressed(bot, bot.fake.press(anna, asked, "✅ Списать"))
    assert late["text"] == "Этот запрос уже не действует."
    assert await _redeemed(bot) == [0] and await _points(bot, anna) == 150
    async with bot.sessions() as session:
        assert await session.scalar(select(Redemption.status)) == "cancelled"


async def test_the_code_the_customer_reads_out_spends_the_points(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up(bot, anna)
    _, asked = await _ask_to_spend(bot, cashier, anna, "R-1")
    code = asked.text.split("код <b>")[1].split("</b>")[0]
    wrong = await bot.say(cashier, "000000" if code != "000000" else "111111")
    assert wrong.text.startswith("Код не подходит")
    assert await _redeemed(bot) == []
    done = await bot.say(cashier, code)
    assert done.text.startswith("✅ Проведено. Начислено 45 баллов, списано 100 баллов")
    assert await _redeemed(bot) == [100]


async def test_find_shows_a_cashier_little_and_the_owner_all_and_is_audited(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user(first_name="Анна")
    await sign_up(bot, anna)
    phone = f"+7916{anna.id:07d}"
    seen = await bot.say(cashier, f"/find {phone}")
    assert seen.text.startswith("<b>Анна</b>")
    assert phone not in seen.text and phone[-2:] in seen.text  # masked
    assert "Баланс: <b>100 баллов</b>" in seen.text
    assert "Согласие на обработку данных: дано" in seen.text
    assert seen.button_texts() == ["🧾 Продажа"]  # nothing to return yet
    sale = await bot.press(cashier, seen, "🧾 Продажа")
    assert sale.text.startswith("Клиент: <b>Анна</b>")
    assert (await bot.reply(cashier)).text.startswith("Сумма покупки")
    await bot.say(cashier, "/cancel")
    by_name = await bot.say(OWNER, "/find анна")
    assert phone in by_name.text  # the owner sees the phone whole
    nobody = await bot.say(cashier, "/find Никодим")
    assert nobody.text.startswith("Никого не нашёл")
    stranger = bot.new_user()
    await sign_up(bot, stranger)
    refused = await bot.say(stranger, f"/find {phone}")
    assert refused.text == "Эта команда для сотрудников магазина."
    async with bot.sessions() as session:
        rows = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.action.like("customer.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (f"tg:{cashier.id}", "customer.find"),
        (f"tg:{cashier.id}", "customer.view"),
        (f"tg:{OWNER.id}", "customer.find"),
        (f"tg:{OWNER.id}", "customer.view"),
        (f"tg:{cashier.id}", "customer.find"),
    ]


async def test_my_shows_what_an_employees_qr_code_brought_and_their_sales(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)  # Мария, at Тверская, 1
    async with bot.sessions() as session:
        maria = await session.scalar(select(Staff.id).where(Staff.telegram_id == cashier.id))
        theirs = await sources.source_for(
            session, bot.settings.link_key, STORE, "Касса", by=SHELL, staff_id=maria
        )
        # a code typed with her name, linked to nobody, is not hers
        await sources.source_for(session, bot.settings.link_key, STORE, "Плакат", "Мария", by=SHELL)
    brought, walked_in = bot.new_user(), bot.new_user(first_name="Вера")
    await sign_up(bot, brought, theirs.payload)
    await sign_up(bot, walked_in)
    before = await bot.say(cashier, "/my")
    assert "QR-коды «Мария»: привели 1, из них сделали первую покупку 0." in before.text
    assert "Продажи за эту неделю: 0 на 0\u00a0₽." in before.text
    for customer, receipt in ((brought, "R-1"), (walked_in, "R-2")):
        confirm = await bot.press(
            cashier, await _sell(bot, cashier, customer, "1000", receipt), "Не списывать"
        )
        await bot.press(cashier, confirm, "✅ Провести")
    after = await bot.say(cashier, "/my")
    assert "привели 1, из них сделали первую покупку 1." in after.text
    assert "Продажи за эту неделю: 2 на 2\u00a0000\u00a0₽." in after.text
    assert "За этот месяц: 2 на 2\u00a0000\u00a0₽." in after.text
    owners = await bot.say(OWNER, "/my")
    assert "QR-кодов на ваше имя пока нет" in owners.text


async def test_a_customer_who_declines_spends_nothing_and_the_cashier_is_told(
    running: RunningBot,
) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up(bot, anna)
    waiting, asked = await _ask_to_spend(bot, cashier, anna, "R-1")
    no = await _pressed(bot, bot.fake.press(anna, asked, "✖️ Не списывать"))
    assert no["text"] == "Хорошо, баллы не списаны."
    told = await bot.reply(cashier)
    assert told.text.startswith("✖️ Клиент отказался от списания.")
    assert await _redeemed(bot) == []
    done = await bot.press(cashier, waiting, "Провести без списания")
    assert done.text.startswith("✅ Проведено. Начислено 50 баллов, списано 0 баллов")
    assert await _redeemed(bot) == [0] and await _points(bot, anna) == 150
    async with bot.sessions() as session:
        assert await session.scalar(select(Redemption.status)) == "declined"
