"""The till in the messenger: the customer's answer to a spending request, the cashier waiting
for it, `/return`, `/find` and `/my` (issue 13). Rules and permission checks live in
`bot.services.till`; these handlers parse, call and render."""

from __future__ import annotations

import secrets

from aiogram import Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identifiers import clean_id
from bot.domain.money import format_rub, parse_amount
from bot.services import ledger, members, till
from bot.services import program as program_service
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import NotCommand, Permitted, StaffOnly
from bot.telegram.keyboards import cancel_button, cancel_only
from bot.telegram.sale import begin_sale, sale_receipt_id
from bot.telegram.till import (
    FindCb,
    RedeemCb,
    ReturnCb,
    ReturnForm,
    WaitCb,
    WaitForm,
    card_actions,
    customer_card_text,
    day,
    purchase_buttons,
    sale_done_text,
    wait_buttons,
)
from bot.texts import Texts


class FindForm(StatesGroup):
    query = State()


# --- the customer's answer ----------------------------------------------------------------------


async def on_redeem_answer(
    query: CallbackQuery,
    callback_data: RedeemCb,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    """Only the customer's own tap counts (the service matches the chat to the request)."""
    try:
        answer = await till.answer_redemption(
            session,
            await program_service.current(session, settings.program),
            callback_data.id,
            query.from_user.id,
            confirm=callback_data.action == "yes",
        )
    except (ledger.NotEnoughPointsError, ledger.RedeemCapError):
        await query.answer(texts.redeem_not_enough, show_alert=True)
        return
    if answer is None:
        await query.answer(texts.redeem_gone)
        return
    await query.answer(texts.redeem_confirmed if answer.purchase else texts.redeem_declined)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


# --- the cashier waits --------------------------------------------------------------------------


async def _finish(
    message: Message, state: FSMContext, texts: Texts, answer: till.RedemptionAnswer
) -> None:
    if answer.purchase is None:
        await message.answer(
            texts.sale_lapsed,
            reply_markup=_wait_again(texts, answer.redemption.id),
        )
        return
    await message.answer(sale_done_text(texts, answer.purchase))
    await state.clear()


def _wait_again(texts: Texts, redemption_id: int) -> InlineKeyboardMarkup:
    return wait_buttons(texts, redemption_id)


async def on_code(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    redemption_id = (await state.get_data()).get("redemption_id", 0)
    code = "".join((message.text or "").split())
    if not redemption_id or not code.isdigit():
        await message.answer(texts.use_buttons)
        return
    try:
        answer = await till.confirm_with_code(
            session,
            await program_service.current(session, settings.program),
            redemption_id,
            code,
            actor=staff.actor,
        )
    except till.WrongCodeError:
        await message.answer(texts.sale_wrong_code)
        return
    except till.NotAllowedError:
        await state.clear()
        await message.answer(texts.redeem_gone)
        return
    except ledger.NotEnoughPointsError as error:
        await message.answer(
            texts.sale_not_enough.format(available=texts.points(error.available)),
            reply_markup=_wait_again(texts, redemption_id),
        )
        return
    await _finish(message, state, texts, answer)


async def on_wait_button(
    query: CallbackQuery,
    callback_data: WaitCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    data = await state.get_data()
    if (
        not isinstance(query.message, Message)
        or await state.get_state() != WaitForm.customer.state
        or data.get("redemption_id") != callback_data.id
    ):
        await query.answer(texts.already_done)
        return
    await query.answer()
    message = query.message
    if callback_data.action == "cancel":
        if callback_data.id:
            await till.cancel_redemption(session, callback_data.id, actor=staff.actor)
        await state.clear()
        await message.answer(texts.sale_cancelled)
        return
    if callback_data.id == 0:  # the customer cannot be asked: the sale without points
        result = await ledger.record_purchase(
            session,
            await program_service.current(session, settings.program),
            data["customer_id"],
            data["amount"],
            receipt_id=sale_receipt_id(data),
            store=staff.store,
            channel="cashier",
            actor=staff.actor,
        )
        await message.answer(sale_done_text(texts, result))
        await state.clear()
        return
    try:
        answer = await till.sell_without_points(
            session,
            await program_service.current(session, settings.program),
            callback_data.id,
            actor=staff.actor,
        )
    except till.NotAllowedError:
        await state.clear()
        await message.answer(texts.redeem_gone)
        return
    await _finish(message, state, texts, answer)


# --- /return ------------------------------------------------------------------------------------


async def cmd_return(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
) -> None:
    await state.clear()
    await state.set_state(ReturnForm.query)
    await state.set_data({"return_id": f"TG-{secrets.token_hex(8)}"})
    if command.args:
        await _look_up_return(message, command.args, state, session, texts, staff)
        return
    await message.answer(texts.return_ask, reply_markup=cancel_only(texts))


async def on_return_query(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
) -> None:
    await _look_up_return(message, message.text or "", state, session, texts, staff)


async def _look_up_return(
    message: Message,
    text: str,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
) -> None:
    member = await members.find(session, text)
    if member is not None:
        lines = await till.purchases_to_return(session, staff, customer_id=member.customer_id)
    elif receipt := clean_id(" ".join(text.split())):
        lines = await till.purchases_to_return(session, staff, receipt_id=receipt)
    else:
        lines = []
    if not lines:
        await message.answer(texts.return_not_found, reply_markup=cancel_only(texts))
        return
    if len(lines) == 1:
        await _ask_return_amount(message, state, texts, lines[0])
        return
    await message.answer(texts.return_pick, reply_markup=purchase_buttons(texts, lines))


async def _ask_return_amount(
    message: Message, state: FSMContext, texts: Texts, line: till.PurchaseLine
) -> None:
    if line.left <= 0:
        await message.answer(texts.return_nothing_left)
        await state.clear()
        return
    await state.set_state(ReturnForm.amount)
    await state.update_data(purchase_id=line.id, left=line.left, total=line.amount)
    left = format_rub(line.left)
    await message.answer(
        texts.return_ask_amount.format(
            amount=format_rub(line.amount),
            date=day(line.at),
            receipt=texts.return_receipt.format(receipt=html.quote(line.receipt_id))
            if line.receipt_id
            else "",
            left=left,
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=texts.return_all.format(left=left),
                        callback_data=ReturnCb(action="all", purchase=line.id).pack(),
                    )
                ],
                [cancel_button(texts)],
            ]
        ),
    )


