"""Assembly of the running bot: database, storage, Bot, Dispatcher, polling or webhook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.middlewares.base import BaseMiddleware
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.advertising import FrequencyCap
from bot.pos.app import start_pos_api
from bot.scheduler import JobScheduler
from bot.services import campaigns, promos, segments
from bot.services import program as program_service
from bot.services.delivery import Channel, Channels, DeliveryConfig, DeliveryWorker
from bot.services.jobs import config_from
from bot.settings import WEBHOOK_SECRET_MIN, Settings, SettingsError
from bot.startup import check_telegram, keep_startup_objects, wait_for_database
from bot.telegram import menus
from bot.telegram.campaign_view import ProgressWatcher
from bot.telegram.delivery import TelegramChannel
from bot.telegram.errors import on_error
from bot.telegram.fsm_storage import SqlAlchemyStorage
from bot.telegram.middlewares import (
    ConcurrencyLimitMiddleware,
    DbSessionMiddleware,
    FormsBeforeRequests,
    FormWritesMiddleware,
    LanguageMiddleware,
    ProgramMiddleware,
    ShortcutsMiddleware,
    UpdateLogMiddleware,
)
from bot.whatsapp.client import build_client as build_whatsapp
from bot.whatsapp.delivery import WhatsAppChannel
from bot.whatsapp.webhook import WhatsAppWebhook
from bot.whatsapp.webhook import start_webhook as start_whatsapp_webhook
from db import migrate
from db.engine import POOL_SIZE, create_engine, create_session_factory
from handlers import build_router, shortcuts

CAMPAIGN_TICK_SECONDS = 30  # how soon a scheduled campaign starts after its time

log = logging.getLogger(__name__)
Middleware = BaseMiddleware | Callable[..., Awaitable[Any]]
# An update holds at most two pooled connections, the second only for a moment: its session's,
# and the form's write before a reply, which waits on nothing the update holds. One update at
# work fewer than the pool's kept connections leaves one free for such a write, so updates can
# never all wait on each other (tests/e2e/test_load.py), and they never open an overflow
# connection, which the pool would close again at once (see db/engine.py). Half the pool, as
# before, halved the rate of members' updates: each keeps its place while its reply travels.
UPDATES_AT_ONCE = POOL_SIZE - 1


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    bot: Bot
    dispatcher: Dispatcher
    delivery: DeliveryWorker  # started by whoever runs the bot: `app.delivery.start()`
    whatsapp: WhatsAppWebhook | None = None  # served by `start_whatsapp(app)` when configured

    async def close(self) -> None:
        await self.delivery.stop()
        if self.whatsapp is not None:
            await self.whatsapp.drain()
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        await self.bot.session.close()
        await self.engine.dispose()


def _storage(
    settings: Settings, sessions: async_sessionmaker, prefix: str
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Forms and locks in Redis when several processes share the work, else in the database."""
    if settings.redis_url:
        storage = RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(prefix=prefix)
        )
        return storage, storage.create_isolation()
    return SqlAlchemyStorage(sessions), SimpleEventIsolation()


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        rate=settings.delivery_speed,
        per_chat_interval=settings.delivery_per_chat_interval,
        paid_broadcast=settings.delivery_paid_broadcast,
        max_attempts=settings.delivery_max_attempts,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        poll_interval=settings.delivery_poll_seconds,
        batch=max(50, min(1000, int(settings.delivery_speed * 2))),
        quiet_hours=settings.quiet_window,
        zone=settings.zone,
        cap=FrequencyCap(settings.ads_per_customer, settings.ads_per_days),
        default_language=settings.default_language,
    )


