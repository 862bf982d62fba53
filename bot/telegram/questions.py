"""How the signup questions look in Telegram: the form's states, texts and keyboards."""

from __future__ import annotations

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

from bot.domain.questionnaire import GENDERS, Step, clean_name, next_step, progress
from bot.settings import Settings
from bot.telegram import keyboards
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
    step: Step, texts: Texts, settings: Settings, data: dict, telegram_name: str | None
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
    chosen = set(data.get("interest_ids", []))
    return texts.ask_interests, keyboards.interests(texts, settings.interests, chosen)


@dataclass
class FormChat:
    """The signup form as one person's chat sees it: asks questions and repeats them."""

    bot: Bot
    user: User
    state: FSMContext
    texts: Texts
    settings: Settings

    async def say(self, text: str, markup: Markup | None = None) -> None:
        await self.bot.send_message(self.user.id, text, reply_markup=markup)

    async def ask(self, step: Step, hint: str | None = None) -> None:
        await self.state.set_state(STEP_STATES[step])
        data = await self.state.get_data()
        question, markup = _question(step, self.texts, self.settings, data, self.user.first_name)
        number, total = progress(step)
        text = self.texts.progress.format(step=number, total=total) + question
        await self.say(f"{hint}\n\n{text}" if hint else text, markup)

    async def ask_advertising(self) -> None:
        await self.state.set_state(Signup.ads)
        await self.say(
            advertising_text(self.texts, self.settings), keyboards.advertising(self.texts)
        )

    async def ask_consent(self, source_id: int | None, referrer_id: int | None = None) -> None:
        await self.state.set_state(Signup.consent)
        await self.state.update_data(source_id=source_id, referrer_id=referrer_id)
        await self.bot.send_message(
            self.user.id,
            consent_text(self.texts, self.settings),
            reply_markup=keyboards.consent(self.texts, source_id, referrer_id),
            disable_web_page_preview=True,
        )

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

    async def accept(self, step: Step, **answer: object) -> None:
        """Keep the answer and move on to the next question (or the advertising opt-in)."""
        await self.state.update_data(answer)
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
                data["bot"], user, data["state"], data["texts"], data["settings"]
            )
        return await handler(event, data)
