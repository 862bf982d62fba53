"""The WhatsApp webhook in the bot's own process: verification, signature check, dispatch.

GET answers Meta's verification (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
POST is checked against `X-Hub-Signature-256` (HMAC-SHA256 of the body with the app secret,
by pywa) before anything is read: a missing signature is 401, a wrong one 403, and nothing of
the body is processed. A good update is answered 200 at once (Meta retries slow answers) and
handled in the background, one message at a time per customer, duplicates (Meta redelivers)
dropped by message id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web
from pywa_async import WhatsApp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.whatsapp.conversation import Incoming, handle

log = logging.getLogger(__name__)
SEEN_LIMIT = 10_000


def incoming_messages(update: dict[str, Any]) -> list[tuple[str, Incoming]]:
    """(message id, message) for every customer message in a Cloud API webhook body."""
    found = []
    for entry in update.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            names = {
                c.get("wa_id"): (c.get("profile") or {}).get("name", "")
                for c in value.get("contacts") or []
            }
            for message in value.get("messages") or []:
                wa_id = str(message.get("from") or "")
                if not wa_id.isdigit():
                    continue
                kind = message.get("type")
                text, data = "", None
                if kind == "text":
                    text = str((message.get("text") or {}).get("body") or "")
                elif kind == "interactive":
                    reply = message.get("interactive") or {}
                    picked = reply.get("button_reply") or reply.get("list_reply") or {}
                    data = str(picked.get("id") or "")
                elif kind == "button":  # a quick-reply button of a template
                    data = str((message.get("button") or {}).get("payload") or "")
                else:
                    text = ""
                found.append(
                    (
                        str(message.get("id") or ""),
                        Incoming(wa_id, text, data, names.get(wa_id, "") or ""),
                    )
                )
    return found


class WhatsAppWebhook:
    def __init__(
        self, client: WhatsApp, sessions: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._settings = settings
        self._locks: dict[str, asyncio.Lock] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("hub.mode") != "subscribe":
            return web.Response(status=403, text="Forbidden")
        challenge, status = await self._client.webhook_challenge_handler(
            query.get("hub.verify_token"), query.get("hub.challenge")
        )
        return web.Response(status=status, text=challenge or "")

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        refused = await self._client.webhook_update_validator(
            body, request.headers.get("X-Hub-Signature-256")
        )
        if refused is not None:
            text, status = refused
            return web.Response(status=status, text=text)
        try:
            update = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="Bad Request")
        for message_id, message in incoming_messages(update):
            if message_id in self._seen:
                continue
            self._seen[message_id] = None
            if len(self._seen) > SEEN_LIMIT:
                self._seen.popitem(last=False)
            task = asyncio.create_task(self._handle(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    async def _handle(self, message: Incoming) -> None:
        lock = self._locks.setdefault(message.wa_id, asyncio.Lock())
        async with lock:
            try:
                async with self._sessions() as session:
                    await handle(self._client, session, self._settings, message)
            except Exception as error:
                log.exception("whatsapp update failed: %s", type(error).__name__)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    def application(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        path = self._settings.whatsapp_webhook_path
        app.router.add_get(path, self.verify, allow_head=False)
        app.router.add_post(path, self.receive)
        return app


async def start_webhook(webhook: WhatsAppWebhook, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(webhook.application(), access_log=None)
    await runner.setup()
    await web.TCPSite(
        runner, settings.whatsapp_webhook_host, settings.whatsapp_webhook_port
    ).start()
    log.info("whatsapp webhook listening", extra={"port": settings.whatsapp_webhook_port})
    return runner
