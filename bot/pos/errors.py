"""Every failure as `{"error": {"code", "message", ...}}` with the right status.

The codes are stable: tills build on them (`docs/pos-api.md`, Errors). The messages are English,
for logs and for people.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from aiohttp import web
from sqlalchemy.exc import StatementError

from bot.domain.ledger import NotEnoughPointsError
from bot.domain.money import plain_rub
from bot.domain.promos import Refusal
from bot.pos.access_log import Handler, current_note, logged_path
from bot.services.ledger import (
    CustomerNotFoundError,
    LedgerError,
    PurchaseNotFoundError,
    ReceiptClaimedError,
    RedeemCapError,
    RefundTooLargeError,
)
from bot.services.promos import PromoRefusedError

log = logging.getLogger("clientbase.pos")
_dumps = partial(json.dumps, ensure_ascii=False)

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, message, extra fields."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class _InternalError(Exception):
    """Stands in for an unexpected exception in the log: its type and place, not its text."""


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def json_answer(data: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error_answer(error: ApiError) -> web.Response:
    body = {"error": {"code": error.code, "message": error.message, **error.details}}
    response = json_answer(body, error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="clientbase"'
    if error.status == 429:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


def ledger_error(exc: LedgerError | NotEnoughPointsError) -> ApiError:
    """A refusal of the ledger as the till should see it."""
    if isinstance(exc, RedeemCapError):
        return ApiError(422, exc.code, f"at most {exc.cap} points may pay this check", cap=exc.cap)
    if isinstance(exc, NotEnoughPointsError):
        return ApiError(
            422,
            "not_enough_points",
            f"the customer has {exc.available} points",
            available=exc.available,
            wanted=exc.wanted,
        )
    if isinstance(exc, RefundTooLargeError):
        return ApiError(
            422,
            exc.code,
            f"only {plain_rub(exc.left)} roubles of this purchase are left to refund",
            left_rub=plain_rub(exc.left),
        )
    if isinstance(exc, ReceiptClaimedError):
        return ApiError(409, exc.code, "this receipt was already recorded for another customer")
    if isinstance(exc, PurchaseNotFoundError):
        return ApiError(404, exc.code, "no purchase with this receipt id in this store")
    if isinstance(exc, CustomerNotFoundError):  # gone since the lookup
        return ApiError(404, exc.code, "no active member with this card or phone")
    return ApiError(422, exc.code, "the ledger refused the change")


_PROMO_MESSAGES = {
    Refusal.UNKNOWN: "no such promo code",
    Refusal.EXPIRED: "this promo code has expired",
    Refusal.USED: "this promo code has been used",
    Refusal.FOREIGN: "this promo code belongs to another customer",
    Refusal.INACTIVE: "this promotion has been switched off",
    Refusal.AMOUNT_TOO_SMALL: "the discount is not smaller than the check",
    Refusal.THROTTLED: "too many refused promo codes from this till; wait and try again",
}


def promo_error(refused: PromoRefusedError) -> ApiError:
    """A refused promo code: 422 with the reason's code (429 when the till is slowed down)."""
    message = _PROMO_MESSAGES[refused.reason]
    if refused.reason is Refusal.THROTTLED:
        return ApiError(429, refused.code, message, retry_after=refused.retry_after)
    return ApiError(422, refused.code, message)


def describe(exc: BaseException) -> str:
    """The exception's type, never its text (it may quote a phone or a name); SQL errors add
    their statement, which holds placeholders, not values."""
    if isinstance(exc, StatementError):
        statement = " ".join((exc.statement or "").split())[:200]
        return f"{type(exc).__name__}({type(exc.orig).__name__}): {statement}"
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def _internal(request: web.Request, exc: Exception) -> ApiError:
    log.error(
        "pos api failure",
        extra={
            "method": request.method,
            "path": logged_path(request),
            "store": current_note().store,
        },
        exc_info=(_InternalError, _InternalError(describe(exc)), exc.__traceback__),
    )
    return ApiError(500, "internal", "internal error; send the same request again later")


@web.middleware
async def handle_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        error = exc
    except (LedgerError, NotEnoughPointsError) as exc:
        error = ledger_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal")
        response = error_answer(ApiError(exc.status, code, exc.reason))
        if allow := exc.headers.get("Allow"):
            response.headers["Allow"] = allow
        return response
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = _internal(request, exc)
    return error_answer(error)
