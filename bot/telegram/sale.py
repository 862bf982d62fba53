"""The start of a sale, shared by `/sale` and a scanned card: the form, its buttons, step one."""

from __future__ import annotations

import secrets

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import ledger
from bot.services import program as program_service
from bot.services.members import Member
from bot.settings import Settings
from bot.telegram.keyboards import cancel_only
from bot.texts import Texts


class SaleForm(StatesGroup):
    customer = State()
    amount = State()
    receipt = State()
    redeem = State()
    confirm = State()
    promo = State()


class SaleCb(CallbackData, prefix="sale"):
    action: str  # no_receipt | redeem | go | cancel | promo | no_promo
    value: int = 0


def sale_buttons(*rows: list[tuple[str, SaleCb]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in row]
            for row in rows
        ]
    )


async def begin_sale(
    message: Message,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
) -> None:
    """The customer is known (typed, or their card scanned): show them and ask the amount.

    The sale gets its id here. It stands in for a receipt number when the cashier has none, so
    a confirm repeated after a lost reply is the same sale, not a second one. The form keeps
    ids only: the customer's name is read again when it is shown.
    """
    view = await ledger.balance(
        session, await program_service.current(session, settings.program), member.customer_id
    )
    await state.set_state(SaleForm.amount)
    await state.set_data({"customer_id": member.customer_id, "sale_id": secrets.token_hex(8)})
    await message.answer(
        texts.sale_customer.format(
            name=html.quote(member.first_name),
            phone=member.masked_phone,
            balance=texts.points(view.points),
            tier=html.quote(view.tier.name),
        )
    )
    await message.answer(texts.sale_ask_amount, reply_markup=cancel_only(texts))


def sale_receipt_id(data: dict) -> str:
    """The receipt number typed at the till, else the sale's own id."""
    return data.get("receipt_id") or f"TG-{data['sale_id']}"
