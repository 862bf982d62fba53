"""Promo codes in the chat: the customer's /promos and the cashier's /sale with a code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.promos import Kind
from bot.sandbox.fake_telegram import FakeUser
from bot.services import audit, promos
from bot.services.permissions import SHELL
from db.base import utcnow
from db.models import AuditEntry, Customer, PromoRedemption, Purchase
from tests.e2e.conftest import RunningBot
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_signup import sign_up


async def _customer_id(bot: RunningBot, user: FakeUser) -> int:
    async with bot.sessions() as session:
        found = await session.scalar(select(Customer.id).where(Customer.telegram_id == user.id))
    assert found is not None
    return found


async def _personal_code(bot: RunningBot, user: FakeUser, **kw: object) -> str:
    values: dict = {
        "name": "Лично для вас",
        "kind": Kind.FIXED,
        "value": 200_00,
        "expires_at": utcnow() + timedelta(days=10),
        "personal": True,
        "actor": "owner:1",
        "channel": audit.Channel.SHELL,
    }
    values.update(kw)
    customer = await _customer_id(bot, user)
    async with bot.sessions() as session:
        promotion = await promos.create_promotion(session, **values, by=SHELL)
    async with bot.sessions() as session:
        codes = await promos.issue_personal_codes(session, promotion.id, [customer])
        await session.commit()
    return codes[customer]


async def test_the_customer_sees_codes_and_the_cashier_redeems_one(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    empty = await bot.say(customer, "🎟 Промокоды")
    assert empty.text.startswith("Сейчас активных промокодов нет")
    code = await _personal_code(bot, customer)
    async with bot.sessions() as session:
        shared = await promos.create_promotion(
            session,
            name="Осень <3",
            kind=Kind.PERCENT,
            value=10,
            expires_at=None,
            actor="owner:1",
            channel=audit.Channel.SHELL,
            by=SHELL,
        )
    listing = await bot.say(customer, "/promos")
    assert f"<code>{code}</code> — Лично для вас: скидка 200\u00a0₽, до " in listing.text
    assert "(личный)" in listing.text
    assert f"<code>{shared.code}</code> — Осень &lt;3: скидка 10%" in listing.text

    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)  # the amount question
    receipt_q = await bot.say(cashier, "1000")
    redeem_q = await bot.say(cashier, "R-1")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    assert "🎟 Промокод" in confirm.button_texts()
    ask = await bot.press(cashier, confirm, "🎟 Промокод")
    assert ask.text.startswith("Введите промокод клиента")
    wrong = await bot.say(cashier, "ZZZZ-ZZZZ")
    assert wrong.text.startswith("Такого промокода нет")
    applied = await bot.say(cashier, code.lower().replace("-", " "))
    assert applied.text == f"Промокод <code>{code}</code> «Лично для вас»: скидка 200\u00a0₽."
    redeem_q = await bot.reply(cashier)  # asked again: the cap is of the discounted sum
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    assert (
        "Сумма: 1\u00a0000\u00a0₽" in confirm.text and "К оплате: <b>800\u00a0₽</b>" in confirm.text
    )
    assert f"Промокод <code>{code}</code>: скидка 200\u00a0₽" in confirm.text
    assert "🎟 Промокод" not in confirm.button_texts()
    done = await bot.press(cashier, confirm, "✅ Провести")
    assert done.text.startswith("✅ Проведено. Начислено 40 баллов")
    assert f"Промокод <code>{code}</code>: скидка 200\u00a0₽." in done.text
    notice = await bot.reply(customer)
    assert notice.text.startswith("🧾 Покупка на 800\u00a0₽: начислено 40 баллов")
    assert receipt_q.button_texts() == ["Без номера", "✖️ Отмена"]

    async with bot.sessions() as session:
        purchase = (await session.execute(select(Purchase))).scalar_one()
        use = (await session.execute(select(PromoRedemption))).scalar_one()
    assert purchase.amount == 800_00 and use.purchase_id == purchase.id
    assert use.discount == 200_00 and use.actor == f"cashier:{cashier.id}"
    after = await bot.say(customer, "/promos")
    assert code not in after.text and shared.code in after.text  # the personal one is used

    # Someone else's code is refused with the reason and the sale goes on without it.
    other = bot.new_user(first_name="Борис")
    await sign_up(bot, other)
    foreign = await _personal_code(bot, customer, name="Ещё")
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{other.id:07d}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "500")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "🎟 Промокод")
    refused = await bot.say(cashier, foreign)
    assert refused.text == "Это личный промокод другого клиента."
    confirm = await bot.press(cashier, refused, "Без промокода")
    assert "К оплате: <b>500\u00a0₽</b>" in confirm.text
    done = await bot.press(cashier, confirm, "✅ Провести")
    assert "Промокод" not in done.text
    await bot.reply(other)  # the sale notice
    await bot.quiet()


async def test_an_english_customer_reads_the_codes_in_english(running: RunningBot) -> None:
    bot = running
    russian = bot.new_user(first_name="Ann")
    await sign_up(bot, russian)
    customer = FakeUser(id=russian.id, first_name="Ann", language_code="en")
    code = await _personal_code(bot, customer, kind=Kind.POINTS, value=300)
    listing = await bot.say(customer, "/promos")
    assert listing.text.startswith("🎟 <b>Your promo codes</b>")
    assert f"<code>{code}</code> — Лично для вас: +300 points with the purchase" in listing.text


async def test_the_owner_creates_a_promotion_in_the_chat(running: RunningBot) -> None:
    from tests.e2e.test_loyalty import OWNER

    bot = running
    usage = await bot.say(OWNER, "/promo")
    assert usage.text.startswith("Акций пока нет") and "/promo percent 10 30" in usage.text
    wrong = await bot.say(OWNER, "/promo percent 150 30 Слишком")
    assert wrong.text.startswith("Новая акция:")
    made = await bot.say(OWNER, "/promo fixed 150 7 Кофе <бесплатно>")
    assert made.text.startswith("Акция «Кофе &lt;бесплатно&gt;» создана: скидка 150\u00a0₽, до ")
    code = made.text.split("<code>")[1].split("</code>")[0]
    listing = await bot.say(OWNER, "/promo")
    assert f"№1 ✅ «Кофе &lt;бесплатно&gt;»: скидка 150\u00a0₽, <code>{code}</code> — 0" in (
        listing.text
    )
    customer = bot.new_user()
    await sign_up(bot, customer)
    assert code in (await bot.say(customer, "/promos")).text
    assert (await bot.say(customer, "/promo")).text.startswith("Эта команда")
    async with bot.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("promo_create") == 1
