"""The owner's broadcast from the messenger: /broadcast (segment built with buttons, text with a
photo and a link, preview, recipients, send now or at a time), the live progress message with
pause and cancel, /campaigns with results; refusals for others and for forged buttons."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from bot.domain.campaigns import CampaignState
from bot.domain.money import format_rub
from bot.sandbox.fake_telegram import FakeUser, SentMessage
from bot.services import campaigns, segments
from bot.telegram.broadcast import BroadcastCb
from bot.telegram.campaign_view import CampaignCb
from db.base import utcnow
from db.models import AuditEntry, Campaign, CampaignMember, Customer, Delivery, Purchase, Segment
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_delivery import until

BASE = {"quiet_hours": "", "broadcast_holdout_percent": 0}
LIVE = BASE | {"broadcast_progress_seconds": 0.2}
SLOW = BASE | {"delivery_rate": 10.0, "broadcast_progress_seconds": 3600}
OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")
TEXT_HTML = "<b>Скидка 20%</b> в субботу"


async def add_customers(bot: RunningBot, *people: dict[str, Any]) -> list[int]:
    """Active customers the fake knows; returns their Telegram ids."""
    async with bot.sessions() as session:
        first = (await session.scalar(select(func.max(Customer.id)))) or 0
        rows = [
            {
                "id": first + n + 1,
                "telegram_id": 700_000 + first + n + 1,
                "status": "active",
                "language": "ru",
                "interests": [],
                "ads_opt_in": True,
                "created_at": utcnow(),
                "ledger_version": 0,
            }
            | person
            for n, person in enumerate(people)
        ]
        await session.execute(insert(Customer), rows)
        await session.commit()
    for row in rows:
        bot.fake.register_user(FakeUser(id=row["telegram_id"]))
    return [row["telegram_id"] for row in rows]


def say_formatted(bot: RunningBot, user: FakeUser, text: str, entities: list[dict]) -> None:
    """A text with Telegram formatting entities (bold, links …), as a client sends it."""
    bot.fake.push_update(
        {
            "message": {
                "message_id": 50_000 + len(bot.fake.sent),
                "from": user.to_dict(),
                "chat": user.chat_dict(),
                "date": int(time.time()),
                "text": text,
                "entities": entities,
            }
        }
    )


async def compose(bot: RunningBot, first: SentMessage, *, link: str | None = None) -> SentMessage:
    """From the "send the text" question to the confirm message (text only, maybe a link)."""
    assert "Пришлите текст рассылки" in first.text
    button_q = await bot.say(OWNER, "Кофе дня за 99 ₽")
    if link:
        await bot.say(OWNER, link)
    else:
        await bot.press(OWNER, button_q, "Без кнопки")
    await bot.reply(OWNER)  # the preview itself
    return await bot.reply(OWNER)


async def campaign_rows(bot: RunningBot) -> list[Campaign]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(Campaign).order_by(Campaign.id)))


@pytest.mark.parametrize("settings_overrides", [LIVE])
async def test_owner_builds_a_segment_composes_previews_and_sends(running: RunningBot) -> None:
    bot = running
    anna, no_ads, man, moscow, vera = await add_customers(
        bot,
        {"gender": "female", "city": "Тверь"},
        {"gender": "female", "city": "Тверь", "ads_opt_in": False},
        {"gender": "male", "city": "Тверь"},
        {"gender": "female", "city": "Москва"},
        {"gender": "female", "city": "Тверь"},
    )

    menu = await bot.say(OWNER, "/broadcast")
    assert "Кому отправить?" in menu.text
    assert menu.button_texts()[-3:] == ["👥 Все (4)", "🎛 Собрать фильтры", "✖️ Отмена"]
    builder = await bot.press(OWNER, menu, "🎛 Собрать фильтры")
    assert "все клиенты" in builder.text and "Получателей: <b>4</b>" in builder.text

    stages = await bot.press(OWNER, builder, "Этап: любой")
    assert "без покупок" in stages.button_texts() and "VIP" in stages.button_texts()
    builder = await bot.press(OWNER, stages, "без покупок")
    assert builder.edited and "Этап: без покупок" in builder.text
    genders = await bot.press(OWNER, builder, "Пол: любой")
    builder = await bot.press(OWNER, genders, "Женский")
    assert "Получателей: <b>3</b>" in builder.text
    cities = await bot.press(OWNER, builder, "Город: любой")
    cities = await bot.press(OWNER, cities, "Тверь")
    assert "✅ Тверь" in cities.button_texts() and "Получателей: <b>2</b>" in cities.text
    builder = await bot.press(OWNER, cities, "Готово ✔️")
    assert "Город: Тверь" in builder.text and "(в сегменте 3)" in builder.text

    ask_name = await bot.press(OWNER, builder, "💾 Сохранить сегмент")
    assert "Как назвать сегмент?" in ask_name.text
    saved = await bot.say(OWNER, "Тверь, женщины")
    assert saved.text == "💾 Сегмент «Тверь, женщины» сохранён."
    ask_text = await bot.reply(OWNER)
    assert "Пришлите текст рассылки" in ask_text.text

    bot.fake.send_photo(OWNER, b"sale-poster")
    assert "Фото есть" in (await bot.reply(OWNER)).text
    say_formatted(bot, OWNER, "Скидка 20% в субботу", [{"type": "bold", "offset": 0, "length": 10}])
    ask_button = await bot.reply(OWNER)
    assert ask_button.button_texts() == ["Без кнопки", "✖️ Отмена"]
    bad = await bot.say(OWNER, "javascript:alert(1)")
    assert "Это не ссылка" in bad.text
    title = await bot.say(OWNER, "https://example.com/sale")
    assert title.text == "👀 Так сообщение увидят клиенты:"
    preview = await bot.reply(OWNER)
    assert preview.method == "sendPhoto" and preview.text == TEXT_HTML
    assert preview.button_texts() == ["Подробнее", "🔕 Отписаться от рассылки"]
    assert preview.buttons()[0]["url"] == "https://example.com/sale"
    confirm = await bot.reply(OWNER)
    assert "Получателей: <b>2</b>" in confirm.text
    assert confirm.button_texts() == ["🚀 Отправить сейчас", "🕒 Запланировать", "✖️ Отмена"]
    bot.fake.press(OWNER, preview, "🔕 Отписаться от рассылки")  # the preview's: explains only
    await until(lambda: _answered(bot, "Это предпросмотр"))
    assert await campaign_rows(bot) == []  # nothing stored before "send now"

    progress = await bot.press(OWNER, confirm, "🚀 Отправить сейчас")
    assert "Рассылка №" in progress.text and "идёт" in progress.text
    # Answered at once: the recipients may still be being prepared in the background.
    assert progress.button_texts()[0] == "🔄 Обновить"
    assert progress.button_texts()[-2:] == ["⛔ Остановить", "📊 Итоги"]
    for chat in (anna, vera):
        got = await bot.fake.next_message(chat, timeout=15)
        assert got.method == "sendPhoto" and got.text == TEXT_HTML
        assert got.button_texts() == ["Подробнее", "🔕 Отписаться от рассылки"]
    live = next(
        m for m in bot.fake.sent if m.message_id == progress.message_id and m.chat_id == OWNER_ID
    )

    async def finished() -> bool:
        return "Отправлено: 2" in (live.text or "") and "Осталось: 0" in (live.text or "")

    await until(finished)  # the same message, edited in place by the watcher
    await bot.quiet()
    for chat, expected in ((anna, 1), (vera, 1), (no_ads, 0), (man, 0), (moscow, 0)):
        assert len(bot.fake.messages_to(chat)) == expected
    [campaign] = await campaign_rows(bot)
    assert campaign.segment_name == "Тверь, женщины" and campaign.photo_file_id
    assert campaign.button_url == "https://example.com/sale" and campaign.text == TEXT_HTML
    async with bot.sessions() as session:
        saved_segment = await session.scalar(select(Segment))
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert saved_segment is not None and saved_segment.definition == {
        "lifecycle": "potential",
        "gender": "female",
        "cities": ["Тверь"],
    }
    assert actions[-3:] == ["segment_saved", "campaign_created", "campaign_started"]


async def started(bot: RunningBot, campaign_id: int = 1) -> bool:
    """The campaign's recipients are all queued (the background start is through)."""
    async with bot.sessions() as session:
        got = await campaigns.progress(session, campaign_id, 25)
    return got.state is CampaignState.RUNNING and not got.preparing


