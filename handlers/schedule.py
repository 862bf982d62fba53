"""`/schedule` (owners): the scheduled jobs with their next and last run, and a switch for each."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.jobs import config_from
from bot.services.jobs.runner import JobStatus, set_enabled, statuses
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.telegram.job_texts import job_label, schedule_text
from bot.texts import Texts


class JobSwitchCb(CallbackData, prefix="job"):
    name: str
    on: bool


def _switches(texts: Texts, jobs: list[JobStatus]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=(texts.schedule_turn_off if job.enabled else texts.schedule_turn_on).format(
                    name=job_label(texts, job.name)
                ),
                callback_data=JobSwitchCb(name=job.name, on=not job.enabled).pack(),
            )
        ]
        for job in jobs
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _listing(
    session: AsyncSession, texts: Texts, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    jobs = await statuses(session, config_from(settings))
    return schedule_text(texts, jobs, settings.zone), _switches(texts, jobs)


async def cmd_schedule(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    text, markup = await _listing(session, texts, settings)
    await message.answer(text, reply_markup=markup)


async def on_job_switch(
    query: CallbackQuery,
    callback_data: JobSwitchCb,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    jobs = await statuses(session, config_from(settings))
    if any(job.name == callback_data.name and job.enabled == callback_data.on for job in jobs):
        await query.answer(texts.already_done)  # a double tap, or a stale listing
        return
    await set_enabled(session, callback_data.name, callback_data.on, by=staff.actor)
    await query.answer()
    text, markup = await _listing(session, texts, settings)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def refuse_customer(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="schedule")
    router.message.register(cmd_schedule, Command("schedule"), Permitted(Action.SCHEDULE))
    router.message.register(refuse_customer, Command("schedule"))
    router.callback_query.register(on_job_switch, JobSwitchCb.filter(), Permitted(Action.SCHEDULE))
    return router
