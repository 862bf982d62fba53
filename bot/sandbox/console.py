"""The local sandbox: the real bot, a fake Telegram on loopback, and a chat in the terminal.

`clientbase` without BOT_TOKEN lands here. A person types as a customer (or as the owner) and
sees the bot's replies as Telegram would show them, with numbered buttons to press. Nothing
leaves the computer: the fake Bot API server (`bot.sandbox.fake_telegram`) listens on
127.0.0.1, and the data goes to the sandbox's own database (./clientbase-sandbox.db, or
SANDBOX_DATABASE_URL, or `clientbase sandbox --database-url`), never to the shop's DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from bot.logs import KeyValueFormatter, setup_logging
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser, SentMessage
from bot.services.permissions import SHELL
from bot.settings import Settings, SettingsError, async_database_url

if TYPE_CHECKING:  # aiogram takes seconds to import: run_sandbox says "starting" first
    from bot.app import App

__all__ = ["render_html", "run_sandbox", "sandbox_settings"]

SANDBOX_TOKEN = "123456:SANDBOX"
FILES_DIR = "sandbox-files"
LOG_FILE = "sandbox.log"  # in FILES_DIR: warnings must not land in the middle of the chat
OWNER_ID, OWNER_NAME = 1, "Owner"
CUSTOMER_ID, CUSTOMER_NAME = 1001, "Анна"
NEW_USER_IDS = range(2000, 10_000_000)  # ids of people added with /as NAME
DEMO_STORE, DEMO_CAMPAIGN = "Демо-магазин", "Плакат"
POLLING_TIMEOUT = 10  # seconds a getUpdates waits; quitting cancels it anyway
SETTLE_TIMEOUT = 10.0  # at most this long waiting for the bot to finish answering a line
PRINT_INTERVAL = 0.05  # how often late messages (e.g. to another user) are looked for
MAX_WIDTH = 100  # columns of text at most, for readability on wide terminals
INDENT = "   "  # under "🤖 ", which is three columns wide

BOLD, NOT_BOLD, DIM, NORMAL = "\033[1m", "\033[22m", "\033[2m", "\033[22m"
CLEAR_LINE = "\r\033[K"
MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendMediaGroup": "media",
}

Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


# --------------------------------------------------------------------------- settings


def sandbox_settings(settings: Settings, api_url: str, database_url: str | None = None) -> Settings:
    """The user's settings with the sandbox's token, fake server, database and owner.

    The data goes to the sandbox's own database (`database_url`, else SANDBOX_DATABASE_URL,
    else ./clientbase-sandbox.db), never to DATABASE_URL: demo customers must not appear in the
    shop's base. Forms stay in the database: Redis only matters for several processes.
    """
    if database_url is not None:
        try:
            database_url = async_database_url(database_url)
        except ValueError as error:
            raise SettingsError(f"--database-url: {error}") from None
    owners = list(settings.owner_ids)
    if OWNER_ID not in owners:
        owners.append(OWNER_ID)
    return settings.model_copy(
        update={
            "bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": api_url,
            "database_url": database_url or settings.sandbox_database_url,
            "redis_url": None,
            "webhook_url": None,
            "owner_ids": owners,
            "log_level": "WARNING",
        }
    )


def _describe_database(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            return str(Path(database).resolve())
        return "memory (lost on exit)"
    return parsed.render_as_string(hide_password=True)


# --------------------------------------------------------------------------- rendering


class _TerminalHtml(HTMLParser):
    """Telegram's HTML subset as terminal text: bold kept (ANSI), links spelled out.

    Entities come out unescaped (`convert_charrefs`), other tags are dropped, text kept.
    """

    def __init__(self, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._ansi = ansi
        self.bold = 0
        self._links: list[tuple[str, int]] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("b", "strong"):
            if self.bold == 0 and self._ansi:
                self.parts.append(BOLD)
            self.bold += 1
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong") and self.bold:
            self.bold -= 1
            if self.bold == 0 and self._ansi:
                self.parts.append(NOT_BOLD)
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            if href and href != text:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def render_html(text: str, parse_mode: str | None = "HTML", *, ansi: bool = False) -> str:
    """A message's text for a terminal: `<b>` bold (ANSI) or plain, `<a>` as `text (url)`."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _TerminalHtml(ansi)
    parser.feed(text)
    parser.close()
    if ansi and parser.bold:
        parser.parts.append(NOT_BOLD)  # an unclosed <b> must not make the whole terminal bold
    return "".join(parser.parts)


