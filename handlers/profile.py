"""The member edits their answers from /profile, with the same rules as at signup.

The form keeps which answer is being edited, never the answer: it goes straight to the signup
service, which also pays the complete-profile bonus the first time the profile is complete.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.birthday import BirthdayError, parse_birthday
from bot.domain.phone import mask_phone, normalize_phone
from bot.domain.program import Program
from bot.domain.questionnaire import GENDERS, SKIPPABLE, Step, clean_city, clean_name
from bot.services import signup
from bot.settings import Settings
from bot.telegram.rights import ProfileEditCb
from bot.texts import Texts


class ProfileEditing(StatesGroup):
    value = State()


def _button(text: str, data: ProfileEditCb) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


def _question(
    step: Step, texts: Texts, settings: Settings, chosen: list[str]
) -> tuple[str, InlineKeyboardMarkup | None]:
    field = step.value
    rows: list[list[InlineKeyboardButton]] = []
    text = {
        Step.NAME: texts.ask_name,
        Step.BIRTHDAY: texts.ask_birthday,
        Step.GENDER: texts.ask_gender,
        Step.CITY: texts.ask_city_buttons if settings.cities else texts.ask_city,
        Step.INTERESTS: texts.ask_interests,
    }[step]
    if step is Step.GENDER:
        labels = {"female": texts.female, "male": texts.male}
        rows += [
            _button(labels[g], ProfileEditCb(field=field, action="pick", value=g)) for g in GENDERS
        ]
    elif step is Step.CITY:
        rows += [
            _button(city, ProfileEditCb(field=field, action="pick", value=str(index)))
            for index, city in enumerate(settings.cities)
        ]
    elif step is Step.INTERESTS:
        rows += [
            _button(
                ("✅ " if name in chosen else "") + name,
                ProfileEditCb(field=field, action="pick", value=str(index)),
            )
            for index, name in enumerate(settings.interests)
        ]
        rows.append(_button(texts.done, ProfileEditCb(field=field, action="done")))
    if step in SKIPPABLE:
        rows.append(_button(texts.profile_clear, ProfileEditCb(field=field, action="clear")))
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    return text + texts.profile_edit_hint, markup


async def _save(
    answer: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    program: Program,
    step: Step,
    value: object,
    *,
    finish: bool = True,
) -> signup.ProfileEdit | None:
    user = answer.from_user
    assert user is not None
    chat = answer if isinstance(answer, Message) else answer.message
    try:
        edit = await signup.edit_answer(session, program, user.id, step, value)
    except signup.NotSigningUpError:
        await state.clear()
        if isinstance(chat, Message):
            await chat.answer(texts.not_signed_up)
        return None
    if finish:
        await state.clear()
        if isinstance(chat, Message):
            await chat.answer(texts.profile_saved)
    if edit.bonus and isinstance(chat, Message):
        await chat.answer(texts.profile_bonus_paid.format(bonus=texts.points(edit.bonus)))
    return edit


async def on_edit_button(
    query: CallbackQuery,
    callback_data: ProfileEditCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    try:
        step: Step | None = Step(callback_data.field)
    except ValueError:
        step = None
    if step is Step.PHONE and callback_data.action == "ask":
        await _ask_phone(query, state, session, texts)
        return
    if step not in signup.EDITABLE or not isinstance(query.message, Message):
        await query.answer(texts.already_done)
        return
    assert step is not None
    action, value = callback_data.action, callback_data.value
    editing = (await state.get_data()).get("profile_field") == step.value
    if action == "ask":
        try:  # a member's answers only (an old /profile message after /forget is void)
            chosen = await signup.member_interests(session, query.from_user.id)
        except signup.NotSigningUpError:
            await query.answer(texts.not_signed_up, show_alert=True)
            return
        await query.answer()
        await state.set_state(ProfileEditing.value)
        await state.set_data({"profile_field": step.value})
        text, markup = _question(step, texts, settings, chosen)
        await query.message.answer(text, reply_markup=markup)
    elif not editing:
        await query.answer(texts.already_done)  # a button of an edit already finished
    elif action == "clear" and step in SKIPPABLE:
        await query.answer()
        await _save(query, state, session, texts, program, step, None)
    elif action == "done" and step is Step.INTERESTS:
        await query.answer()
        await state.clear()
        await query.message.answer(texts.profile_saved)
    elif action == "pick" and step is Step.GENDER and value in GENDERS:
        await query.answer()
        await _save(query, state, session, texts, program, step, value)
    elif (
        action == "pick"
        and step is Step.CITY
        and value.isdigit()
        and int(value) < len(settings.cities)
    ):
        await query.answer()
        await _save(query, state, session, texts, program, step, settings.cities[int(value)])
    elif (
        action == "pick"
        and step is Step.INTERESTS
        and value.isdigit()
        and int(value) < len(settings.interests)
    ):
        await query.answer()
        try:
            edit = await signup.toggle_member_interest(
                session, program, query.from_user.id, settings.interests[int(value)]
            )
        except signup.NotSigningUpError:
            await state.clear()
            await query.message.answer(texts.not_signed_up)
            return
        _, markup = _question(step, texts, settings, edit.answers.interests)
        await query.message.edit_reply_markup(reply_markup=markup)
        if edit.bonus:
            await query.message.answer(
                texts.profile_bonus_paid.format(bonus=texts.points(edit.bonus))
            )
    else:
        await query.answer(texts.already_done)


async def _ask_phone(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, texts: Texts
) -> None:
    """The new phone comes as the member's own shared contact or typed; /cancel keeps the old."""
    if not isinstance(query.message, Message):
        await query.answer(texts.already_done)
        return
    try:  # a member only (an old /profile message after /forget is void)
        await signup.member_interests(session, query.from_user.id)
    except signup.NotSigningUpError:
        await query.answer(texts.not_signed_up, show_alert=True)
        return
    await query.answer()
    await state.set_state(ProfileEditing.value)
    # `reply_keyboard`: /cancel takes the share button away with the step.
    await state.set_data({"profile_field": Step.PHONE.value, "reply_keyboard": True})
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=texts.share_phone, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await query.message.answer(
        texts.profile_ask_phone + texts.profile_edit_hint, reply_markup=keyboard
    )


