"""`/schedule` (owners): the scheduled jobs with their next and last run, and a switch for each."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import Program
from bot.services import job_texts
from bot.services.audit import Channel
from bot.services.jobs import config_from
from bot.services.jobs.runner import JobName, JobStatus, set_enabled, statuses
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.telegram.job_texts import job_label, schedule_text
from bot.telegram.program_edit import ask_value
from bot.texts import Texts


class JobSwitchCb(CallbackData, prefix="job"):
    name: str
    on: bool


class JobEditCb(CallbackData, prefix="jobedit"):
    name: str
    action: str  # open | text | reset | bonus
    language: str = ""


class JobTextEdit(StatesGroup):
    text = State()


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
    rows += [
        [
            InlineKeyboardButton(
                text=texts.schedule_edit.format(name=job_label(texts, job.name)),
                callback_data=JobEditCb(name=job.name, action="open").pack(),
            )
        ]
        for job in jobs
        if job.name in job_texts.PLACEHOLDERS
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
    await set_enabled(session, callback_data.name, callback_data.on, by=staff.actor, actor=staff)
    await query.answer()
    text, markup = await _listing(session, texts, settings)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def _placeholders(texts: Texts, job: str) -> str:
    names = job_texts.PLACEHOLDERS.get(job, ())
    return ", ".join(f"<code>{{{name}}}</code>" for name in names) or texts.schedule_no_placeholders


async def _job_card(
    session: AsyncSession, texts: Texts, program: Program, job: str
) -> tuple[str, InlineKeyboardMarkup]:
    own = (await job_texts.texts_of(session)).get(job, {})
    shown = {
        language: html.quote(own[language]) if language in own else texts.schedule_default_text
        for language in job_texts.LANGUAGES
    }
    text = texts.schedule_job_card.format(
        name=job_label(texts, job),
        ru=shown["ru"],
        en=shown["en"],
        placeholders=_placeholders(texts, job),
    )
    rows = []
    for language in job_texts.LANGUAGES:
        buttons = [
            InlineKeyboardButton(
                text=texts.schedule_text_button.format(language=language),
                callback_data=JobEditCb(name=job, action="text", language=language).pack(),
            )
        ]
        if language in own:
            buttons.append(
                InlineKeyboardButton(
                    text=texts.schedule_reset_button.format(language=language),
                    callback_data=JobEditCb(name=job, action="reset", language=language).pack(),
                )
            )
        rows.append(buttons)
    if job == JobName.BIRTHDAY:  # the birthday bonus is the program's, changed with confirmation
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.schedule_bonus_button.format(
                        bonus=texts.points(program.birthday_bonus)
                    ),
                    callback_data=JobEditCb(name=job, action="bonus").pack(),
                )
            ]
        )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_job_edit(
    query: CallbackQuery,
    callback_data: JobEditCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    program: Program,
    staff: StaffMember,
) -> None:
    job, language = callback_data.name, callback_data.language
    if job not in job_texts.PLACEHOLDERS or not isinstance(query.message, Message):
        await query.answer(texts.already_done)
        return
    await query.answer()
    if callback_data.action == "open":
        text, markup = await _job_card(session, texts, program, job)
        await query.message.answer(text, reply_markup=markup)
    elif callback_data.action == "text" and language in job_texts.LANGUAGES:
        await state.set_state(JobTextEdit.text)
        await state.set_data({"job": job, "language": language})
        await query.message.answer(
            texts.schedule_ask_text.format(
                name=job_label(texts, job),
                language=language,
                placeholders=_placeholders(texts, job),
            )
        )
    elif callback_data.action == "reset" and language in job_texts.LANGUAGES:
        await job_texts.set_text(session, job, language, None, by=staff, channel=Channel.MESSENGER)
        text, markup = await _job_card(session, texts, program, job)
        await query.message.edit_text(text, reply_markup=markup)
        await query.message.answer(texts.schedule_text_reset)
    elif callback_data.action == "bonus":
        await query.message.answer(await ask_value(state, texts, program, "birthday_bonus"))


async def on_job_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    program: Program,
    staff: StaffMember,
) -> None:
    """The owner's text for a job: saved for the next run, or why not (the step stays open)."""
    data = await state.get_data()
    job, language = str(data.get("job", "")), str(data.get("language", ""))
    try:
        await job_texts.set_text(
            session, job, language, message.text or "", by=staff, channel=Channel.MESSENGER
        )
    except job_texts.JobTextError as error:
        if error.reason == "length":
            await message.answer(texts.schedule_text_too_long.format(limit=job_texts.TEXT_LIMIT))
        elif error.reason == "placeholder":
            await message.answer(
                texts.schedule_bad_placeholder.format(allowed=_placeholders(texts, job))
            )
        else:
            await state.clear()
            await message.answer(texts.already_done)
        return
    await state.clear()
    await message.answer(texts.schedule_text_saved)
    text, markup = await _job_card(session, texts, program, job)
    await message.answer(text, reply_markup=markup)


async def refuse_button(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.owner_only, show_alert=True)


async def refuse_customer(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="schedule")
    router.message.register(cmd_schedule, Command("schedule"), Permitted(Action.SCHEDULE))
    router.message.register(refuse_customer, Command("schedule"))
    router.callback_query.register(on_job_switch, JobSwitchCb.filter(), Permitted(Action.SCHEDULE))
    router.callback_query.register(on_job_edit, JobEditCb.filter(), Permitted(Action.SCHEDULE))
    router.callback_query.register(refuse_button, JobEditCb.filter())
    router.message.register(on_job_text, StateFilter(JobTextEdit.text), Permitted(Action.SCHEDULE))
    return router
