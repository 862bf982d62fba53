"""`clientbase sandbox --whatsapp`: the real bot and its WhatsApp webhook, a fake Cloud API on
loopback, and a WhatsApp chat in the terminal.

You are a customer writing from a WhatsApp number. Type a message; a number picks the button or
list row shown with that number; `/qr` types the demo poster's wa.me text (the signed source
code), `/quit` leaves. Images (the card) are saved under sandbox-files/. Nothing leaves the
computer, and the data goes to the sandbox's own database, as in the Telegram sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import unquote

from pydantic import SecretStr

from bot.sandbox.console import (
    FILES_DIR,
    SANDBOX_TOKEN,
    demo_payload,
    quiet_logging,
    sandbox_settings,
)
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_whatsapp import (
    APP_SECRET,
    PHONE_ID,
    SHOP_NUMBER,
    VERIFY_TOKEN,
    FakeWhatsApp,
    WaMessage,
)
from bot.settings import Settings
from bot.texts import texts_for

CUSTOMER_WA_ID = "79990000001"
QUIET_AFTER = 1.0  # seconds without a new message: the bot has finished answering


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def whatsapp_sandbox_settings(
    settings: Settings, telegram_url: str, fake: FakeWhatsApp, database_url: str | None
) -> Settings:
    port = _free_port()
    fake.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
    return sandbox_settings(settings, telegram_url, database_url).model_copy(
        update={
            "whatsapp_phone_id": PHONE_ID,
            "whatsapp_token": SecretStr("sandbox-token"),
            "whatsapp_app_secret": SecretStr(APP_SECRET),
            "whatsapp_verify_token": SecretStr(VERIFY_TOKEN),
            "whatsapp_number": SHOP_NUMBER,
            "whatsapp_api_url": fake.url,
            "whatsapp_webhook_host": "127.0.0.1",
            "whatsapp_webhook_port": port,
            "whatsapp_webhook_path": "/whatsapp",
        }
    )


async def _stdin() -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def run_whatsapp_sandbox(
    settings: Settings,
    *,
    database_url: str | None = None,
    lines: AsyncIterator[str] | None = None,
    write: Callable[[str], None] = print,
) -> None:
    write("Starting the clientbase WhatsApp sandbox…")
    from bot.app import create_app, start_whatsapp
    from bot.services.sources import whatsapp_link

    interactive = lines is None and sys.stdin.isatty()
    with quiet_logging(interactive):
        async with (
            FakeTelegram(token=SANDBOX_TOKEN, bot_username="clientbase_sandbox_bot") as telegram,
            FakeWhatsApp() as fake,
        ):
            config = whatsapp_sandbox_settings(settings, telegram.url, fake, database_url)
            app = await create_app(config, fsm_prefix="sandbox")
            app.delivery.start()
            runner = await start_whatsapp(app)
            assert runner is not None
            try:
                payload = await demo_payload(app)
                line = texts_for(config.default_language).wa_qr_line
                qr_text = unquote(whatsapp_link(SHOP_NUMBER, line, payload).split("=", 1)[1])
                write(
                    f"You are +{CUSTOMER_WA_ID} on WhatsApp, writing to the shop's number "
                    f"+{SHOP_NUMBER}. Type a message; a number picks a button or a row; /qr "
                    "sends the demo poster's text; /quit leaves."
                )
                await _chat(fake, lines or _stdin(), write, qr_text)
            finally:
                await runner.cleanup()
                await app.close()
    write("WhatsApp sandbox stopped.")


async def _chat(
    fake: FakeWhatsApp, lines: AsyncIterator[str], write: Callable[[str], None], qr_text: str
) -> None:
    last: WaMessage | None = None
    async for raw in lines:
        line = raw.strip()
        if line == "/quit":
            return
        write(f"👤 {line}")
        options = list(last.options()) if last is not None else []
        if line.isdigit() and 0 < int(line) <= len(options):
            assert last is not None
            await fake.pick_option(CUSTOMER_WA_ID, last, options[int(line) - 1])
        else:
            await fake.type_text(CUSTOMER_WA_ID, qr_text if line == "/qr" else line)
        while True:
            try:
                message = await fake.next_message(CUSTOMER_WA_ID, timeout=QUIET_AFTER * 5)
            except TimeoutError:
                break
            last = message
            write(_show(message, fake))
            with contextlib.suppress(TimeoutError):
                # more messages may follow at once (a welcome, then a notice)
                nxt = await fake.next_message(CUSTOMER_WA_ID, timeout=QUIET_AFTER)
                last = nxt
                write(_show(nxt, fake))
                continue
            break


def _show(message: WaMessage, fake: FakeWhatsApp) -> str:
    lines = [f"🤖 {message.text}"]
    if message.template:
        lines[0] = f"🤖 [template {message.template}] {message.text}"
    if message.image_id:
        Path(FILES_DIR).mkdir(exist_ok=True)
        path = Path(FILES_DIR) / f"whatsapp-{message.image_id}.png"
        path.write_bytes(fake.media[-1])
        lines.append(f"   [image saved to {path}]")
    lines += [f"   {n}. {title}" for n, title in enumerate(message.options(), 1)]
    return "\n".join(lines)
