"""Failures the user cannot cause: an apology instead of silence, and no personal data in logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from bot.logs import KeyValueFormatter, quiet_libraries
from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup import sign_up

SORRY = "Извините, что-то пошло не так. Попробуйте ещё раз чуть позже."


@contextmanager
def database_fails(
    bot: RunningBot, when: Any = lambda statement, parameters: True
) -> Iterator[None]:
    """Every statement `when` picks fails in the database itself, as a locked or broken one
    would: the driver's own error, carrying the statement and its parameters."""

    def broken(conn, cursor, statement, parameters, context, executemany):
        if when(statement, parameters):
            return "SELECT * FROM no_such_table_here", parameters
        return statement, parameters

    engine = bot.app.engine.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", broken, retval=True)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", broken)


def _everything_logged(records: list[logging.LogRecord]) -> str:
    """What the log would hold: each line as production formats it, extras and tracebacks."""
    formatter = KeyValueFormatter()
    return "\n".join(formatter.format(record) for record in records)


async def test_balance_while_the_database_fails_gets_an_apology(running: RunningBot) -> None:
    bot, member = running, running.new_user()
    await sign_up(bot, member)
    with database_fails(bot):
        assert (await bot.say(member, "/balance")).text == SORRY
        assert (await bot.say(member, "💰 Баланс")).text == SORRY
    # The process kept running: once the database is back, so is the balance.
    assert "<b>100 баллов</b>" in (await bot.say(member, "/balance")).text


async def test_a_failing_statement_during_signup_keeps_the_phone_out_of_the_logs(
    running: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot, user = running, running.new_user()
    digits = f"916{user.id:07d}"
    caplog.set_level(logging.DEBUG)  # everything, with the libraries held as in production
    quiet_libraries()
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, "Анна Петрова")
    with database_fails(bot, lambda statement, parameters: digits in repr(parameters)):
        bot.fake.share_contact(user, f"+7{digits}")
        replies = [(await bot.reply(user)).text]
        await bot.quiet()
    replies += [message.text for message in bot.fake.messages_to(user.id)[-1:]]
    assert SORRY in replies, "the statement with the phone failed"
    logged = _everything_logged(caplog.records)
    assert "update failed" in logged
    assert digits not in logged and "Петрова" not in logged
