"""The owner's /stats, /export and /import through the real bot and the fake Telegram."""

from __future__ import annotations

import io
import logging

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from bot.sandbox.fake_telegram import FakeUser
from bot.services import audit, exchange, ledger
from bot.services.permissions import SHELL
from db.models import Customer
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")


async def test_owner_gets_figures_and_five_charts(running: RunningBot) -> None:
    bot = running
    await sign_up(bot, bot.new_user())
    summary = await bot.say(OWNER, "/stats")
    assert "База на" in summary.text and "Клиентов: 1 (за эту неделю +1)" in summary.text
    assert "Баллов на руках: 100 баллов" in summary.text
    photos = [await bot.reply(OWNER) for _ in range(5)]
    assert [p.method for p in photos] == ["sendMediaGroup"] * 5
    for photo in photos:
        assert photo.file_bytes is not None
        assert Image.open(io.BytesIO(photo.file_bytes)).size == (800, 450)
    await bot.quiet()
    assert len(bot.fake.messages_to(OWNER.id)) == 6  # nothing else was sent

    customer = bot.new_user()
    await sign_up(bot, customer)
    refused = await bot.say(customer, "/stats")
    assert "только владельцу" in refused.text


async def test_owner_exports_the_base_and_it_is_audited(running: RunningBot) -> None:
    bot = running
    member = bot.new_user(first_name="Анна")
    await sign_up(bot, member)
    bot.fake.send_text(OWNER, "/export")
    xlsx, csv = await bot.reply(OWNER), await bot.reply(OWNER)
    assert xlsx.file_name is not None and xlsx.file_name.endswith(".xlsx")
    assert csv.file_name is not None and csv.file_name.endswith(".csv")
    assert csv.text is not None and "Клиентов: 1" in csv.text
    rows = list(load_workbook(io.BytesIO(xlsx.file_bytes or b"")).worksheets[0].values)
    assert rows[1][2] == "Анна" and rows[1][3] == f"'+7916{member.id:07d}"
    assert f"+7916{member.id:07d}".encode() in (csv.file_bytes or b"")
    async with bot.sessions() as session:
        shown = await audit.page(session, by=SHELL)
    assert [(r.action, r.actor, r.channel) for r in shown.records] == [
        ("export", f"tg:{OWNER_ID}", "messenger")
    ]

    refused = await bot.say(member, "/export")
    assert "только владельцу" in refused.text


async def test_owner_imports_after_a_dry_run_and_the_person_claims_it(running: RunningBot) -> None:
    bot = running
    person = bot.new_user(first_name="Вера")
    table = (
        "Имя;Телефон;Баллы;Согласие\n"
        f"Вера;8916{person.id:07d};300;\n"
        "Без телефона;;10;\n"
        "Борис;+79160000002;;01.02.2024\n"
    )
    ask = await bot.say(OWNER, "/import")
    assert "Пришлите файл" in ask.text
    bot.fake.send_document(OWNER, table.encode(), "old-base.csv")
    report = await bot.reply(OWNER)
    assert "Строк в файле: 3. Новых клиентов: 2" in report.text
    assert "строка 3: нет телефона" in report.text
    confirm = await bot.reply(OWNER)
    async with bot.sessions() as session:
        assert await session.scalar(select(Customer)) is None  # the dry run wrote nothing
    done = await bot.press(OWNER, confirm, "✅ Загрузить")
    assert "загружено новых клиентов 2" in done.text
    invites = await bot.reply(OWNER)
    assert invites.file_name is not None and invites.file_name.startswith("invites-")
    link = (invites.file_bytes or b"").decode("utf-8-sig").splitlines()[1].split(";")[2]
    assert link.startswith("https://t.me/clientbase_test_bot?start=m")

    # The same button again does nothing more.
    bot.fake.press(OWNER, confirm, "✅ Загрузить")
    await bot.quiet()
    async with bot.sessions() as session:
        assert len(list(await session.scalars(select(Customer)))) == 2
        shown = await audit.page(session, by=SHELL)
    assert [r.action for r in shown.records] == ["import"]

    # Vera opens her invite and consents; a typed phone is no proof, her shared contact is.
    consent = await bot.start_bot(person, link.split("start=")[1])
    await bot.press(person, consent, "✅ Согласен(на)")
    await bot.say(person, "Вера")
    typed = await bot.say(person, f"+7916{person.id:07d}")
    assert "нажмите кнопку «📱 Отправить номер»" in typed.text
    bot.fake.share_contact(person, f"+7916{person.id:07d}")
    await bot.reply(person)  # the phone confirmation
    birthday_q = await bot.reply(person)
    gender_q = await bot.press(person, birthday_q, "Пропустить")
    city_q = await bot.press(person, gender_q, "Пропустить")
    interests_q = await bot.press(person, city_q, "Пропустить")
    ads_q = await bot.press(person, interests_q, "Готово ✔️")
    welcome = await bot.press(person, ads_q, "Нет, спасибо")
    assert "Вера" in welcome.text
    assert [m.chat_id for m in bot.fake.sent if m.chat_id not in (OWNER.id, person.id)] == []
    async with bot.sessions() as session:
        rows = list(await session.scalars(select(Customer).order_by(Customer.id)))
        vera = next(c for c in rows if c.telegram_id == person.id)
        assert await ledger.points_of(session, vera.id) == 300 + 100
    assert len(rows) == 2  # taken over, not duplicated
    assert exchange.IMPORT_KIND == "m"


async def test_a_sale_to_an_imported_customer_messages_nobody(
    running: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = running
    async with bot.sessions() as session:
        await exchange.run_import(
            session,
            bot.settings.program,
            bot.settings.link_key,
            "Имя;Телефон;Баллы\nГлеб;+79160000077;50\n".encode(),
            actor="shell",
            channel=audit.Channel.SHELL,
            language="ru",
            by=SHELL,
        )
    await bot.say(OWNER, "/sale")
    found = await bot.say(OWNER, "+7 916 000-00-77")
    assert "Глеб" in found.text
    await bot.reply(OWNER)  # the amount question
    receipt_q = await bot.say(OWNER, "1000")
    await bot.press(OWNER, receipt_q, "Без номера")  # how many points to spend?
    confirm = await bot.say(OWNER, "0")
    done = await bot.press(OWNER, confirm, "✅ Провести")
    assert "Проведено" in done.text
    await bot.quiet()
    chats = {message.chat_id for message in bot.fake.sent}
    assert chats == {OWNER.id}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
