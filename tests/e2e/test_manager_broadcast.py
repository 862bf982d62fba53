"""A manager messages their own customers: `/broadcast` reaches only the customers their QR
codes brought (`sources.staff_id`), whatever segment they pick; `/campaigns` lists theirs only
and their buttons steer nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain.segments import SegmentFilter
from bot.sandbox.fake_telegram import FakeUser
from bot.services import audit, campaigns
from bot.services.permissions import SHELL
from bot.telegram.campaign_view import CampaignCb
from db.models import Campaign, Source, Staff
from tests.e2e.conftest import RunningBot
from tests.e2e.test_broadcast_chat import BASE, _answered, add_customers, campaign_rows
from tests.e2e.test_delivery import until


async def _setup(bot: RunningBot) -> tuple[FakeUser, dict[str, list[int]]]:
    manager = bot.new_user(first_name="Мария")
    async with bot.sessions() as session:
        maria = Staff(telegram_id=manager.id, role="manager", name="Мария", store="Центр")
        oleg = Staff(telegram_id=manager.id + 1, role="cashier", name="Олег", store="Центр")
        session.add_all([maria, oleg])
        await session.flush()
        mine = Source(store="Центр", campaign="Касса", employee="Мария", staff_id=maria.id)
        theirs = Source(store="Центр", campaign="Касса", employee="Олег", staff_id=oleg.id)
        namesake = Source(store="Центр", campaign="Плакат", employee="Мария")  # not linked
        session.add_all([mine, theirs, namesake])
        await session.commit()
        ids = (mine.id, theirs.id, namesake.id)
    chats = {
        "mine": await add_customers(bot, {"source_id": ids[0]}, {"source_id": ids[0]}),
        "others": await add_customers(
            bot, {"source_id": ids[1]}, {"source_id": ids[2]}, {"source_id": None}
        ),
    }
    return manager, chats


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_a_managers_broadcast_reaches_only_their_customers(running: RunningBot) -> None:
    bot = running
    manager, chats = await _setup(bot)
    menu = await bot.say(manager, "/broadcast")
    assert "Кому отправить?" in menu.text
    assert "👥 Все (2)" in menu.button_texts()  # "everyone" is everyone of theirs
    ask_text = await bot.press(manager, menu, "👥 Все (2)")
    assert "Пришлите текст рассылки" in ask_text.text
    button_q = await bot.say(manager, "Кофе дня за 99 ₽")
    await bot.press(manager, button_q, "Без кнопки")
    await bot.reply(manager)  # the preview
    confirm = await bot.reply(manager)
    assert "Получателей: <b>2</b>" in confirm.text
    await bot.press(manager, confirm, "🚀 Отправить сейчас")
    for chat in chats["mine"]:
        got = await bot.fake.next_message(chat, timeout=15)
        assert got.text == "Кофе дня за 99 ₽"

    async def sent() -> bool:
        async with bot.sessions() as session:
            return (await campaigns.progress(session, 1, 25)).left == 0

    await until(sent)
    await bot.quiet()
    for chat in chats["others"]:
        assert bot.fake.messages_to(chat) == []
    [campaign] = await campaign_rows(bot)
    assert campaign.created_by == audit.messenger_actor(manager.id)
    assert campaign.segment["source_ids"] == [1]  # the restriction is stored with it


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_campaigns_shows_a_manager_theirs_and_their_buttons_steer_nothing_else(
    running: RunningBot,
) -> None:
    bot = running
    manager, chats = await _setup(bot)
    async with bot.sessions() as session:  # the owner's draft, to everyone
        owners = await campaigns.create(
            session, text="Всем", segment=SegmentFilter(), by=SHELL, actor="shell", channel="shell"
        )
    assert (await bot.say(manager, "/campaigns")).text.startswith("Рассылок пока не было")
    # A forged button on the owner's campaign: the same answer as for one that does not exist.
    bot.fake.press_data(manager, CampaignCb(action="stop", id=owners.id).pack())
    await until(lambda: _answered(bot, "Такой рассылки нет"))
    bot.fake.press_data(manager, CampaignCb(action="open", id=owners.id).pack())
    await bot.quiet()
    async with bot.sessions() as session:
        state = await session.scalar(select(Campaign.state).where(Campaign.id == owners.id))
    assert state == "draft"
    assert all(bot.fake.messages_to(chat) == [] for chat in chats["mine"] + chats["others"])
