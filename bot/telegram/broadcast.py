"""The owner's `/broadcast` form on the Telegram side: its states, buttons, the segment builder
(filters combined with buttons, kept in the form as `SegmentFilter.to_dict()`), the preview.

Every button's callback carries the step it belongs to; the handler acts only when the form is
at that step, and reads values (a saved segment, a city, a tier) by index from lists it builds
itself, so a forged or stale callback can pick nothing that is not on offer.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.campaigns import CODE_PLACEHOLDER
from bot.domain.segments import Lifecycle, SegmentError, SegmentFilter
from bot.services.permissions import Action
from bot.services.promos import PromotionView
from bot.services.segments import SavedSegment, SegmentSize
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.telegram.keyboards import cancel_button
from bot.texts import Texts

FIELDS = ("lifecycle", "gender", "birthday_month", "tier", "cities")
SAVED_SHOWN = 20  # saved segments offered as buttons


class BroadcastForm(StatesGroup):
    segment = State()  # a saved segment, everyone, or build
    filters = State()  # the builder
    name = State()  # the name to save the built segment under
    text = State()
    button = State()
    promotion = State()  # an optional personal-code promotion (only when one is active)
    confirm = State()  # preview shown: send now, schedule or cancel
    when = State()  # the time to schedule for


class BroadcastCb(CallbackData, prefix="bc"):
    step: str  # the state's name the button belongs to
    action: str
    value: str = ""


class PreviewUnsubscribeCb(CallbackData, prefix="bcprev"):
    """The preview's copy of the unsubscribe button: it only explains itself to the owner."""


class PreviewPromoCb(CallbackData, prefix="bcprevpromo"):
    """The preview's copy of "show my promo code": it shows the owner a sample code."""


def owner_only() -> Permitted:
    """The one permission check of /broadcast and /campaigns (commands and every button)."""
    return Permitted(Action.BROADCAST)


def step_of(state: State) -> str:
    return (state.state or "").split(":")[-1]


def _button(text: str, state: State, action: str, value: str = "") -> InlineKeyboardButton:
    data = BroadcastCb(step=step_of(state), action=action, value=value).pack()
    return InlineKeyboardButton(text=text[:60], callback_data=data)


