"""QR codes per store, campaign and employee, and the signup funnel, through the real bot."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser
from bot.services import sources
from bot.services.funnel import funnel_report
from bot.services.permissions import SHELL
from db.models import Customer, Source, Staff
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up
from tests.qr_reading import decode_pdf, decode_png

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")


async def test_owner_makes_a_qr_for_an_employee_and_it_attributes(running: RunningBot) -> None:
    bot = running
    store_q = await bot.say(OWNER, "/qr")
    assert "Для какой точки" in store_q.text and store_q.button_texts() == []
    campaign_q = await bot.say(OWNER, "Тверская, 1")
    employee_q = await bot.press(OWNER, campaign_q, "Касса")
    assert employee_q.button_texts() == ["Без сотрудника"]
    making = await bot.say(OWNER, "Мария")
    assert "Готовлю" in making.text
    photo = await bot.reply(OWNER)
    a4, a6 = await bot.reply(OWNER), await bot.reply(OWNER)

    link = decode_png(photo.file_bytes)
    assert link.startswith("https://t.me/clientbase_test_bot?start=s")
    assert link in photo.text and "Тверская, 1 / Касса / Мария" in photo.text
    assert decode_pdf(a4.file_bytes) == link and decode_pdf(a6.file_bytes) == link
    assert (a4.file_name, a6.file_name) == (
        "tverskaya-1_kassa_mariya_a4.pdf",
        "tverskaya-1_kassa_mariya_a6.pdf",
    )

    customer = bot.new_user()
    await sign_up(bot, customer, link.split("start=")[1])
    async with bot.sessions() as session:
        known = await sources.list_sources(session, bot.settings.link_key)
        signed_up = await session.scalar(select(Customer))
    assert [s.label for s in known] == ["Тверская, 1 / Касса / Мария"]
    assert signed_up is not None and signed_up.source_id == known[0].id

    # A second run for the same store offers the stores it knows; the same name, the same code.
    await bot.say(OWNER, "/qr")
    store_q = bot.fake.messages_to(OWNER.id)[-1]
    campaign_q = await bot.press(OWNER, store_q, "Тверская, 1")
    employee_q = await bot.press(OWNER, campaign_q, "Касса")
    assert employee_q.button_texts() == ["Без сотрудника"]  # nobody on staff yet
    await bot.say(OWNER, "Мария")
    again = await bot.reply(OWNER)
    assert decode_png(again.file_bytes) == link
    async with bot.sessions() as session:
        assert await session.scalar(select(Source.staff_id)) is None  # not on staff: no link


async def test_qr_for_someone_on_staff_links_the_code_to_them(running: RunningBot) -> None:
    """`/qr` offers the staff list; the code made for a member of staff is linked to them
    (`sources.staff_id`), so /my counts it whatever name is printed, and a namesake's code
    made by typing the name does not count."""
    bot = running
    oleg = bot.new_user(first_name="Олег")
    async with bot.sessions() as session:
        session.add_all(
            [
                Staff(telegram_id=oleg.id, role="cashier", name="Олег", store="Тверская, 1"),
                Staff(telegram_id=oleg.id + 1, role="cashier", name="Ира", store="Ленина, 5"),
            ]
        )
        await session.commit()
        staff_id = await session.scalar(select(Staff.id).where(Staff.telegram_id == oleg.id))
    await bot.say(OWNER, "/qr")
    campaign_q = await bot.say(OWNER, "Тверская, 1")
    employee_q = await bot.press(OWNER, campaign_q, "Касса")
    # the staff of this store (Ира works elsewhere), nobody, or a code for each of them
    assert employee_q.button_texts() == ["Олег", "Без сотрудника", "Все сотрудники точки"]
    await bot.press(OWNER, employee_q, "Олег")
    photo = await bot.reply(OWNER)
    await bot.reply(OWNER), await bot.reply(OWNER)  # the A4 and A6 posters
    link = decode_png(photo.file_bytes)
    async with bot.sessions() as session:
        made = (await session.execute(select(Source.employee, Source.staff_id))).all()
    assert made == [("Олег", staff_id)]
    await sign_up(bot, bot.new_user(), link.split("start=")[1])
    mine = await bot.say(oleg, "/my")
    assert "QR-коды «Олег»: привели 1, из них сделали первую покупку 0." in (mine.text or "")


async def test_funnel_counts_completed_declined_and_abandoned(running: RunningBot) -> None:
    bot = running
    async with bot.sessions() as session:
        maria = await sources.source_for(
            session, bot.settings.link_key, "Тверская, 1", "Касса", "Мария", by=SHELL
        )
        oleg = await sources.source_for(
            session, bot.settings.link_key, "Тверская, 1", "Касса", "Олег", by=SHELL
        )
    for _ in range(2):
        await sign_up(bot, bot.new_user(), maria.payload)
    await sign_up(bot, bot.new_user(), oleg.payload)
    declined = bot.new_user()
    await bot.press(declined, await bot.start_bot(declined, maria.payload), "Отказаться")
    abandoned = bot.new_user()
    await bot.press(abandoned, await bot.start_bot(abandoned, maria.payload), "✅ Согласен(на)")
    await bot.start_bot(bot.new_user(), maria.payload)  # opened and left

    async with bot.sessions() as session:
        report = await funnel_report(session, bot.settings.link_key)
    rows = {row.source.employee: row for row in report.rows if row.source}
    assert (rows["Мария"].opens, rows["Мария"].consents, rows["Мария"].declines) == (5, 3, 1)
    assert (rows["Мария"].signups, rows["Мария"].customers) == (2, 2)
    assert rows["Мария"].conversion == 2 / 5
    assert (rows["Олег"].opens, rows["Олег"].signups, rows["Олег"].conversion) == (1, 1, 1.0)
    assert report.best is rows["Олег"] and report.worst is rows["Мария"]

    table = await bot.say(OWNER, "/sources")
    assert "Воронка" in table.text
    table = await bot.reply(OWNER)
    assert table.text.startswith("<pre>") and "Тверская, 1 / Касса / Мария" in table.text
    assert "Лучший: Тверская, 1 / Касса / Олег — 100%" in table.text
    assert "Худший: Тверская, 1 / Касса / Мария — 40%" in table.text


async def test_a_disabled_source_counts_as_unknown(running: RunningBot) -> None:
    bot = running
    async with bot.sessions() as session:
        poster = await sources.create_source(
            session, bot.settings.link_key, "Ленина, 5", "Плакат", by=SHELL
        )
        await sources.set_enabled(session, poster.id, False, by=SHELL)
    await sign_up(bot, bot.new_user(), poster.payload)
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer))
        report = await funnel_report(session, bot.settings.link_key)
    assert customer is not None and customer.source_id is None
    unknown = next(row for row in report.rows if row.source is None)
    assert (unknown.opens, unknown.signups, unknown.customers) == (1, 1, 1)


async def test_owner_commands_are_refused_to_customers(running: RunningBot) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    for command in ("/qr", "/sources"):
        refused = await bot.say(customer, command)
        assert refused.text == "Эта команда доступна только владельцу магазина."
    await bot.quiet()
    assert not [m for m in bot.fake.messages_to(customer.id) if m.file_bytes]
