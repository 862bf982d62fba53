"""How the signup questions look in Telegram: the form's states, texts and keyboards.

The form state holds the step and, before consent, the ids the person came with (a source, an
inviting member, a purchase QR to credit after signup): never an answer. Answers go straight to
the signup service, which keeps them on the pending customer row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    User,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.questionnaire import GENDERS, Step, clean_name, next_step, progress
from bot.services import receipts, signup
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.keyboards import ConsentCb
from bot.texts import Texts

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Signup(StatesGroup):
    consent = State()
    name = State()
    phone = State()
    birthday = State()
    gender = State()
    city = State()
    interests = State()
    ads = State()


STEP_STATES: dict[Step, State] = {step: getattr(Signup, step.value) for step in Step}
STATE_STEPS: dict[str, Step] = {str(state.state): step for step, state in STEP_STATES.items()}


def consent_text(texts: Texts, settings: Settings) -> str:
    """The exact wording shown, and stored with the consent record."""
    text = texts.consent_personal_data.format(
        shop=html.quote(settings.shop_name),
        operator=html.quote(settings.operator_name or settings.shop_name),
    )
    if settings.privacy_policy_url:
        text += texts.consent_policy_link.format(url=html.quote(settings.privacy_policy_url))
    return text


def advertising_text(texts: Texts, settings: Settings) -> str:
    return texts.consent_advertising.format(shop=html.quote(settings.shop_name))


def _question(
    step: Step, texts: Texts, settings: Settings, chosen: set[int], telegram_name: str | None
) -> tuple[str, Markup | None]:
    if step is Step.NAME:
        suggestion = clean_name(telegram_name or "")
        options = [(suggestion, "tg")] if suggestion else []
        return texts.ask_name, keyboards.question(texts, step, options)
    if step is Step.PHONE:
        return texts.ask_phone, keyboards.phone_request(texts)
    if step is Step.BIRTHDAY:
        return texts.ask_birthday, keyboards.question(texts, step)
    if step is Step.GENDER:
        labels = {"female": texts.female, "male": texts.male}
        return texts.ask_gender, keyboards.question(texts, step, [(labels[g], g) for g in GENDERS])
    if step is Step.CITY:
        options = [(city, str(index)) for index, city in enumerate(settings.cities)]
        prompt = texts.ask_city_buttons if options else texts.ask_city
        return prompt, keyboards.question(texts, step, options)
    return texts.ask_interests, keyboards.interests(texts, settings.interests, chosen)


def chosen_indexes(names: list[str], chosen: list[str]) -> set[int]:
    """Which of the shop's interests (by position) are ticked."""
    return {index for index, name in enumerate(names) if name in chosen}


@dataclass(frozen=True)
class Arrival:
    """What someone came with, kept through a refusal: a source, an inviting member, a receipt."""

    source_id: int | None = None
    referrer_id: int | None = None
    receipt_id: int | None = None


def _arrival_signature(key: bytes, telegram_id: int, arrival: Arrival) -> str:
    message = f"clientbase:again:{telegram_id}:{arrival.source_id or 0}:"
    message += f"{arrival.referrer_id or 0}:{arrival.receipt_id or 0}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode()


def changed_mind_button(key: bytes, telegram_id: int, arrival: Arrival) -> ConsentCb:
    """After a refusal nothing about the person may be stored, so what they came with rides on
    their own "I changed my mind" button, signed for them: a forged or borrowed one is void."""
    return ConsentCb(
        action="again",
        source=arrival.source_id or 0,
        referrer=arrival.referrer_id or 0,
        receipt=arrival.receipt_id or 0,
        signature=_arrival_signature(key, telegram_id, arrival),
    )


def arrival_from(key: bytes, telegram_id: int, button: ConsentCb) -> Arrival:
    """The ids on a pressed "I changed my mind" button; none at all if its signature is wrong."""
    arrival = Arrival(button.source or None, button.referrer or None, button.receipt or None)
    expected = _arrival_signature(key, telegram_id, arrival)
    return arrival if hmac.compare_digest(button.signature, expected) else Arrival()


