"""Webhook mode: Telegram (here the fake) posts updates to the bot's own aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

from bot.app import create_app, run_webhook
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser
from tests.conftest import Backend
from tests.e2e.conftest import drop_redis_keys, make_settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_signup_starts_over_a_webhook(backend: Backend) -> None:
    port = _free_port()
    async with FakeTelegram() as fake:
        settings = make_settings(
            backend,
            fake.url,
            webhook_url=f"http://127.0.0.1:{port}/tg/hook",
            webhook_secret="webhook-secret-0123456789abcdef-0123456789",
            webhook_host="127.0.0.1",
            webhook_port=port,
        )
        prefix = f"webhook-{uuid.uuid4().hex[:8]}"  # Redis outlives the test run
        app = await create_app(settings, fsm_prefix=prefix)
        server = asyncio.create_task(run_webhook(app))
        try:
            for _ in range(100):  # until the bot has told Telegram where to post
                if any(method == "setWebhook" for method, _ in fake.calls):
                    break
                await asyncio.sleep(0.05)
            hook = next(params for method, params in fake.calls if method == "setWebhook")
            assert hook["url"] == settings.webhook_url
            assert hook["secret_token"] == "webhook-secret-0123456789abcdef-0123456789"
            user = FakeUser(id=4242, first_name="Анна")
            fake.send_start(user)
            consent = await fake.next_message(user.id)
            assert "152-ФЗ" in consent.text
        finally:
            server.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
            await app.close()
            if backend.redis_url:
                await drop_redis_keys(backend.redis_url, prefix)