async def _on_phone(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    """The signup's phone rules: own contact only, the same parsing, the same conflicts."""
    user = message.from_user
    assert user is not None
    if message.contact is not None:
        if message.contact.user_id != user.id:
            await message.answer(texts.phone_not_own)
            return
        phone = normalize_phone(message.contact.phone_number)
    elif message.text and not message.text.startswith("/"):
        phone = normalize_phone(message.text)
    else:
        await message.answer(texts.contact_expected)
        return
    if phone is None:
        await message.answer(texts.bad_phone)
        return
    try:
        conflict = await signup.change_phone(
            session, settings.link_key, user.id, phone, settings.owner_ids
        )
        taken = conflict is not None
    except signup.PhoneTakenError:
        taken = True
    except signup.NotSigningUpError:
        await state.clear()
        await message.answer(texts.not_signed_up, reply_markup=ReplyKeyboardRemove())
        return
    if taken:
        await message.answer(texts.profile_phone_taken)  # the step stays open
        return
    await state.clear()
    await message.answer(
        f"{texts.profile_saved} {mask_phone(phone)}", reply_markup=ReplyKeyboardRemove()
    )


async def on_typed_answer(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    """A typed answer: saved when it fits the signup rule, else why not (the step stays open)."""
    step = Step(str((await state.get_data()).get("profile_field", Step.NAME.value)))
    if step is Step.PHONE:
        await _on_phone(message, state, session, texts, settings)
        return
    text = message.text or ""
    if not text or text.startswith("/"):
        await message.answer(texts.text_expected)
        return
    if step is Step.NAME:
        if (name := clean_name(text)) is None:
            await message.answer(texts.bad_name)
            return
        await _save(message, state, session, texts, program, step, name)
    elif step is Step.BIRTHDAY:
        try:
            born = parse_birthday(text, datetime.now(settings.zone).date())
        except BirthdayError as error:
            age = error.reason == "age"
            await message.answer(texts.bad_birthday_age if age else texts.bad_birthday_format)
            return
        await _save(message, state, session, texts, program, step, born)
    elif step is Step.CITY:
        if (city := clean_city(text)) is None:
            await message.answer(texts.text_expected)
            return
        await _save(message, state, session, texts, program, step, city)
    else:
        await message.answer(texts.use_buttons)


def build_router() -> Router:
    router = Router(name="profile")
    router.callback_query.register(on_edit_button, ProfileEditCb.filter())
    router.message.register(on_typed_answer, StateFilter(ProfileEditing.value))
    return router