def _phone_of(user: FakeUser) -> str:
    """A stable fake number for a sandbox user: id 1001 -> +7 916 000-10-01."""
    digits = f"{user.id % 10_000_000:07d}"
    return f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _file_extension(data: bytes, kind: str) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"%PDF"):
        return ".pdf"
    return ".jpg" if kind == "photo" else ".bin"


# --------------------------------------------------------------------------- input


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines of stdin, read in a daemon thread so the event loop (and the bot) keeps going.

    A daemon thread, not `asyncio.to_thread`: a thread blocked in `readline` must not keep the
    process alive after /quit or Ctrl-C.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]

    def put(item: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody listens any more
            return False
        return True

    def pump() -> None:
        try:
            while line := sys.stdin.readline():
                if not put(line.rstrip("\r\n")):
                    return
        except (OSError, ValueError):
            pass
        put(None)

    threading.Thread(target=pump, name="sandbox-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


# --------------------------------------------------------------------------- the console


class _BusyCounter:
    """An outer middleware counting the updates being handled, so the console knows when the
    bot has finished answering (aiogram takes any callable of this shape)."""

    def __init__(self) -> None:
        self.busy = 0

    async def __call__(self, handler: Handler, event: Any, data: dict[str, Any]) -> Any:
        self.busy += 1
        try:
            return await handler(event, data)
        finally:
            self.busy -= 1


@dataclass
class _Console:
    fake: FakeTelegram
    settings: Settings
    write: Callable[[str], None]
    interactive: bool
    ansi: bool
    demo_payload: str
    busy: _BusyCounter
    has_account: Callable[[int], Awaitable[bool]] | None = None

    def __post_init__(self) -> None:
        self.database = _describe_database(self.settings.database_url)
        self.owner = FakeUser(id=OWNER_ID, first_name=OWNER_NAME, language_code="ru")
        self.current = FakeUser(id=CUSTOMER_ID, first_name=CUSTOMER_NAME, language_code="ru")
        self.users: dict[str, FakeUser] = {}
        for user in (self.owner, self.current):
            self._add_user(user)
        for owner_id in self.settings.owner_ids:  # owners from OWNER_IDS get alerts too
            if owner_id != OWNER_ID:
                self._add_user(FakeUser(id=owner_id, first_name=f"Owner{owner_id}"))
        self._shown = 0  # of fake.history
        self._answers_shown = 0  # of fake.answered_callbacks
        self._query_users: dict[str, int] = {}
        self._prompt_visible = False
        self._printed = False

    # ---------------------------------------------------------------- users

    def _add_user(self, user: FakeUser) -> None:
        self.users[user.first_name.casefold()] = user
        self.fake.register_user(user)

    def _new_id(self, name: str) -> int:
        """The same id for the same name in every run, so `/as Борис` tomorrow finds the
        account (and any half-filled form) Борис left in the sandbox's base today."""
        user_id = NEW_USER_IDS.start + zlib.crc32(name.casefold().encode()) % len(NEW_USER_IDS)
        while self._user_by_id(user_id) is not None:
            user_id += 1
        return user_id

    def _user_by_id(self, user_id: int) -> FakeUser | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def _name(self, user_id: int) -> str:
        user = self._user_by_id(user_id)
        return user.first_name if user else str(user_id)

    @property
    def prompt(self) -> str:
        return f"{self.current.first_name}> "

    # ---------------------------------------------------------------- output

    def _dim(self, text: str) -> str:
        return f"{DIM}{text}{NORMAL}" if self.ansi else text

    def out(self, text: str) -> None:
        """Print a block; at an open prompt, clear it first and draw it again after."""
        self._printed = True
        if self._prompt_visible:
            sys.stdout.write(CLEAR_LINE)
        self.write(text)
        if self._prompt_visible:
            sys.stdout.write(self.prompt)
        if self.write is print:
            sys.stdout.flush()

    def show_prompt(self) -> None:
        if self.interactive and not self._prompt_visible:
            if self._printed:  # a blank line between one exchange and the next
                sys.stdout.write("\n")
            sys.stdout.write(self.prompt)
            sys.stdout.flush()
            self._prompt_visible = True

    def input_taken(self, line: str) -> None:
        """The prompt line is done; without a terminal, echo it so the transcript reads well."""
        self._prompt_visible = self._printed = False
        if not self.interactive:
            self.out(f"{self.prompt}{line}")

    def drain(self) -> None:
        """Print everything the bot did since the last call, in order."""
        answers = self.fake.answered_callbacks
        while self._answers_shown < len(answers):
            answer = answers[self._answers_shown]
            self._answers_shown += 1
            if answer.get("text"):
                self._show_notice(answer)
        history = self.fake.history
        while self._shown < len(history):
            message = history[self._shown]
            self._shown += 1
            if not message.deleted:
                self.out(self._format(message))

    def _show_notice(self, answer: dict[str, Any]) -> None:
        """A callback answer: Telegram shows it as a toast (or an alert) over the chat."""
        user_id = self._query_users.get(answer["callback_query_id"], self.current.id)
        whom = "" if user_id == self.current.id else f" → {self._name(user_id)}"
        kind = "alert" if answer.get("show_alert") else "notice"
        self.out(self._dim(f"🤖{whom} ({kind}) {answer['text']}"))

    def _format(self, message: SentMessage) -> str:
        header = "🤖"
        if message.chat_id != self.current.id:
            header += f" → {self._name(message.chat_id)}:"
        if message.edited:
            header += " (edited)"
        body: list[str] = []
        if message.method in MEDIA_METHODS:
            body.append(self._media_line(message))
        if message.text:
            rendered = render_html(message.text, message.parse_mode, ansi=self.ansi)
            body.extend(rendered.split("\n"))
        body.extend(self._keyboard_lines(message))
        if not body:
            body = [""]
        body = self._wrap(body)
        if message.chat_id != self.current.id:
            lines = [header, *(INDENT + line for line in body)]
        else:
            lines = [f"{header} {body[0]}", *(INDENT + line for line in body[1:])]
        return "\n".join(line.rstrip() for line in lines)

    def _wrap(self, lines: list[str]) -> list[str]:
        """In a terminal, long lines wrap under the indent instead of at the screen's edge."""
        if not self.interactive:
            return lines
        width = min(shutil.get_terminal_size().columns, MAX_WIDTH) - len(INDENT) - 1
        wrapped: list[str] = []
        for line in lines:
            wrapped.extend(textwrap.wrap(line, width, break_on_hyphens=False) or [""])
        return wrapped

    def _keyboard_lines(self, message: SentMessage) -> list[str]:
        markup = message.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        lines, number = [], 0
        for row in rows:
            cells = []
            for raw in row:
                button = raw if isinstance(raw, dict) else {"text": raw}
                number += 1
                label = button.get("text", "")
                if button.get("url"):
                    label += f" ({button['url']})"
                cells.append(f"[{number}] {label}")
            lines.append("   ".join(cells))
        return lines

    def _media_line(self, message: SentMessage) -> str:
        kind = MEDIA_METHODS[message.method]
        if message.file_bytes is None:
            return f"[{kind}: {message.file_name or message.file_id}]"
        line = f"[{kind}: {len(message.file_bytes)} bytes]"
        try:
            path = self._save(message, kind)
        except OSError as error:
            return f"{line} (not saved: {error})"
        return f"{line} saved to {path}"

    def _save(self, message: SentMessage, kind: str) -> Path:
        """Under the name the bot gave the file (e.g. `…_a4.pdf`), so a poster says its size."""
        assert message.file_bytes is not None
        folder = Path(FILES_DIR)
        folder.mkdir(exist_ok=True)
        given = Path(message.file_name or "").name
        suffix = Path(given).suffix or _file_extension(message.file_bytes, kind)
        stem = Path(given).stem if given else kind
        path = folder / f"{message.chat_id}-{message.message_id}-{stem}{suffix}"
        path.write_bytes(message.file_bytes)
        return path

    async def print_forever(self) -> None:
        """Messages arriving while the person is typing (an alert to the owner, a late one)."""
        while True:
            await asyncio.sleep(PRINT_INTERVAL)
            self.drain()

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the bot has fetched every update, finished them and gone quiet."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                await self.fake.wait_idle(remaining)
            except TimeoutError:
                break
            if self.busy.busy == 0:
                break
            await asyncio.sleep(0.02)
        self.drain()

    # ---------------------------------------------------------------- input

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means quit. `/help` and the like go to the bot."""
        text = line.strip()
        if not text:
            return True
        if re.fullmatch(r"[0-9]{1,3}", text) and self._number(int(text)):
            return True
        command, _, argument = text.partition(" ")
        argument = argument.strip()
        match command.lower():
            case "/quit" | "/exit":
                return False
            case "/sandbox":
                self.out(self.help_text())
            case "/open":
                self.fake.send_start(self.current, argument or self.demo_payload)
            case "/contact":
                self._share_contact(argument or None)
            case "/as":
                await self._switch(argument)
            case "/lang":
                self._language(argument)
            case "/users":
                self.out(self._users_text())
            case "/say" if argument:
                self.fake.send_text(self.current, argument)
            case _:
                self.fake.send_text(self.current, text)
        return True

    def _keyboard(self) -> SentMessage | None:
        """The latest message to the current user with buttons one can still press.

        Inline buttons stay on their message; a reply keyboard stays until a later message
        removes it (`remove_keyboard`), as in Telegram.
        """
        reply_keyboard_removed = False
        for message in reversed(self.fake.messages_to(self.current.id)):
            markup = message.reply_markup or {}
            if message.deleted:
                continue
            if markup.get("remove_keyboard"):
                reply_keyboard_removed = True
            elif message.buttons() and not ("keyboard" in markup and reply_keyboard_removed):
                return message
        return None

    def _number(self, number: int) -> bool:
        """A typed number presses a button; True if it was taken (pressed or refused).

        A number beyond the buttons of the bot's latest message is refused with a hint, since
        the person meant a button; when the bot's latest message has no buttons (it asked for
        an amount, say), the number is an answer and goes to the bot as text.
        """
        message = self._keyboard()
        if message is None:
            return False
        count = len(message.buttons())
        if 1 <= number <= count:
            self._press(message, number)
            return True
        latest = self.fake.messages_to(self.current.id)
        if latest and latest[-1] is message:
            self.out(
                self._dim(
                    f"{INDENT}↳ there is no button {number} here (1–{count}); "
                    f"/say {number} sends it as text"
                )
            )
            return True
        return False

    def _press(self, message: SentMessage, number: int) -> None:
        button = message.buttons()[number - 1]
        label = button.get("text", "")
        if button.get("request_contact"):
            self._share_contact(None)
        elif button.get("request_location"):
            self.out(self._dim(f"{INDENT}↳ {label}: a location in Moscow"))
            self.fake.send_location(self.current, 55.7558, 37.6173)
        elif button.get("url") or button.get("web_app") or button.get("login_url"):
            target = button.get("url") or (button.get("web_app") or {}).get("url", "")
            self.out(self._dim(f"{INDENT}↳ {label}: opens {target} (not in the sandbox)"))
        elif "inline_keyboard" in (message.reply_markup or {}):
            if "callback_data" not in button:
                self.out(self._dim(f"{INDENT}↳ {label}: this button does nothing here"))
                return
            self.out(self._dim(f"{INDENT}↳ {label}"))
            update = self.fake.press(self.current, message, button["callback_data"])
            self._query_users[update["callback_query"]["id"]] = self.current.id
        else:
            self.out(self._dim(f"{INDENT}↳ {label}"))
            self.fake.send_text(self.current, label)

    def _share_contact(self, phone: str | None) -> None:
        shown = phone or _phone_of(self.current)
        self.out(self._dim(f"{INDENT}↳ 📱 shared the contact {self.current.first_name}, {shown}"))
        self.fake.share_contact(self.current, phone or re.sub(r"\D", "", shown))

    async def _switch(self, name: str) -> None:
        """Become someone; "new" only when the sandbox's base has never seen them (a person
        from an earlier run comes back with the same id and their account)."""
        if not name:
            self.out(self._users_text())
            return
        user = self.users.get(name.casefold())
        hint = ""
        if user is None:
            user = FakeUser(id=self._new_id(name), first_name=name, language_code="ru")
            self._add_user(user)
            known = self.has_account is not None and await self.has_account(user.id)
            if not known:
                hint = " (new; /open to scan the demo QR code)"
            else:
                hint = " (back: this account is in the sandbox's base)"
        self.current = user
        self.out(self._dim(f"You are now {user.first_name}, id {user.id}{hint}."))

    def _language(self, language: str) -> None:
        if language not in ("ru", "en"):
            now = self.current.language_code
            self.out(f"Telegram language of {self.current.first_name}: {now}. Use /lang ru|en.")
            return
        self.current.language_code = language
        self.out(self._dim(f"{self.current.first_name} now uses Telegram in {language!r}."))

    def _users_text(self) -> str:
        lines = ["Users (/as NAME to switch):"]
        for user in self.users.values():
            role = "owner" if user.id in self.settings.owner_ids else "customer"
            mark = "*" if user is self.current else " "
            lines.append(
                f" {mark} {user.first_name:<12} id {user.id:<6} {role:<8}"
                f" lang {user.language_code}  phone {_phone_of(user)}"
            )
        return "\n".join(lines)

    def help_text(self) -> str:
        return "\n".join(
            [
                "Commands:",
                "  /open [payload]   open the bot from a QR code (default: the demo poster)",
                "  N                 press button N of the latest message with buttons",
                "  /contact [phone]  share your phone as a contact "
                f"(default {_phone_of(self.current)})",
                "  /as NAME          act as another person (new on first use); /as owner",
                "  /lang ru|en       your Telegram language",
                "  /users            who is who",
                "  /say TEXT         send TEXT as is, e.g. /say 1",
                "  /sandbox          this list",
                "  /quit             exit (or Ctrl-D, Ctrl-C)",
                "Anything else goes to the bot as your message: /start, /help, /balance, a name…",
            ]
        )

    def banner(self) -> str:
        rule = "─" * 78
        sandbox = f"{BOLD}SANDBOX{NOT_BOLD}" if self.ansi else "SANDBOX"
        return "\n".join(
            [
                rule,
                f"clientbase {sandbox}: a test chat with your bot, right here in the terminal.",
                "No BOT_TOKEN is set, so this is NOT real Telegram: the bot talks to a fake",
                f"Telegram server on this computer ({self.fake.url}). Nobody else sees it.",
                f"Data: {self.database}",
                "      (the sandbox's own base, apart from the shop's; delete it to start over)",
                "Real bot: BOT_TOKEN=... LINK_SECRET=... clientbase   (see README)",
                rule,
                f"You are {self.current.first_name}, a customer (id {self.current.id}). "
                f"Alerts go to {self.owner.first_name} (id {self.owner.id}): /as owner.",
                f"Scan the demo QR code ({DEMO_STORE}, {DEMO_CAMPAIGN}):  "
                f"/open {self.demo_payload}",
                "(or just /open)",
                "",
                self.help_text(),
                rule,
            ]
        )


# --------------------------------------------------------------------------- running


async def _demo_payload(app: App) -> str:
    """The demo poster's payload: the source made on the first start, or a new one."""
    from sqlalchemy import select

    from bot.domain import links
    from bot.services.sources import SOURCE_KIND, create_source
    from db.models import Source

    async with app.sessions() as session:
        source = await session.scalar(
            select(Source)
            .where(Source.store == DEMO_STORE, Source.campaign == DEMO_CAMPAIGN, Source.enabled)
            .order_by(Source.id)
            .limit(1)
        )
        if source is not None:
            return links.sign(app.settings.link_key, SOURCE_KIND, source.id)
        link = await create_source(
            session, app.settings.link_key, DEMO_STORE, DEMO_CAMPAIGN, by=SHELL
        )
        return link.payload


