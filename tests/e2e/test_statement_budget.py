"""Statement budgets of the frequent updates, counted (never timed): what each may cost the
database, the form storage included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from bot.sandbox.fake_telegram import FakeUser
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
# The delivery worker looks for queued messages every few seconds on its own connection; these
# counts are of the update alone, so it looks only when a commit queues something.
pytestmark = pytest.mark.parametrize("settings_overrides", [{"delivery_poll_seconds": 600}])
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def statements(bot: RunningBot) -> Iterator[list[str]]:
    """Every statement the bot sends to the database meanwhile (first word upper-cased)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    assert bot.app is not None
    engine = bot.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_members_balance_is_one_statement(running: RunningBot) -> None:
    bot, member = running, running.new_user()
    await sign_up(bot, member)
    await bot.quiet()
    for ask in ("/balance", "💰 Баланс"):
        with statements(bot) as seen:
            assert "<b>100 баллов</b>" in (await bot.say(member, ask)).text
            await bot.quiet()  # the whole update, the form storage included
        assert seen == ["SELECT"], ask


async def test_a_text_at_the_consent_step_writes_nothing(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await bot.start_bot(user)
    await bot.quiet()
    with statements(bot) as seen:
        again = await bot.say(user, "привет")
        await bot.quiet()
    assert again.text == "Выберите вариант кнопкой под вопросом."
    assert seen == []  # the form is as it was: not even read back from the database


async def test_a_sale_step_is_one_write_and_cancelling_nothing_is_none(running: RunningBot) -> None:
    bot, member = running, running.new_user()
    await sign_up(bot, member)
    card = await bot.say(member, "/card")
    code = card.text.split("<b>")[1].split("</b>")[0]
    await bot.say(OWNER, "/sale")
    await bot.say(OWNER, code)
    await bot.reply(OWNER)  # the amount question
    await bot.quiet()
    with statements(bot) as seen:
        await bot.say(OWNER, "1250")  # the amount kept and the next step set: one write
        await bot.quiet()
    in_database = bot.settings.redis_url is None  # else the form lives in Redis
    assert [word for word in seen if word in WRITES] == (["UPDATE"] if in_database else [])
    await bot.say(OWNER, "/cancel")
    await bot.quiet()
    with statements(bot) as seen:
        await bot.say(OWNER, "/cancel")  # no form: nothing to clear, nothing written
        await bot.quiet()
    assert seen == []
