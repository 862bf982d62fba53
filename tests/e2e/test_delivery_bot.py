"""The delivery engine inside the running bot: unsubscribe, notices that survive faults,
transactional notices during quiet hours."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser
from db.models import Consent, Customer, Delivery
from db.repositories import deliveries
from tests.e2e.conftest import RunningBot
from tests.e2e.test_delivery import until
from tests.e2e.test_loyalty import _hire_cashier

OFFER = {"text": "☕ Капучино за полцены в субботу", "photo": None, "button_url": None}
NO_QUIET_HOURS = {"quiet_hours": ""}
ALWAYS_QUIET = {"quiet_hours": "00:00-23:59"}


async def sign_up_with_ads(bot: RunningBot, user: FakeUser) -> None:
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, user.first_name)
    bot.fake.share_contact(user, f"+7916{user.id:07d}")
    await bot.reply(user)  # the phone confirmation
    birthday_q = await bot.reply(user)
    gender_q = await bot.press(user, birthday_q, "Пропустить")
    city_q = await bot.press(user, gender_q, "Пропустить")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    await bot.press(user, ads_q, "Да, присылайте")


async def customer_id(bot: RunningBot, user: FakeUser) -> int:
    async with bot.sessions() as session:
        found = await session.scalar(select(Customer.id).where(Customer.telegram_id == user.id))
    assert found is not None
    return found


async def send_offer(bot: RunningBot, customer: int, campaign: int) -> None:
    async with bot.sessions() as session:
        await deliveries.enqueue(
            session,
            "broadcast",
            OFFER,
            customer_id=customer,
            advertising=True,
            campaign_id=campaign,
        )
        await session.commit()


@pytest.mark.parametrize("settings_overrides", [NO_QUIET_HOURS])
async def test_one_tap_unsubscribes_and_later_offers_stay_away(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up_with_ads(bot, user)
    customer = await customer_id(bot, user)

    await send_offer(bot, customer, campaign=1)
    offer = await bot.reply(user)
    assert offer.text == OFFER["text"]
    assert offer.button_texts() == ["🔕 Отписаться от рассылки"]
    confirmed = await bot.press(user, offer, "🔕 Отписаться от рассылки")
    assert confirmed.text.startswith("Готово: рекламных рассылок больше не будет.")
    bot.fake.press(user, offer, "🔕 Отписаться от рассылки")  # a second tap records nothing new
    await bot.reply(user)

    await send_offer(bot, customer, campaign=2)

    async def settled() -> bool:
        async with bot.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.campaign_id == 2))
        return row is not None and row.state == "skipped"

    await until(settled)
    await bot.quiet()
    assert [m.text for m in bot.fake.messages_to(user.id)].count(OFFER["text"]) == 1
    async with bot.sessions() as session:
        decisions = (
            await session.execute(
                select(Consent.granted, Consent.text_version)
                .where(Consent.customer_id == customer, Consent.kind == "advertising")
                .order_by(Consent.id)
            )
        ).all()
        stored = await session.get(Customer, customer)
        second = await session.scalar(select(Delivery).where(Delivery.campaign_id == 2))
    assert [granted for granted, _ in decisions] == [True, False]
    assert decisions[0].text_version == decisions[1].text_version  # the same wording, withdrawn
    assert stored is not None and stored.ads_opt_in is False
    assert second is not None and second.error == "no advertising consent"


@pytest.mark.parametrize("settings_overrides", [ALWAYS_QUIET])
async def test_a_sale_notice_comes_through_quiet_hours_and_a_5xx(running: RunningBot) -> None:
    """Transactional: no advertising consent needed, quiet hours ignored, retried after a 502."""
    bot = running
    cashier = await _hire_cashier(bot)
    user = bot.new_user()
    await sign_up_with_ads(bot, user)
    customer = await customer_id(bot, user)
    await send_offer(bot, customer, campaign=1)  # advertising: waits for the morning
    bot.fake.faults.server_error(times=1, code=502, chat_id=user.id)

    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{user.id:07d}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "500")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "✅ Провести")

    notice = await bot.reply(user)
    assert notice.text.startswith("🧾 Покупка на 500\u00a0₽: начислено 25 баллов.")
    assert bot.fake.faults.answered[502] == 1
    await bot.quiet()
    assert OFFER["text"] not in [m.text for m in bot.fake.messages_to(user.id)]
    async with bot.sessions() as session:
        offer = await session.scalar(select(Delivery).where(Delivery.campaign_id == 1))
    assert offer is not None and offer.state == "pending" and offer.error == "quiet hours"


@pytest.mark.parametrize("settings_overrides", [NO_QUIET_HOURS])
async def test_a_customer_who_unblocks_and_restarts_gets_messages_again(
    running: RunningBot,
) -> None:
    """A 403 marks the customer unreachable; their /start after unblocking undoes it."""
    bot = running
    user = bot.new_user()
    await sign_up_with_ads(bot, user)
    customer = await customer_id(bot, user)
    bot.fake.block_user(user.id)
    await send_offer(bot, customer, campaign=1)

    async def marked() -> bool:
        async with bot.sessions() as session:
            person = await session.get(Customer, customer)
            return person is not None and person.unreachable_at is not None

    await until(marked)
    bot.fake.unblock_user(user.id)
    await bot.start_bot(user)  # Telegram's "Restart" after unblocking
    assert not await marked()
    await send_offer(bot, customer, campaign=2)
    offer = await bot.reply(user)
    assert offer.text == OFFER["text"]
