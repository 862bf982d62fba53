"""Owner commands: `/qr` makes QR codes and posters per source, `/sources` shows the funnel."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports import funnel_text
from bot.services import sources
from bot.services.funnel import sources_report
from bot.services.permissions import Action
from bot.services.printables import printables
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.deeplinks import bot_username
from bot.telegram.filters import NotCommand, Permitted
from bot.telegram.sending import pre_chunks, send_printables
from bot.texts import Texts

NO_EMPLOYEE, ALL_EMPLOYEES = -1, -2


class QrForm(StatesGroup):
    store = State()
    campaign = State()
    employee = State()


class QrCb(CallbackData, prefix="qr"):
    step: str
    index: int


def _choices(step: State, names: list[str], extra: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    buttons = [(name, index) for index, name in enumerate(names)] + extra
    step_name = (step.state or "").split(":")[-1]
    rows = [
        [
            InlineKeyboardButton(text=text[:60], callback_data=QrCb(step=step_name, index=i).pack())
            for text, i in buttons[start : start + 2]
        ]
        for start in range(0, len(buttons), 2)
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def cmd_qr(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    known = await sources.list_sources(session, settings.link_key)
    stores = sources.stores_of(known)
    await state.set_state(QrForm.store)
    await state.set_data({"choices": stores})
    await message.answer(texts.qr_ask_store, reply_markup=_choices(QrForm.store, stores, []))


@dataclass
class _QrChat:
    """The owner's `/qr` conversation in one chat: each answer leads to the next question."""

    bot: Bot
    chat_id: int
    state: FSMContext
    session: AsyncSession
    texts: Texts
    settings: Settings
    staff: StaffMember

    async def _known(self) -> list[sources.SourceLink]:
        return await sources.list_sources(self.session, self.settings.link_key)

    async def ask_campaign(self, store: str) -> None:
        used = sources.campaigns_of(await self._known(), store)
        presets = [preset for preset in self.texts.campaign_presets if preset not in used]
        campaigns = used + presets
        await self.state.set_state(QrForm.campaign)
        await self.state.update_data(store=store, choices=campaigns)
        markup = _choices(QrForm.campaign, campaigns, [])
        await self.bot.send_message(self.chat_id, self.texts.qr_ask_campaign, reply_markup=markup)

    async def ask_employee(self, campaign: str) -> None:
        store = (await self.state.get_data())["store"]
        # The staff list: the code is linked to the person (`sources.staff_id`), not a name.
        people = [
            person
            for person in await sources.employees(self.session, self.staff)
            if not person.store or person.store == store
        ]
        names = [person.name for person in people]
        extra = [(self.texts.qr_no_employee, NO_EMPLOYEE)]
        if people:
            extra.append((self.texts.qr_all_employees, ALL_EMPLOYEES))
        await self.state.set_state(QrForm.employee)
        await self.state.update_data(
            campaign=campaign, choices=names, staff_ids=[person.staff_id for person in people]
        )
        markup = _choices(QrForm.employee, names, extra)
        await self.bot.send_message(self.chat_id, self.texts.qr_ask_employee, reply_markup=markup)

    async def make(self, employees: list[tuple[str, int | None]]) -> None:
        """One code per (employee name, member of staff or None: someone not on staff)."""
        texts, settings = self.texts, self.settings
        data = await self.state.get_data()
        await self.state.clear()
        await self.bot.send_message(self.chat_id, texts.qr_making)
        username = await bot_username(self.bot)
        for employee, staff_id in employees:
            try:
                link = await sources.source_for(
                    self.session,
                    settings.link_key,
                    data["store"],
                    data["campaign"],
                    employee,
                    by=self.staff,
                    staff_id=staff_id,
                )
            except ValueError:  # the member of staff left since the buttons were shown
                await self.bot.send_message(self.chat_id, texts.qr_bad_name)
                continue
            files = printables(
                link,
                username,
                texts,
                shop_name=settings.shop_name,
                welcome_bonus=settings.welcome_bonus,
                whatsapp_number=settings.whatsapp_number,
            )
            caption = texts.qr_caption.format(label=html.quote(link.label), url=files.url)
            if link.employee:  # what /my shows that employee
                caption += "\n" + texts.qr_employee_hint.format(employee=html.quote(link.employee))
            await send_printables(self.bot, self.chat_id, files, caption)

    async def answer(self, value: str) -> None:
        """A store, campaign or employee name, typed or picked: on to the next step."""
        current = await self.state.get_state()
        if current == QrForm.store.state:
            await self.ask_campaign(value)
        elif current == QrForm.campaign.state:
            await self.ask_employee(value)
        else:
            await self.make([(value, None)])


def _clean(text: str | None) -> str | None:
    value = " ".join((text or "").split())
    return value if 0 < len(value) <= 100 and not value.startswith("/") else None


async def on_qr_text(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    value = _clean(message.text)
    if value is None:
        await message.answer(texts.qr_bad_name)
        return
    await _QrChat(bot, message.chat.id, state, session, texts, settings, staff).answer(value)


async def on_qr_button(
    query: CallbackQuery,
    callback_data: QrCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    current = await state.get_state() or ""
    data = await state.get_data()
    choices: list[str] = data.get("choices", [])
    staff_ids: list[int] = data.get("staff_ids", [])
    if current.split(":")[-1] != callback_data.step:
        await query.answer(texts.already_done)
        return
    await query.answer()
    chat = _QrChat(bot, query.from_user.id, state, session, texts, settings, staff)
    index = callback_data.index
    employee_step = current == QrForm.employee.state
    if employee_step and index == NO_EMPLOYEE:
        await chat.make([("", None)])
    elif employee_step and index == ALL_EMPLOYEES:
        await chat.make(list(zip(choices, staff_ids, strict=True)))
    elif employee_step and 0 <= index < len(choices) == len(staff_ids):
        await chat.make([(choices[index], staff_ids[index])])
    elif 0 <= index < len(choices):
        await chat.answer(choices[index])


async def cmd_sources(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings, staff: StaffMember
) -> None:
    report = await sources_report(session, settings.link_key, by=staff)
    if not report.rows:
        await message.answer(texts.sources_empty)
        return
    await message.answer(f"<b>{texts.sources_title}</b>")
    for chunk in pre_chunks(funnel_text(report, texts)):
        await message.answer(chunk)


async def refuse_customer(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="owner")
    router.message.register(cmd_qr, Command("qr"), Permitted(Action.MAKE_QR))
    router.message.register(cmd_sources, Command("sources"), Permitted(Action.VIEW_SOURCES))
    router.message.register(refuse_customer, Command("qr", "sources"))
    # The steps take text, not commands: `/receipt …` mid-form is that command.
    router.message.register(
        on_qr_text, StateFilter(QrForm), NotCommand(), Permitted(Action.MAKE_QR)
    )
    router.callback_query.register(
        on_qr_button, StateFilter(QrForm), QrCb.filter(), Permitted(Action.MAKE_QR)
    )
    return router
