"""`/staff` (owners; managers invite cashiers): invite with a role, the list, a member's card
with role changes, deactivation and reactivation. `/id` for anyone.

The buttons carry ids; `bot.services.team` checks the presser's rights on every press, so a
forged or stale button changes nothing. A change updates that person's command menu.
"""

from __future__ import annotations

from aiogram import Bot, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import team
from bot.services.permissions import Action, NotAllowedError, allowed, invitable_roles
from bot.services.staff import Role, StaffMember, role_of
from bot.settings import Settings
from bot.telegram.deeplinks import bot_link
from bot.telegram.filters import Permitted
from bot.telegram.menus import role_name, set_chat_menu
from bot.texts import Texts

STORE_KEY = "staff_store"


class StaffCb(CallbackData, prefix="staff"):
    action: str  # invite | list | open | role | off | on
    id: int = 0
    role: str = ""


def _button(text: str, data: StaffCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text[:60], callback_data=data.pack())


def _who(texts: Texts, person: team.Colleague) -> str:
    return html.quote(person.name) if person.name else f"id {person.telegram_id}"


def _store(person: team.Colleague) -> str:
    return f" ({html.quote(person.store)})" if person.store else ""


async def _listing(
    session: AsyncSession, texts: Texts, settings: Settings, staff: StaffMember
) -> tuple[str, InlineKeyboardMarkup]:
    invites = [
        [
            _button(
                texts.staff_invite_button.format(role=role_name(texts, r)),
                StaffCb(action="invite", role=r),
            )
        ]
        for r in invitable_roles(staff)
    ]
    if allowed(staff, Action.MANAGE_STAFF) is None:
        return texts.staff_title, InlineKeyboardMarkup(inline_keyboard=invites)
    people = await team.staff_list(session, settings.owner_ids, staff)
    lines, rows = [texts.staff_title], []
    for person in people:
        if person.from_settings:
            lines.append(texts.staff_line_settings.format(id=person.telegram_id))
            continue
        line = texts.staff_line.format(
            name=_who(texts, person),
            role=role_name(texts, person.role),
            store=_store(person),
            inactive="" if person.active else texts.staff_inactive,
        )
        lines.append(line)
        rows.append(
            [
                _button(
                    f"{person.name or person.telegram_id} · {role_name(texts, person.role)}",
                    StaffCb(action="open", id=person.telegram_id),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows + invites)


def _card(texts: Texts, person: team.Colleague) -> tuple[str, InlineKeyboardMarkup]:
    text = texts.staff_member.format(
        name=_who(texts, person),
        role=role_name(texts, person.role),
        store=_store(person),
        inactive="" if person.active else texts.staff_inactive,
        id=person.telegram_id,
    )
    tid = person.telegram_id
    rows = [
        [
            _button(
                texts.staff_make.format(role=role_name(texts, r)),
                StaffCb(action="role", id=tid, role=r),
            )
        ]
        for r in Role
        if r is not person.role
    ]
    switch = (
        _button(texts.staff_deactivate_button, StaffCb(action="off", id=tid))
        if person.active
        else _button(texts.staff_reactivate_button, StaffCb(action="on", id=tid))
    )
    rows.append([switch])
    rows.append([_button(texts.staff_back, StaffCb(action="list"))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def cmd_staff(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    # `/staff Store name`: the invites made from this listing are for that store.
    await state.update_data({STORE_KEY: " ".join((command.args or "").split())[:100]})
    text, markup = await _listing(session, texts, settings, staff)
    await message.answer(text, reply_markup=markup)


async def _invite(
    query: CallbackQuery,
    callback_data: StaffCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    caller: StaffMember | None,
) -> None:
    store = (await state.get_data()).get(STORE_KEY, "")
    role = Role(callback_data.role)
    payload = await team.invite(session, settings.link_key, caller, role, store)
    where = f" ({html.quote(store)})" if store else ""
    link = await bot_link(bot, payload)
    await bot.send_message(
        query.from_user.id,
        texts.staff_invite.format(role=role_name(texts, role), store=where, link=link),
    )


async def _change(
    callback_data: StaffCb,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    caller: StaffMember | None,
) -> str:
    """Applies a role change or a switch; the answer to show. Menus follow the change."""
    tid = callback_data.id
    if callback_data.action == "role":
        person = await team.change_role(
            session, settings.owner_ids, caller, tid, Role(callback_data.role)
        )
        done = texts.staff_changed
    else:
        person = await team.set_active(
            session, settings.owner_ids, caller, tid, callback_data.action == "on"
        )
        done = texts.staff_reactivated if person.active else texts.staff_deactivated
    member = StaffMember(tid, person.role, person.store) if person.active else None
    await set_chat_menu(bot, tid, member, settings.default_language)
    return done.format(name=_who(texts, person), role=role_name(texts, person.role))


_REFUSALS = {
    team.ChangeRefused.SETTINGS_OWNER: "staff_settings_owner",
    team.ChangeRefused.YOURSELF: "staff_yourself",
    team.ChangeRefused.UNCHANGED: "already_done",
    team.ChangeRefused.UNKNOWN: "not_allowed",  # as a refusal: says nothing of who exists
}


async def on_staff_button(
    query: CallbackQuery,
    callback_data: StaffCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    caller = await role_of(session, settings.owner_ids, query.from_user.id)
    action = callback_data.action
    try:
        if action == "invite":
            await _invite(query, callback_data, bot, state, session, texts, settings, caller)
            await query.answer()
            return
        if action in ("role", "off", "on"):
            note = await _change(callback_data, bot, session, texts, settings, caller)
            await bot.send_message(query.from_user.id, note)
        if action == "open":
            person = await team.member_of(session, settings.owner_ids, caller, callback_data.id)
            text, markup = _card(texts, person)
        else:
            assert caller is not None  # the services above refused anyone else
            text, markup = await _listing(session, texts, settings, caller)
    except (NotAllowedError, ValueError):
        await query.answer(texts.not_allowed)
        return
    except team.StaffChangeError as refused:
        await query.answer(getattr(texts, _REFUSALS[refused.reason]), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def cmd_id(message: Message, texts: Texts) -> None:
    assert message.from_user is not None
    await message.answer(texts.your_id.format(id=message.from_user.id))


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="staff")
    router.message.register(cmd_id, Command("id"))
    router.message.register(cmd_staff, Command("staff"), Permitted(Action.INVITE_STAFF))
    router.message.register(refuse, Command("staff"))
    router.callback_query.register(on_staff_button, StaffCb.filter())
    return router
