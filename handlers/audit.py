"""`/audit` (owners): the audit log, newest first, a page at a time, edited in place."""

from __future__ import annotations

import json

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.texts import Texts

PAGE_SIZE = 10
DETAILS_LIMIT = 300


class AuditCb(CallbackData, prefix="audit"):
    page: int


def _entry(texts: Texts, record: audit.AuditRecord, settings: Settings) -> str:
    details = ""
    if record.details:
        raw = json.dumps(record.details, ensure_ascii=False, sort_keys=True, default=str)
        details = "\n" + html.quote(raw[:DETAILS_LIMIT])
    return texts.audit_entry.format(
        at=record.at.astimezone(settings.zone).strftime("%d.%m.%Y %H:%M"),
        channel=dict(texts.audit_channels).get(record.channel, record.channel),
        actor=html.quote(record.actor),
        action=html.quote(record.action),
        subject=f" · {html.quote(record.subject)}" if record.subject else "",
        details=details,
    )


async def _page(
    session: AsyncSession, texts: Texts, settings: Settings, number: int, staff: StaffMember
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await audit.page(session, number, PAGE_SIZE, by=staff)
    if not page.records:
        return texts.audit_empty, None
    title = texts.audit_title.format(page=page.page + 1, pages=page.pages, total=page.total)
    body = "\n\n".join(_entry(texts, record, settings) for record in page.records)
    buttons = []
    if page.page > 0:
        buttons.append(
            InlineKeyboardButton(
                text=texts.audit_newer, callback_data=AuditCb(page=page.page - 1).pack()
            )
        )
    if page.page + 1 < page.pages:
        buttons.append(
            InlineKeyboardButton(
                text=texts.audit_older, callback_data=AuditCb(page=page.page + 1).pack()
            )
        )
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None
    return f"{title}\n\n{body}", markup


async def cmd_audit(
    message: Message, session: AsyncSession, texts: Texts, settings: Settings, staff: StaffMember
) -> None:
    text, markup = await _page(session, texts, settings, 0, staff)
    await message.answer(text, reply_markup=markup)


async def on_audit_page(
    query: CallbackQuery,
    callback_data: AuditCb,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    text, markup = await _page(session, texts, settings, callback_data.page, staff)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


async def refuse_button(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.owner_only, show_alert=True)


def build_router() -> Router:
    router = Router(name="audit")
    router.message.register(cmd_audit, Command("audit"), Permitted(Action.AUDIT))
    router.message.register(refuse, Command("audit"))
    router.callback_query.register(on_audit_page, AuditCb.filter(), Permitted(Action.AUDIT))
    router.callback_query.register(refuse_button, AuditCb.filter())
    return router
