"""A fake Telegram Bot API server over real HTTP.

Why it exists: aiogram talks to Telegram over HTTP, so pointing a real ``aiogram.Bot`` at this
server (``TelegramAPIServer.from_base(fake.url)``) exercises the whole stack — request
serialization, error mapping to aiogram's exceptions, long polling and webhooks — with no
network access. The same object plays the users' side (``send_text``, ``press``, ...) and
records what the bot did (``sent``, ``next_message``), which is what both the end-to-end tests
and the terminal sandbox need.

It keeps only private chats with the users that wrote to the bot, and mimics the few
behaviours of the real API that bots trip over: "message is not modified", callback queries
answerable once, "chat not found", blocked users, retry-after errors and webhook conflicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import inspect
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
from aiohttp import web

__all__ = ["FakeTelegram", "FakeUser", "Faults", "SentMessage", "Stall", "UploadedFile"]

log = logging.getLogger(__name__)

IDLE_QUIET_PERIOD = 0.15  # seconds without Bot API requests after which the bot counts as idle
WEBHOOK_RETRY_DELAY = 0.3  # Telegram retries failed webhook deliveries; we do it quickly
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# aiogram sends complex values as JSON strings inside form data; these keys get decoded.
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "media",
        "commands", "scope", "menu_button", "link_preview_options", "reply_parameters",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "user_id",
        "reply_to_message_id", "message_thread_id", "cache_time", "max_connections",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
        "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
        "allow_paid_broadcast",
    }
)  # fmt: skip
MEDIA_KEYS = ("photo", "document", "video", "audio", "voice", "sticker")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass
class FakeUser:
    """A Telegram user who talks to the bot in a private chat (chat id == user id)."""

    id: int
    first_name: str = "Anna"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"

    def to_dict(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        return data | _present(
            last_name=self.last_name, username=self.username, language_code=self.language_code
        )

    def chat_dict(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of the private chat with this user."""
        data = {"id": self.id, "type": "private", "first_name": self.first_name}
        return data | _present(last_name=self.last_name, username=self.username)


@dataclass
class UploadedFile:
    """A file part of a multipart request (what aiogram sends for BufferedInputFile & co)."""

    file_name: str
    data: bytes


@dataclass
class SentMessage:
    """What the bot sent to a chat, or its current state after edits."""

    message_id: int
    chat_id: int
    method: str
    text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    file_bytes: bytes | None
    file_name: str | None
    edited: bool = False
    deleted: bool = False
    file_id: str | None = None  # the file_id the fake assigned (or reused) for photos/documents
    at: float = 0.0  # time.monotonic() when the fake received it (rate-limit checks)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button of the inline or reply keyboard, row by row, left to right."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]

    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons()]


