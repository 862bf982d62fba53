"""`/stats`: for the owner the base's figures as a short text, then five charts as one album;
for a manager the same report and charts over the customers their QR codes brought."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, InputMediaPhoto, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import Program
from bot.reports import stats_text
from bot.services import stats
from bot.services.funnel import funnel_report
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.texts import Texts


async def cmd_stats(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    program: Program,
) -> None:
    report = await stats.report_for(
        session,
        staff,
        settings.link_key,
        program,
        active_days=settings.active_days,
        quiet_days=settings.quiet_days,
    )
    if isinstance(report, stats.OwnReport):  # a manager: the same, over their customers
        await message.answer(texts.stats_own.format(sources=report.sources))
        funnel = report.funnel
        report = report.report
    else:
        funnel = await funnel_report(session, settings.link_key)
    await message.answer(stats_text(report, texts, active_days=settings.active_days))
    # Drawing takes a moment of CPU: off the event loop, so other chats are not held up.
    charts = await asyncio.to_thread(stats.draw_charts, report, funnel, texts)
    await bot.send_media_group(
        message.chat.id,
        [InputMediaPhoto(media=BufferedInputFile(c.png, c.name)) for c in charts],
    )


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="stats")
    router.message.register(cmd_stats, Command("stats"), Permitted(Action.VIEW_STATS))
    router.message.register(refuse, Command("stats"))
    return router
