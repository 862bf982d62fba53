"""The delivery engine's Telegram channel: renders an outbox row and sends it with aiogram.

Texts are rendered here, at send time, in the recipient's language, so a notice queued an hour
ago speaks the language the customer has now. aiogram's errors become the engine's outcomes:
429 → `RetryAfterError`, 403 → `RecipientGoneError`, network and 5xx →
`TemporaryFailureError`, other 4xx → `RejectedError`. Reasons carry Telegram's description,
never the message or the recipient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, html
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.campaigns import CODE_PLACEHOLDER
from bot.domain.money import format_rub
from bot.domain.program import Program
from bot.services import program as program_service
from bot.services.delivery import (
    Outgoing,
    RecipientGoneError,
    RejectedError,
    RetryAfterError,
    TemporaryFailureError,
)
from bot.services.ledger import PurchaseResult, RefundResult
from bot.services.receipts import Refusal
from bot.telegram import job_texts
from bot.telegram.receipt_claim import refusal_text
from bot.telegram.render import purchase_notice, refund_notice
from bot.telegram.till import redeem_buttons
from bot.texts import Texts, texts_for


class UnsubscribeCb(CallbackData, prefix="unsub"):
    """The button under every advertising message; who pressed it is the one who unsubscribes."""


class PromoCodeCb(CallbackData, prefix="mycode"):
    """ "Show my promo code" under a campaign's message: the code of whoever pressed it, for
    that campaign (`campaigns.my_promo_code` checks they were sent it)."""

    campaign: int


class UnknownKindError(ValueError):
    """A row of a kind this channel cannot draw (a newer process queued it): not retried."""


def _purchase(texts: Texts, program: Program, payload: dict[str, Any]) -> str:
    result = PurchaseResult(**payload)
    parts = [purchase_notice(texts, result)]
    if result.upgraded:
        tier = next((t for t in program.tiers if t.name == result.tier_after), None)
        if tier is not None:
            parts.append(
                texts.tier_up.format(tier=html.quote(tier.name), percent=f"{tier.percent:g}")
            )
    if result.referrer_rewarded is not None and program.referral_bonus:
        parts.append(texts.purchase_friend_bonus.format(bonus=texts.points(program.referral_bonus)))
    return "\n\n".join(parts)


def render_text(texts: Texts, program: Program, kind: str, payload: dict[str, Any]) -> str:
    """The message text of one outbox row, in the language of `texts`."""
    if kind == "purchase":
        return _purchase(texts, program, payload)
    if kind == "refund":
        return refund_notice(texts, RefundResult(**payload))
    if kind == "account_linked":
        return texts.tg_linked if payload.get("linked") == "telegram" else texts.link_done
    if kind == "referral_paid":
        return texts.referral_paid.format(bonus=texts.points(int(payload["bonus"])))
    if kind == "owner_alert" and payload.get("alert") == "phone_conflict":
        return texts.owner_phone_conflict.format(
            owner_customer=payload["owner_customer_id"], claimant=payload["claimant_customer_id"]
        )
    if kind == "owner_alert" and payload.get("alert") == "pos_auth_failures":
        return texts.owner_pos_auth_failures.format(
            address=html.quote(str(payload["address"])), count=payload["count"]
        )
    if kind == "owner_alert" and payload.get("alert") == "pos_lookup_misses":
        return texts.owner_pos_lookup_misses.format(
            address=html.quote(str(payload["address"])),
            store=html.quote(str(payload["store"])),
            count=payload["count"],
        )
    if kind == "redeem_ask":
        store = str(payload.get("store") or "")
        return texts.redeem_ask.format(
            points=texts.points(int(payload["points"])),
            amount=format_rub(int(payload["amount"])),
            store=f" ({html.quote(store)})" if store else "",
            code=html.quote(str(payload["code"])),
            minutes=int(payload["minutes"]),
        )
    if kind == "redeem_answer":
        if not payload["confirmed"]:
            return texts.redeem_answer_no
        return texts.redeem_answer_yes.format(
            redeemed=texts.points(int(payload["redeemed"])),
            accrued=texts.points(int(payload["accrued"])),
            balance=texts.points(int(payload["balance"])),
        )
    if kind == "receipt_refused":
        return refusal_text(texts, Refusal(payload["reason"]))
    if kind in job_texts.RENDERERS:
        return job_texts.render(kind, payload, texts)
    if kind in ("broadcast", "campaign"):  # the owner's own text, its HTML formatting kept
        return str(payload["text"])
    raise UnknownKindError(f"unknown message kind {kind!r}")


def _markup(texts: Texts, message: Outgoing) -> InlineKeyboardMarkup | None:
    if message.kind == "redeem_ask":
        return redeem_buttons(texts, int(message.payload["redemption_id"]))
    rows: list[list[InlineKeyboardButton]] = []
    if url := message.payload.get("button_url") if message.kind in _OWNERS_TEXT else None:
        rows.append([InlineKeyboardButton(text=texts.broadcast_button, url=str(url))])
    if message.kind == "campaign" and message.payload.get("promo_button"):
        campaign = int(message.payload["campaign"])
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.promo_show_button,
                    callback_data=PromoCodeCb(campaign=campaign).pack(),
                )
            ]
        )
    if message.advertising:
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.unsubscribe_button, callback_data=UnsubscribeCb().pack()
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


_OWNERS_TEXT = ("broadcast", "campaign")
PhotoLoader = Callable[[int], Awaitable[bytes | None]]
CodeLoader = Callable[[int], Awaitable[str | None]]  # outbox row id → the recipient's code


class TelegramChannel:
    """`bot.services.delivery.Channel` over an aiogram `Bot` (the bot's own session).

    A campaign's photo is a Telegram file_id, or bytes stored with the campaign (from the
    shell): those are loaded with `photos` and uploaded once per process; every later message
    reuses the file_id Telegram gave the upload.
    """

    def __init__(
        self,
        bot: Bot,
        program: Program,
        *,
        timeout: float = 15.0,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        photos: PhotoLoader | None = None,
        codes: CodeLoader | None = None,
    ) -> None:
        self._bot = bot
        self._program = program  # the seed; with `sessions`, the program as stored now
        self._sessions = sessions
        self._timeout = int(timeout)
        self._photos = photos
        self._codes = codes
        self._uploaded: dict[int, str] = {}  # campaign id → Telegram's file_id
        self._uploading: dict[int, asyncio.Lock] = {}

    async def _photo(self, message: Outgoing) -> str | InputFile | None:
        """The photo to send: a file_id, the stored bytes the first time, or none."""
        if message.kind not in _OWNERS_TEXT:
            return None
        if photo := message.payload.get("photo"):
            return str(photo)
        campaign = message.payload.get("photo_campaign")
        if campaign is None:
            return None
        campaign = int(campaign)
        if campaign in self._uploaded:
            return self._uploaded[campaign]
        if self._photos is None:
            raise RejectedError("no photo store for campaign photos")
        data = await self._photos(campaign)
        if data is None:
            raise RejectedError("campaign photo missing")
        return BufferedInputFile(data, filename=f"campaign-{campaign}.jpg")

    async def _with_code(self, message: Outgoing, text: str) -> str:
        """The recipient's own promo code where the owner's text says {code}."""
        if CODE_PLACEHOLDER not in text:
            return text
        code = await self._codes(message.delivery_id) if self._codes is not None else None
        if code is None:
            raise RejectedError("promo code missing")
        return text.replace(CODE_PLACEHOLDER, f"<code>{html.quote(code)}</code>")

    async def _current_program(self) -> Program:
        if self._sessions is None:
            return self._program
        async with self._sessions() as session:  # cached: no query within CACHE_SECONDS
            return await program_service.current(session, self._program)

    async def send(self, message: Outgoing) -> int:
        texts = texts_for(message.language)
        program = await self._current_program() if message.kind == "purchase" else self._program
        try:
            text = render_text(texts, program, message.kind, message.payload)
        except (UnknownKindError, KeyError, TypeError, ValueError) as error:
            raise RejectedError(f"cannot render: {type(error).__name__}") from None
        if message.kind == "campaign" and message.payload.get("promotion") is not None:
            text = await self._with_code(message, text)
        markup = _markup(texts, message)
        paid = True if message.paid_broadcast else None
        campaign = message.payload.get("photo_campaign") if message.kind == "campaign" else None
        lock = None
        if campaign is not None and int(campaign) not in self._uploaded:
            # The first message of a campaign uploads the photo; the others wait for its id.
            lock = self._uploading.setdefault(int(campaign), asyncio.Lock())
            await lock.acquire()
        try:
            return await self._send(message, text, markup, paid)
        finally:
            if lock is not None:
                lock.release()

    async def _send(
        self,
        message: Outgoing,
        text: str,
        markup: InlineKeyboardMarkup | None,
        paid: bool | None,
    ) -> int:
        photo = await self._photo(message)
        try:
            if photo:
                sent = await self._bot.send_photo(
                    message.chat_id,
                    photo,
                    caption=text,
                    reply_markup=markup,
                    allow_paid_broadcast=paid,
                    request_timeout=self._timeout,
                )
            else:
                sent = await self._bot.send_message(
                    message.chat_id,
                    text,
                    reply_markup=markup,
                    allow_paid_broadcast=paid,
                    request_timeout=self._timeout,
                )
        except TelegramRetryAfter as error:
            raise RetryAfterError(float(error.retry_after)) from None
        except TelegramForbiddenError as error:
            raise RecipientGoneError(_reason(error)) from None
        except TelegramServerError as error:
            raise TemporaryFailureError(_reason(error)) from None
        except TelegramNetworkError as error:
            raise TemporaryFailureError(f"network: {type(error).__name__}") from None
        except TelegramAPIError as error:
            raise RejectedError(_reason(error)) from None
        campaign = message.payload.get("photo_campaign")
        if isinstance(photo, InputFile) and campaign is not None and sent.photo:
            self._uploaded[int(campaign)] = sent.photo[-1].file_id
        return sent.message_id


def _reason(error: TelegramAPIError) -> str:
    return error.message[:180]