async def _answered(bot: RunningBot, text: str) -> bool:
    return any(text in (a["text"] or "") for a in bot.fake.answered_callbacks)


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_a_scheduled_broadcast_starts_at_its_time(running: RunningBot) -> None:
    bot = running
    chats = await add_customers(bot, {}, {}, {"ads_opt_in": False})
    menu = await bot.say(OWNER, "/broadcast")
    confirm = await compose(bot, await bot.press(OWNER, menu, "👥 Все (2)"))
    ask = await bot.press(OWNER, confirm, "🕒 Запланировать")
    assert "Europe/Moscow" in ask.text
    assert "Не получилось прочитать время «завтра»" in (await bot.say(OWNER, "завтра")).text
    assert "уже прошло" in (await bot.say(OWNER, "2020-01-01 10:00")).text
    assert "Не получилось" in (await bot.say(OWNER, "31.02 10:00")).text
    at = (datetime.now(bot.settings.zone) + timedelta(days=1)).replace(second=0, microsecond=0)
    done = await bot.say(OWNER, f"{at:%d.%m %H:%M}")
    assert f"запланирована на {at:%Y-%m-%d %H:%M}" in done.text and "получателей: 2" in done.text

    [campaign] = await campaign_rows(bot)
    assert campaign.state == "scheduled" and campaign.start_at == at.astimezone(UTC)
    rules = segments.rules_from(bot.settings)
    assert (await campaigns.tick(bot.sessions, rules)).started == []  # not yet
    async with bot.sessions() as session:  # … and now its time has come
        await session.execute(update(Campaign).values(start_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert len((await campaigns.tick(bot.sessions, rules)).started) == 1
    assert len((await campaigns.tick(bot.sessions, rules)).started) == 0
    for chat in chats[:2]:
        assert (await bot.fake.next_message(chat, timeout=15)).text == "Кофе дня за 99 ₽"
    await bot.quiet()
    assert [len(bot.fake.messages_to(chat)) for chat in chats] == [1, 1, 0]


@pytest.mark.parametrize("settings_overrides", [SLOW])
async def test_pause_and_cancel_from_the_progress_message(running: RunningBot) -> None:
    bot = running
    chats = set(await add_customers(bot, *([{}] * 120)))
    menu = await bot.say(OWNER, "/broadcast")
    confirm = await compose(bot, await bot.press(OWNER, menu, "👥 Все (120)"))
    progress = await bot.press(OWNER, confirm, "🚀 Отправить сейчас")
    await until(lambda: started(bot))  # expanded in the background after the answer
    progress = await bot.press(OWNER, progress, "🔄 Обновить")
    paused = await bot.press(OWNER, progress, "⏸ Пауза")
    assert paused.edited and "на паузе" in paused.text
    assert paused.button_texts() == ["🔄 Обновить", "▶️ Продолжить", "⛔ Остановить", "📊 Итоги"]

    async def nothing_in_flight() -> bool:
        async with bot.sessions() as session:
            sending = await session.scalar(select(func.count()).where(Delivery.state == "sending"))
        return sending == 0

    await until(nothing_in_flight)  # the batch a worker held when paused goes out, no more
    await bot.quiet()
    sent_while_paused = sum(1 for m in bot.fake.sent if m.chat_id in chats)
    assert sent_while_paused < 120
    refreshed = await bot.press(OWNER, paused, "🔄 Обновить")
    assert f"Отправлено: {sent_while_paused}" in refreshed.text

    stopped = await bot.press(OWNER, refreshed, "⛔ Остановить")
    assert "остановлена" in stopped.text and "Пропущено: " in stopped.text
    assert stopped.button_texts() == ["🔄 Обновить", "📊 Итоги"]
    bot.fake.press_data(OWNER, CampaignCb(action="resume", id=1).pack())
    await until(lambda: _answered(bot, "Уже нельзя: рассылка остановлена"))
    await bot.quiet()
    assert sum(1 for m in bot.fake.sent if m.chat_id in chats) == sent_while_paused
    [campaign] = await campaign_rows(bot)
    assert campaign.state == CampaignState.CANCELLED


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_others_and_forged_buttons_are_refused(running: RunningBot) -> None:
    bot = running
    await add_customers(bot, {}, {})
    stranger = bot.new_user()
    assert (await bot.say(stranger, "/broadcast")).text.startswith("Эта команда доступна только")
    assert (await bot.say(stranger, "/campaigns")).text.startswith("Эта команда доступна только")
    bot.fake.press_data(stranger, BroadcastCb(step="confirm", action="now").pack())
    await until(lambda: _answered(bot, "Уже сделано"))

    # The owner's broadcast is running; a stranger's forged "cancel" changes nothing.
    menu = await bot.say(OWNER, "/broadcast")
    ask_text = await bot.press(OWNER, menu, "👥 Все (2)")
    # Out of step: the confirm button pressed while the text is awaited does nothing.
    bot.fake.press_data(OWNER, BroadcastCb(step="confirm", action="now").pack())
    await bot.quiet()
    assert await campaign_rows(bot) == []
    confirm = await compose(bot, ask_text)
    await bot.press(OWNER, confirm, "🚀 Отправить сейчас")
    [campaign] = await campaign_rows(bot)
    bot.fake.press_data(stranger, CampaignCb(action="stop", id=campaign.id).pack())
    await until(lambda: _answered(bot, "Эта команда доступна только"))
    # A filter value not on offer, forged by the owner: refused, the form unchanged.
    menu = await bot.say(OWNER, "/broadcast")
    builder = await bot.press(OWNER, menu, "🎛 Собрать фильтры")
    forged = BroadcastCb(step="filters", action="set", value="cities=9")
    bot.fake.press_data(OWNER, forged.pack())
    assert "Такой фильтр не подходит" in (await bot.reply(OWNER)).text
    bot.fake.press_data(OWNER, CampaignCb(action="stop", id=999).pack())
    await until(lambda: _answered(bot, "Такой рассылки нет"))
    await bot.quiet()
    [after] = await campaign_rows(bot)
    assert after.state in ("running", "done") and builder.text


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_cancel_leaves_the_form_at_any_step(running: RunningBot) -> None:
    bot = running
    await add_customers(bot, {})
    menu = await bot.say(OWNER, "/broadcast")
    builder = await bot.press(OWNER, menu, "🎛 Собрать фильтры")
    assert (await bot.say(OWNER, "/cancel")).text == "Отменено."
    bot.fake.press(OWNER, builder, "Далее ➡️")  # the old form's button: acts no more
    await until(lambda: _answered(bot, "Уже сделано"))
    menu = await bot.say(OWNER, "/broadcast")
    ask_text = await bot.press(OWNER, menu, "👥 Все (1)")
    listing = await bot.say(OWNER, "/campaigns")  # a command mid-form is that command
    assert listing.text.startswith("Рассылок пока не было")
    confirm = await compose(bot, ask_text)  # … and the form goes on where it was
    ask_time = await bot.press(OWNER, confirm, "🕒 Запланировать")
    assert (await bot.press(OWNER, ask_time, "✖️ Отмена")).text == "Отменено."
    assert (await bot.say(OWNER, "31.12 10:00")).text != "🕒"  # no longer the form's answer
    await bot.quiet()
    assert await campaign_rows(bot) == []


@pytest.mark.parametrize("settings_overrides", [BASE | {"broadcast_holdout_percent": 50}])
async def test_campaigns_lists_and_shows_results(running: RunningBot) -> None:
    bot = running
    assert (await bot.say(OWNER, "/campaigns")).text.startswith("Рассылок пока не было")
    await add_customers(bot, *([{}] * 20))
    menu = await bot.say(OWNER, "/broadcast")
    confirm = await compose(bot, await bot.press(OWNER, menu, "👥 Все (20)"))
    assert "Контрольная группа: 50%" in confirm.text
    await bot.press(OWNER, confirm, "🚀 Отправить сейчас")

    async def all_sent() -> bool:
        async with bot.sessions() as session:
            got = await campaigns.progress(session, 1, 25)
        return got.left == 0 and not got.preparing and got.state is not CampaignState.SCHEDULED

    await until(all_sent)
    await campaigns.tick(bot.sessions, segments.rules_from(bot.settings))  # marks it done
    [campaign] = await campaign_rows(bot)
    queued, held = campaign.targeted - campaign.held_out, campaign.held_out
    async with bot.sessions() as session:  # each recipient buys for 1 000 ₽, the holdout 500 ₽
        members = (
            await session.execute(select(CampaignMember.customer_id, CampaignMember.holdout))
        ).all()
        for customer_id, holdout in members:
            await session.execute(
                insert(Purchase).values(
                    customer_id=customer_id,
                    amount=50_000 if holdout else 100_000,
                    channel="test",
                    created_at=utcnow(),
                )
            )
        await session.commit()

    listing = await bot.say(OWNER, "/campaigns")
    assert "последние 1" in listing.text
    [entry] = listing.button_texts()
    assert entry.startswith("№1 · завершена · Кофе дня")
    card = await bot.press(OWNER, listing, entry)
    assert card.edited and f"Отправлено {queued} из {queued}" in card.text
    assert f"Доставлено: {queued}, не доставлено: 0, заблокировали бота: 0" in card.text
    assert f"Получатели ({queued}): купили {queued}, покупок {queued}" in card.text
    assert f"Контрольная группа ({held}): купили {held}, покупок {held}" in card.text
    lift = format_rub(queued * 50_000) if held else "— (нет контрольной группы)"
    assert f"Дополнительная выручка: <b>{lift}</b>" in card.text
    assert card.button_texts() == ["🔄 Обновить", "⬅️ К списку"]  # done: nothing to pause
    back = await bot.press(OWNER, card, "⬅️ К списку")
    assert back.button_texts() == [entry]
