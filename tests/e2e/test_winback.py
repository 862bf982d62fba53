"""The win-back job in the running bot: the code arrives through the delivery engine, as
advertising, once; a customer without advertising consent gets nothing; the code works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import ledger
from bot.services.jobs import config_from
from bot.services.jobs.runner import JobName, run_period
from tests.e2e.conftest import RunningBot
from tests.e2e.test_delivery_bot import NO_QUIET_HOURS, customer_id, sign_up_with_ads
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_signup import sign_up


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return NO_QUIET_HOURS


async def test_a_quiet_customer_gets_a_code_once_and_redeems_it(running: RunningBot) -> None:
    bot = running
    fan, silent = bot.new_user(), bot.new_user(first_name="Борис")
    await sign_up_with_ads(bot, fan)
    await sign_up(bot, silent)
    now = datetime.now(UTC)
    for user in (fan, silent):
        async with bot.sessions() as session:
            await ledger.record_purchase(
                session, bot.settings.program, await customer_id(bot, user), 500_00,
                channel="test", actor="t", now=now - timedelta(days=70),
            )  # fmt: skip
        await bot.reply(user)  # the sale notice
    await bot.quiet()
    before = {user.id: len(bot.fake.messages_to(user.id)) for user in (fan, silent)}

    config = config_from(bot.settings)
    day = now.astimezone(config.zone).date()
    first = await run_period(bot.sessions, config, JobName.WINBACK, day, owner="t", now=now)
    assert first.counts.done == 1
    message = await bot.reply(fan)
    assert message.text.startswith("👋 Давно вас не видели! Ваш личный промокод <code>")
    assert "скидка 10%" in message.text and "🔕 Отписаться" in "".join(message.button_texts())
    code = message.text.split("<code>")[1].split("</code>")[0]
    again = await run_period(
        bot.sessions, config, JobName.WINBACK, day, owner="u", now=now, rerun_done=True
    )
    assert again.counts.done == 0
    await bot.quiet()
    assert len(bot.fake.messages_to(fan.id)) == before[fan.id] + 1
    assert len(bot.fake.messages_to(silent.id)) == before[silent.id]  # no advertising consent

    listing = await bot.say(fan, "/promos")
    assert f"<code>{code}</code> — Мы скучали по вам: скидка 10%" in listing.text

    cashier = await _hire_cashier(bot)
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{fan.id:07d}")
    await bot.reply(cashier)
    receipt_q = await bot.say(cashier, "1000")
    redeem_q = await bot.press(cashier, receipt_q, "Без номера")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "🎟 Промокод")
    applied = await bot.say(cashier, code)
    assert "скидка 10% (−100\u00a0₽)" in applied.text
    redeem_q = await bot.reply(cashier)
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    assert "К оплате: <b>900\u00a0₽</b>" in confirm.text
    done = await bot.press(cashier, confirm, "✅ Провести")
    assert done.text.startswith("✅ Проведено.")
    await bot.reply(fan)  # the sale notice
