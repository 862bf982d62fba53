"""`/start`, with or without a deep-link payload, in any state.

A payload is one of: a source's QR code (signup attribution), a friend's invite, a customer's
card scanned by a cashier, or a staff invite. Anything else signs up with source "unknown".

Staff get their console (what their role can do) instead of the consent form, and may join as
customers through its "I'm a customer too" button. A shop with no owner at all tells whoever
starts it how to become one.
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.domain.program import Program
from bot.domain.questionnaire import Step
from bot.services import members, receipts, signup, staff, team
from bot.services.customers import active_profile
from bot.services.signup import EntryStatus
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.card import send_card
from bot.telegram.menus import ConsoleCb, console_keyboard, console_text, role_name, set_chat_menu
from bot.telegram.questions import FormChat
from bot.telegram.receipt_claim import claim_receipt, refusal_text
from bot.telegram.sale import begin_sale
from bot.texts import Texts


def _looks_like_receipt(payload: str) -> bool:
    """A receipt's kind letter and the start of its number, whatever is missing after them."""
    return payload[:1] == receipts.RECEIPT_KIND and payload[1:2].isdigit()


async def _staff_invite(
    message: Message, payload: str, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    assert message.from_user is not None
    member = await staff.accept_invite(
        session, settings.link_key, payload, message.from_user.id, message.from_user.full_name
    )
    if member is None:
        await message.answer(texts.invite_unusable)
        return
    store = f" ({html.quote(member.store)})" if member.store else ""
    if member.role is staff.Role.CASHIER:
        await message.answer(texts.invite_accepted.format(store=store))
    else:
        role = role_name(texts, member.role)
        await message.answer(texts.invite_accepted_role.format(role=role, store=store))
    assert message.bot is not None
    await set_chat_menu(message.bot, member.telegram_id, member, settings.default_language)


async def _scanned_card(
    message: Message,
    payload: str,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> bool:
    """A card's QR: the cashier starts a sale, its holder sees the card; True when handled."""
    assert message.from_user is not None
    member = await members.by_card_payload(session, settings.link_key, payload)
    if member is None:
        return False
    cashier = await staff.role_of(session, settings.owner_ids, message.from_user.id)
    if cashier is not None:
        await begin_sale(message, member, state, session, texts, settings)
        return True
    if member.telegram_id == message.from_user.id:
        profile = await active_profile(session, member.telegram_id)
        if profile is not None:
            assert message.bot is not None  # aiogram sets it on every update it feeds
            await send_card(message, message.bot, profile, session, texts, settings)
        return True
    return False  # someone else's card: nothing of it is shown


async def _hold_receipt(
    payload: str, form: FormChat, session: AsyncSession, settings: Settings, program: Program
) -> None:
    """A newcomer scanned a purchase QR: keep it for the end of signup, if it is still good."""
    try:
        await receipts.check(session, settings.link_key, payload, program.receipt_window)
    except receipts.ReceiptRefusedError as refused:
        await form.say(refusal_text(form.texts, refused.reason))  # signup goes on without it
        return
    await form.state.update_data(receipt=payload)
    await form.say(form.texts.receipt_after_signup)


async def cmd_start(
    message: Message,
    command: CommandObject,
    form: FormChat,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    payload = command.args
    assert message.from_user is not None
    if not settings.owner_ids and not await team.has_owner(session, settings.owner_ids):
        await message.answer(texts.first_run.format(id=message.from_user.id))
        return
    ref = links.verify(settings.link_key, payload) if payload else None
    if ref is not None and ref.kind == staff.INVITE_KIND and payload:
        await _staff_invite(message, payload, session, texts, settings)
        return
    if not await form.in_signup():
        await form.state.clear()  # /start leaves any other conversation (a sale, an owner's /qr)
    if ref is not None and ref.kind == members.CARD_KIND and payload:
        if await _scanned_card(message, payload, form.state, session, texts, settings):
            return
        payload = None
    if payload is None and not await form.in_signup():
        member = await staff.role_of(session, settings.owner_ids, message.from_user.id)
        if member is not None:
            await message.answer(console_text(member, texts), reply_markup=console_keyboard(texts))
            assert message.bot is not None
            await set_chat_menu(message.bot, member.telegram_id, member, settings.default_language)
            return
    receipt = payload if ref is not None and ref.kind == receipts.RECEIPT_KIND else None
    if receipt is not None:
        payload = None  # a purchase QR names no source: the funnel counts it as "unknown"
    elif payload and ref is None and _looks_like_receipt(payload):
        receipt, payload = payload, None  # an altered or cut receipt QR: refused below, logged
    await _enter(message, form, session, texts, settings, program, payload, receipt)


async def _enter(
    message: Message,
    form: FormChat,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
    payload: str | None,
    receipt: str | None,
) -> None:
    """The customer's way in: the welcome back, the form where it stopped, or consent."""
    entry = await signup.open_bot(session, settings.link_key, program, form.user.id, payload)
    if entry.status is EntryStatus.ACTIVE:
        if receipt is not None:
            assert message.bot is not None
            await claim_receipt(message.bot, form.user.id, receipt, session, texts, settings)
            return
        await message.answer(
            texts.returning.format(
                name=html.quote(entry.name or ""), balance=texts.points(entry.balance)
            ),
            reply_markup=keyboards.main_menu(texts),
        )
        return
    if receipt is not None:
        await _hold_receipt(receipt, form, session, settings, program)
    if await form.in_signup():
        await form.again(texts.resume)
    elif entry.status is EntryStatus.PENDING:
        # Consent is on record but the form was lost (e.g. Redis flushed): start the questions.
        await form.ask(Step.NAME)
    else:
        await form.ask_consent(entry.source_id, entry.referrer_id)


async def on_customer_too(
    query: CallbackQuery,
    form: FormChat,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
) -> None:
    """A member of staff joins the program as a customer (or sees their balance if they did)."""
    await query.answer()
    if isinstance(query.message, Message):
        await _enter(query.message, form, session, texts, settings, program, None, None)


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    router.callback_query.register(on_customer_too, ConsoleCb.filter())
    return router
