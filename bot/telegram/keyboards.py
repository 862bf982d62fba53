"""Keyboards and the callback data behind their buttons."""

from __future__ import annotations

from functools import cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.domain.questionnaire import SKIPPABLE, Step, previous_step
from bot.texts import Texts


class ConsentCb(CallbackData, prefix="consent"):
    action: str  # agree | decline | again
    # Only on "again" (after a refusal nothing is stored), signed for the one who refused;
    # agree and decline read them from the form (see bot.telegram.questions).
    source: int = 0
    referrer: int = 0
    receipt: int = 0
    signature: str = ""


class FormCb(CallbackData, prefix="form"):
    """A questionnaire button; `step` lets a stale or double-tapped button be recognised."""

    step: str
    action: str  # back | skip | pick | done
    value: str = ""


class AdsCb(CallbackData, prefix="ads"):
    answer: str  # yes | no | back


class CancelCb(CallbackData, prefix="cancel"):
    """Leaves whatever form is open, from any step."""


def cancel_button(texts: Texts) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=texts.form_cancel, callback_data=CancelCb().pack())


def cancel_only(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[cancel_button(texts)]])


def _inline(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
            if row
        ]
    )


def consent(texts: Texts) -> InlineKeyboardMarkup:
    return _inline(
        [
            [(texts.consent_agree, ConsentCb(action="agree").pack())],
            [(texts.consent_decline, ConsentCb(action="decline").pack())],
        ]
    )


def changed_mind(texts: Texts, button: ConsentCb) -> InlineKeyboardMarkup:
    return _inline([[(texts.consent_changed_mind, button.pack())]])


def _navigation(texts: Texts, step: Step) -> list[tuple[str, str]]:
    row = []
    if previous_step(step) is not None:
        row.append((texts.back, FormCb(step=step, action="back").pack()))
    if step in SKIPPABLE:
        row.append((texts.skip, FormCb(step=step, action="skip").pack()))
    return row


def question(
    texts: Texts, step: Step, options: list[tuple[str, str]] | None = None
) -> InlineKeyboardMarkup | None:
    """Options (label, value) one or two per row, then Back / Skip as the step allows."""
    rows: list[list[tuple[str, str]]] = []
    pairs = [
        (label, FormCb(step=step, action="pick", value=value).pack())
        for label, value in options or []
    ]
    rows.extend(pairs[i : i + 2] for i in range(0, len(pairs), 2))
    rows.append(_navigation(texts, step))
    markup = _inline(rows)
    return markup if markup.inline_keyboard else None


def interests(texts: Texts, names: list[str], chosen: set[int]) -> InlineKeyboardMarkup:
    rows = [
        [
            (
                ("✅ " if index in chosen else "") + name,
                FormCb(step=Step.INTERESTS, action="pick", value=str(index)).pack(),
            )
        ]
        for index, name in enumerate(names)
    ]
    rows.append([(texts.done, FormCb(step=Step.INTERESTS, action="done").pack())])
    rows.append(_navigation(texts, Step.INTERESTS))
    return _inline(rows)


def phone_request(texts: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=texts.share_phone, request_contact=True)],
            [KeyboardButton(text=texts.back)],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def advertising(texts: Texts) -> InlineKeyboardMarkup:
    return _inline(
        [
            [
                (texts.ads_yes, AdsCb(answer="yes").pack()),
                (texts.ads_no, AdsCb(answer="no").pack()),
            ],
            [(texts.back, AdsCb(answer="back").pack())],
        ]
    )


@cache
def main_menu(texts: Texts) -> ReplyKeyboardMarkup:
    """Built once per language. Persistent: sent when it appears (welcome, /start, a lost
    member's fallback), not with every reply, since Telegram keeps showing it."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=texts.menu_balance), KeyboardButton(text=texts.menu_card)],
            [KeyboardButton(text=texts.menu_history), KeyboardButton(text=texts.menu_invite)],
            [KeyboardButton(text=texts.menu_profile), KeyboardButton(text=texts.menu_help)],
            [KeyboardButton(text=texts.menu_promos)],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )
