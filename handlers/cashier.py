"""The cashier's sale: find the customer, amount, receipt number, points to spend, confirm.

A promo code is optional: the confirmation has a button for it; the code is checked by the
promo service, its discount shown, the points question asked again on the discounted sum, and
the code is taken with the sale itself (`promos.record_sale`), in the same transaction.

Only staff get here (`StaffOnly`). The cashier sees the customer's first name and a masked phone,
nothing more. Every sale has an id from its start, used as the receipt number when none is
typed: a confirm pressed twice, or again after the cashier's reply was lost, is one purchase.
The form is cleared once the cashier has been told; the customer hears about the sale
whatever happens to that reply.
"""

from __future__ import annotations

from dataclasses import asdict

from aiogram import Bot, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identifiers import clean_id
from bot.domain.money import format_rub, parse_amount
from bot.domain.promos import Kind
from bot.services import ledger, members, promos, team
from bot.services import program as program_service
from bot.services.permissions import Action
from bot.services.staff import Role, StaffMember
from bot.settings import Settings
from bot.telegram.deeplinks import bot_link
from bot.telegram.filters import NotCommand, Permitted, StaffOnly
from bot.telegram.keyboards import cancel_button, cancel_only
from bot.telegram.promo_texts import applied_effect, refusal_text
from bot.telegram.sale import SaleCb, SaleForm, begin_sale, sale_buttons, sale_receipt_id
from bot.telegram.till import ask_customer_to_confirm
from bot.texts import Texts