@dataclass
class FormChat:
    """The signup form as one person's chat sees it: asks questions and repeats them."""

    bot: Bot
    user: User
    state: FSMContext
    session: AsyncSession
    texts: Texts
    settings: Settings

    async def say(self, text: str, markup: Markup | None = None) -> None:
        await self.bot.send_message(self.user.id, text, reply_markup=markup)

    async def ask(self, step: Step, hint: str | None = None) -> None:
        await self.state.set_state(STEP_STATES[step])
        chosen: set[int] = set()
        if step is Step.INTERESTS:
            ticked = await signup.interests_of(self.session, self.user.id)
            chosen = chosen_indexes(self.settings.interests, ticked)
        question, markup = _question(step, self.texts, self.settings, chosen, self.user.first_name)
        number, total = progress(step)
        text = self.texts.progress.format(step=number, total=total) + question
        await self.say(f"{hint}\n\n{text}" if hint else text, markup)

    async def ask_advertising(self) -> None:
        await self.state.set_state(Signup.ads)
        await self.say(
            advertising_text(self.texts, self.settings), keyboards.advertising(self.texts)
        )

    async def ask_consent(self, source_id: int | None, referrer_id: int | None = None) -> None:
        """The consent question; where the person came from stays here, not on the buttons."""
        await self.state.set_state(Signup.consent)
        await self.state.update_data(source_id=source_id, referrer_id=referrer_id)
        await self.bot.send_message(
            self.user.id,
            consent_text(self.texts, self.settings),
            reply_markup=keyboards.consent(self.texts),
            disable_web_page_preview=True,
        )

    async def arrival(self) -> Arrival:
        """What the person came with, as the form holds it before consent."""
        data = await self.state.get_data()
        ref = links.verify(self.settings.link_key, data.get("receipt") or "")
        receipt_id = ref.id if ref and ref.kind == receipts.RECEIPT_KIND else None
        return Arrival(data.get("source_id"), data.get("referrer_id"), receipt_id)

    async def hold_receipt(self, receipt_id: int) -> None:
        """A purchase QR to credit once signup is done (kept as its signed payload)."""
        payload = links.sign(self.settings.link_key, receipts.RECEIPT_KIND, receipt_id)
        await self.state.update_data(receipt=payload)

    async def in_signup(self) -> bool:
        return (await self.state.get_state() or "").startswith(f"{Signup.__name__}:")

    async def current_step(self) -> Step | None:
        return STATE_STEPS.get(await self.state.get_state() or "")

    async def again(self, hint: str | None = None) -> None:
        """Repeat whatever the form is waiting for, after a hint: the answer to anything odd."""
        current = await self.state.get_state()
        if current in STATE_STEPS:
            await self.ask(STATE_STEPS[current], hint)
            return
        if hint:
            await self.say(hint)
        if current == Signup.consent.state:
            data = await self.state.get_data()
            await self.ask_consent(data.get("source_id"), data.get("referrer_id"))
        elif current == Signup.ads.state:
            await self.ask_advertising()

    async def accept(self, step: Step, answer: object) -> None:
        """Keep the answer (None: skipped) and move on to the next question."""
        try:
            await signup.save_answer(self.session, self.user.id, step, answer)
        except signup.NotSigningUpError:
            await self.lost()
            return
        await self.advance(step)

    async def lost(self) -> None:
        """The form outlived its customer row (deleted meanwhile): start again from /start."""
        await self.state.clear()
        await self.say(self.texts.not_signed_up)

    async def advance(self, step: Step) -> None:
        """On to the question after `step`, or the advertising opt-in after the last one."""
        following = next_step(step)
        if following is None:
            await self.ask_advertising()
        else:
            await self.ask(following)


class FormChatMiddleware(BaseMiddleware):
    """Hands the form's handlers a `form` for the user the update comes from."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is not None and "state" in data:
            data["form"] = FormChat(
                data["bot"], user, data["state"], data["session"], data["texts"], data["settings"]
            )
        return await handler(event, data)
