"""The real bot, polling a fake Telegram Bot API over HTTP, on a real database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.app import App, create_app
from bot.sandbox.fake_telegram import FakeTelegram, FakeUser, SentMessage
from bot.settings import Settings
from tests.conftest import Backend

OWNER_ID = 900_001
LINK_SECRET = "test-link-secret-0123456789"


@dataclass
class RunningBot:
    """One bot process under test; `restart()` replaces it like a redeploy would."""

    fake: FakeTelegram
    settings: Settings
    fsm_prefix: str
    app: App | None = None
    _task: asyncio.Task | None = None
    _users: int = field(default=0)

    @property
    def sessions(self) -> async_sessionmaker:
        assert self.app is not None
        return self.app.sessions

    async def start(self) -> None:
        self.app = await create_app(self.settings, fsm_prefix=self.fsm_prefix)
        self.app.delivery.start()
        dispatcher, bot = self.app.dispatcher, self.app.bot
        self._task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
        )

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        with contextlib.suppress(RuntimeError):  # polling already stopped
            await self.app.dispatcher.stop_polling()
        await asyncio.wait_for(self._task, 10)
        await self.app.close()
        self.app, self._task = None, None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def new_user(self, language: str = "ru", first_name: str = "Анна") -> FakeUser:
        self._users += 1
        return FakeUser(id=100_000 + self._users, first_name=first_name, language_code=language)

    # Acting as a customer: do something, then read what the bot answered.
    async def reply(self, user: FakeUser) -> SentMessage:
        return await self.fake.next_message(user.id)

    async def start_bot(self, user: FakeUser, payload: str | None = None) -> SentMessage:
        self.fake.send_start(user, payload)
        return await self.reply(user)

    async def say(self, user: FakeUser, text: str) -> SentMessage:
        self.fake.send_text(user, text)
        return await self.reply(user)

    async def press(self, user: FakeUser, message: SentMessage, button: str) -> SentMessage:
        self.fake.press(user, message, button)
        return await self.reply(user)

    async def quiet(self) -> None:
        """Nothing more is coming: idle twice, since a slow commit can look like a pause."""
        await self.fake.wait_idle()
        await asyncio.sleep(0.3)
        await self.fake.wait_idle()


def make_settings(backend: Backend, api_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": "123456:TEST-fake-telegram-token-0123456789",
        "telegram_api_url": api_url,
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        "link_secret": LINK_SECRET,
        "owner_ids": [OWNER_ID],
        "shop_name": "Кофейня «Зерно»",
        "operator_name": "ИП Иванова А. А.",
        "privacy_policy_url": "https://example.com/privacy",
        "cities": ["Москва", "Тверь"],
        "interests": ["Кофе", "Десерты", "Зёрна"],
        "welcome_bonus": 100,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to run the bot with other settings."""
    return {}


@pytest.fixture
async def running(backend: Backend, settings_overrides: dict) -> AsyncIterator[RunningBot]:
    async with FakeTelegram() as fake:
        settings = make_settings(backend, fake.url, **settings_overrides)
        prefix = f"test-{uuid.uuid4().hex[:8]}"
        bot = RunningBot(fake, settings, prefix)
        await bot.start()
        try:
            yield bot
        finally:
            await bot.stop()
            if backend.redis_url:
                await drop_redis_keys(backend.redis_url, prefix)


async def drop_redis_keys(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