async def cmd_sale(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.clear()
    await state.set_state(SaleForm.customer)
    await message.answer(texts.sale_ask_customer, reply_markup=cancel_only(texts))


async def on_customer(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    member = await members.find(session, message.text or "")
    if member is None:
        typo = members.is_mistyped_card(message.text or "")
        await message.answer(
            texts.sale_card_typo if typo else texts.sale_not_found,
            reply_markup=cancel_only(texts),
        )
        return
    await begin_sale(message, member, state, session, texts, settings)


async def on_amount(message: Message, state: FSMContext, texts: Texts) -> None:
    amount = parse_amount(message.text or "")
    if amount is None:
        await message.answer(texts.sale_bad_amount, reply_markup=cancel_only(texts))
        return
    await state.update_data(amount=amount)
    await state.set_state(SaleForm.receipt)
    no_number = SaleCb(action="no_receipt")
    await message.answer(
        texts.sale_ask_receipt,
        reply_markup=_and_cancel(sale_buttons([(texts.sale_no_receipt, no_number)]), texts),
    )


def _and_cancel(markup: InlineKeyboardMarkup, texts: Texts) -> InlineKeyboardMarkup:
    """A step's own buttons, then Cancel: every step of the sale can be left."""
    return InlineKeyboardMarkup(inline_keyboard=[*markup.inline_keyboard, [cancel_button(texts)]])


async def _ask_redeem(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    program = await program_service.current(session, settings.program)
    data = await state.get_data()
    view = await ledger.balance(session, program, data["customer_id"])
    most = min(view.points, program.redeem_cap(_due(data)))
    await state.update_data(max_redeem=most)
    if most <= 0:
        await _confirm(message, state, session, texts, settings, redeem=0)
        return
    await state.set_state(SaleForm.redeem)
    await message.answer(
        texts.sale_ask_redeem.format(max=texts.points(most), cap=f"{program.redeem_cap_percent:g}"),
        reply_markup=_and_cancel(
            sale_buttons(
                [(texts.sale_redeem_max.format(points=most), SaleCb(action="redeem", value=most))],
                [(texts.sale_redeem_none, SaleCb(action="redeem", value=0))],
            ),
            texts,
        ),
    )


async def on_receipt(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    receipt = clean_id(" ".join((message.text or "").split()))
    if receipt is None:  # empty, too long, or control/invisible characters: ask again
        await message.answer(texts.sale_bad_receipt)
        return
    await state.update_data(receipt_id=receipt)
    await _ask_redeem(message, state, session, texts, settings)


async def on_redeem_typed(
    message: Message, state: FSMContext, session: AsyncSession, texts: Texts, settings: Settings
) -> None:
    most = (await state.get_data())["max_redeem"]
    text = (message.text or "").strip()
    if not text.isdigit() or int(text) > most:
        await message.answer(texts.sale_bad_redeem.format(max=texts.points(most)))
        return
    await _confirm(message, state, session, texts, settings, redeem=int(text))


def _due(data: dict) -> int:
    """The check less the promo code's discount: what points may pay part of."""
    return int(data["amount"]) - int(data.get("promo", {}).get("discount", 0))


def _applied(data: dict) -> promos.Applied | None:
    promo = data.get("promo")
    return promos.Applied(**{**promo, "kind": Kind(promo["kind"])}) if promo else None


async def _confirm(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    redeem: int,
) -> None:
    program = await program_service.current(session, settings.program)
    data = await state.get_data()
    amount, due = data["amount"], _due(data)
    member = await members.by_id(session, data["customer_id"])
    name = member.first_name if member else ""
    await state.update_data(redeem=redeem)
    await state.set_state(SaleForm.confirm)
    # The tier is settled when the sale is recorded; this is the estimate at the base rate.
    estimate = program.accrual(due - redeem * 100, 0)
    text = texts.sale_confirm.format(
        name=html.quote(name),
        amount=format_rub(amount),
        redeem=texts.points(redeem),
        due=format_rub(due - redeem * 100),
        accrue=f"≈ {texts.points(estimate)}",
    )
    rows = [[(texts.sale_go, SaleCb(action="go")), (texts.sale_cancel, SaleCb(action="cancel"))]]
    if applied := _applied(data):
        text += texts.sale_confirm_promo.format(
            code=applied.code, effect=applied_effect(texts, applied)
        )
    else:
        rows.append([(texts.sale_promo_button, SaleCb(action="promo"))])
    await message.answer(text, reply_markup=sale_buttons(*rows))


async def _ask_promo(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.set_state(SaleForm.promo)
    await message.answer(
        texts.sale_ask_promo,
        reply_markup=_and_cancel(
            sale_buttons([(texts.sale_no_promo, SaleCb(action="no_promo"))]), texts
        ),
    )


async def on_promo_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    promo_guard: promos.GuessGuard,
) -> None:
    data = await state.get_data()
    try:
        applied = await promos.check_code(
            session,
            message.text or "",
            data["customer_id"],
            data["amount"],
            actor=staff.actor,
            guard=promo_guard,
        )
    except promos.PromoRefusedError as refused:
        await message.answer(
            refusal_text(texts, refused),
            reply_markup=_and_cancel(
                sale_buttons([(texts.sale_no_promo, SaleCb(action="no_promo"))]), texts
            ),
        )
        return
    await state.update_data(promo={**asdict(applied), "kind": applied.kind.value})
    await message.answer(
        texts.sale_promo_applied.format(
            code=applied.code, name=html.quote(applied.name), effect=applied_effect(texts, applied)
        )
    )
    await _ask_redeem(message, state, session, texts, settings)


async def on_sale_button(
    query: CallbackQuery,
    callback_data: SaleCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    promo_guard: promos.GuessGuard,
) -> None:
    current = await state.get_state()
    expected = {
        "no_receipt": SaleForm.receipt.state,
        "redeem": SaleForm.redeem.state,
        "go": SaleForm.confirm.state,
        "cancel": SaleForm.confirm.state,
        "promo": SaleForm.confirm.state,
        "no_promo": SaleForm.promo.state,
    }
    if query.message is None or current != expected.get(callback_data.action):
        await query.answer(texts.already_done)
        return
    await query.answer()
    message = query.message
    assert isinstance(message, Message)
    if callback_data.action == "no_receipt":
        await _ask_redeem(message, state, session, texts, settings)
    elif callback_data.action == "redeem":
        await _confirm(message, state, session, texts, settings, redeem=callback_data.value)
    elif callback_data.action == "promo":
        await _ask_promo(message, state, texts)
    elif callback_data.action == "no_promo":
        redeem = (await state.get_data()).get("redeem", 0)
        await _confirm(message, state, session, texts, settings, redeem=redeem)
    elif callback_data.action == "cancel":
        await state.clear()
        await message.answer(texts.sale_cancelled)
    else:
        await _record(message, state, session, texts, settings, staff, promo_guard)


async def _record(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    cashier: StaffMember,
    guard: promos.GuessGuard,
) -> None:
    program = await program_service.current(session, settings.program)
    data = await state.get_data()
    if data.get("redeem", 0) and settings.redeem_confirmation:  # the customer consents first
        await ask_customer_to_confirm(message, state, session, texts, settings, cashier)
        return
    promo = data.get("promo")
    try:
        sale = await promos.record_sale(
            session,
            program,
            data["customer_id"],
            data["amount"],
            code=promo["code"] if promo else None,
            guard=guard,
            redeem=data.get("redeem", 0),
            receipt_id=sale_receipt_id(data),
            store=cashier.store,
            channel="cashier",
            actor=cashier.actor,
        )
    except promos.PromoRefusedError as refused:
        await state.clear()
        await message.answer(f"{refusal_text(texts, refused)}\n{texts.sale_cancelled}")
        return
    except ledger.NotEnoughPointsError as error:
        await state.clear()
        await message.answer(texts.sale_not_enough.format(available=texts.points(error.available)))
        return
    except ledger.ReceiptClaimedError:
        await state.clear()
        await message.answer(texts.sale_receipt_taken)
        return
    result = sale.purchase
    if result.duplicate:
        await state.clear()
        await message.answer(_duplicate_text(texts, result, _due(data)))
        return
    # The sale is committed with its notice in the outbox: the customer hears of it whatever
    # happens to this reply; the form clears only once the cashier has seen it.
    done = texts.sale_done.format(
        accrued=texts.points(result.accrued),
        redeemed=texts.points(result.redeemed),
        balance=texts.points(result.balance),
    )
    if sale.promo is not None:
        done += texts.sale_done_promo.format(
            code=sale.promo.code, effect=applied_effect(texts, sale.promo)
        )
    await message.answer(done)
    await state.clear()


def _duplicate_text(texts: Texts, result: ledger.PurchaseResult, amount: int) -> str:
    accrued = texts.points(result.accrued)
    if result.amount == amount:
        return texts.sale_duplicate.format(accrued=accrued)
    return texts.sale_duplicate_amount.format(
        recorded=format_rub(result.amount), typed=format_rub(amount), accrued=accrued
    )


async def cmd_cashier_invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    store = " ".join((command.args or "").split())
    payload = await team.invite(session, settings.link_key, staff, Role.CASHIER, store)
    link = await bot_link(bot, payload)
    where = f" ({html.quote(store)})" if store else ""
    await message.answer(texts.cashier_invite.format(store=where, link=link))


async def on_confirm_text(message: Message, texts: Texts) -> None:
    await message.answer(texts.use_buttons)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.staff_only)


async def refuse_cashier(message: Message, texts: Texts) -> None:
    """A cashier is staff: what they lack for `/cashier` is being an owner."""
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="cashier")
    router.message.register(cmd_sale, Command("sale"), Permitted(Action.RECORD_SALE))
    router.message.register(cmd_cashier_invite, Command("cashier"), Permitted(Action.INVITE_STAFF))
    router.message.register(refuse_cashier, Command("cashier"), StaffOnly())
    router.message.register(refuse, Command("sale", "cashier"))
    # The steps take text, not commands: `/receipt …` or `/balance` mid-sale is that command.
    steps = (NotCommand(), Permitted(Action.RECORD_SALE))
    router.message.register(on_customer, StateFilter(SaleForm.customer), *steps)
    router.message.register(on_amount, StateFilter(SaleForm.amount), *steps)
    router.message.register(on_receipt, StateFilter(SaleForm.receipt), *steps)
    router.message.register(on_redeem_typed, StateFilter(SaleForm.redeem), *steps)
    router.message.register(on_confirm_text, StateFilter(SaleForm.confirm), *steps)
    router.message.register(on_promo_typed, StateFilter(SaleForm.promo), *steps)
    router.callback_query.register(
        on_sale_button, StateFilter(SaleForm), SaleCb.filter(), Permitted(Action.RECORD_SALE)
    )
    return router