def build_bot(settings: Settings) -> Bot:
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def create_app(
    settings: Settings, *, fsm_prefix: str = "fsm", watch: Sequence[Middleware] = ()
) -> App:
    """Everything the bot needs, with the schema brought up to date first.

    `watch`: outer middlewares that see every update before the bot's own (the sandbox counts
    the updates at work); one added later would miss the shortcuts, answered before routing."""
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    sessions = create_session_factory(engine)
    async with sessions() as session:  # first start: the environment's program becomes the DB's
        await program_service.ensure_seeded(session, settings.program)
    storage, isolation = _storage(settings, sessions, fsm_prefix)
    dispatcher = Dispatcher(
        storage=storage, events_isolation=isolation, settings=settings, sessions=sessions
    )
    dispatcher["promo_guard"] = promos.guard_from(settings)
    for middleware in watch:
        dispatcher.update.outer_middleware(middleware)
    dispatcher.update.outer_middleware(UpdateLogMiddleware())
    dispatcher.update.outer_middleware(ConcurrencyLimitMiddleware(UPDATES_AT_ONCE))
    dispatcher.update.outer_middleware(LanguageMiddleware(settings.default_language))
    bot = build_bot(settings)
    if isinstance(storage, SqlAlchemyStorage):
        await storage.load()  # open forms read now: no update waits on it later
        dispatcher.update.outer_middleware(FormWritesMiddleware(storage))
        bot.session.middleware(FormsBeforeRequests(storage))
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessions))
    dispatcher.update.outer_middleware(ProgramMiddleware(settings.program))
    dispatcher.update.outer_middleware(ShortcutsMiddleware(shortcuts()))  # innermost
    dispatcher.errors.register(on_error)
    dispatcher.include_router(build_router())
    dispatcher.startup.register(_install_menus)
    # The owner's live broadcast progress: background edits, cancelled when the bot stops.
    watcher = ProgressWatcher(
        sessions,
        rate=settings.delivery_speed,
        every=settings.broadcast_progress_seconds,
        results_days=settings.campaign_results_days,
        zone=settings.zone,
    )
    dispatcher["campaign_watch"] = watcher
    dispatcher.shutdown.register(watcher.close)
    config = delivery_config(settings)
    channels: dict[str, Channel] = {
        "telegram": TelegramChannel(
            bot,
            settings.program,
            timeout=config.send_timeout,
            sessions=sessions,
            photos=campaigns.photo_loader(sessions),
            codes=campaigns.code_loader(sessions),
        )
    }
    whatsapp = None
    if settings.whatsapp_enabled:  # else a WhatsApp customer's row fails: never sent elsewhere
        client = build_whatsapp(settings)
        whatsapp = WhatsAppWebhook(client, sessions, settings)
        channels["whatsapp"] = WhatsAppChannel(
            client, settings.program, settings, codes=campaigns.code_loader(sessions)
        )
    worker = DeliveryWorker(sessions, Channels(channels), config)
    return App(settings, engine, sessions, bot, dispatcher, worker, whatsapp)


async def _install_menus(bot: Bot, settings: Settings, dispatcher: Dispatcher) -> None:
    """Command menus per role at start-up (polling or webhook); a failure is only logged."""
    sessions = dispatcher.get("sessions")
    if sessions is not None:
        await menus.install(bot, sessions, settings)


async def run_polling(app: App) -> None:
    await app.bot.delete_webhook()
    await app.dispatcher.start_polling(app.bot, handle_signals=False)


async def run_webhook(app: App) -> None:
    """An aiohttp server at the path of WEBHOOK_URL; Telegram posts updates to it."""
    settings = app.settings
    assert settings.webhook_url is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if len(secret) < WEBHOOK_SECRET_MIN:  # Settings refuse it too; this holds for any caller
        raise SettingsError(f"WEBHOOK_SECRET: at least {WEBHOOK_SECRET_MIN} characters")
    server = web.Application()
    SimpleRequestHandler(app.dispatcher, app.bot, secret_token=secret).register(
        server, path=urlsplit(settings.webhook_url).path or "/"
    )
    setup_application(server, app.dispatcher, bot=app.bot)
    await app.bot.set_webhook(
        settings.webhook_url,
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    log.info("webhook listening", extra={"port": settings.webhook_port})
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def start_pos(app: App) -> web.AppRunner | None:
    """The tills' HTTP API in the same process, when POS_API_PORT is set."""
    if app.settings.pos_api_port is None:
        return None
    username = app.settings.bot_username or (await app.bot.me()).username or ""
    return await start_pos_api(app.sessions, app.settings, username)


async def start_whatsapp(app: App) -> web.AppRunner | None:
    """The WhatsApp webhook in the same process, when WhatsApp is configured."""
    if app.whatsapp is None:
        return None
    return await start_whatsapp_webhook(app.whatsapp, app.settings)


def start_scheduler(app: App) -> JobScheduler | None:
    """Birthdays, reminders, expiry and housekeeping in this process, unless SCHEDULER_ENABLED=0."""
    if not app.settings.scheduler_enabled:
        return None
    scheduler = JobScheduler(app.sessions, config_from(app.settings))
    settings, sessions = app.settings, app.sessions

    async def campaigns_tick() -> None:
        await campaigns.tick(sessions, segments.rules_from(settings))

    scheduler.every(CAMPAIGN_TICK_SECONDS, "campaigns", campaigns_tick)
    scheduler.start()
    return scheduler


async def serve(settings: Settings) -> None:
    """Start after the database and Telegram answer; a set-up mistake is one line (exit 2)."""
    probe = create_engine(settings.database_url)
    try:
        await wait_for_database(probe)
    finally:
        await probe.dispose()
    bot = build_bot(settings)
    try:
        await check_telegram(bot, settings.telegram_api_url)
    finally:
        await bot.session.close()
    app = await create_app(settings)
    app.delivery.start()
    pos = await start_pos(app)
    whatsapp = await start_whatsapp(app)
    scheduler = start_scheduler(app)
    keep_startup_objects()
    try:
        await (run_webhook(app) if settings.webhook_url else run_polling(app))
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if pos is not None:
            await pos.cleanup()
        if whatsapp is not None:
            await whatsapp.cleanup()
        await app.close()
