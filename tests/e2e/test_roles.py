"""Roles through the bot: the menus each role sees, the staff console, `/staff` (invite, change,
deactivate), refusals that change nothing, and the first run of a shop without an owner."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser
from bot.services import sources, team
from bot.services.permissions import SHELL
from db.models import AuditEntry, Customer, Staff, StaffInvite
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
STAFF_ONLY = "Эта команда для сотрудников магазина."
OWNER_ONLY = "Эта команда доступна только владельцу магазина."
CUSTOMER_MENU = [
    "start", "card", "balance", "history", "promos", "invite", "profile", "mydata", "stop", "help",
]  # fmt: skip
OWNER_MENU = [
    "start", "sale", "return", "find", "receipt", "my", "stats", "sources", "qr", "staff",
    "export", "import", "broadcast", "campaigns", "promo", "schedule", "program", "audit", "id",
    "help",
]  # fmt: skip
# A manager broadcasts to and lists the campaigns of their own customers only.
MANAGER_MENU = [
    "start", "sale", "return", "find", "receipt", "my", "stats", "staff", "broadcast",
    "campaigns", "id", "help",
]  # fmt: skip
CASHIER_MENU = ["start", "sale", "return", "find", "receipt", "my", "id", "help"]


async def _hire(bot: RunningBot, person: FakeUser, role_button: str) -> str:
    """The owner invites through /staff; the person opens the link. The answer they got."""
    listing = await bot.say(OWNER, "/staff")
    invite = await bot.press(OWNER, listing, role_button)
    assert "действует 24 часа" in (invite.text or "")
    return (await bot.start_bot(person, (invite.text or "").split("start=")[1])).text or ""


async def _staff_card(bot: RunningBot, name: str) -> Any:
    listing = await bot.say(OWNER, "/staff")
    button = next(b for b in listing.button_texts() if b.startswith(name))
    return await bot.press(OWNER, listing, button)


async def test_each_role_sees_its_own_menu_and_console_and_changes_follow(
    running: RunningBot,
) -> None:
    bot = running
    customer, person = bot.new_user(), bot.new_user(first_name="Мария")
    await sign_up(bot, customer)
    assert bot.fake.menu_for(customer.id, "ru") == CUSTOMER_MENU
    assert bot.fake.menu_for(OWNER_ID, "ru") == OWNER_MENU  # set at start-up

    joined = await _hire(bot, person, "➕ Пригласить: менеджер")
    assert joined == "Вы добавлены: менеджер. Нажмите /start — откроется ваше меню."
    await bot.quiet()
    assert bot.fake.menu_for(person.id, "ru") == MANAGER_MENU
    english = bot.fake.scoped_commands[("chat", person.id, "en")]
    assert english[1] == {"command": "sale", "description": "Record a purchase"}

    console = await bot.start_bot(person)
    assert "Вы — <b>менеджер</b> магазина." in (console.text or "")
    assert "/stats — Статистика" in (console.text or "") and "/export" not in (console.text or "")
    assert console.button_texts() == ["🛍 Я тоже клиент"]
    help_text = (await bot.say(person, "/help")).text or ""
    assert "/sale — Провести покупку" in help_text and "/schedule" not in help_text

    card = await _staff_card(bot, "Мария")
    assert "Мария</b> — менеджер" in (card.text or "")
    note = await bot.press(OWNER, card, "Сделать: кассир")
    assert note.text == "Готово: Мария — кассир."
    assert (await bot.reply(OWNER)).edited  # the listing, brought up to date
    await bot.quiet()
    assert bot.fake.menu_for(person.id, "ru") == CASHIER_MENU
    assert (await bot.say(person, "/stats")).text == OWNER_ONLY

    card = await _staff_card(bot, "Мария")
    note = await bot.press(OWNER, card, "⛔ Отключить")
    assert note.text == "Мария отключён(а): команды сотрудника больше не работают."
    assert (await bot.reply(OWNER)).edited  # the listing, brought up to date
    await bot.quiet()
    assert bot.fake.menu_for(person.id, "ru") == CUSTOMER_MENU  # the chat's own menu is gone
    assert (await bot.say(person, "/sale")).text == STAFF_ONLY
    assert "152-ФЗ" in ((await bot.start_bot(person)).text or "")  # a customer's /start now

    card = await _staff_card(bot, "Мария")
    note = await bot.press(OWNER, card, "✅ Вернуть")
    assert note.text == "Мария снова в команде: кассир."
    assert (await bot.reply(OWNER)).edited  # the listing, brought up to date
    await bot.quiet()
    assert bot.fake.menu_for(person.id, "ru") == CASHIER_MENU
    async with bot.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["staff_invite", "staff_role", "staff_deactivate", "staff_reactivate"]


async def test_staff_may_join_as_customers_through_their_console(running: RunningBot) -> None:
    console = await running.start_bot(OWNER)
    assert "Вы — <b>владелец</b> магазина." in (console.text or "")
    consent = await running.press(OWNER, console, "🛍 Я тоже клиент")
    assert "152-ФЗ" in (consent.text or "")


async def _people(bot: RunningBot) -> dict[str, FakeUser]:
    people = {
        "manager": bot.new_user(first_name="Мария"),
        "cashier": bot.new_user(first_name="Олег"),
        "customer": bot.new_user(),
        "stranger": bot.new_user(),
        "deactivated": bot.new_user(first_name="Ушёл"),
    }
    await sign_up(bot, people["customer"])
    async with bot.sessions() as session:
        for who, role, active in (
            ("manager", "manager", True),
            ("cashier", "cashier", True),
            ("deactivated", "owner", False),
        ):
            user = people[who]
            session.add(Staff(telegram_id=user.id, role=role, name=user.first_name, active=active))
        await session.commit()
    return people


async def _snapshot(bot: RunningBot) -> tuple[Any, ...]:
    async with bot.sessions() as session:
        return (
            tuple(
                sorted(
                    (
                        await session.execute(select(Staff.telegram_id, Staff.role, Staff.active))
                    ).all()
                )
            ),
            await session.scalar(select(func.count()).select_from(StaffInvite)),
            await session.scalar(select(func.count()).select_from(AuditEntry)),
            await session.scalar(select(func.count()).select_from(Customer)),
        )


# The main staff commands and the answer of each person who may not use them.
REFUSED = {
    "manager": {c: OWNER_ONLY for c in ("/export", "/import", "/schedule", "/qr", "/sources")},
    "cashier": {
        c: OWNER_ONLY
        for c in ("/stats", "/export", "/import", "/schedule", "/qr", "/sources", "/staff")
    },
    **{
        who: {
            "/sale": STAFF_ONLY,
            "/receipt 100": STAFF_ONLY,
            "/cashier": STAFF_ONLY,
            **{
                c: OWNER_ONLY
                for c in ("/stats", "/export", "/import", "/schedule", "/qr", "/sources", "/staff")
            },
        }
        for who in ("customer", "stranger", "deactivated")
    },
}


@pytest.mark.parametrize("who", list(REFUSED))
async def test_the_bot_refuses_and_nothing_changes(running: RunningBot, who: str) -> None:
    bot = running
    people = await _people(bot)
    person = people[who]
    before = await _snapshot(bot)
    for command, refusal in REFUSED[who].items():
        assert (await bot.say(person, command)).text == refusal, command
    # Forged buttons: a role change, a deactivation, an invite, as a modified client sends them.
    victim = people["cashier"] if who != "cashier" else people["manager"]
    for data in (
        f"staff:role:{victim.id}:owner",
        f"staff:off:{victim.id}:",
        "staff:invite:0:owner",
    ):
        bot.fake.press_data(person, data)
    await bot.quiet()
    assert await _snapshot(bot) == before
    answers = bot.fake.answered_callbacks[-3:]
    assert [a["text"] for a in answers] == ["Недостаточно прав."] * 3
    assert bot.fake.messages_to(victim.id) == [] or who == "customer"  # nothing told to them


async def test_a_manager_sees_the_figures_of_their_own_customers(running: RunningBot) -> None:
    """The same report and charts as the owner's, over the customers of the codes linked to
    the manager (`sources.staff_id`); a code with their name linked to nobody is not theirs."""
    bot = running
    people = await _people(bot)  # one customer signed up without a source
    async with bot.sessions() as session:
        maria = await session.scalar(
            select(Staff.id).where(Staff.telegram_id == people["manager"].id)
        )
        oleg = await session.scalar(
            select(Staff.id).where(Staff.telegram_id == people["cashier"].id)
        )
        key = bot.settings.link_key
        mine = await sources.source_for(session, key, "Центр", "Касса", by=SHELL, staff_id=maria)
        theirs = await sources.source_for(session, key, "Центр", "Касса", by=SHELL, staff_id=oleg)
        namesake = await sources.source_for(session, key, "Центр", "Плакат", "Мария", by=SHELL)
    for payload in (mine.payload, mine.payload, theirs.payload, namesake.payload):
        await sign_up(bot, bot.new_user(), payload)
    head = await bot.say(people["manager"], "/stats")
    assert (head.text or "").startswith("<b>Ваши клиенты</b>: их привели ваши QR-коды (1).")
    figures = await bot.reply(people["manager"])
    assert "Клиентов: 2 (за эту неделю +2)" in (figures.text or "")
    charts = [await bot.reply(people["manager"]) for _ in range(5)]
    assert [c.method for c in charts] == ["sendMediaGroup"] * 5  # as the owner gets them
    await bot.quiet()
    owners = await bot.say(OWNER, "/stats")
    assert "Клиентов: 5 (за эту неделю +5)" in (owners.text or "")


@pytest.mark.parametrize("settings_overrides", [{"owner_ids": []}])
async def test_the_first_run_tells_how_to_become_the_owner(running: RunningBot) -> None:
    bot, someone = running, running.new_user()
    first = await bot.start_bot(someone)
    assert f"<code>clientbase owner add {someone.id}</code>" in (first.text or "")
    assert (await bot.say(someone, "/id")).text == f"Ваш Telegram id: <code>{someone.id}</code>"
    async with bot.sessions() as session:
        await team.add_owner(session, someone.id, "shell")  # what the shell command does
    console = await bot.start_bot(someone)
    assert "Вы — <b>владелец</b> магазина." in (console.text or "")
    assert (await bot.start_bot(bot.new_user())).text != first.text  # customers sign up now


async def test_two_people_opening_one_invite_make_one_member(running: RunningBot) -> None:
    bot = running
    first, second = bot.new_user(), bot.new_user()
    listing = await bot.say(OWNER, "/staff")
    invite = await bot.press(OWNER, listing, "➕ Пригласить: кассир")
    payload = (invite.text or "").split("start=")[1]
    bot.fake.send_start(first, payload)
    bot.fake.send_start(second, payload)
    answers = await asyncio.gather(bot.reply(first), bot.reply(second))
    texts = sorted(a.text or "" for a in answers)
    assert texts[0].startswith("Вы добавлены как кассир")
    assert texts[1].startswith("Эта ссылка уже использована")
    async with bot.sessions() as session:
        hired = list(await session.scalars(select(Staff.telegram_id)))
    assert len(hired) == 1 and hired[0] in (first.id, second.id)