def _pairs(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


# --- choosing the segment ---------------------------------------------------------------------


def segment_choice(
    texts: Texts, saved: list[SavedSegment], everyone: SegmentSize
) -> InlineKeyboardMarkup:
    step = BroadcastForm.segment
    rows = [
        [
            _button(
                texts.broadcast_saved_segment.format(
                    name=s.name, recipients=s.size.recipients if s.size else "?"
                ),
                step,
                "saved",
                str(s.id),
            )
        ]
        for s in saved[:SAVED_SHOWN]
    ]
    rows.append(
        [_button(texts.broadcast_everyone.format(recipients=everyone.recipients), step, "all")]
    )
    rows.append([_button(texts.broadcast_build, step, "build")])
    rows.append([cancel_button(texts)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- the builder ------------------------------------------------------------------------------


def _tiers(settings: Settings) -> list[str]:
    return [tier.name for tier in settings.program.tiers]


def field_value(texts: Texts, segment: SegmentFilter, field: str) -> str:
    """The criterion as the owner reads it (plain text); `segment_any` when not set."""
    if field == "lifecycle" and segment.lifecycle is not None:
        return dict(texts.segment_lifecycles).get(segment.lifecycle.value, segment.lifecycle.value)
    if field == "gender" and segment.gender is not None:
        return texts.female if segment.gender == "female" else texts.male
    if field == "birthday_month" and segment.birthday_month is not None:
        return texts.segment_months[segment.birthday_month - 1]
    if field == "tier" and segment.tier is not None:
        return segment.tier
    if field == "cities" and segment.cities:
        return ", ".join(segment.cities)
    return texts.segment_any


def _field_name(texts: Texts, field: str) -> str:
    return {
        "lifecycle": texts.segment_field_lifecycle,
        "gender": texts.segment_field_gender,
        "birthday_month": texts.segment_field_birthday,
        "tier": texts.segment_field_tier,
        "cities": texts.segment_field_city,
    }[field]


def describe_segment(texts: Texts, segment: SegmentFilter) -> str:
    """ "Stage: active; City: Tver", or "all customers"; criteria the builder does not offer
    (set from the shell) shown as their JSON."""
    parts = [
        f"{_field_name(texts, field)}: {html.quote(field_value(texts, segment, field))}"
        for field in FIELDS
        if field_value(texts, segment, field) != texts.segment_any
    ]
    rest = {k: v for k, v in segment.to_dict().items() if k not in FIELDS}
    if rest:
        parts.append(html.quote(SegmentFilter.from_dict(rest).to_json()))
    return "; ".join(parts) if parts else texts.segment_everyone


def builder_text(texts: Texts, segment: SegmentFilter, size: SegmentSize) -> str:
    return texts.segment_builder.format(
        description=describe_segment(texts, segment),
        recipients=size.recipients,
        members=size.members,
    )


def _offered(settings: Settings) -> tuple[str, ...]:
    """The criteria worth a button: a tier only with more than one, a city only when known."""
    return tuple(
        field
        for field in FIELDS
        if (field != "tier" or len(_tiers(settings)) > 1) and (field != "cities" or settings.cities)
    )


def builder_markup(
    texts: Texts, settings: Settings, segment: SegmentFilter
) -> InlineKeyboardMarkup:
    step = BroadcastForm.filters
    rows = [
        [
            _button(
                f"{_field_name(texts, field)}: {field_value(texts, segment, field)}",
                step,
                "open",
                field,
            )
        ]
        for field in _offered(settings)
    ]
    rows.append(
        [_button(texts.segment_reset, step, "reset"), _button(texts.segment_save, step, "save")]
    )
    rows.append([_button(texts.segment_next, step, "next")])
    rows.append([cancel_button(texts)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def options(settings: Settings, texts: Texts, field: str) -> list[tuple[str, str]]:
    """(value, label) the builder offers for a criterion; values are what callbacks carry."""
    if field == "lifecycle":
        return [(kind.value, dict(texts.segment_lifecycles)[kind.value]) for kind in Lifecycle]
    if field == "gender":
        return [("female", texts.female), ("male", texts.male)]
    if field == "birthday_month":
        return [(str(n), name) for n, name in enumerate(texts.segment_months, start=1)]
    if field == "tier":
        return [(str(i), name) for i, name in enumerate(_tiers(settings))]
    if field == "cities":
        return [(str(i), city) for i, city in enumerate(settings.cities)]
    return []


def options_markup(
    texts: Texts, settings: Settings, segment: SegmentFilter, field: str
) -> InlineKeyboardMarkup:
    step = BroadcastForm.filters
    chosen = set(segment.cities) if field == "cities" else set()
    buttons = [
        _button(("✅ " if label in chosen else "") + label, step, "set", f"{field}={value}")
        for value, label in options(settings, texts, field)
    ]
    rows = _pairs(buttons)
    rows.append(
        [
            _button(texts.segment_any, step, "set", f"{field}="),
            _button(texts.done if field == "cities" else texts.back, step, "back"),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def apply_option(
    settings: Settings, texts: Texts, segment: SegmentFilter, field: str, value: str
) -> SegmentFilter:
    """The filter with one criterion changed; SegmentError for a value not on offer."""
    if field not in _offered(settings):
        raise SegmentError(field, "not offered")
    data: dict[str, Any] = segment.to_dict()
    if value == "":
        data.pop(field, None)
        return SegmentFilter.from_dict(data)
    offered = dict(options(settings, texts, field))
    if value not in offered:
        raise SegmentError(field, "not offered")
    if field == "birthday_month":
        data[field] = int(value)
    elif field == "tier":
        data[field] = offered[value]
    elif field == "cities":
        city = offered[value]
        cities = list(data.get("cities", []))
        data["cities"] = [c for c in cities if c != city] if city in cities else [*cities, city]
    else:
        data[field] = value
    return SegmentFilter.from_dict(data)


# --- composing and confirming -----------------------------------------------------------------


def no_button(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(texts.broadcast_no_button, BroadcastForm.button, "none")],
            [cancel_button(texts)],
        ]
    )


def promotion_choice(texts: Texts, offered: list[PromotionView]) -> InlineKeyboardMarkup:
    step = BroadcastForm.promotion
    rows = [[_button(f"🎟 {p.name}", step, "promo", str(p.id))] for p in offered[:SAVED_SHOWN]]
    rows.append([_button(texts.broadcast_no_promotion, step, "promo", "none")])
    rows.append([cancel_button(texts)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_markup(texts: Texts) -> InlineKeyboardMarkup:
    step = BroadcastForm.confirm
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(texts.broadcast_send_now, step, "now")],
            [_button(texts.broadcast_schedule, step, "schedule")],
            [cancel_button(texts)],
        ]
    )


SAMPLE_CODE = "K7QM-3XWP"  # what the preview shows for a recipient's own code


def preview_markup(
    texts: Texts, button_url: str | None, promo_button: bool = False
) -> InlineKeyboardMarkup:
    """The buttons customers get: the link (when given), "show my promo code" (a promotion
    without {code} in the text) and the unsubscribe button."""
    rows = []
    if button_url:
        rows.append([InlineKeyboardButton(text=texts.broadcast_button, url=button_url)])
    if promo_button:
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.promo_show_button, callback_data=PreviewPromoCb().pack()
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=texts.unsubscribe_button, callback_data=PreviewUnsubscribeCb().pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def send_preview(
    bot: Bot,
    chat_id: int,
    texts: Texts,
    text: str,
    photo: str | None,
    button_url: str | None,
    *,
    promotion: bool = False,
) -> None:
    """The message exactly as customers will see it (as `bot.telegram.delivery` sends it);
    with a promotion, a sample code where the text says {code}."""
    await bot.send_message(chat_id, texts.broadcast_preview_title)
    with_code = promotion and CODE_PLACEHOLDER in text
    if with_code:
        text = text.replace(CODE_PLACEHOLDER, f"<code>{SAMPLE_CODE}</code>")
    markup = preview_markup(texts, button_url, promo_button=promotion and not with_code)
    if photo:
        await bot.send_photo(chat_id, photo, caption=text, reply_markup=markup)
    else:
        await bot.send_message(chat_id, text, reply_markup=markup)
