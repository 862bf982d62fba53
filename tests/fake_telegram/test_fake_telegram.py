"""The fake Bot API server, driven by a real aiogram Bot and Dispatcher over real HTTP."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.sandbox.fake_telegram import FakeTelegram, FakeUser

ANNA = FakeUser(id=1001, first_name="Anna", username="anna")
BORIS = FakeUser(id=1002, first_name="Boris", language_code=None)
PNG = b"\x89PNG\r\n\x1a\nnot really a card"


def make_router() -> Router:
    """A tiny bot: enough handlers to exercise each kind of traffic once."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"start:{command.args}")

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        like = InlineKeyboardButton(text="Like", callback_data="like")
        await message.answer("Menu", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[like]]))

    @router.message(Command("keyboard"))
    async def keyboard(message: Message) -> None:
        rows = [
            [KeyboardButton(text="Balance")],
            [KeyboardButton(text="Phone", request_contact=True)],
        ]
        await message.answer("Choose", reply_markup=ReplyKeyboardMarkup(keyboard=rows))

    @router.message(Command("photo"))
    async def photo(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(PNG, "card.png"), caption="Your card")

    @router.callback_query(F.data == "like")
    async def like(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Liked!")
        await query.answer("Thanks")

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(f"contact:{message.contact.phone_number}:{message.contact.user_id}")

    @router.message(F.text == "reply-in-response")
    async def reply_in_response(message: Message) -> SendMessage:
        # Returned, not awaited: with a webhook, aiogram puts the call into the HTTP response.
        return message.answer("answered in the webhook response")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return router


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    return Bot(token or fake.token, session=session)


async def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def was_called(fake: FakeTelegram, method: str) -> Callable[[], bool]:
    return lambda: any(name == method for name, _ in fake.calls)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


@pytest.fixture
async def polling(fake: FakeTelegram, bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher()
    dispatcher.include_router(make_router())
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await wait_until(was_called(fake, "getUpdates"))
    yield dispatcher
    await fake.wait_idle()
    await dispatcher.stop_polling()
    await task


@pytest.mark.usefixtures("polling")
async def test_text_round_trip(fake: FakeTelegram) -> None:
    fake.send_text(ANNA, "hello")

    reply = await fake.next_message(ANNA.id)

    assert (reply.method, reply.chat_id, reply.text) == ("sendMessage", ANNA.id, "hello")
    assert reply.message_id == 2  # ids are shared by both sides of a private chat
    assert fake.messages_to(ANNA.id) == [reply]


@pytest.mark.usefixtures("polling")
async def test_start_payload_and_contacts(fake: FakeTelegram) -> None:
    fake.send_start(ANNA, "ref_42")
    fake.send_start(BORIS)
    fake.share_contact(ANNA, "+79001234567")
    fake.share_contact(ANNA, "+79007654321", contact_user_id=None, first_name="Mum")

    assert (await fake.next_message(ANNA.id)).text == "start:ref_42"
    assert (await fake.next_message(BORIS.id)).text == "start:None"
    assert (await fake.next_message(ANNA.id)).text == "contact:+79001234567:1001"
    assert (await fake.next_message(ANNA.id)).text == "contact:+79007654321:None"


async def test_callback_press_edits_and_is_answered_once(
    fake: FakeTelegram, bot: Bot, polling: Dispatcher
) -> None:
    fake.send_text(ANNA, "/menu")
    menu = await fake.next_message(ANNA.id)
    assert menu.button_texts() == ["Like"]

    update = fake.press(ANNA, menu, "Like")
    edited = await fake.next_message(ANNA.id)

    assert (edited.message_id, edited.text, edited.edited) == (menu.message_id, "Liked!", True)
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert fake.sent[0].edited and len(fake.sent) == 1 and len(fake.history) == 2
    query_id = update["callback_query"]["id"]
    await fake.wait_idle()
    assert fake.answered_callbacks == [
        {"callback_query_id": query_id, "text": "Thanks", "show_alert": False}
    ]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(AssertionError, match=r"available: \[\]"):
        fake.press(ANNA, menu, "Like")


@pytest.mark.usefixtures("polling")
async def test_press_unknown_and_reply_keyboard_buttons(fake: FakeTelegram) -> None:
    fake.send_text(ANNA, "/menu")
    menu = await fake.next_message(ANNA.id)
    with pytest.raises(AssertionError, match=r"'Nope'.*\['Like'\]"):
        fake.press(ANNA, menu, "Nope")
    fake.press(ANNA, menu, "like")  # found by callback_data
    await fake.next_message(ANNA.id)

    fake.send_text(ANNA, "/keyboard")
    choose = await fake.next_message(ANNA.id)
    fake.press(ANNA, choose, "Balance")
    assert (await fake.next_message(ANNA.id)).text == "Balance"
    with pytest.raises(AssertionError, match="share_contact"):
        fake.press(ANNA, choose, "Phone")


async def test_photo_upload_is_stored_and_downloadable(
    fake: FakeTelegram, bot: Bot, polling: Dispatcher
) -> None:
    fake.send_text(ANNA, "/photo")

    photo = await fake.next_message(ANNA.id)

    assert (photo.method, photo.text, photo.file_name) == ("sendPhoto", "Your card", "card.png")
    assert photo.file_bytes == PNG
    assert photo.file_id is not None
    file = await bot.get_file(photo.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == PNG


async def test_injected_errors_raise_aiogram_exceptions(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_user(ANNA)
    fake.register_user(BORIS)
    fake.fail_next("sendMessage", retry_after=3)
    fake.fail_next("sendMessage", error_code=400, description="Bad Request: x", chat_id=BORIS.id)

    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(ANNA.id, "first try")
    assert retry.value.retry_after == 3
    assert (await bot.send_message(ANNA.id, "second try")).text == "second try"
    with pytest.raises(TelegramBadRequest, match="Bad Request: x"):
        await bot.send_message(BORIS.id, "only Boris fails")

    fake.block_user(ANNA.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA.id, "are you there?")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(4242, "stranger")


async def test_unknown_method_and_wrong_token(fake: FakeTelegram) -> None:
    url = f"{fake.url}/bot{fake.token}/sendTelepathy"
    async with aiohttp.ClientSession() as http, http.post(url) as response:
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    stranger = make_bot(fake, token="654321:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_edit_with_same_content_is_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_user(ANNA)
    sent = await bot.send_message(ANNA.id, "<b>Balance</b>: 10", parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Balance</b>: 10", chat_id=ANNA.id, message_id=sent.message_id
        )
    edited = await bot.edit_message_text(
        "<b>Balance</b>: 20", chat_id=ANNA.id, message_id=sent.message_id
    )

    assert isinstance(edited, Message) and edited.edit_date is not None
    assert fake.sent[0].text == "<b>Balance</b>: 20"


async def test_other_methods_return_objects_aiogram_accepts(fake: FakeTelegram, bot: Bot) -> None:
    user_message = fake.send_photo(ANNA, b"holiday", caption="look")["message"]

    assert (await bot.get_me()).username == "clientbase_test_bot"
    assert await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert fake.commands["default"] == [{"command": "start", "description": "Start"}]
    assert (await bot.get_chat(ANNA.id)).username == "anna"
    assert await bot.send_chat_action(ANNA.id, "typing")
    album = await bot.send_media_group(
        ANNA.id,
        [InputMediaPhoto(media=BufferedInputFile(PNG, "a.png")), InputMediaPhoto(media="some-id")],
    )
    assert [m.media_group_id is not None for m in album] == [True, True]
    copy = await bot.copy_message(ANNA.id, ANNA.id, user_message["message_id"])
    assert fake.messages_to(ANNA.id)[-1].text == "look"
    assert await bot.delete_message(ANNA.id, copy.message_id)
    assert fake.messages_to(ANNA.id)[-1].deleted
    downloaded = await bot.download(user_message["photo"][-1]["file_id"])
    assert downloaded is not None and downloaded.read() == b"holiday"


@pytest.mark.usefixtures("polling")
async def test_wait_idle_means_nothing_more_will_be_sent(fake: FakeTelegram) -> None:
    fake.send_text(ANNA, "one")
    fake.send_text(ANNA, "two")
    fake.send_sticker(ANNA)  # no handler: nothing is answered

    await fake.wait_idle()

    assert [m.text for m in fake.messages_to(ANNA.id)] == ["one", "two"]
    with pytest.raises(TimeoutError, match="nothing new was sent"):
        await fake.next_message(BORIS.id, timeout=0.1)


async def test_wait_idle_times_out_when_nobody_fetches(fake: FakeTelegram) -> None:
    fake.send_text(ANNA, "anyone?")
    with pytest.raises(TimeoutError, match="1 update"):
        await fake.wait_idle(timeout=0.2)


async def test_webhook_delivery(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(make_router())
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, secret_token="s3cret", handle_in_background=False
    ).register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await bot.set_webhook(hook_url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == hook_url
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()

        fake.send_text(ANNA, "via webhook")
        fake.send_text(ANNA, "reply-in-response")

        assert (await fake.next_message(ANNA.id)).text == "via webhook"
        assert (await fake.next_message(ANNA.id)).text == "answered in the webhook response"
        await fake.wait_idle()
        assert await bot.delete_webhook()
        assert await bot.get_updates() == []
    finally:
        await runner.cleanup()


async def test_clean_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    fake = FakeTelegram()
    await fake.start()
    bot = make_bot(fake)
    dispatcher = Dispatcher()
    dispatcher.include_router(make_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await wait_until(was_called(fake, "getUpdates"))
    fake.send_text(ANNA, "bye")
    assert (await fake.next_message(ANNA.id)).text == "bye"
    await fake.wait_idle()
    await dispatcher.stop_polling()  # cancels its hanging getUpdates
    await polling

    other = make_bot(fake)
    hanging = asyncio.create_task(other.get_updates(timeout=30))
    await wait_until(lambda: sum(name == "getUpdates" for name, _ in fake.calls) >= 3)
    await asyncio.wait_for(fake.stop(), timeout=2)  # releases the hanging long poll
    assert await asyncio.wait_for(hanging, timeout=1) == []
    await other.session.close()
    gc.collect()

    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert problems == []