class _ApiError(Exception):
    """An error answer of the Bot API; its JSON is what makes aiogram raise the right class."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


class _DropConnectionError(Exception):
    """Close the connection without an answer, as a network failure mid-request would."""


@dataclass
class _FaultRule:
    method: str
    make: Callable[[], Exception]
    every: int  # every n-th matching call (1: each one)
    times: int | None  # how many answers at most (None: no limit)
    chat_id: int | None = None  # only calls to this chat (None: any)
    seen: int = 0


class Faults:
    """Fault injection for the delivery engine's tests and benchmark (``fake.faults``).

    Separate from ``fail_next`` (one scripted failure): these are standing rules. Chosen calls
    answer 429 with retry_after, 5xx, or lose their connection; chosen chats answer 403; and
    ``flood_control`` emulates Telegram's own limits (overall per second and per chat). What
    was answered is counted in ``answered`` (e.g. ``answered[429]``).
    """

    def __init__(self) -> None:
        self._rules: list[_FaultRule] = []
        self._forbidden: dict[int, str] = {}
        self._flood: tuple[float, float, int] | None = None
        self._tokens = 0.0
        self._filled_at = 0.0
        self._chat_last: dict[int, float] = {}
        self.answered: dict[int | str, int] = {}

    def rate_limit(
        self,
        *,
        every: int = 1,
        times: int | None = None,
        retry_after: int = 1,
        method: str = "sendMessage",
        chat_id: int | None = None,
    ) -> None:
        """Every `every`-th call of `method` answers 429 "retry after `retry_after`"."""
        error = _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._rules.append(_FaultRule(method.lower(), lambda: error, every, times, chat_id))

    def server_error(
        self,
        *,
        every: int = 1,
        times: int | None = None,
        code: int = 502,
        method: str = "sendMessage",
        chat_id: int | None = None,
    ) -> None:
        error = _ApiError(code, "Bad Gateway" if code == 502 else "Internal Server Error")
        self._rules.append(_FaultRule(method.lower(), lambda: error, every, times, chat_id))

    def drop_connection(
        self,
        *,
        every: int = 1,
        times: int | None = None,
        method: str = "sendMessage",
        chat_id: int | None = None,
    ) -> None:
        """The server closes the connection without answering (after reading the request)."""
        self._rules.append(_FaultRule(method.lower(), _DropConnectionError, every, times, chat_id))

    def forbid(self, chat_ids: Iterable[int], description: str = BLOCKED) -> None:
        """Those chats answer 403 to every send, e.g. "Forbidden: user is deactivated"."""
        self._forbidden.update(dict.fromkeys(chat_ids, description))

    def flood_control(
        self, rate: float = 30.0, per_chat: float = 1.0, retry_after: int = 1
    ) -> None:
        """Answer 429 to sends beyond `rate` per second overall or one per `per_chat` s per chat.

        The overall limit is a token bucket holding one second's worth (`rate` tokens): a short
        burst passes, a sustained pace above `rate` runs it dry, as with Telegram.
        """
        self._flood = (rate, per_chat, retry_after)
        self._tokens, self._filled_at = rate, time.monotonic()

    def clear(self) -> None:
        self._rules.clear()
        self._forbidden.clear()
        self._flood = None

    def check(self, method: str, params: dict[str, Any]) -> None:
        """Raise the injected answer for this call, if any."""
        name = method.lower()
        if not name.startswith("send"):
            return
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self._forbidden:
            self._count(403)
            raise _ApiError(403, self._forbidden[chat_id])
        for rule in self._rules:
            if rule.method != name or (rule.times is not None and rule.times <= 0):
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            rule.seen += 1
            if rule.seen % rule.every == 0:
                if rule.times is not None:
                    rule.times -= 1
                error = rule.make()
                self._count(error.code if isinstance(error, _ApiError) else "dropped")
                raise error
        if self._flood is not None:
            self._flood_check(chat_id)

    def _flood_check(self, chat_id: Any) -> None:
        assert self._flood is not None
        rate, per_chat, retry_after = self._flood
        now = time.monotonic()
        self._tokens = min(rate, self._tokens + (now - self._filled_at) * rate)
        self._filled_at = now
        too_fast = self._tokens < 1.0
        chat_busy = isinstance(chat_id, int) and now - self._chat_last.get(chat_id, -1e9) < per_chat
        if too_fast or chat_busy:
            self._count(429)
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._tokens -= 1.0
        if isinstance(chat_id, int):
            self._chat_last[chat_id] = now

    def _count(self, key: int | str) -> None:
        self.answered[key] = self.answered.get(key, 0) + 1


@dataclass
class _Failure:
    method: str
    error: _ApiError
    chat_id: int | None


@dataclass
class Stall:
    """A Bot API method that does not answer until released: a slow or hanging Telegram.

    ``reached`` is set when the first call arrives and waits; ``release()`` lets every held
    call (and every later one) through.
    """

    method: str
    reached: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    released: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    data: bytes | None


class _Signal:
    """Wakes every coroutine waiting right now; later waiters wait for the next notify.

    The event is created lazily so the fake can be constructed outside a running loop.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, at_most: float | None) -> None:
        """Return on the next notify(), or after ``at_most`` seconds (None: no limit)."""
        if self._event is None:
            self._event = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), at_most)


class _Same(enum.Enum):
    """Sentinel for ``share_contact(contact_user_id=...)``: "the sender's own id"."""

    USER_ID = enum.auto()


def _present(**values: Any) -> dict[str, Any]:
    """Only the keys whose value is not None (the Bot API omits empty optional fields)."""
    return {key: value for key, value in values.items() if value is not None}


def _coerce(key: str, value: Any) -> Any:
    """Turn aiogram's form strings back into the types a JSON request would carry."""
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        with contextlib.suppress(ValueError):
            return json.loads(value)
    elif key in INT_FIELDS:
        with contextlib.suppress(ValueError):
            return int(value)
    elif key in BOOL_FIELDS:
        return value.lower() == "true"
    return value


