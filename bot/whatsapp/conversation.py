"""One WhatsApp chat: the signup from a wa.me QR, then the member's keywords and menu.

The same services as Telegram (bot/services/accounts.py over signup, ledger, receipts,
privacy); WhatsApp has no slash commands, so members type a keyword or pick from a list
menu, and the questions come as reply buttons and list messages. The phone is the WhatsApp
number itself (the platform verified it), so that question is never asked.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pywa_async import WhatsApp, types
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.birthday import BirthdayError, parse_birthday
from bot.domain.phone import mask_phone, normalize_phone
from bot.domain.questionnaire import GENDERS, Step, clean_city, clean_name
from bot.render.card import CardFace, card_png
from bot.services import accounts as acc
from bot.services import ledger, members, receipts
from bot.services.accounts import WHATSAPP, Account
from bot.services.history import friends_joined, history_page
from bot.services.receipts import ReceiptRefusedError
from bot.services.signup import (
    EntryStatus,
    MissingAnswerError,
    NotSigningUpError,
    PhoneTakenError,
    invite_payload,
)
from bot.services.sources import whatsapp_link
from bot.settings import Settings
from bot.telegram.mydata import mydata_text
from bot.telegram.receipt_claim import refusal_text
from bot.telegram.render import balance_text, history_text
from bot.texts import Texts, texts_for
from bot.whatsapp.markup import whatsapp_text

log = logging.getLogger(__name__)
_PAYLOAD = re.compile(r"\b[a-z](?:0|[1-9][0-9]{0,17})_[A-Za-z0-9_-]{12}(?![A-Za-z0-9_-])")
# Reply buttons (at most three, titles up to 20 characters) and list rows (24) are cut to fit.
BUTTON_TITLE = 20
ROW_TITLE = 24

CONSENT, ADS, FORGET = "consent", "ads", "forget"
QUESTIONS = (Step.NAME, Step.BIRTHDAY, Step.GENDER, Step.CITY, Step.INTERESTS)
MENU_ACTIONS = (
    "balance",
    "card",
    "history",
    "invite",
    "profile",
    "mydata",
    "stop",
    "forget",
    "help",
)


@dataclass(frozen=True)
class Incoming:
    """One message from a customer: text typed, or a button / list row picked (`data`)."""

    wa_id: str
    text: str = ""
    data: str | None = None
    profile_name: str = ""
    language: str | None = None


def consent_text(texts: Texts, settings: Settings) -> str:
    """The exact wording shown on WhatsApp (plain text), stored with the consent record."""
    text = texts.consent_personal_data.format(
        shop=html.escape(settings.shop_name),
        operator=html.escape(settings.operator_name or settings.shop_name),
    )
    if settings.privacy_policy_url:
        text += texts.consent_policy_link.format(url=html.escape(settings.privacy_policy_url))
    return whatsapp_text(text)


def advertising_text(texts: Texts, settings: Settings) -> str:
    return whatsapp_text(texts.consent_advertising.format(shop=html.escape(settings.shop_name)))


def _title(text: str, limit: int = BUTTON_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _buttons(pairs: list[tuple[str, str]]) -> list[types.Button]:
    return [types.Button(title=_title(title), callback_data=data) for title, data in pairs[:3]]


@dataclass
class Chat:
    """A reply in progress to one customer: the client, the session, their language."""

    client: WhatsApp
    session: AsyncSession
    settings: Settings
    account: Account
    texts: Texts
    language: str
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def to(self) -> str:
        return self.account.id

    async def say(self, text: str, buttons: Any = None) -> None:
        await self.client.send_message(self.to, whatsapp_text(text), buttons=buttons)

    async def set(self, state: str | None, data: dict[str, Any] | None = None) -> None:
        self.state, self.data = state, data if data is not None else self.data
        await acc.set_form(self.session, self.account, self.state, self.data)

    # --- the menu ---------------------------------------------------------------------------

    async def menu(self, prompt: str | None = None) -> None:
        t = self.texts
        titles = {
            "balance": t.menu_balance,
            "card": t.menu_card,
            "history": t.menu_history,
            "invite": t.menu_invite,
            "profile": t.menu_profile,
            "stop": t.wa_stop_button,
            "forget": t.wa_forget_button,
            "mydata": t.wa_mydata_button,
            "help": t.menu_help,
        }
        rows = [
            types.SectionRow(title=_title(titles[a], ROW_TITLE), callback_data=f"menu:{a}")
            for a in MENU_ACTIONS
        ]
        await self.client.send_message(
            self.to,
            whatsapp_text(prompt or t.wa_menu_title),
            buttons=types.SectionList(
                button_title=_title(t.wa_menu_button),
                sections=[types.Section(title=_title(t.wa_menu_button, ROW_TITLE), rows=rows)],
            ),
        )


async def handle(
    client: WhatsApp, session: AsyncSession, settings: Settings, msg: Incoming
) -> None:
    """Everything one incoming message does; replies go straight back (a conversation)."""
    account = Account(WHATSAPP, msg.wa_id)
    customer = await acc.customer_of(session, account)
    language = customer.language if customer is not None else _language(msg, settings)
    state, data = await acc.form_of(session, account)
    chat = Chat(client, session, settings, account, texts_for(language), language, state, data)
    payload = _payload(msg.text) if msg.data is None else None
    if customer is not None and customer.status == EntryStatus.ACTIVE:
        await acc.seen(session, account, reachable_again=customer.unreachable_at is not None)
        await _member(chat, msg, payload)
    elif state in QUESTIONS_STATES or state in (CONSENT, ADS):
        await _form(chat, msg)
    elif customer is not None:  # consent on record, the form lost: the questions again
        await acc.seen(session, account)
        await _ask(chat, Step.NAME)
    else:
        await _stranger(chat, msg, payload)


QUESTIONS_STATES = tuple(str(step) for step in QUESTIONS)


def _language(msg: Incoming, settings: Settings) -> str:
    return msg.language if msg.language in ("ru", "en") else settings.default_language


def _payload(text: str) -> str | None:
    match = _PAYLOAD.search(text)
    return match.group(0) if match else None


# --- a stranger: the QR's code, consent ------------------------------------------------------


async def _stranger(chat: Chat, msg: Incoming, payload: str | None) -> None:
    settings, t = chat.settings, chat.texts
    ref = links.verify(settings.link_key, payload) if payload else None
    receipt = payload if ref is not None and ref.kind == receipts.RECEIPT_KIND else None
    entry = await acc.open_chat(
        chat.session,
        settings.link_key,
        settings.program,
        chat.account,
        None if receipt else payload,
    )
    phone = normalize_phone("+" + msg.wa_id)
    if phone is not None:
        holder = await acc.member_elsewhere(chat.session, chat.account, phone)
        if holder is not None:
            offer = await acc.offer_link(chat.session, chat.account, holder)
            await chat.say(t.wa_link_offer.format(code=offer.code))
            return
    data: dict[str, Any] = {"source_id": entry.source_id, "referrer_id": entry.referrer_id}
    if receipt is not None:
        try:
            await receipts.check(chat.session, settings.link_key, receipt, settings.receipt_window)
        except ReceiptRefusedError as refused:
            await chat.say(refusal_text(t, refused.reason))
        else:
            data["receipt"] = receipt
            await chat.say(t.receipt_after_signup)
    await chat.set(CONSENT, data)
    await chat.say(
        consent_text(t, settings),
        _buttons([(t.consent_agree, "consent:yes"), (t.consent_decline, "consent:no")]),
    )


# --- the questionnaire -----------------------------------------------------------------------


async def _ask(chat: Chat, step: Step, prefix: str = "") -> None:
    t, settings = chat.texts, chat.settings
    await chat.set(str(step))
    if step is Step.NAME:
        await chat.say(prefix + t.ask_name)
    elif step is Step.BIRTHDAY:
        await chat.say(prefix + t.ask_birthday, _buttons([(t.skip, "skip")]))
    elif step is Step.GENDER:
        await chat.say(
            prefix + t.ask_gender,
            _buttons([(t.female, "gender:female"), (t.male, "gender:male"), (t.skip, "skip")]),
        )
    elif step is Step.CITY:
        if not settings.cities:
            await chat.say(prefix + t.ask_city, _buttons([(t.skip, "skip")]))
            return
        rows = [
            types.SectionRow(title=_title(city, ROW_TITLE), callback_data=f"city:{index}")
            for index, city in enumerate(settings.cities[:9])
        ]
        rows.append(types.SectionRow(title=_title(t.skip, ROW_TITLE), callback_data="skip"))
        await chat.client.send_message(
            chat.to,
            whatsapp_text(prefix + t.ask_city_buttons),
            buttons=types.SectionList(
                button_title=_title(t.ask_city_buttons.split("?")[0] + "?"),
                sections=[types.Section(title=_title(t.ask_gender, ROW_TITLE), rows=rows)],
            ),
        )
    else:
        await _ask_interests(chat, prefix)


async def _ask_interests(chat: Chat, prefix: str = "", ticked: list[str] | None = None) -> None:
    t, names = chat.texts, chat.settings.interests
    customer = await acc.customer_of(chat.session, chat.account)
    chosen = set(ticked if ticked is not None else (customer.interests or []) if customer else [])
    rows = [
        types.SectionRow(
            title=_title(("✓ " if name in chosen else "") + name, ROW_TITLE),
            callback_data=f"interest:{index}",
        )
        for index, name in enumerate(names[:9])
    ]
    rows.append(types.SectionRow(title=_title(t.done, ROW_TITLE), callback_data="done"))
    await chat.client.send_message(
        chat.to,
        whatsapp_text(prefix + t.ask_interests),
        buttons=types.SectionList(
            button_title=_title(t.done),
            sections=[types.Section(title=_title(t.done, ROW_TITLE), rows=rows)],
        ),
    )


async def _form(chat: Chat, msg: Incoming) -> None:
    t = chat.texts
    if chat.state == CONSENT:
        await _consent(chat, msg)
        return
    if chat.state == ADS:
        await _advertising(chat, msg)
        return
    assert chat.state is not None
    step = Step(chat.state)
    customer_id = await acc.customer_id_of(chat.session, chat.account)
    if customer_id is None:
        await chat.set(None, {})
        await chat.say(t.resume)
        return
    await acc.seen(chat.session, chat.account)
    answer: object = _NOT
    if msg.data == "skip" and step in (Step.BIRTHDAY, Step.GENDER, Step.CITY):
        answer = None
    elif step is Step.NAME and msg.data is None:
        answer = clean_name(msg.text) or _NOT
        if answer is _NOT:
            await chat.say(t.bad_name)
            return
    elif step is Step.BIRTHDAY and msg.data is None:
        try:
            answer = parse_birthday(msg.text, datetime.now(chat.settings.zone).date())
        except BirthdayError as error:
            await chat.say(t.bad_birthday_age if error.reason == "age" else t.bad_birthday_format)
            return
    elif step is Step.GENDER and msg.data and msg.data.removeprefix("gender:") in GENDERS:
        answer = msg.data.removeprefix("gender:")
    elif step is Step.CITY:
        answer = _city(chat, msg)
    elif step is Step.INTERESTS:
        await _interests(chat, msg, customer_id)
        return
    if answer is _NOT:
        await chat.say(t.use_buttons)
        return
    try:
        await acc.save_answer(chat.session, customer_id, step, answer)
    except NotSigningUpError:
        await chat.set(None, {})
        await chat.say(t.resume)
        return
    following = QUESTIONS[QUESTIONS.index(step) + 1]
    await _ask(chat, following)


_NOT = object()


def _city(chat: Chat, msg: Incoming) -> object:
    cities = chat.settings.cities
    if msg.data and msg.data.startswith("city:"):
        value = msg.data.removeprefix("city:")
        if value.isdigit() and int(value) < len(cities):
            return cities[int(value)]
        return _NOT
    if msg.data is None:
        return clean_city(msg.text) or _NOT
    return _NOT


async def _interests(chat: Chat, msg: Incoming, customer_id: int) -> None:
    names = chat.settings.interests
    if msg.data == "done":
        await chat.set(ADS)
        t = chat.texts
        await chat.say(
            advertising_text(t, chat.settings),
            _buttons([(t.ads_yes, "ads:yes"), (t.ads_no, "ads:no")]),
        )
        return
    value = (msg.data or "").removeprefix("interest:")
    if not (msg.data or "").startswith("interest:") or not value.isdigit():
        await chat.say(chat.texts.use_buttons)
        return
    ticked = None
    if int(value) < len(names):
        ticked = await acc.toggle_interest(chat.session, customer_id, names[int(value)])
    await _ask_interests(chat, ticked=ticked)


async def _consent(chat: Chat, msg: Incoming) -> None:
    t, settings = chat.texts, chat.settings
    if msg.data == "consent:no":
        await acc.decline_consent(chat.session, chat.account, chat.data.get("source_id"))
        await chat.set(None, {})
        bonus = settings.welcome_bonus
        await chat.say(t.declined_text(t.points(bonus) if bonus else None))
        return
    if msg.data != "consent:yes":
        await chat.say(
            t.use_buttons,
            _buttons([(t.consent_agree, "consent:yes"), (t.consent_decline, "consent:no")]),
        )
        return
    customer_id = await acc.give_consent(
        chat.session,
        chat.account,
        chat.language,
        chat.data.get("source_id"),
        consent_text(t, settings),
        chat.data.get("referrer_id"),
    )
    phone = normalize_phone("+" + chat.account.id)
    prefix = ""
    if phone is not None and await acc.save_verified_phone(chat.session, customer_id, phone):
        prefix = f"✓ {mask_phone(phone)}\n\n"
    await chat.set(
        str(Step.NAME), {"receipt": chat.data["receipt"]} if chat.data.get("receipt") else {}
    )
    await _ask(chat, Step.NAME, prefix)


async def _advertising(chat: Chat, msg: Incoming) -> None:
    t, settings = chat.texts, chat.settings
    if msg.data not in ("ads:yes", "ads:no"):
        await chat.say(t.use_buttons, _buttons([(t.ads_yes, "ads:yes"), (t.ads_no, "ads:no")]))
        return
    try:
        welcome = await acc.complete(
            chat.session,
            chat.account,
            ads_opt_in=msg.data == "ads:yes",
            ads_text=advertising_text(t, settings),
            language=chat.language,
            program=settings.program,
        )
    except PhoneTakenError:
        await chat.set(None, {})
        await chat.say(t.phone_taken)
        return
    except MissingAnswerError as missing:
        await _ask(chat, missing.step, t.resume + "\n\n")
        return
    except NotSigningUpError:
        await chat.set(None, {})
        await chat.say(t.resume)
        return
    receipt = chat.data.get("receipt")
    await chat.set(None, {})
    text = t.welcome_text(
        html.escape(welcome.name),
        html.escape(settings.shop_name),
        t.points(welcome.bonus) if welcome.bonus else None,
        t.points(welcome.balance),
    )
    await chat.menu(text)
    if receipt:
        await _claim_receipt(chat, receipt)


# --- a member ---------------------------------------------------------------------------------


def _action(chat: Chat, msg: Incoming) -> str | None:
    if msg.data is not None:
        return msg.data.removeprefix("menu:") if msg.data.startswith("menu:") else msg.data
    word = msg.text.strip().lower().strip("!.?/ ")
    for keyword, action in (*chat.texts.wa_keywords, *texts_for("en").wa_keywords):
        if word == keyword:
            return action
    return None


async def _member(chat: Chat, msg: Incoming, payload: str | None) -> None:
    settings = chat.settings
    if payload is not None:
        ref = links.verify(settings.link_key, payload)
        if ref is not None and ref.kind == receipts.RECEIPT_KIND:
            await _claim_receipt(chat, payload)
            return
    if msg.data is None and (code := _LINK.match(msg.text.strip())) is not None:
        await _link(chat, code.group(1))
        return
    action = _action(chat, msg)
    if chat.state == FORGET and action in ("forget:yes", "forget:no"):
        await _forget_answer(chat, action == "forget:yes")
        return
    if chat.state == FORGET:
        await chat.set(None, {})
    handlers = {
        "balance": _balance,
        "card": _card,
        "history": _history,
        "invite": _invite,
        "profile": _profile,
        "stop": _stop,
        "forget": _forget,
        "mydata": _mydata,
        "help": _help,
    }
    if action is not None and action.startswith("history:") and action[8:].isdigit():
        await _history(chat, int(action[8:]))
        return
    if action == "menu" or action is None:
        await chat.menu(None if action == "menu" else chat.texts.wa_unknown)
        return
    handler = handlers.get(action)
    if handler is None:
        await chat.menu(chat.texts.wa_unknown)
        return
    await handler(chat)


async def _customer_id(chat: Chat) -> int:
    customer_id = await acc.customer_id_of(chat.session, chat.account)
    assert customer_id is not None
    return customer_id


async def _balance(chat: Chat) -> None:
    view = await ledger.balance(chat.session, chat.settings.program, await _customer_id(chat))
    await chat.say(balance_text(chat.texts, view))


async def _card(chat: Chat) -> None:
    settings, t = chat.settings, chat.texts
    profile = await acc.profile_of(chat.session, chat.account)
    assert profile is not None
    view = await ledger.balance(chat.session, settings.program, profile.customer_id)
    link = whatsapp_link(
        settings.whatsapp_number or "",
        "",
        members.card_payload(settings.link_key, profile.customer_id),
    )
    face = CardFace(
        shop_name=settings.shop_name,
        holder_name=profile.name.split(" ")[0],
        card_code=profile.card_code,
        tier_name=view.tier.name,
        balance_text=t.points(view.points),
        caption=t.card_face_caption,
    )
    await chat.client.send_image(
        chat.to,
        card_png(link, face),
        caption=whatsapp_text(t.card_caption.format(code=profile.card_code)),
        mime_type="image/png",
    )


async def _history(chat: Chat, page_number: int = 0) -> None:
    """One page of operations, newest first; reply buttons turn the pages (as in Telegram)."""
    t = chat.texts
    page = await history_page(chat.session, await _customer_id(chat), page_number)
    pairs = []
    if page.page > 0:
        pairs.append((t.history_newer, f"history:{page.page - 1}"))
    if page.has_older:
        pairs.append((t.history_older, f"history:{page.page + 1}"))
    await chat.say(history_text(t, page, chat.settings.zone), _buttons(pairs) if pairs else None)


async def _mydata(chat: Chat) -> None:
    """Everything held about the person, as a message and as a JSON file (audited)."""
    t = chat.texts
    data = await acc.my_data(chat.session, chat.settings.program, chat.account)
    if data is None:
        await chat.say(t.forget_nothing)
        return
    await chat.say(mydata_text(t, data, chat.settings.zone))
    payload = json.dumps(data.as_json(), ensure_ascii=False, indent=2).encode()
    await chat.client.send_document(
        chat.to,
        payload,
        filename="mydata.json",
        caption=whatsapp_text(t.mydata_caption),
        mime_type="application/json",
    )


async def _invite(chat: Chat) -> None:
    settings, t = chat.settings, chat.texts
    customer_id = await _customer_id(chat)
    link = whatsapp_link(
        settings.whatsapp_number or "", t.wa_qr_line, invite_payload(settings.link_key, customer_id)
    )
    await chat.say(
        t.invite_text.format(
            bonus=t.points(settings.referral_bonus),
            link=link,
            joined=await friends_joined(chat.session, customer_id),
        )
    )


async def _profile(chat: Chat) -> None:
    t = chat.texts
    profile = await acc.profile_of(chat.session, chat.account)
    assert profile is not None
    empty = t.profile_empty
    genders = {"female": t.female, "male": t.male}
    await chat.say(
        t.profile.format(
            name=html.escape(profile.name),
            phone=mask_phone(profile.phone) if profile.phone else empty,
            birthday=profile.birthday.strftime("%d.%m.%Y") if profile.birthday else empty,
            gender=genders.get(profile.gender or "", empty),
            city=html.escape(profile.city) if profile.city else empty,
            interests=html.escape(", ".join(profile.interests)) or empty,
            ads=t.profile_ads_on if profile.ads_opt_in else t.profile_ads_off,
        )
        + t.wa_profile_phone_note
    )


async def _stop(chat: Chat) -> None:
    t = chat.texts
    done = await acc.unsubscribe(
        chat.session, chat.account, chat.language, advertising_text(t, chat.settings)
    )
    await chat.say(t.unsubscribed if done else t.stop_already)


async def _forget(chat: Chat) -> None:
    t = chat.texts
    customer_id = await _customer_id(chat)
    points = await ledger.points_of(chat.session, customer_id)
    await chat.set(FORGET, {})
    await chat.say(
        t.forget_confirm.format(balance=t.points(points)),
        _buttons([(t.forget_yes, "forget:yes"), (t.forget_no, "forget:no")]),
    )


async def _forget_answer(chat: Chat, yes: bool) -> None:
    t, settings = chat.texts, chat.settings
    await chat.set(None, {})
    if not yes:
        await chat.say(t.forget_kept)
        return
    await acc.forget(
        chat.session,
        settings.program,
        settings.link_key,
        chat.account,
        chat.language,
        consent_text(t, settings),
        advertising_text(t, settings),
    )
    await chat.say(t.forgotten)


_LINK = re.compile(r"^/?(?:link|связать|привязать)\s*(\d{6})$", re.IGNORECASE)


async def _link(chat: Chat, code: str) -> None:
    """The member confirms, from WhatsApp, that a Telegram account (it typed their phone) is
    theirs: it joins their card; the Telegram chat is told through the outbox."""
    linked = await acc.confirm_link(chat.session, chat.account, code)
    await chat.say(chat.texts.wa_tg_linked if linked is not None else chat.texts.wa_link_unusable)


async def _help(chat: Chat) -> None:
    await chat.menu(chat.texts.help.format(shop=html.escape(chat.settings.shop_name)))


async def _claim_receipt(chat: Chat, payload: str) -> None:
    settings, t = chat.settings, chat.texts
    try:
        result = await receipts.claim(
            chat.session,
            settings.program,
            settings.link_key,
            payload,
            await _customer_id(chat),
            settings.receipt_window,
        )
    except ReceiptRefusedError as refused:
        await chat.say(refusal_text(t, refused.reason))
        return
    if result.duplicate:
        await chat.say(t.receipt_claimed)
    # Otherwise the ledger queued the purchase notice in the sale's own transaction.
