"""Buttons of the customer's rights, shared by the profile and the rights commands."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import Texts


class ForgetCb(CallbackData, prefix="forget"):
    action: str  # ask | yes | no


class AdsCb(CallbackData, prefix="myads"):
    on: bool


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def profile_keyboard(texts: Texts, ads_on: bool) -> InlineKeyboardMarkup:
    """Change the advertising consent either way, or withdraw the personal-data one."""
    ads = (
        _button(texts.ads_button_off, AdsCb(on=False))
        if ads_on
        else _button(texts.ads_button_on, AdsCb(on=True))
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[[ads], [_button(texts.forget_button, ForgetCb(action="ask"))]]
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
