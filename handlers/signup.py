"""The signup form: consent, six questions and the advertising opt-in.

Every button carries the step it belongs to, and is acted on only while the form is at that
step: a double tap, or a tap on an old message, gets "already done" and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.birthday import BirthdayError, parse_birthday
from bot.domain.phone import mask_phone, normalize_phone
from bot.domain.program import Program
from bot.domain.questionnaire import GENDERS, SKIPPABLE, Step, clean_city, clean_name, previous_step
from bot.services import signup
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.keyboards import AdsCb, ConsentCb, FormCb
from bot.telegram.questions import (
    STATE_STEPS,
    FormChat,
    Signup,
    advertising_text,
    arrival_from,
    changed_mind_button,
    chosen_indexes,
    consent_text,
)
from bot.telegram.receipt_claim import claim_receipt
from bot.texts import Texts

# --- consent -------------------------------------------------------------------------------


async def on_consent_given(
    query: CallbackQuery, form: FormChat, session: AsyncSession, language: str
) -> None:
    data = await form.state.get_data()
    text = consent_text(form.texts, form.settings)
    await signup.give_consent(
        session, form.user.id, language, data.get("source_id"), text, data.get("referrer_id")
    )
    # The source and inviter are on the customer row now; the form keeps the receipt only.
    await form.state.set_data({"receipt": data["receipt"]} if data.get("receipt") else {})
    await query.answer()
    await form.ask(Step.NAME)


async def on_consent_declined(query: CallbackQuery, form: FormChat, session: AsyncSession) -> None:
    arrival = await form.arrival()
    await form.state.clear()
    await signup.decline_consent(session, arrival.source_id)
    await query.answer()
    bonus = form.settings.welcome_bonus
    button = changed_mind_button(form.settings.link_key, form.user.id, arrival)
    await form.say(
        form.texts.declined_text(form.texts.points(bonus) if bonus else None),
        keyboards.changed_mind(form.texts, button),
    )


async def on_consent_reconsidered(
    query: CallbackQuery, callback_data: ConsentCb, form: FormChat, session: AsyncSession
) -> None:
    await query.answer()
    if await signup.is_known(session, form.user.id):
        await form.say(form.texts.already_done)
        return
    arrival = arrival_from(form.settings.link_key, form.user.id, callback_data)
    if arrival.receipt_id is not None:
        await form.hold_receipt(arrival.receipt_id)
    await form.ask_consent(arrival.source_id, arrival.referrer_id)


# --- the questions -------------------------------------------------------------------------


async def _on_phone(message: Message, form: FormChat, session: AsyncSession) -> None:
    texts, settings = form.texts, form.settings
    if message.contact is not None:
        if message.contact.user_id != form.user.id:
            await form.again(texts.phone_not_own)
            return
        phone = normalize_phone(message.contact.phone_number)
    elif message.text == texts.back:
        await form.ask(Step.NAME)
        return
    elif message.text is not None:
        phone = normalize_phone(message.text)
    else:
        await form.again(texts.contact_expected)
        return
    if phone is None:
        await form.again(texts.bad_phone)
        return
    try:
        conflict = await signup.save_phone(
            session,
            settings.link_key,
            form.user.id,
            phone,
            settings.owner_ids,
            shared_contact=message.contact is not None,
        )
    except signup.PhoneTakenError:
        await form.again(texts.phone_taken)
        return
    except signup.NotSigningUpError:
        await form.lost()
        return
    if conflict is not None and conflict.imported:
        await form.again(texts.phone_imported_share)
        return
    if conflict is not None and conflict.link_code is not None:
        await form.again(texts.tg_link_offer.format(code=conflict.link_code))
        return
    if conflict is not None:
        await form.again(texts.phone_taken)
        return
    await form.say(f"✓ {mask_phone(phone)}", ReplyKeyboardRemove())
    await form.advance(Step.PHONE)


async def _on_text_answer(step: Step, text: str, form: FormChat) -> None:
    texts = form.texts
    if step is Step.NAME:
        if (name := clean_name(text)) is None:
            await form.again(texts.bad_name)
        else:
            await form.accept(step, name)
    elif step is Step.BIRTHDAY:
        try:
            born = parse_birthday(text, datetime.now(form.settings.zone).date())
        except BirthdayError as error:
            age = error.reason == "age"
            await form.again(texts.bad_birthday_age if age else texts.bad_birthday_format)
        else:
            await form.accept(step, born)
    elif step is Step.CITY:
        if (city := clean_city(text)) is None:
            await form.again(texts.text_expected)
        else:
            await form.accept(step, city)
    else:
        await form.again(texts.use_buttons)


async def on_form_message(message: Message, form: FormChat, session: AsyncSession) -> None:
    """Any message while a question waits: the answer if it fits, else the question again."""
    step = await form.current_step()
    assert step is not None
    if step is Step.PHONE:
        await _on_phone(message, form, session)
    elif message.text is None:
        await form.again(form.texts.text_expected)
    elif message.text.startswith("/"):
        await form.again(form.texts.resume)
    else:
        await _on_text_answer(step, message.text, form)


_NOT = object()


def _picked(step: Step, value: str, form: FormChat) -> object:
    """The answer a pick button stands for, or _NOT for a value no longer valid."""
    if step is Step.NAME and value == "tg":
        return clean_name(form.user.first_name) or _NOT
    if step is Step.GENDER and value in GENDERS:
        return value
    cities = form.settings.cities
    if step is Step.CITY and value.isdigit() and int(value) < len(cities):
        return cities[int(value)]
    return _NOT


async def on_form_button(query: CallbackQuery, callback_data: FormCb, form: FormChat) -> None:
    step = await form.current_step()
    action = callback_data.action
    if callback_data.step != step or step is None:
        await query.answer(form.texts.already_done)
    elif step is Step.INTERESTS and action in ("pick", "done"):
        await _on_interests(query, callback_data, form)
    elif action == "back" and (previous := previous_step(step)) is not None:
        await query.answer()
        await form.ask(previous)
    elif action == "skip" and step in SKIPPABLE:
        await query.answer()
        await form.accept(step, None)
    elif action == "pick" and (answer := _picked(step, callback_data.value, form)) is not _NOT:
        await query.answer()
        await form.accept(step, answer)
    else:
        await query.answer(form.texts.already_done)


async def _on_interests(query: CallbackQuery, callback_data: FormCb, form: FormChat) -> None:
    await query.answer()
    if callback_data.action == "done":
        await form.ask_advertising()
        return
    names = form.settings.interests
    value = callback_data.value
    if not value.isdigit() or int(value) >= len(names) or query.message is None:
        return
    try:
        chosen = await signup.toggle_interest(form.session, form.user.id, names[int(value)])
    except signup.NotSigningUpError:
        await form.lost()
        return
    await form.bot.edit_message_reply_markup(
        chat_id=form.user.id,
        message_id=query.message.message_id,
        reply_markup=keyboards.interests(form.texts, names, chosen_indexes(names, chosen)),
    )


# --- advertising opt-in and the end --------------------------------------------------------


async def on_advertising_answer(
    query: CallbackQuery,
    callback_data: AdsCb,
    form: FormChat,
    session: AsyncSession,
    language: str,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    await query.answer()
    if callback_data.answer == "back":
        await form.ask(Step.INTERESTS)
        return
    try:
        welcome = await signup.complete(
            session,
            form.user.id,
            ads_opt_in=callback_data.answer == "yes",
            ads_text=advertising_text(texts, settings),
            language=language,
            program=program,
        )
    except signup.PhoneTakenError:
        await form.ask(Step.PHONE, texts.phone_taken)
        return
    except signup.MissingAnswerError as missing:
        await form.ask(missing.step, texts.resume)
        return
    except signup.NotSigningUpError:
        await form.lost()
        return
    receipt = (await form.state.get_data()).get("receipt")
    await form.state.clear()
    text = texts.welcome_text(
        html.quote(welcome.name),
        html.quote(settings.shop_name),
        texts.points(welcome.bonus) if welcome.bonus else None,
        texts.points(welcome.balance),
    )
    await form.say(text, keyboards.main_menu(texts))
    if receipt:  # the purchase QR they scanned before joining: their first purchase
        await claim_receipt(form.bot, form.user.id, receipt, session, texts, settings)


async def on_unexpected_at_buttons(message: Message, form: FormChat) -> None:
    text = message.text or ""
    await form.again(form.texts.resume if text.startswith("/") else form.texts.use_buttons)


def build_router() -> Router:
    router = Router(name="signup")
    router.callback_query.register(
        on_consent_given, StateFilter(Signup.consent), ConsentCb.filter(F.action == "agree")
    )
    router.callback_query.register(
        on_consent_declined, StateFilter(Signup.consent), ConsentCb.filter(F.action == "decline")
    )
    router.callback_query.register(
        on_consent_reconsidered, StateFilter(None), ConsentCb.filter(F.action == "again")
    )
    router.message.register(on_form_message, StateFilter(*STATE_STEPS))
    router.callback_query.register(on_form_button, StateFilter(*STATE_STEPS), FormCb.filter())
    router.callback_query.register(on_advertising_answer, StateFilter(Signup.ads), AdsCb.filter())
    router.message.register(on_unexpected_at_buttons, StateFilter(Signup.consent, Signup.ads))
    return router
