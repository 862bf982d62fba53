"""Buttons of the customer's rights, shared by the profile and the rights commands."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import Texts


class ForgetCb(CallbackData, prefix="forget"):
    action: str  # ask | yes | no


class AdsCb(CallbackData, prefix="myads"):
    on: bool


class ProfileEditCb(CallbackData, prefix="myedit"):
    field: str  # name | birthday | gender | city | interests | phone
    action: str = "ask"  # ask | pick | clear | done
    value: str = ""


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def profile_keyboard(texts: Texts, ads_on: bool) -> InlineKeyboardMarkup:
    """Change the advertising consent either way, or withdraw the personal-data one."""
    ads = (
        _button(texts.ads_button_off, AdsCb(on=False))
        if ads_on
        else _button(texts.ads_button_on, AdsCb(on=True))
    )
    labels = list(texts.profile_edit_buttons)
    edits = [
        [_button(label, ProfileEditCb(field=field)) for field, label in labels[i : i + 2]]
        for i in range(0, len(labels), 2)
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[*edits, [ads], [_button(texts.forget_button, ForgetCb(action="ask"))]]
    )


def forget_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(texts.forget_yes, ForgetCb(action="yes")),
                _button(texts.forget_no, ForgetCb(action="no")),
            ]
        ]
    )
