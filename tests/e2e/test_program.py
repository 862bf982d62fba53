"""The program's settings from the messenger (/program) and the audit log (/audit), issue 13."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.program import format_value
from bot.sandbox.fake_telegram import FakeUser
from bot.services import audit
from bot.services import program as program_service
from bot.texts import texts_for
from db.models import AuditEntry, ProgramSetting, Purchase
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
RU = texts_for("ru")
TIERS = "✏️ Уровни (название:от ₽:%)"
WELCOME = "✏️ Приветственный бонус"


async def _sale(bot: RunningBot, cashier: FakeUser, customer: FakeUser, receipt: str) -> str:
    await bot.say(cashier, "/sale")
    await bot.say(cashier, f"+7916{customer.id:07d}")
    await bot.reply(cashier)  # the amount question follows the customer's card
    receipt_q = await bot.say(cashier, "1000")
    redeem_q = await bot.say(cashier, receipt)
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    done = await bot.press(cashier, confirm, "✅ Провести")
    await bot.reply(customer)  # the purchase notice
    assert receipt_q.text
    return done.text


async def _stored(bot: RunningBot, key: str) -> str | None:
    async with bot.sessions() as session:
        row = await session.get(ProgramSetting, key)
        return row.value if row else None


async def test_a_program_change_applies_to_the_next_purchase_only(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    first = await _sale(bot, cashier, customer, "P-1")
    assert first.startswith("✅ Проведено. Начислено 50 баллов")  # 5 % of 1 000 ₽

    shown = await bot.say(OWNER, "/program")
    assert "Базовый:0:5, Серебро:10000:7, Золото:30000:10" in shown.text
    assert "Приветственный бонус: <b>100</b>" in shown.text
    ask = await bot.press(OWNER, shown, TIERS)
    assert "Сейчас: <code>Базовый:0:5, Серебро:10000:7, Золото:30000:10</code>" in ask.text
    wrong = await bot.say(OWNER, "Базовый:100:5")  # the first tier must start at 0
    assert wrong.text.startswith("Не подходит. Уровни через запятую")
    confirm = await bot.say(OWNER, "Базовый:0:10, Серебро:10000:12")
    assert confirm.text == (
        "Изменить «Уровни (название:от ₽:%)»?\n"
        "<code>Базовый:0:5, Серебро:10000:7, Золото:30000:10</code> → "
        "<code>Базовый:0:10, Серебро:10000:12</code>"
    )
    assert await _stored(bot, "tiers") == "Базовый:0:5, Серебро:10000:7, Золото:30000:10"
    done = await bot.press(OWNER, confirm, "✅ Изменить")
    assert done.edited and done.text.startswith("Готово: «Уровни (название:от ₽:%)» теперь")

    second = await _sale(bot, cashier, customer, "P-2")
    assert second.startswith("✅ Проведено. Начислено 100 баллов")  # 10 % from now on
    async with bot.sessions() as session:
        accrued = list(await session.scalars(select(Purchase.accrued).order_by(Purchase.id)))
        [entry] = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == program_service.AUDIT_ACTION)
            )
        )
    assert accrued == [50, 100]  # the earlier purchase keeps the rate it was made at
    assert entry.actor == f"owner:{OWNER_ID}" and entry.channel == "messenger"
    assert entry.subject == "tiers"
    assert entry.details == {
        "old": "Базовый:0:5, Серебро:10000:7, Золото:30000:10",
        "new": "Базовый:0:10, Серебро:10000:12",
    }
    assert await _stored(bot, "tiers") == "Базовый:0:10, Серебро:10000:12"


async def test_bad_values_are_explained_and_cancel_changes_nothing(running: RunningBot) -> None:
    bot = running
    shown = await bot.say(OWNER, "/program")
    await bot.press(OWNER, shown, WELCOME)
    wrong = await bot.say(OWNER, "сто")
    assert wrong.text == "Не подходит. Целое число от 0 до 1000000."
    too_big = await bot.say(OWNER, "2000000")
    assert too_big.text == "Не подходит. Целое число от 0 до 1000000."
    confirm = await bot.say(OWNER, "150")
    assert "<code>100</code> → <code>150</code>" in confirm.text
    cancelled = await bot.press(OWNER, confirm, "✖️ Отмена")
    assert cancelled.text == RU.program_cancelled
    assert await _stored(bot, "welcome_bonus") == "100"

    await bot.press(OWNER, shown, WELCOME)
    same = await bot.say(OWNER, "100")
    assert same.text == RU.program_same
    await bot.press(OWNER, shown, "✏️ Оплата баллами, до % чека")
    assert (await bot.say(OWNER, "120")).text.startswith("Не подходит. Процент от 0 до 100")
    confirm = await bot.say(OWNER, "12,5")
    await bot.press(OWNER, confirm, "✅ Изменить")
    assert await _stored(bot, "redeem_cap_percent") == "12.5"
    async with bot.sessions() as session:
        changes = list(await session.scalars(select(AuditEntry.subject)))
    assert changes == ["redeem_cap_percent"]  # nothing for the cancelled or the same value


async def test_the_program_is_the_owners_alone(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    customer = bot.new_user()
    await sign_up(bot, customer)
    for person in (customer, cashier):
        assert (await bot.say(person, "/program")).text == RU.owner_only
        assert (await bot.say(person, "/audit")).text == RU.owner_only
    # Forged buttons from a modified client: refused, nothing asked, nothing changed.
    before = len(bot.fake.sent)
    for data in ("prg:welcome_bonus", "prgok:1", "audit:0"):
        bot.fake.press_data(cashier, data)
        bot.fake.press_data(customer, data)
    await bot.quiet()
    assert len(bot.fake.sent) == before
    refusals = [a for a in bot.fake.answered_callbacks if a["text"] == RU.owner_only]
    assert len(refusals) == 6
    assert await _stored(bot, "welcome_bonus") == "100"
    async with bot.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions == ["staff_invite"]  # the hiring only: no program change, no page shown


async def test_the_audit_log_pages_newest_first_in_place(running: RunningBot) -> None:
    bot = running
    async with bot.sessions() as session:
        for number in range(1, 24):
            await audit.record(session, "shell:tech", audit.Channel.SHELL, "export", number)
        await session.commit()
    page_one = await bot.say(OWNER, "/audit")
    assert "стр. 1 из 3, записей 23" in page_one.text
    assert "консоль · shell:tech" in page_one.text
    assert "<b>export</b> · 23" in page_one.text and "<b>export</b> · 14" in page_one.text
    assert "· 13\n" not in page_one.text + "\n"
    assert page_one.button_texts() == ["Старше ▶️"]
    page_two = await bot.press(OWNER, page_one, "Старше ▶️")
    assert page_two.edited and page_two.message_id == page_one.message_id
    assert "стр. 2 из 3" in page_two.text and "<b>export</b> · 13" in page_two.text
    assert page_two.button_texts() == ["◀️ Новее", "Старше ▶️"]
    page_three = await bot.press(OWNER, page_two, "Старше ▶️")
    assert "стр. 3 из 3" in page_three.text and "<b>export</b> · 1\n" not in page_three.text
    assert page_three.text.endswith("<b>export</b> · 1")
    assert page_three.button_texts() == ["◀️ Новее"]
    back = await bot.press(OWNER, page_three, "◀️ Новее")
    assert "стр. 2 из 3" in back.text
    assert len(bot.fake.messages_to(OWNER.id)) == 1  # one message, edited in place


async def test_a_change_from_another_process_is_refused_if_the_owner_saw_the_old_value(
    running: RunningBot,
) -> None:
    bot = running
    shown = await bot.say(OWNER, "/program")
    await bot.press(OWNER, shown, WELCOME)
    confirm = await bot.say(OWNER, "150")
    async with bot.sessions() as session:  # the shell changes it meanwhile
        seed = bot.settings.program
        await program_service.change(
            session, seed, "welcome_bonus", "120", by=None, channel=audit.Channel.SHELL
        )
    stale = await bot.press(OWNER, confirm, "✅ Изменить")
    assert stale.text == RU.program_stale
    assert await _stored(bot, "welcome_bonus") == "120"
    async with bot.sessions() as session:
        program = await program_service.load(session, bot.settings.program)
    assert format_value(program, "welcome_bonus") == "120"
