"""The till's shared pieces: callback data of the confirmation, return and lookup buttons, the
step of /sale that asks the customer to confirm spending, and the drawing of a customer card."""

from __future__ import annotations

from datetime import datetime

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.money import format_rub
from bot.services import ledger, promos, till
from bot.services import program as program_service
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.keyboards import cancel_button
from bot.telegram.promo_texts import refusal_text
from bot.telegram.sale import sale_receipt_id
from bot.texts import Texts


class RedeemCb(CallbackData, prefix="redeem"):
    """The customer's answer under a spending request in their own chat."""

    action: str  # yes | no
    id: int


class WaitCb(CallbackData, prefix="rwait"):
    """The cashier's buttons while the customer is asked."""

    action: str  # without | cancel
    id: int


class ReturnCb(CallbackData, prefix="ret"):
    action: str  # pick | all | go | cancel
    purchase: int = 0


class FindCb(CallbackData, prefix="find"):
    action: str  # open | sale | return
    customer: int


class WaitForm(StatesGroup):
    """The sale is waiting for the customer's consent (kept apart from the sale's own steps)."""

    customer = State()


class ReturnForm(StatesGroup):
    query = State()
    amount = State()
    confirm = State()


def day(at: datetime) -> str:
    return at.strftime("%d.%m.%Y")


def redeem_buttons(texts: Texts, redemption_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.redeem_yes,
                    callback_data=RedeemCb(action="yes", id=redemption_id).pack(),
                ),
                InlineKeyboardButton(
                    text=texts.redeem_no,
                    callback_data=RedeemCb(action="no", id=redemption_id).pack(),
                ),
            ]
        ]
    )


def wait_buttons(texts: Texts, redemption_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.sale_without_points,
                    callback_data=WaitCb(action="without", id=redemption_id).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=texts.sale_cancel,
                    callback_data=WaitCb(action="cancel", id=redemption_id).pack(),
                )
            ],
        ]
    )


def sale_done_text(texts: Texts, result: ledger.PurchaseResult) -> str:
    return texts.sale_done.format(
        accrued=texts.points(result.accrued),
        redeemed=texts.points(result.redeemed),
        balance=texts.points(result.balance),
    )


async def ask_customer_to_confirm(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    cashier: StaffMember,
) -> None:
    """/sale's confirm when points are to be spent: the customer is asked in their own chat,
    and the cashier waits for the tap or types the code the customer reads out."""
    data = await state.get_data()
    try:
        asked = await till.ask_redemption(
            session,
            await program_service.current(session, settings.program),
            data["customer_id"],
            data["amount"],
            data["redeem"],
            receipt_id=sale_receipt_id(data),
            store=cashier.store,
            channel="cashier",
            actor=cashier.actor,
            notify_chat=cashier.telegram_id,
            lifetime=settings.redeem_confirmation_window,
            promo_code=data["promo"]["code"] if data.get("promo") else None,
        )
    except promos.PromoRefusedError as refused:
        await state.clear()
        await message.answer(f"{refusal_text(texts, refused)}\n{texts.sale_cancelled}")
        return
    except till.CustomerUnreachableError:
        await state.set_state(WaitForm.customer)
        await state.update_data(redemption_id=0)
        await message.answer(texts.sale_unreachable, reply_markup=wait_buttons(texts, 0))
        return
    except ledger.NotEnoughPointsError as error:
        await state.clear()
        await message.answer(texts.sale_not_enough.format(available=texts.points(error.available)))
        return
    except ledger.ReceiptClaimedError:
        await state.clear()
        await message.answer(texts.sale_receipt_taken)
        return
    await state.set_state(WaitForm.customer)
    await state.update_data(redemption_id=asked.id)
    if asked.status != "pending":
        await message.answer(texts.sale_lapsed, reply_markup=wait_buttons(texts, asked.id))
        return
    minutes = max(1, settings.redeem_confirmation_seconds // 60)
    await message.answer(
        texts.sale_waiting.format(minutes=minutes), reply_markup=wait_buttons(texts, asked.id)
    )


def customer_card_text(texts: Texts, card: till.CustomerCard) -> str:
    lines = []
    for line in card.purchases:
        refunded = (
            texts.find_refunded.format(amount=format_rub(line.refunded)) if line.refunded else ""
        )
        lines.append(
            texts.find_purchase_line.format(
                date=day(line.at),
                amount=format_rub(line.amount),
                accrued=line.accrued,
                redeemed=line.redeemed,
                refunded=refunded,
            )
        )
    consent = (
        texts.find_consent_given.format(date=day(card.personal_data_consent))
        if card.personal_data_consent
        else texts.find_consent_missing
    )
    return texts.find_card.format(
        name=html.quote(card.name),
        phone=f", {html.quote(card.phone)}" if card.phone else "",
        card=card.card_code or "—",
        balance=texts.points(card.points),
        tier=html.quote(card.tier),
        consent=consent,
        ads=texts.find_ads_yes if card.advertising else texts.find_ads_no,
        purchases="\n".join(lines) or texts.find_no_purchases,
    )


def card_actions(texts: Texts, card: till.CustomerCard) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            text=texts.find_sale,
            callback_data=FindCb(action="sale", customer=card.customer_id).pack(),
        )
    ]
    if any(line.left > 0 for line in card.purchases):
        row.append(
            InlineKeyboardButton(
                text=texts.find_return,
                callback_data=FindCb(action="return", customer=card.customer_id).pack(),
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[row])


def purchase_buttons(texts: Texts, lines: list[till.PurchaseLine]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=texts.return_line.format(
                    date=day(line.at),
                    amount=format_rub(line.amount),
                    receipt=f" · №{line.receipt_id}" if line.receipt_id else "",
                ),
                callback_data=ReturnCb(action="pick", purchase=line.id).pack(),
            )
        ]
        for line in lines
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [cancel_button(texts)]])