async def on_return_amount(message: Message, state: FSMContext, texts: Texts) -> None:
    data = await state.get_data()
    amount = parse_amount(message.text or "")
    if amount is None or amount > data["left"]:
        await message.answer(texts.return_bad_amount.format(left=format_rub(data["left"])))
        return
    await _confirm_return(message, state, texts, amount)


async def _confirm_return(message: Message, state: FSMContext, texts: Texts, amount: int) -> None:
    data = await state.get_data()
    await state.set_state(ReturnForm.confirm)
    await state.update_data(amount=amount)
    await message.answer(
        texts.return_confirm.format(amount=format_rub(amount), total=format_rub(data["total"])),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=texts.return_go,
                        callback_data=ReturnCb(action="go", purchase=data["purchase_id"]).pack(),
                    ),
                    cancel_button(texts),
                ]
            ]
        ),
    )


async def on_return_button(
    query: CallbackQuery,
    callback_data: ReturnCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
) -> None:
    expected = {
        "pick": ReturnForm.query.state,
        "all": ReturnForm.amount.state,
        "go": ReturnForm.confirm.state,
    }
    if not isinstance(query.message, Message) or await state.get_state() != expected.get(
        callback_data.action
    ):
        await query.answer(texts.already_done)
        return
    await query.answer()
    message, data = query.message, await state.get_data()
    try:
        if callback_data.action == "pick":
            line = await till.purchase_for_return(session, staff, callback_data.purchase)
            await _ask_return_amount(message, state, texts, line)
        elif callback_data.action == "all":
            await _confirm_return(message, state, texts, data["left"])
        else:
            await _do_return(message, state, session, texts, staff, callback_data.purchase)
    except till.NotAllowedError:
        await message.answer(texts.return_not_found)


async def _do_return(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
    purchase_id: int,
) -> None:
    data = await state.get_data()
    try:
        result = await till.return_purchase(
            session, staff, purchase_id, amount=data["amount"], return_id=data["return_id"]
        )
    except ledger.RefundTooLargeError as error:
        await state.clear()
        await message.answer(
            texts.return_nothing_left
            if error.left <= 0
            else texts.return_bad_amount.format(left=format_rub(error.left))
        )
        return
    if result.duplicate:
        await state.clear()
        await message.answer(texts.return_duplicate)
        return
    text = texts.return_done.format(
        amount=format_rub(result.amount),
        reversed=texts.points(result.reversed_points),
        returned=texts.points(result.returned_points),
        balance=texts.points(result.balance),
    )
    if result.shortfall:
        text += "\n" + texts.return_shortfall.format(points=texts.points(result.shortfall))
    await message.answer(text)
    await state.clear()


