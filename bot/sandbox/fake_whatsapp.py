"""A local fake of the WhatsApp Cloud API endpoints the bot uses, driven over HTTP.

Used by the tests and by `clientbase sandbox --whatsapp`. The bot's pywa client posts messages
(`/v<ver>/<phone id>/messages`) and media (`/v<ver>/<phone id>/media`) here; the test plays
the customer by posting webhook updates, signed with the app secret (or not), to the webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_ID = "1000001"
SHOP_NUMBER = "79990000000"


@dataclass
class WaMessage:
    to: str
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def text(self) -> str:
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        if self.type == "image":
            return str(self.body["image"].get("caption", ""))
        if self.type == "template":
            params = self.body["template"]["components"][0]["parameters"]
            return " ".join(p["text"] for p in params)
        return ""

    @property
    def template(self) -> str | None:
        return self.body["template"]["name"] if self.type == "template" else None

    @property
    def image_id(self) -> str | None:
        return str(self.body["image"]["id"]) if self.type == "image" else None

    def options(self) -> dict[str, str]:
        """Title -> id of the reply buttons or list rows."""
        if self.type != "interactive":
            return {}
        action = self.body["interactive"]["action"]
        if "buttons" in action:
            return {b["reply"]["title"]: b["reply"]["id"] for b in action["buttons"]}
        return {r["title"]: r["id"] for s in action["sections"] for r in s["rows"]}


@dataclass
class FakeWhatsApp:
    webhook_url: str = ""
    url: str = ""
    sent: dict[str, asyncio.Queue[WaMessage]] = field(default_factory=dict)
    all_sent: list[WaMessage] = field(default_factory=list)
    media: list[bytes] = field(default_factory=list)
    errors: dict[str, list[int]] = field(default_factory=dict)  # to -> error codes to answer
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeWhatsApp:
        app = web.Application()
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._media)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._http is not None and self._runner is not None
        await self._http.close()
        await self._runner.cleanup()

    def _queue(self, to: str) -> asyncio.Queue[WaMessage]:
        return self.sent.setdefault(to, asyncio.Queue())

    async def _messages(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"].startswith("Bearer ")
        body = await request.json()
        to = str(body["to"])
        if self.errors.get(to):
            code = self.errors[to].pop(0)
            error = {"message": f"(#{code}) error", "type": "OAuthException", "code": code}
            return web.json_response({"error": error}, status=400)
        message = WaMessage(to, body)
        self.all_sent.append(message)
        self._queue(to).put_nowait(message)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.{next(self._ids)}"}],
            }
        )

    async def _media(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        self.media.append(upload.file.read())  # type: ignore[union-attr]
        return web.json_response({"id": f"media-{len(self.media)}"})

    # --- the customer's side -----------------------------------------------------------------

    def update(self, wa_id: str, message: dict[str, Any], name: str = "Анна") -> dict[str, Any]:
        message = {"from": wa_id, "id": f"wamid.in.{next(self._ids)}", "timestamp": "1", **message}
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": SHOP_NUMBER,
                                    "phone_number_id": PHONE_ID,
                                },
                                "contacts": [{"wa_id": wa_id, "profile": {"name": name}}],
                                "messages": [message],
                            },
                        }
                    ],
                }
            ],
        }

    async def post(self, update: dict[str, Any], secret: str | None = APP_SECRET) -> int:
        assert self._http is not None
        body = json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        async with self._http.post(self.webhook_url, data=body, headers=headers) as response:
            return response.status

    async def write(self, wa_id: str, text: str) -> WaMessage:
        status = await self.post(self.update(wa_id, {"type": "text", "text": {"body": text}}))
        assert status == 200
        return await self.next_message(wa_id)

    async def pick(self, wa_id: str, message: WaMessage, title: str) -> WaMessage:
        options = message.options()
        assert title in options, (title, options)
        kind = (
            "button_reply" if "buttons" in message.body["interactive"]["action"] else "list_reply"
        )
        reply = {"type": kind.removesuffix("_reply"), kind: {"id": options[title], "title": title}}
        reply["type"] = kind
        status = await self.post(self.update(wa_id, {"type": "interactive", "interactive": reply}))
        assert status == 200
        return await self.next_message(wa_id)

    async def next_message(self, wa_id: str, timeout: float = 20.0) -> WaMessage:
        return await asyncio.wait_for(self._queue(wa_id).get(), timeout)

    async def pick_option(self, wa_id: str, message: WaMessage, title: str) -> None:
        """Press a button or pick a list row, without waiting for the answer."""
        options = message.options()
        buttons = "buttons" in message.body["interactive"]["action"]
        kind = "button_reply" if buttons else "list_reply"
        reply = {"type": kind, kind: {"id": options[title], "title": title}}
        await self.post(self.update(wa_id, {"type": "interactive", "interactive": reply}))

    async def type_text(self, wa_id: str, text: str) -> None:
        """Send a text, without waiting for the answer."""
        await self.post(self.update(wa_id, {"type": "text", "text": {"body": text}}))
