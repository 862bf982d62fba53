"""A customer on both messengers who withdraws consent, from either side, leaves nothing that
names them: not in any table (identities, link codes, the WhatsApp chat's form, the outbox),
not in the SQLite file or its WAL, and not in the log lines of the webhook and the adapter."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import start_whatsapp
from bot.sandbox.fake_telegram import FakeUser
from bot.sandbox.fake_whatsapp import FakeWhatsApp
from bot.services import ledger
from bot.services.jobs import housekeeping
from bot.services.jobs.context import JobConfig, RunContext
from bot.services.permissions import SHELL
from db.models import (
    AuditEntry,
    Customer,
    Delivery,
    FsmRecord,
    Identity,
    IdentityLink,
    OwnerAlert,
)
from db.repositories import deliveries
from tests.e2e.conftest import RunningBot
from tests.e2e.test_privacy import NAME, _everything_stored
from tests.e2e.test_signup import sign_up
from tests.e2e.test_whatsapp import fake_wa, settings_overrides  # noqa: F401


@pytest.fixture
async def wa(running: RunningBot, fake_wa: FakeWhatsApp) -> AsyncIterator[FakeWhatsApp]:  # noqa: F811
    assert running.app is not None
    runner = await start_whatsapp(running.app)
    assert runner is not None
    yield fake_wa
    await runner.cleanup()


async def _on_both(bot: RunningBot, wa: FakeWhatsApp) -> tuple[FakeUser, str, str]:
    """Евлампия joins in Telegram, then links WhatsApp; an unused second code stays behind."""
    user = bot.new_user(first_name=NAME)
    await sign_up(bot, user)
    phone = f"+7916{user.id:07d}"
    wa_id = phone[1:]
    first = await wa.write(wa_id, "Привет")
    await wa.write(wa_id, "Привет ещё раз")  # a second offer: a code nobody will use
    code = first.text.split("/link ")[1][:6]
    done = await bot.say(user, f"/link {code}")
    assert "WhatsApp подключён" in done.text
    told = await wa.next_message(wa_id)  # the WhatsApp side is told as well
    assert told.text.startswith("Готово: WhatsApp подключён")
    balance = await wa.write(wa_id, "баланс")
    assert "100 баллов" in balance.text
    return user, phone, wa_id


async def _plant_outbox(bot: RunningBot, phone: str) -> None:
    """Queued messages whose payload names her (a free text quoting her name and number)."""
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.phone == phone))
        assert customer is not None
        later = datetime.now(UTC) + timedelta(hours=1)
        await deliveries.enqueue(
            session,
            "broadcast",
            {"text": f"{NAME}, {phone}"},
            customer_id=customer.id,
            due_at=later,
        )
        await deliveries.enqueue(
            session, "broadcast", {"text": f"call {NAME}"}, chat_id=1, due_at=later
        )
        await session.commit()


def _assert_nothing_in_sqlite_files(bot: RunningBot, needles: list[str]) -> None:
    if not bot.settings.database_url.startswith("sqlite"):
        return
    database = Path(make_url(bot.settings.database_url).database or "")
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            data = path.read_bytes()
            for needle in needles:
                assert needle.encode() not in data, (path, needle)


@pytest.mark.parametrize("side", ["telegram", "whatsapp"])
async def test_forget_on_either_messenger_erases_both_accounts(
    running: RunningBot, wa: FakeWhatsApp, side: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = running
    user, phone, wa_id = await _on_both(bot, wa)
    await _plant_outbox(bot, phone)
    stored = await _everything_stored(bot)
    assert NAME in stored and wa_id in stored

    if side == "telegram":
        ask_wa = await wa.write(wa_id, "удалить")  # a WhatsApp form left open: whatsapp:<number>
        assert "Да, удалить" in ask_wa.options()
        async with bot.sessions() as session:
            assert await session.get(FsmRecord, f"whatsapp:{wa_id}") is not None
        ask = await bot.say(user, "/forget")
        done = await bot.press(user, ask, "Да, удалить")
        assert done.text.startswith("Согласие отозвано")
    else:
        ask = await wa.write(wa_id, "удалить")
        done_wa = await wa.pick(wa_id, ask, "Да, удалить")
        assert done_wa.text.startswith("Согласие отозвано")
    await bot.quiet()

    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Identity)) == 0
        assert await session.scalar(select(func.count()).select_from(IdentityLink)) == 0
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0
        rows = (await session.execute(select(Delivery.state, Delivery.payload))).all()
    assert all(payload == {} for state, payload in rows if state == "skipped")
    stored = await _everything_stored(bot)
    for needle in (NAME, phone, wa_id, phone[-7:]):
        assert needle not in stored, needle
    assert not re.search(rf"\b{user.id}\b", stored)
    _assert_nothing_in_sqlite_files(bot, [wa_id, phone[-7:], NAME])
    # The webhook and the adapter never logged the number, nor did the bot or the HTTP and
    # WhatsApp libraries under them, at any level; nothing at all did at INFO and above (the
    # database drivers' DEBUG lines echo query parameters: a level no shop runs at).
    ours = ("bot", "handlers", "db", "pywa", "pywa_async", "aiohttp", "httpx", "httpcore")
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.__dict__}"
        for record in caplog.records
        if record.levelno >= logging.INFO or record.name.split(".")[0] in ours
    )
    assert caplog.records
    assert wa_id not in logged and phone[-7:] not in logged

    # Nobody writes to her after that, on either side; a return starts afresh on WhatsApp.
    again = await wa.write(wa_id, "Привет")
    assert "152-ФЗ" in again.text and "/link" not in again.text


async def test_housekeeping_purges_unconfirmed_link_codes_and_abandoned_whatsapp_signups(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot = running
    user = bot.new_user(first_name=NAME)
    await sign_up(bot, user)
    holder_number = f"7916{user.id:07d}"
    await wa.write(holder_number, "Привет")  # a link code offered to the WhatsApp number
    stranger = "79990001122"
    consent = await wa.write(stranger, "Привет")
    await wa.pick(stranger, consent, "✅ Согласен(на)")  # pending, then abandoned
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IdentityLink)) == 1
        assert await session.get(FsmRecord, f"whatsapp:{stranger}") is not None

    async def heartbeat() -> None:
        return None

    later = datetime.now(UTC) + timedelta(days=31)
    config = JobConfig(zone=bot.settings.zone, program=bot.settings.program)
    ctx = RunContext(bot.sessions, config, later, heartbeat)
    counts = await housekeeping.run(ctx, later.date())
    assert counts.done >= 2  # the pending signup and the link code (its form goes with it)
    assert stranger not in await _everything_stored(bot)
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IdentityLink)) == 0
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_mydata_lists_the_messenger_accounts_and_link_requests_on_both_sides(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot = running
    user, phone, wa_id = await _on_both(bot, wa)
    summary = await bot.say(user, "/mydata")
    assert "<b>Мессенджеры</b>" in summary.text
    assert f"Telegram: id {user.id}, с " in summary.text
    assert f"WhatsApp: {phone}, с " in summary.text
    assert f"подключение WhatsApp {phone}: подтверждено" in summary.text
    assert f"подключение WhatsApp {phone}: не подтверждено" in summary.text  # the second code
    document = await bot.reply(user)
    assert document.file_bytes is not None
    data = json.loads(document.file_bytes)
    assert [(a["channel"], a["account"]) for a in data["messenger_accounts"]] == [
        ("telegram", str(user.id)),
        ("whatsapp", wa_id),
    ]
    assert [bool(link["confirmed_at"]) for link in data["account_links"]] == [True, False]

    on_whatsapp = await wa.write(wa_id, "мои данные")
    assert on_whatsapp.text == summary.text.replace("<b>", "*").replace("</b>", "*")
    file = await wa.next_message(wa_id)
    assert file.type == "document" and json.loads(wa.media[-1]) == {
        **data,
        "messenger_accounts": json.loads(wa.media[-1])["messenger_accounts"],
    }
    menu = await wa.write(wa_id, "меню")
    assert "Мои данные" in menu.options()
    async with bot.sessions() as session:
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "mydata")
        )
    assert audited == 2


async def test_history_pages_on_whatsapp(running: RunningBot, wa: FakeWhatsApp) -> None:
    bot, wa_id = running, "79161112233"
    consent = await wa.write(wa_id, "Привет")
    name_q = await wa.pick(wa_id, consent, "✅ Согласен(на)")
    assert "Как вас зовут?" in name_q.text
    birthday_q = await wa.write(wa_id, "Анна")
    gender_q = await wa.pick(wa_id, birthday_q, "Пропустить")
    city_q = await wa.pick(wa_id, gender_q, "Пропустить")
    interests_q = await wa.pick(wa_id, city_q, "Пропустить")
    ads_q = await wa.pick(wa_id, interests_q, "Готово ✔️")
    await wa.pick(wa_id, ads_q, "Нет, спасибо")
    async with bot.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()
        for points in range(1, 10):  # nine corrections and the welcome bonus: two pages
            await ledger.adjust(
                session, bot.settings.program, customer.id, points, reason="r", actor="t", by=SHELL
            )
    first = await wa.write(wa_id, "история")
    assert "(стр. 1)" in first.text and list(first.options()) == ["Раньше ▶️"]
    second = await wa.pick(wa_id, first, "Раньше ▶️")
    assert "(стр. 2)" in second.text and list(second.options()) == ["◀️ Позже"]
    back = await wa.pick(wa_id, second, "◀️ Позже")
    assert back.text == first.text


async def test_a_telegram_user_with_the_phone_of_a_whatsapp_member_links_from_whatsapp(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot, user = running, running.new_user()
    phone = f"+7916{user.id:07d}"
    wa_id = phone[1:]
    consent = await wa.write(wa_id, "Привет")  # a WhatsApp-only member with this number
    name_q = await wa.pick(wa_id, consent, "✅ Согласен(на)")
    birthday_q = await wa.write(wa_id, "Анна")
    gender_q = await wa.pick(wa_id, birthday_q, "Пропустить")
    city_q = await wa.pick(wa_id, gender_q, "Пропустить")
    interests_q = await wa.pick(wa_id, city_q, "Пропустить")
    ads_q = await wa.pick(wa_id, interests_q, "Готово ✔️")
    await wa.pick(wa_id, ads_q, "Нет, спасибо")
    assert name_q is not None

    tg_consent = await bot.start_bot(user)
    await bot.press(user, tg_consent, "✅ Согласен(на)")
    await bot.say(user, "Анна")
    bot.fake.share_contact(user, phone)
    offer = await bot.reply(user)
    assert "через WhatsApp" in offer.text and "<code>связать " in offer.text
    code = offer.text.split("связать ")[1][:6]
    async with bot.sessions() as session:  # nothing merged, the owner not alerted
        statuses = sorted(await session.scalars(select(Customer.status)))
        assert statuses == ["active", "pending"]
        assert await session.scalar(select(func.count()).select_from(OwnerAlert)) == 0

    wrong = await wa.write(wa_id, "связать 000000" if code != "000000" else "связать 111111")
    assert "не подошёл" in wrong.text
    done = await wa.write(wa_id, f"связать {code}")
    assert done.text.startswith("Готово: Telegram подключён")
    told = await bot.reply(user)  # the Telegram side hears of it too
    assert told.text.startswith("Готово: Telegram подключён")
    again = await wa.write(wa_id, f"связать {code}")
    assert "не подошёл" in again.text  # one-time

    balance = await bot.say(user, "/balance")
    assert "100 баллов" in balance.text
    async with bot.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()  # the pending row went
        assert customer.telegram_id == user.id and customer.status == "active"
        channels = sorted(await session.scalars(select(Identity.channel)))
    assert channels == ["telegram", "whatsapp"]
