"""Changing one value of the program in the chat: ask, check, confirm old → new, change.

Shared by `/program` and `/schedule` (the birthday job's bonus is the program's birthday bonus):
a step asks for the value, the owner types it, the bot shows old → new with Change / Cancel.
The form keeps the key and the typed value only (no personal data).
"""

from __future__ import annotations

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.program import INTEGER_KEYS, KEYS, Program, ProgramValueError, format_value
from bot.texts import Texts


class ProgramEdit(StatesGroup):
    value = State()
    confirm = State()


class ProgramKeyCb(CallbackData, prefix="prg"):
    key: str


class ProgramConfirmCb(CallbackData, prefix="prgok"):
    yes: bool


def label(texts: Texts, key: str) -> str:
    return dict(texts.program_labels).get(key, key)


def hint(texts: Texts, key: str) -> str:
    if key in INTEGER_KEYS:
        low, high = INTEGER_KEYS[key]
        return texts.program_hint_integer.format(low=low, high=high)
    if key == "redeem_cap_percent":
        return texts.program_hint_percent
    return texts.program_hint_tiers


def bad_value_text(texts: Texts, error: ProgramValueError) -> str:
    return texts.program_bad_value.format(hint=hint(texts, error.key))


def program_text(texts: Texts, program: Program) -> str:
    lines = [texts.program_title, ""]
    for key in KEYS:
        value = html.quote(format_value(program, key))
        lines.append(texts.program_line.format(label=label(texts, key), value=value))
    return "\n".join(lines)


def program_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.program_button.format(label=label(texts, key)),
                    callback_data=ProgramKeyCb(key=key).pack(),
                )
            ]
            for key in KEYS
        ]
    )


def confirm_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.program_yes, callback_data=ProgramConfirmCb(yes=True).pack()
                ),
                InlineKeyboardButton(
                    text=texts.program_no, callback_data=ProgramConfirmCb(yes=False).pack()
                ),
            ]
        ]
    )


async def ask_value(state: FSMContext, texts: Texts, program: Program, key: str) -> str:
    """Open the step for `key`; the question to send."""
    await state.set_state(ProgramEdit.value)
    await state.set_data({"program_key": key})
    return texts.program_ask.format(
        label=label(texts, key),
        value=html.quote(format_value(program, key)),
        hint=hint(texts, key),
    )