# --- /find --------------------------------------------------------------------------------------


async def cmd_find(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    await state.clear()
    if command.args:
        await _find(message, command.args, state, session, texts, settings, staff)
        return
    await state.set_state(FindForm.query)
    await message.answer(texts.find_ask, reply_markup=cancel_only(texts))


async def on_find_query(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    await _find(message, message.text or "", state, session, texts, settings, staff)


async def _find(
    message: Message,
    query: str,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    found = await till.find_customers(session, staff, query)
    if not found:
        await message.answer(texts.find_none)
        return
    await state.clear()
    if len(found) == 1:
        await _show_card(message, session, texts, settings, staff, found[0].customer_id)
        return
    rows = [
        [
            InlineKeyboardButton(
                text=f"{person.name} {person.phone}".strip() or str(person.customer_id),
                callback_data=FindCb(action="open", customer=person.customer_id).pack(),
            )
        ]
        for person in found
    ]
    await message.answer(texts.find_pick, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def _show_card(
    message: Message,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    customer_id: int,
) -> None:
    card = await till.customer_card(
        session, await program_service.current(session, settings.program), staff, customer_id
    )
    await message.answer(customer_card_text(texts, card), reply_markup=card_actions(texts, card))


async def on_find_button(
    query: CallbackQuery,
    callback_data: FindCb,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer()
        return
    await query.answer()
    message = query.message
    try:
        if callback_data.action == "open":
            await _show_card(message, session, texts, settings, staff, callback_data.customer)
        elif callback_data.action == "sale":
            member = await members.by_id(session, callback_data.customer)
            if member is None:
                raise till.NotAllowedError("no such customer")
            await state.clear()
            await begin_sale(message, member, state, session, texts, settings)
        else:
            lines = await till.purchases_to_return(
                session, staff, customer_id=callback_data.customer
            )
            if not lines:
                await message.answer(texts.return_not_found)
                return
            await state.clear()
            await state.set_state(ReturnForm.query)
            await state.set_data({"return_id": f"TG-{secrets.token_hex(8)}"})
            await message.answer(texts.return_pick, reply_markup=purchase_buttons(texts, lines))
    except till.NotAllowedError:
        await message.answer(texts.find_none)


# --- /my ----------------------------------------------------------------------------------------


async def cmd_my(message: Message, session: AsyncSession, texts: Texts, staff: StaffMember) -> None:
    name = message.from_user.first_name if message.from_user else ""
    figures = await till.my_figures(session, staff, name)
    values = {
        "week_sales": figures.week_sales,
        "week_amount": format_rub(figures.week_amount),
        "month_sales": figures.month_sales,
        "month_amount": format_rub(figures.month_amount),
    }
    if not figures.has_codes:
        await message.answer(texts.my_no_codes.format(**values))
        return
    await message.answer(
        texts.my_figures.format(
            name=html.quote(figures.name), brought=figures.brought, bought=figures.bought, **values
        )
    )


async def on_confirm_text(message: Message, texts: Texts) -> None:
    await message.answer(texts.use_buttons)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.staff_only)


def build_router() -> Router:
    router = Router(name="till")
    router.callback_query.register(on_redeem_answer, RedeemCb.filter())
    router.message.register(cmd_return, Command("return"), Permitted(Action.RETURN))
    router.message.register(cmd_find, Command("find"), Permitted(Action.FIND_CUSTOMER))
    router.message.register(cmd_my, Command("my"), Permitted(Action.OWN_FIGURES))
    router.message.register(refuse, Command("return", "find", "my"))
    steps = (NotCommand(), StaffOnly())
    router.message.register(on_code, StateFilter(WaitForm.customer), *steps)
    router.message.register(on_return_query, StateFilter(ReturnForm.query), *steps)
    router.message.register(on_return_amount, StateFilter(ReturnForm.amount), *steps)
    router.message.register(on_find_query, StateFilter(FindForm.query), *steps)
    router.message.register(on_confirm_text, StateFilter(ReturnForm.confirm), *steps)
    router.callback_query.register(on_wait_button, WaitCb.filter(), StaffOnly())
    router.callback_query.register(on_return_button, ReturnCb.filter(), StaffOnly())
    router.callback_query.register(on_find_button, FindCb.filter(), StaffOnly())
    return router