def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode parameters and replace ``attach://name`` references with the uploaded files."""
    files = {key: value for key, value in raw.items() if isinstance(value, UploadedFile)}
    used: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            used.add(name)
            return files.get(name, value)
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    params = {k: resolve(_coerce(k, v)) for k, v in raw.items() if k not in files}
    # A file may also be uploaded directly under the parameter name (photo=<file>).
    params.update({key: file for key, file in files.items() if key not in used})
    return params


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a reply_markup that belongs to the message (Telegram drops empty ones)."""
    if markup and markup.get("inline_keyboard"):
        return markup
    return None


class FakeTelegram:
    """The fake Bot API server plus the simulated users' side. See the module docstring."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-fake-telegram-token-0123456789",
        bot_id: int = 123456,
        bot_username: str = "clientbase_test_bot",
        bot_first_name: str = "Clientbase",
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.url = ""
        # What the bot did.
        self.sent: list[SentMessage] = []
        self.history: list[SentMessage] = []  # a copy of every version (sends and edits)
        self.answered_callbacks: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # setMyCommands, keyed by scope type
        # Every setMyCommands by (scope type, chat id or None, language code or ""): see menu_for.
        self.scoped_commands: dict[tuple[str, int | None, str], list[dict[str, Any]]] = {}
        self.menu_button: dict[str, Any] | None = None
        # Chats, messages and files.
        self._users: dict[int, FakeUser] = {}
        self._blocked: set[int] = set()
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._message_base: dict[tuple[int, int], dict[str, Any]] = {}  # static Message JSON
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callbacks: dict[str, bool] = {}  # callback query id -> already answered
        self._ids = itertools.count(1)
        # Updates, polling and webhook.
        self._updates: list[dict[str, Any]] = []  # enqueued, not yet confirmed / delivered
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_client: aiohttp.ClientSession | None = None
        self._webhook_error: tuple[int, str] | None = None
        # Observation and lifecycle.
        self._chat_events: dict[int, list[SentMessage]] = {}
        self._cursors: dict[int, int] = {}
        self._failures: list[_Failure] = []
        self._stalls: list[Stall] = []
        self.faults = Faults()
        self._updates_signal = _Signal()
        self._sent_signal = _Signal()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": functools.partial(self._send_media, "photo"),
            "sendDocument": functools.partial(self._send_media, "document"),
            "sendVideo": functools.partial(self._send_media, "video"),
            "sendAudio": functools.partial(self._send_media, "audio"),
            "sendMediaGroup": self._send_media_group,
            "copyMessage": self._copy_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": lambda params: bool(self._chat(params)),
            "getChat": self._get_chat,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port) and return the base url for aiogram."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        self._stopping = False
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a getUpdates abandoned by aiogram at shutdown stops waiting.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        """Answer hanging getUpdates with [], stop webhook delivery and close the server."""
        self._stopping = True
        for stall in self._stalls:
            stall.release()
        self._updates_signal.notify()
        self._sent_signal.notify()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ acting as a user

    def register_user(self, user: FakeUser) -> None:
        """Make the chat known without an update, as if the user had written long ago."""
        self._users[user.id] = user

    def send_text(self, user: FakeUser, text: str) -> dict[str, Any]:
        """The user sends a text; a leading /command gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._user_message(user, content)

    def send_start(self, user: FakeUser, payload: str | None = None) -> dict[str, Any]:
        """The user opens the bot, possibly through a t.me/bot?start=<payload> deep link."""
        return self.send_text(user, f"/start {payload}" if payload else "/start")

    def share_contact(
        self,
        user: FakeUser,
        phone: str,
        *,
        contact_user_id: int | _Same | None = _Same.USER_ID,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """The user shares a contact: by default their own (user_id == sender id)."""
        user_id = user.id if contact_user_id is _Same.USER_ID else contact_user_id
        contact = {"phone_number": phone, "first_name": first_name or user.first_name}
        return self._user_message(user, {"contact": contact | _present(user_id=user_id)})

    def send_sticker(self, user: FakeUser) -> dict[str, Any]:
        stored = self._new_file("sticker", b"fake-sticker")
        return self._user_message(user, self._media_json("sticker", stored))

    def send_photo(
        self, user: FakeUser, data: bytes = b"fake-photo", caption: str | None = None
    ) -> dict[str, Any]:
        stored = self._new_file("photo", data)
        content = self._media_json("photo", stored) | _present(caption=caption)
        return self._user_message(user, content)

    def send_document(self, user: FakeUser, data: bytes, file_name: str) -> dict[str, Any]:
        stored = self._new_file("document", data)
        return self._user_message(user, self._media_json("document", stored, file_name))

    def send_voice(self, user: FakeUser, data: bytes = b"fake-voice") -> dict[str, Any]:
        stored = self._new_file("voice", data)
        return self._user_message(user, self._media_json("voice", stored))

    def send_location(self, user: FakeUser, lat: float, lon: float) -> dict[str, Any]:
        return self._user_message(user, {"location": {"latitude": lat, "longitude": lon}})

    def press(self, user: FakeUser, message: SentMessage, button: str) -> dict[str, Any]:
        """Press a button (by text, or by callback_data) of the message's current keyboard."""
        live = self._messages.get((message.chat_id, message.message_id), message)
        where = f"message {live.message_id} in chat {live.chat_id}"
        if live.chat_id != user.id:
            raise AssertionError(f"user {user.id} cannot see {where}")
        if live.deleted:
            raise AssertionError(f"{where} was deleted")
        buttons = live.buttons()
        found = next((b for b in buttons if b["text"] == button), None) or next(
            (b for b in buttons if b.get("callback_data") == button), None
        )
        if found is None:
            raise AssertionError(
                f"no button {button!r} on {where}; available: {live.button_texts()}"
            )
        if "inline_keyboard" in (live.reply_markup or {}):
            return self._press_inline(user, live, found)
        if found.get("request_contact"):
            raise AssertionError(f"{button!r} requests a contact: use share_contact() instead")
        if found.get("request_location"):
            raise AssertionError(f"{button!r} requests a location: use send_location() instead")
        return self.send_text(user, found["text"])

    def press_data(self, user: FakeUser, data: str) -> dict[str, Any]:
        """A callback with any data, as a modified client can send: no message needs to carry it."""
        self._users[user.id] = user
        query_id = f"{user.id}{next(self._ids):08d}"
        self._callbacks[query_id] = False
        query = {"id": query_id, "from": user.to_dict(), "chat_instance": "ci", "data": data}
        return self._enqueue({"callback_query": query})

    def push_update(self, update: dict[str, Any]) -> None:
        """Enqueue a raw update; an update_id is assigned when missing."""
        if "update_id" in update:
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self._updates.append(update)
            self._updates_signal.notify()
        else:
            self._enqueue(update)

    def _press_inline(
        self, user: FakeUser, live: SentMessage, button: dict[str, Any]
    ) -> dict[str, Any]:
        if "callback_data" not in button:
            raise AssertionError(f"inline button {button} has no callback_data to press")
        query_id = f"{user.id}{next(self._ids):08d}"
        self._callbacks[query_id] = False
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": self._render(live),
            "chat_instance": "ci",
            "data": button["callback_data"],
        }
        return self._enqueue({"callback_query": query})

    def _user_message(self, user: FakeUser, content: dict[str, Any]) -> dict[str, Any]:
        self._users[user.id] = user
        message_id = self._next_message_id(user.id)
        message = {
            "message_id": message_id,
            "from": user.to_dict(),
            "chat": user.chat_dict(),
            "date": int(time.time()),
            **content,
        }
        self._user_messages[(user.id, message_id)] = message
        return self._enqueue({"message": message})

    def _enqueue(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, **payload}
        self._updates.append(update)
        self._updates_signal.notify()
        return update

    # ------------------------------------------------------------------ observing the bot

    def block_user(self, chat_id: int) -> None:
        """From now on every delivery to that chat fails like for a user who blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next call of ``method`` (optionally only to ``chat_id``) fail.

        ``retry_after`` only goes into the answer of a 429, as in Telegram, so that
        ``fail_next(m, error_code=400, description=...)`` gives a plain TelegramBadRequest.
        """
        error = _ApiError(error_code, description, retry_after if error_code == 429 else None)
        self._failures.append(_Failure(method.lower(), error, chat_id))

    def stall(self, method: str) -> Stall:
        """Hold every call of ``method`` until ``release()`` (also released by ``stop()``)."""
        stall = Stall(method.lower())
        self._stalls.append(stall)
        return stall

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    async def next_message(self, chat_id: int, timeout: float = 20.0) -> SentMessage:
        """The next send or edit in that chat not yet returned by this method.

        The timeout is a ceiling for a loaded machine: a passing test never waits for it.

        Each event is a snapshot of the message at that moment, so a send followed by an
        edit yields two objects: the original and the edited version (``edited=True``).
        """
        deadline = time.monotonic() + timeout
        while True:
            events = self._chat_events.get(chat_id, [])
            cursor = self._cursors.get(chat_id, 0)
            if cursor < len(events):
                self._cursors[chat_id] = cursor + 1
                return events[cursor]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping:
                raise TimeoutError(
                    f"nothing new was sent to chat {chat_id} within {timeout} s; "
                    f"so far: {self._describe(events)}"
                )
            await self._sent_signal.wait(remaining)

    async def wait_idle(self, timeout: float = 20.0) -> None:
        """Wait until every update was fetched and no request came for IDLE_QUIET_PERIOD."""
        deadline = time.monotonic() + timeout
        while True:
            quiet_for = time.monotonic() - self._last_activity
            if not self._updates and not self._in_flight and quiet_for >= IDLE_QUIET_PERIOD:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"bot not idle after {timeout} s: {len(self._updates)} update(s) not "
                    f"fetched (is it polling / is the webhook reachable?), "
                    f"{self._in_flight} request(s) in flight"
                )
            await asyncio.sleep(0.02)

    @staticmethod
    def _describe(events: list[SentMessage]) -> str:
        if not events:
            return "nothing"
        lines = [
            f"#{m.message_id} {m.method}{' (edited)' if m.edited else ''} {m.text!r}"
            + (f" buttons={m.button_texts()}" if m.buttons() else "")
            for m in events
        ]
        return "; ".join(lines)

    def _publish(self, message: SentMessage) -> None:
        """Record a version of a message for history and next_message()."""
        snapshot = dataclasses.replace(message)
        self.history.append(snapshot)
        self._chat_events.setdefault(message.chat_id, []).append(snapshot)
        self._sent_signal.notify()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        self._touch()
        if request.match_info["token"] != self.token:
            return _ApiError(401, "Unauthorized").response()
        method = request.match_info["method"]
        work = 0 if method.lower() == "getupdates" else 1  # a hanging long poll is not work
        self._in_flight += work
        try:
            params = await self._read_params(request)
            self.faults.check(method, params)
            result = await self._call(method, params)
        except _DropConnectionError:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)
        except _ApiError as error:
            return error.response()
        except Exception as error:
            # A JSON error (not aiohttp's HTML 500) so aiogram shows what went wrong.
            log.exception("fake telegram: %s crashed", method)
            return _ApiError(500, f"Internal Server Error: fake telegram: {error!r}").response()
        finally:
            self._in_flight -= work
            self._touch()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _ApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.path == path), None)
        if stored is None or stored.data is None:
            return _ApiError(404, "Not Found").response()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json() if request.body_exists else {})
        elif request.body_exists:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(value.filename, value.file.read())
                else:
                    raw[key] = value
        return _normalize(raw)

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one Bot API method; shared by HTTP requests and webhook replies."""
        name, handler = self._methods.get(method.lower(), (method, None))
        self.calls.append((name, params))
        if handler is None:
            raise _ApiError(404, "Not Found: method not found")
        await self._wait_while_stalled(name)
        self._raise_injected_failure(name, params)
        result = handler(params)
        return await result if inspect.isawaitable(result) else result

    async def _wait_while_stalled(self, method: str) -> None:
        for stall in self._stalls:
            if stall.method == method.lower() and not stall.released.is_set():
                stall.reached.set()
                await stall.released.wait()

    def _raise_injected_failure(self, method: str, params: dict[str, Any]) -> None:
        for failure in self._failures:
            if failure.method == method.lower() and failure.chat_id in (
                None,
                params.get("chat_id"),
            ):
                self._failures.remove(failure)
                raise failure.error

    # ------------------------------------------------------------------ updates

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: answer as soon as an update >= offset exists, or [] after timeout."""
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()  # an older hanging getUpdates now gets a 409
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100), 1), 100)
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        self._confirm(offset)
        deadline = time.monotonic() + params.get("timeout", 0)
        while True:
            if self._webhook_url:
                raise _ApiError(409, WEBHOOK_CONFLICT)
            if generation != self._poll_generation:
                raise _ApiError(409, POLL_CONFLICT)
            if self._stopping:
                return []
            ready = [u for u in self._drop_not_allowed() if u["update_id"] >= offset][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                self._touch()
                return ready
            await self._updates_signal.wait(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by getUpdates(offset); a negative offset keeps the tail."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _drop_not_allowed(self) -> list[dict[str, Any]]:
        """Telegram never delivers update types outside allowed_updates: drop them."""
        allowed = self._allowed_updates
        if allowed:
            self._updates = [u for u in self._updates if any(kind in u for kind in allowed)]
        return self._updates

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        await self._stop_webhook()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        self._webhook_url = params.get("url", "")
        self._webhook_secret = params.get("secret_token")
        if self._webhook_url:
            self._webhook_client = aiohttp.ClientSession()
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        self._updates_signal.notify()  # a hanging getUpdates now gets its 409
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        await self._stop_webhook()
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._allowed_updates:
            info["allowed_updates"] = self._allowed_updates
        return info

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._webhook_client = self._webhook_client, None
        if client is not None:
            await client.close()

    async def _deliver_webhook(self) -> None:
        """POST updates to the webhook one at a time, in order, retrying until accepted."""
        while not self._stopping:
            pending = self._drop_not_allowed()
            if not pending:
                await self._updates_signal.wait(None)
                continue
            update = pending[0]
            if await self._post_update(update):
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                self._touch()
            else:
                await asyncio.sleep(WEBHOOK_RETRY_DELAY)

    async def _post_update(self, update: dict[str, Any]) -> bool:
        assert self._webhook_client is not None
        headers = {}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        self._in_flight += 1
        try:
            async with self._webhook_client.post(
                self._webhook_url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(10)
            ) as response:
                if not 200 <= response.status < 300:
                    self._note_webhook_error(f"Wrong response from the webhook: {response.status}")
                    return False
                reply = await self._read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            self._note_webhook_error(f"Connection failed: {error!r}")
            return False
        finally:
            self._in_flight -= 1
        if reply.get("method"):
            await self._run_webhook_reply(reply)
        return True

    def _note_webhook_error(self, message: str) -> None:
        log.warning("fake telegram webhook delivery failed: %s", message)
        self._webhook_error = (int(time.time()), message)

    @staticmethod
    async def _read_webhook_reply(response: aiohttp.ClientResponse) -> dict[str, Any]:
        """A webhook may answer with a method call (aiogram sends it as multipart form)."""
        if response.content_type != "multipart/form-data":
            body = await response.read()
            data = json.loads(body) if body.strip() else {}
            return data if isinstance(data, dict) else {}
        raw: dict[str, Any] = {}
        async for part in aiohttp.MultipartReader(response.headers, response.content):
            if isinstance(part, aiohttp.BodyPartReader) and part.name:
                if part.filename:
                    raw[part.name] = UploadedFile(part.filename, await part.read())
                else:
                    raw[part.name] = await part.text()
        return raw

    async def _run_webhook_reply(self, reply: dict[str, Any]) -> None:
        method = reply.pop("method")
        try:
            await self._call(method, _normalize(reply))
        except _ApiError as error:
            log.warning("fake telegram: webhook reply %s failed: %s", method, error)

    # ------------------------------------------------------------------ chats and files

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> FakeUser:
        """The target chat of a call, refusing blocked and unknown chats like Telegram."""
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self._blocked:
            raise _ApiError(403, BLOCKED)
        if chat_id not in self._users:
            raise _ApiError(400, CHAT_NOT_FOUND)
        return self._users[chat_id]

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id not in self._users:
            raise _ApiError(400, CHAT_NOT_FOUND)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return self._users[chat_id].chat_dict() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), True),
        }

    def _next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by both sides, as in Telegram private chats."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _new_file(self, kind: str, data: bytes | None) -> _StoredFile:
        number = next(self._ids)
        extension = {"photo": "jpg", "voice": "oga", "sticker": "webp"}.get(kind, "bin")
        stored = _StoredFile(
            file_id=f"FAKE-{kind}-{number}",
            file_unique_id=f"U{number}",
            path=f"{kind}s/file_{number}.{extension}",
            data=data,
        )
        self._files[stored.file_id] = stored
        return stored

    def _attach(self, kind: str, value: Any) -> tuple[_StoredFile, bytes | None, str | None]:
        """Store an uploaded file or accept a file_id / url: (stored file, bytes, name)."""
        if isinstance(value, UploadedFile):
            return self._new_file(kind, value.data), value.data, value.file_name
        if isinstance(value, str) and value:
            return self._files.get(value) or self._new_file(kind, None), None, value
        raise _ApiError(400, f"Bad Request: there is no {kind} in the request")

    @staticmethod
    def _media_json(kind: str, stored: _StoredFile, file_name: str | None = None) -> dict[str, Any]:
        """The Message field describing a file of that kind, with the required attributes."""
        ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if kind == "photo":
            return {
                "photo": [ids | {"width": 90, "height": 90}, ids | {"width": 800, "height": 800}]
            }
        extra: dict[str, Any] = {
            "document": _present(file_name=file_name),
            "video": {"width": 640, "height": 360, "duration": 1},
            "audio": {"duration": 1},
            "voice": {"duration": 1, "mime_type": "audio/ogg"},
            "sticker": {"type": "regular", "width": 512, "height": 512, "emoji": "👍"}
            | {"is_animated": False, "is_video": False},
        }[kind]
        return {kind: ids | extra}

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(params.get("file_id", ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        size = len(stored.data) if stored.data is not None else None
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.path,
        } | _present(file_size=size)

    # ------------------------------------------------------------------ sending

    def _new_bot_message(
        self,
        params: dict[str, Any],
        method: str,
        text: str | None,
        content: dict[str, Any] | None = None,
        file: tuple[_StoredFile, bytes | None, str | None] | None = None,
    ) -> SentMessage:
        """Validate and record one message from the bot; ``content`` is its media JSON."""
        user = self._chat(params)
        content = content or {}
        self._check_text(text, caption=bool(content))
        markup = params.get("reply_markup")
        self._check_markup(markup)
        message = SentMessage(
            message_id=self._next_message_id(user.id),
            chat_id=user.id,
            method=method,
            text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            file_bytes=file[1] if file else None,
            file_name=file[2] if file else None,
            file_id=file[0].file_id if file else None,
            at=time.monotonic(),
        )
        key = (user.id, message.message_id)
        self._message_base[key] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": user.chat_dict(),
            "date": int(time.time()),
            **content,
        }
        self._messages[key] = message
        self.sent.append(message)
        self._publish(message)
        return message

    @staticmethod
    def _check_text(text: str | None, *, caption: bool) -> None:
        if caption:
            if text and len(text) > MAX_CAPTION_LENGTH:
                raise _ApiError(400, "Bad Request: message caption is too long")
        elif not text or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        elif len(text) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is not None and not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _render(self, message: SentMessage) -> dict[str, Any]:
        """The Bot API ``Message`` object for the current state of a bot message."""
        data = dict(self._message_base[(message.chat_id, message.message_id)])
        if message.text is not None:
            data["caption" if self._has_media(message) else "text"] = message.text
        if markup := _inline_markup(message.reply_markup):
            data["reply_markup"] = markup
        if message.edited:
            data["edit_date"] = int(time.time())
        return data

    def _has_media(self, message: SentMessage) -> bool:
        base = self._message_base[(message.chat_id, message.message_id)]
        return any(key in base for key in (*MEDIA_KEYS, "location", "contact"))

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._render(self._new_bot_message(params, "sendMessage", params.get("text")))

    def _send_media(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        self._chat(params)  # chat errors take precedence over a missing file
        file = self._attach(kind, params.get(kind))
        content = self._media_json(kind, file[0], file[2] if file[1] is not None else None)
        method = f"send{kind.title()}"
        return self._render(
            self._new_bot_message(params, method, params.get("caption"), content, file)
        )

    def _send_media_group(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _ApiError(400, "Bad Request: wrong number of media in the group (2-10)")
        group_id = str(next(self._ids))
        results = []
        for item in media:
            kind = item.get("type", "photo")
            file = self._attach(kind, item.get("media"))
            content = self._media_json(kind, file[0], file[2] if file[1] is not None else None)
            item_params = params | _present(parse_mode=item.get("parse_mode"))
            message = self._new_bot_message(
                item_params, "sendMediaGroup", item.get("caption"), content, file
            )
            self._message_base[(message.chat_id, message.message_id)]["media_group_id"] = group_id
            results.append(self._render(message))
        return results

    def _copy_message(self, params: dict[str, Any]) -> dict[str, int]:
        key = (params.get("from_chat_id", 0), params.get("message_id", 0))
        source = self._user_messages.get(key)
        original = self._messages.get(key)
        if source is None and original is not None and not original.deleted:
            source = self._render(original)
        if source is None:
            raise _ApiError(400, "Bad Request: message to copy not found")
        content = {k: source[k] for k in (*MEDIA_KEYS, "location", "contact") if k in source}
        text = params.get("caption", source.get("text", source.get("caption")))
        message = self._new_bot_message(params, "copyMessage", text, content)
        return {"message_id": message.message_id}

    # ------------------------------------------------------------------ editing

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        if "inline_message_id" in params:
            raise _ApiError(400, "Bad Request: inline messages are not supported by the fake")
        user = self._chat(params)
        message = self._messages.get((user.id, params.get("message_id", 0)))
        if message is None or message.deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _apply_edit(
        self,
        message: SentMessage,
        text: str | None,
        parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Edit in place; like Telegram, omitting reply_markup removes the inline keyboard."""
        self._check_markup(markup)
        same_markup = _inline_markup(markup) == _inline_markup(message.reply_markup)
        if text == message.text and same_markup:
            raise _ApiError(400, NOT_MODIFIED)
        message.text, message.parse_mode = text, parse_mode
        message.reply_markup, message.edited = _inline_markup(markup), True
        self._publish(message)
        return self._render(message)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params)
        if self._has_media(message):
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        self._check_text(params.get("text"), caption=False)
        return self._apply_edit(
            message, params["text"], params.get("parse_mode"), params.get("reply_markup")
        )

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params)
        if not self._has_media(message):
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        self._check_text(params.get("caption"), caption=True)
        return self._apply_edit(
            message, params.get("caption"), params.get("parse_mode"), params.get("reply_markup")
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params)
        return self._apply_edit(
            message, message.text, message.parse_mode, params.get("reply_markup")
        )

    def _delete_message(self, params: dict[str, Any]) -> bool:
        key = (params.get("chat_id", 0), params.get("message_id", 0))
        message = self._messages.get(key)
        if message is not None and not message.deleted:
            message.deleted = True
        elif self._user_messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    # ------------------------------------------------------------------ misc methods

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._callbacks.get(query_id, True):
            raise _ApiError(400, QUERY_TOO_OLD)
        self._callbacks[query_id] = True
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "text": params.get("text"),
                "show_alert": bool(params.get("show_alert", False)),
            }
        )
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _command_key(params: dict[str, Any]) -> tuple[str, int | None, str]:
        scope = params.get("scope") or {}
        chat = scope.get("chat_id")
        return (
            scope.get("type", "default"),
            int(chat) if chat is not None else None,
            (params.get("language_code") or ""),
        )

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._command_key(params)
        commands = params.get("commands") or []
        for command in commands:
            name = str(command.get("command", ""))
            if (
                not (1 <= len(name) <= 32)
                or name != name.lower()
                or not name.replace("_", "").isalnum()
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.scoped_commands[key] = commands
        if not key[2]:
            self.commands[key[0]] = commands
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._command_key(params)
        self.scoped_commands.pop(key, None)
        if not key[2]:
            self.commands.pop(key[0], None)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.scoped_commands.get(self._command_key(params), [])

    def menu_for(self, chat_id: int, language: str = "") -> list[str]:
        """The command names a private chat's menu shows, resolved as Telegram does: the chat's
        scope in the user's language, then without one, then the default scope likewise."""
        for key in (
            ("chat", chat_id, language),
            ("chat", chat_id, ""),
            ("default", None, language),
            ("default", None, ""),
        ):
            if key in self.scoped_commands:
                return [str(c["command"]) for c in self.scoped_commands[key]]
        return []

    def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        self.menu_button = params.get("menu_button")
        return True
