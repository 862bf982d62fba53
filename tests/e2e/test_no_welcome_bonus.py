"""WELCOME_BONUS=0: nobody is promised or told of "0 points"."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup_server_side import _finish


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"welcome_bonus": 0}


async def test_no_welcome_bonus_is_not_promised_in_ru_or_en(running: RunningBot) -> None:
    bot, anna = running, running.new_user()
    consent = await bot.start_bot(anna)
    declined = await bot.press(anna, consent, "Отказаться")
    assert "0 баллов" not in declined.text and "бонус" not in declined.text
    welcome = await _finish(bot, anna, await bot.press(anna, declined, "Я передумал(а)"))
    assert "Готово, Анна" in welcome.text
    assert "за регистрацию" not in welcome.text and "начислено <b>0" not in welcome.text

    kate = bot.new_user(language="en", first_name="Kate")
    consent = await bot.start_bot(kate)
    declined = await bot.press(kate, consent, "Decline")
    assert "0 points" not in declined.text and "bonus" not in declined.text
