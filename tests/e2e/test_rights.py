"""The customer's other rights: stop advertising, see everything stored, change the consent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.models import AuditEntry, Consent, Customer, Delivery
from tests.e2e.conftest import RunningBot
from tests.e2e.test_delivery import until
from tests.e2e.test_delivery_bot import NO_QUIET_HOURS, customer_id, send_offer, sign_up_with_ads
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_privacy import _sale
from tests.e2e.test_signup import sign_up


async def _advertising_consents(bot: RunningBot, customer: int) -> list[bool]:
    async with bot.sessions() as session:
        return list(
            await session.scalars(
                select(Consent.granted)
                .where(Consent.customer_id == customer, Consent.kind == "advertising")
                .order_by(Consent.id)
            )
        )


@pytest.mark.parametrize("settings_overrides", [NO_QUIET_HOURS])
async def test_stop_ends_advertising_and_notices_keep_coming(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up_with_ads(bot, anna)
    customer = await customer_id(bot, anna)

    stopped = await bot.say(anna, "/stop")
    assert stopped.text.startswith("Готово: рекламных рассылок больше не будет.")
    again = await bot.say(anna, "/stop")
    assert again.text.startswith("Рекламные рассылки уже отключены.")
    assert await _advertising_consents(bot, customer) == [True, False]

    await send_offer(bot, customer, campaign=1)

    async def skipped() -> bool:
        async with bot.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.campaign_id == 1))
        return row is not None and row.state == "skipped"

    await until(skipped)
    await _sale(bot, cashier, f"+7916{anna.id:07d}", "500")
    notice = await bot.reply(anna)
    assert notice.text.startswith("🧾 Покупка на 500\u00a0₽: начислено 25 баллов.")
    await bot.quiet()
    assert all("Капучино" not in (m.text or "") for m in bot.fake.messages_to(anna.id))


async def test_stop_in_english_for_a_stranger(running: RunningBot) -> None:
    bot, john = running, running.new_user(language="en", first_name="John")
    answer = await bot.say(john, "/stop")
    assert answer.text.startswith("Promotional messages are already off.")


async def test_mydata_shows_everything_and_sends_it_as_a_file(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    await sign_up_with_ads(bot, anna)
    customer = await customer_id(bot, anna)
    await bot.say(anna, "/stop")

    summary = await bot.say(anna, "/mydata")
    assert f"Телефон: +7916{anna.id:07d}" in summary.text
    assert "Имя: Анна" in summary.text and "Баланс: 100 баллов" in summary.text
    assert "обработка персональных данных: дано" in summary.text
    assert "рекламные рассылки: дано" in summary.text
    assert "рекламные рассылки: отозвано" in summary.text
    assert "Покупки: 0, на сумму 0.00 ₽" in summary.text
    document = await bot.reply(anna)
    assert document.method == "sendDocument" and document.file_name == "mydata.json"
    assert document.file_bytes is not None
    data = json.loads(document.file_bytes)
    assert data["phone"] == f"+7916{anna.id:07d}" and data["name"] == "Анна"
    assert data["points"] == 100 and data["purchases"] == {"count": 0, "spent_kopecks": 0}
    assert [(c["kind"], c["granted"]) for c in data["consents"]] == [
        ("personal_data", True),
        ("advertising", True),
        ("advertising", False),
    ]
    assert "152-ФЗ" in data["consents"][0]["text"] and "38-ФЗ" in data["consents"][1]["text"]
    assert data["consents"][1]["text_version"] == data["consents"][2]["text_version"]

    async with bot.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "mydata"))
    assert entry is not None and entry.channel == "messenger"
    assert entry.subject == str(customer) and entry.details == {"consents": 3}
    assert str(anna.id) not in entry.actor


async def test_mydata_before_joining_says_there_is_nothing(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    answer = await bot.say(anna, "/mydata")
    assert answer.text == "У нас нет ваших данных."


async def test_the_profile_gives_and_withdraws_the_advertising_consent(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    await sign_up(bot, anna)  # declined advertising at signup
    customer = await customer_id(bot, anna)
    profile = await bot.say(anna, "/profile")
    assert "Рассылки: не получаю" in profile.text
    assert profile.button_texts()[-2:] == [  # after the answers' ✏️ buttons
        "🔔 Получать рассылки",
        "🗑 Отозвать согласие и удалить данные",
    ]
    granted = await bot.press(anna, profile, "🔔 Получать рассылки")
    assert granted.text.startswith("Готово: будем присылать акции и новости.")
    profile = await bot.say(anna, "/profile")
    assert profile.button_texts()[-2] == "🔕 Отказаться от рассылок"
    withdrawn = await bot.press(anna, profile, "🔕 Отказаться от рассылок")
    assert withdrawn.text.startswith("Готово: рекламных рассылок больше не будет.")
    assert await _advertising_consents(bot, customer) == [False, True, False]
    async with bot.sessions() as session:
        stored = await session.get(Customer, customer)
    assert stored is not None and stored.ads_opt_in is False
