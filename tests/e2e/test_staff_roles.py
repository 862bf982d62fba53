"""Staff roles are read once in a while, not on every cashier update, and a new cashier is
recognised at once."""

from __future__ import annotations

from sqlalchemy import event

from bot.sandbox.fake_telegram import FakeUser
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
STAFF_ONLY = "Эта команда для сотрудников магазина."


async def test_a_new_cashier_is_recognised_at_once_and_then_not_looked_up_again(
    running: RunningBot,
) -> None:
    bot, person = running, running.new_user()
    await sign_up(bot, person)
    assert (await bot.say(person, "/sale")).text == STAFF_ONLY  # "not staff" is remembered
    invite = await bot.say(OWNER, "/cashier")
    await bot.start_bot(person, invite.text.split("start=")[1])
    assert (await bot.say(person, "/sale")).text != STAFF_ONLY  # ...and forgotten on hiring
    await bot.say(person, "/cancel")
    await bot.quiet()

    looked_up: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if "staff" in statement.lower():
            looked_up.append(statement)

    assert bot.app is not None
    engine = bot.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert (await bot.say(person, "/sale")).text != STAFF_ONLY
        await bot.say(person, "/cancel")
        await bot.quiet()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert looked_up == []