demo_payload = _demo_payload  # the WhatsApp sandbox's QR too (bot/sandbox/whatsapp.py)


@contextlib.contextmanager
def quiet_logging(interactive: bool) -> Iterator[None]:
    """WARNING and above only; in a terminal into a file, so the chat stays readable.

    Piped (a script, a test), stderr is apart from the transcript and keeps the lines.
    The caller's logging setup comes back afterwards.
    """
    root, events = logging.getLogger(), logging.getLogger("aiogram.event")
    handlers, level, events_level = root.handlers[:], root.level, events.level
    setup_logging("WARNING")
    file_handler: logging.Handler | None = None
    if interactive:
        Path(FILES_DIR).mkdir(exist_ok=True)
        file_handler = logging.FileHandler(Path(FILES_DIR) / LOG_FILE, encoding="utf-8")
        file_handler.setFormatter(KeyValueFormatter())
        root.handlers[:] = [file_handler]
    try:
        yield
    finally:
        if file_handler is not None:
            file_handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        events.setLevel(events_level)


async def _account_check(app: App) -> Callable[[int], Awaitable[bool]]:
    from db.repositories import customers

    async def has_account(telegram_id: int) -> bool:
        async with app.sessions() as session:
            return await customers.by_telegram_id(session, telegram_id) is not None

    return has_account


