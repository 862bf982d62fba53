"""The delivery engine's WhatsApp channel: free text inside the 24-hour window, else a template.

WhatsApp allows a business to write freely for 24 hours after the customer's last message;
outside that window only an approved template may open the conversation: the utility template
(WHATSAPP_UTILITY_TEMPLATE) for transactional notices such as a sale, the marketing one
(WHATSAPP_MARKETING_TEMPLATE) for broadcasts, each with the rendered text as its one body
parameter. Cloud API errors become the engine's outcomes like Telegram's: 130429 (throughput)
→ `RetryAfterError`; 131056 (too many to one number) → a retry of that row later; 131047
(re-engagement required: the window closed meanwhile) → the template at once; 131026 (not on
WhatsApp, or cannot receive) → `RecipientGoneError`; network and 5xx → `TemporaryFailureError`;
other 4xx → `RejectedError`. Reasons carry the code, never the text or the number.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

import httpx
from aiogram import html
from pywa_async import WhatsApp, types
from pywa_async.errors import WhatsAppError
from pywa_async.types.templates import BodyText, TemplateLanguage

from bot.domain.campaigns import CODE_PLACEHOLDER
from bot.domain.program import Program
from bot.services.delivery import (
    Outgoing,
    RecipientGoneError,
    RejectedError,
    RetryAfterError,
    TemporaryFailureError,
)
from bot.settings import Settings
from bot.telegram.delivery import CodeLoader, UnknownKindError, render_text
from bot.texts import texts_for
from bot.whatsapp.markup import one_line, whatsapp_text
from db.base import utcnow

WINDOW = timedelta(hours=24)
THROUGHPUT_PAUSE = 10.0
RATE_LIMITED = 130429
PAIR_RATE_LIMITED = 131056
REENGAGEMENT = 131047
UNDELIVERABLE = 131026


def window_open(last_message_at: datetime | None, now: datetime) -> bool:
    return last_message_at is not None and now - last_message_at < WINDOW


class WhatsAppChannel:
    """`bot.services.delivery.Channel` over a pywa client."""

    def __init__(
        self,
        client: WhatsApp,
        program: Program,
        settings: Settings,
        codes: CodeLoader | None = None,
    ) -> None:
        self._client = client
        self._program = program
        self._settings = settings
        self._codes = codes  # a campaign recipient's own promo code, for its {code}

    async def send(self, message: Outgoing) -> int:
        texts = texts_for(message.language)
        try:
            rendered = render_text(texts, self._program, message.kind, message.payload)
        except (UnknownKindError, KeyError, TypeError, ValueError) as error:
            raise RejectedError(f"cannot render: {type(error).__name__}") from None
        if message.kind == "campaign" and (
            CODE_PLACEHOLDER in rendered or message.payload.get("promo_button")
        ):
            # WhatsApp has no reveal button here: the recipient's own code goes in the text.
            code = await self._codes(message.delivery_id) if self._codes is not None else None
            if code is None:
                raise RejectedError("promo code missing")
            shown = f"<code>{html.quote(code)}</code>"
            if CODE_PLACEHOLDER in rendered:
                rendered = rendered.replace(CODE_PLACEHOLDER, shown)
            else:
                rendered += "\n\n" + texts.promo_your_code.format(code=html.quote(code))
        text = whatsapp_text(rendered)
        if message.kind in ("broadcast", "campaign") and (url := message.payload.get("button_url")):
            text += f"\n\n{url}"
        to = str(message.chat_id)
        try:
            if window_open(message.last_message_at, utcnow()):
                try:
                    buttons = (
                        [types.Button(title=texts.wa_stop_button[:20], callback_data="stop")]
                        if message.advertising
                        else None
                    )
                    sent = await self._client.send_message(to, text, buttons=buttons)
                    return _number(sent.id)
                except WhatsAppError as error:
                    if error.code != REENGAGEMENT:
                        raise
            template = (
                self._settings.whatsapp_marketing_template
                if message.advertising
                else self._settings.whatsapp_utility_template
            )
            sent_template = await self._client.send_template(
                to,
                name=template,
                language=TemplateLanguage(message.language),
                params=[BodyText.params(one_line(text))],  # type: ignore[arg-type]
            )
            return _number(sent_template.id)
        except WhatsAppError as error:
            raise _outcome(error) from None
        except httpx.HTTPError as error:
            raise TemporaryFailureError(f"network: {type(error).__name__}") from None


def _number(message_id: str) -> int:
    """The outbox keeps a number: WhatsApp's ids are strings, so a stable checksum of one."""
    return zlib.crc32(message_id.encode())


def _outcome(error: WhatsAppError) -> Exception:
    reason = f"whatsapp {error.code}: {type(error).__name__}"
    if error.code == RATE_LIMITED:
        return RetryAfterError(THROUGHPUT_PAUSE)
    if error.code == PAIR_RATE_LIMITED:
        return TemporaryFailureError(reason)
    if error.code == UNDELIVERABLE:
        return RecipientGoneError(reason)
    status = error.raw_response.status_code if error.raw_response is not None else 400
    if status >= 500 or error.is_transient:
        return TemporaryFailureError(reason)
    return RejectedError(reason)