async def run_sandbox(
    settings: Settings,
    *,
    database_url: str | None = None,
    lines: AsyncIterator[str] | None = None,
    write: Callable[[str], None] = print,
) -> None:
    """Run the bot against a fake Telegram and chat with it through `lines` / `write`.

    Before each line is taken, the bot is given time to finish answering the previous one, so
    a scripted list of lines plays out deterministically. Ends at /quit or the end of `lines`.
    """
    write("Starting the clientbase sandbox…")
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import create_app
    from bot.startup import database_error

    interactive = lines is None and write is print and sys.stdin.isatty() and sys.stdout.isatty()
    ansi = write is print and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    with quiet_logging(interactive):
        async with FakeTelegram(
            token=SANDBOX_TOKEN, bot_username="clientbase_sandbox_bot", bot_first_name="Sandbox"
        ) as fake:
            config = sandbox_settings(settings, fake.url, database_url)
            try:
                busy = _BusyCounter()
                app = await create_app(config, fsm_prefix="sandbox", watch=[busy])
            except (OSError, SQLAlchemyError) as error:  # a database that cannot be opened
                raise database_error(config.database_url, error, "SANDBOX_DATABASE_URL") from None
            app.delivery.start()
            polling = asyncio.create_task(
                app.dispatcher.start_polling(
                    app.bot, handle_signals=False, polling_timeout=POLLING_TIMEOUT
                )
            )
            try:
                console = _Console(
                    fake,
                    config,
                    write,
                    interactive,
                    ansi,
                    await _demo_payload(app),
                    busy,
                    await _account_check(app),
                )
                console.out(console.banner())
                await _chat(console, lines)
            finally:
                with contextlib.suppress(RuntimeError):  # polling never got going
                    await app.dispatcher.stop_polling()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(polling, 10)
                await app.close()


async def _chat(console: _Console, lines: AsyncIterator[str] | None) -> None:
    source = lines if lines is not None else _stdin_lines()
    printer = asyncio.create_task(console.print_forever())
    reason = "bye"
    try:
        while True:
            await console.settle()
            console.show_prompt()
            try:
                line = await anext(source)
            except StopAsyncIteration:
                reason = "end of input"
                break
            console.input_taken(line)
            if not await console.handle(line):
                break
        await console.settle()
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us; clean up and go on
        reason = "interrupted"
        raise
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        console.drain()
        if console._prompt_visible:
            console._prompt_visible = False
            console.write("")
        console.out(
            console._dim(f"Sandbox stopped ({reason}). The data stays in {console.database}.")
        )
        if lines is None:
            await source.aclose()  # type: ignore[attr-defined]
