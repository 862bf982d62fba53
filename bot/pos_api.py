"""The point-of-sale HTTP API: a till records purchases and refunds and reads a balance.

JSON in and out under `/api/v1`, one bearer token per store (`bot.services.pos_tokens`), stable
error codes, and retries made safe by the receipt id (purchases) and the refund id (refunds).
Every change goes through `bot.services.ledger`; this module only translates HTTP to it.
Money on the wire is roubles as a string with two decimals ("1250.50"); points are integers.
The reference for till developers is `docs/pos-api.md`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.cards import normalize_card_code
from bot.domain.ledger import NotEnoughPointsError
from bot.domain.money import MAX_AMOUNT, parse_amount
from bot.domain.phone import normalize_phone
from bot.render import qr
from bot.services import ledger, members, notices, pos_tokens, receipts
from bot.services.ledger import (
    LedgerError,
    PurchaseNotFoundError,
    ReceiptClaimedError,
    RedeemCapError,
    RefundTooLargeError,
)
from bot.services.sources import deep_link
from bot.settings import Settings

PREFIX = "/api/v1"
CHANNEL = "pos"
MAX_BODY = 64 * 1024
ID_MAX_LENGTH = 64  # receipt and refund ids: Purchase.receipt_id is VARCHAR(64)
ACTOR_MAX_LENGTH = 64  # LedgerEntry.actor, Purchase.actor

log = logging.getLogger("clientbase.pos")
_dumps = partial(json.dumps, ensure_ascii=False)

__all__ = ["PREFIX", "ApiError", "build_pos_app", "start_pos_api"]


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


@dataclass
class _Call:
    """What the access log may say about the request beyond its line: the till's store."""

    store: str = "-"


_call: ContextVar[_Call] = ContextVar("pos_call")


def _rub(kopecks: int) -> str:
    """125050 → "1250.50": exact, a dot, two decimals, no grouping (for machines)."""
    sign = "-" if kopecks < 0 else ""
    roubles, rest = divmod(abs(kopecks), 100)
    return f"{sign}{roubles}.{rest:02d}"


def _error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _json(data: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


# --- reading the request -------------------------------------------------------------------


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


async def _body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """A JSON object with only the known fields; numbers with a fraction come as Decimal."""
    raw = await request.read()
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object")
    if unknown := sorted(set(data) - allowed):
        raise _bad(f"unknown field(s): {', '.join(unknown)}")
    return data


def _kopecks(value: object) -> int | None:
    """Roubles as "1250.50" (a comma works too) or a JSON number → kopecks; None if not exact.

    Negative, zero, more than two decimals, NaN/Infinity, booleans and absurd sums are refused.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return parse_amount(value) if len(value) <= 32 else None
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    if not 0 < value <= Decimal(MAX_AMOUNT) / 100:
        return None
    kopecks = value * 100
    return int(kopecks) if kopecks == kopecks.to_integral_value() else None


def _amount(data: Mapping[str, Any], *, required: bool) -> int | None:
    value = data.get("amount")
    if value is None:
        if required:
            raise ApiError(400, "invalid_amount", 'amount is required (roubles, e.g. "1250.50")')
        return None
    kopecks = _kopecks(value)
    if kopecks is None:
        raise ApiError(
            400,
            "invalid_amount",
            'amount: a positive sum in roubles with at most 2 decimals, e.g. "1250.50"',
        )
    return kopecks


def _identifier(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{name} is required: a non-empty string")
    if len(value.strip()) > ID_MAX_LENGTH:
        raise _bad(f"{name}: at most {ID_MAX_LENGTH} characters")
    return value.strip()


def _points(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"{name}: a whole number of points, 0 or more")
    return value


async def _member(session: AsyncSession, data: Mapping[str, Any]) -> members.Member:
    """The customer named by exactly one of `card` (8 digits) or `phone` (any spelling)."""
    card, phone = data.get("card"), data.get("phone")
    if (card is None) == (phone is None):
        raise ApiError(400, "invalid_customer", "give the customer's card or phone (one of them)")
    if card is not None:
        text = str(card) if isinstance(card, int) and not isinstance(card, bool) else card
        query = normalize_card_code(text) if isinstance(text, str) else None
        if query is None:
            raise ApiError(
                400, "invalid_customer", "card: 8 digits with a valid check digit (mistyped?)"
            )
    else:
        query = normalize_phone(phone) if isinstance(phone, str) else None
        if query is None:
            raise ApiError(400, "invalid_customer", "phone: not a valid phone number")
    member = await members.find(session, query)
    if member is None:
        raise ApiError(404, "customer_not_found", "no active member with this card or phone")
    return member


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


# --- the endpoints -------------------------------------------------------------------------


class _Api:
    def __init__(
        self,
        sessions: async_sessionmaker,
        settings: Settings,
        bot_username: str,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._program = settings.program
        self._bot_username = bot_username

    @asynccontextmanager
    async def _unit(self, request: web.Request) -> AsyncIterator[tuple[AsyncSession, str]]:
        """One session for the request, and the store of its token (401 without one)."""
        async with self._sessions() as session:
            store = await pos_tokens.store_for_token(session, _bearer(request))
            if store is None:
                raise ApiError(401, "unauthorized", "a valid 'Authorization: Bearer' token")
            _call.get(_Call()).store = store
            yield session, store

    async def balance(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, _store):
            query = request.query
            if unknown := sorted(set(query) - {"card", "phone", "amount"}):
                raise _bad(f"unknown parameter(s): {', '.join(unknown)}")
            amount = _amount(query, required=False)
            member = await _member(session, query)
            view = await ledger.balance(session, self._program, member.customer_id)
        hint = min(view.points, self._program.redeem_cap(amount)) if amount else None
        return _json(
            {
                "customer": {
                    "first_name": member.first_name,
                    "masked_phone": member.masked_phone,
                    "card": member.card_code or None,
                },
                "points": view.points,
                "tier": view.tier.name,
                "next_tier": view.next_tier.name if view.next_tier else None,
                "to_next_tier_rub": _rub(view.to_next_tier) if view.next_tier else None,
                "expiring_30d_points": view.expiring_soon,
                "max_redeem_hint": hint,
            }
        )

    async def purchase(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, store):
            data = await _body(
                request, frozenset({"card", "phone", "amount", "receipt_id", "redeem"})
            )
            amount = _amount(data, required=True)
            assert amount is not None
            receipt_id = _identifier(data, "receipt_id")
            redeem = _points(data, "redeem")
            member = await _member(session, data)
            result = await ledger.record_purchase(
                session,
                self._program,
                member.customer_id,
                amount,
                redeem=redeem,
                receipt_id=receipt_id,
                store=store,
                channel=CHANNEL,
                actor=_actor(store),
            )
            await notices.enqueue_purchase(session, result, self._program.referral_bonus)
        body = {
            "purchase_id": result.purchase_id,
            "amount": _rub(result.amount),
            "redeemed": result.redeemed,
            "accrued": result.accrued,
            "balance": result.balance,
            "tier": result.tier_after,
            "upgraded": result.upgraded,
            "duplicate": result.duplicate,
        }
        return _json(body, status=200 if result.duplicate else 201)

    async def refund(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, store):
            data = await _body(request, frozenset({"receipt_id", "amount", "refund_id"}))
            receipt_id = _identifier(data, "receipt_id")
            refund_id = _identifier(data, "refund_id")
            amount = _amount(data, required=False)
            call = partial(
                ledger.refund,
                session,
                store=store,
                receipt_id=receipt_id,
                amount=amount,
                refund_id=refund_id,
                actor=_actor(store),
            )
            try:
                result = await call()
            except IntegrityError:
                # The same refund id from a retry that raced the first attempt: once the first
                # one committed, asking again finds it and answers as a duplicate.
                await session.rollback()
                result = await call()
            except PurchaseNotFoundError:
                # Returned before anyone scanned its purchase QR: nothing to reverse, but the QR
                # must not earn points any more.
                if not await receipts.void(session, store, receipt_id):
                    raise
                return _json({"purchase_id": None, "receipt_qr_voided": True})
            await notices.enqueue_refund(session, result)
        return _json(
            {
                "purchase_id": result.purchase_id,
                "refunded": _rub(result.amount),
                "reversed_points": result.reversed_points,
                "returned_points": result.returned_points,
                "shortfall_points": result.shortfall,
                "balance": result.balance,
                "duplicate": result.duplicate,
            }
        )

    async def receipt_qr(self, request: web.Request) -> web.Response:
        """A purchase QR for the receipt: the customer scans it and the points land."""
        async with self._unit(request) as (session, store):
            data = await _body(request, frozenset({"amount", "receipt_id"}))
            amount = _amount(data, required=True)
            assert amount is not None
            issued = await receipts.issue(
                session,
                self._settings.link_key,
                store=store,
                amount=amount,
                receipt_id=_identifier(data, "receipt_id"),
                issued_by=_actor(store),
                window=self._settings.receipt_window,
            )
        link = deep_link(self._bot_username, issued.payload)
        return _json(
            {
                "link": link,
                "png_base64": base64.b64encode(qr.qr_png(link)).decode(),
                "receipt_id": issued.receipt_id,
                "amount": _rub(issued.amount),
                "expires_at": issued.expires_at.isoformat(),
            },
            status=201,
        )


def _actor(store: str) -> str:
    return f"pos:{store}"[:ACTOR_MAX_LENGTH]


# --- errors and the access log -------------------------------------------------------------


def _ledger_error(exc: Exception) -> ApiError:
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
            f"only {_rub(exc.left)} roubles of this purchase are left to refund",
            left_rub=_rub(exc.left),
        )
    if isinstance(exc, ReceiptClaimedError):
        return ApiError(409, exc.code, "this receipt was already recorded for another customer")
    if isinstance(exc, PurchaseNotFoundError):
        return ApiError(404, exc.code, "no purchase with this receipt id in this store")
    assert isinstance(exc, LedgerError)
    return ApiError(422, exc.code, "the ledger refused the change")


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def _describe(exc: BaseException) -> str:
    """The exception's type, never its text (it may quote a phone or a name); SQL errors add
    their statement, which holds placeholders, not values."""
    if isinstance(exc, StatementError):
        statement = " ".join((exc.statement or "").split())[:200]
        return f"{type(exc).__name__}({type(exc.orig).__name__}): {statement}"
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as `{"error": {"code", "message", ...}}` with the right status."""
    try:
        return await handler(request)
    except ApiError as exc:
        error = exc
    except (LedgerError, NotEnoughPointsError) as exc:
        error = _ledger_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal")
        response = _json(_error_body(code, exc.reason), status=exc.status)
        if allow := exc.headers.get("Allow"):
            response.headers["Allow"] = allow
        return response
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if type(exc) is LookupError:  # the ledger's "no customer": gone since the lookup
            error = ApiError(404, "customer_not_found", "no active member with this card or phone")
        else:
            error = _internal(request, exc)
    response = _json(_error_body(error.code, error.message, **error.details), error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="clientbase"'
    return response


def _internal(request: web.Request, exc: Exception) -> ApiError:
    log.error(
        "pos api failure",
        extra={
            "method": request.method,
            "path": request.path[:200],
            "store": _call.get(_Call()).store,
        },
        exc_info=(_InternalError, _InternalError(_describe(exc)), exc.__traceback__),
    )
    return ApiError(500, "internal", "internal error; send the same request again later")


@web.middleware
async def _access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: method, path (never the query: it may hold a phone), status, ms."""
    started = time.perf_counter()
    call = _Call()
    token = _call.set(call)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 499  # the till hung up; a purchase committed before that stays committed
        raise
    finally:
        _call.reset(token)
        log.info(
            "pos request",
            extra={
                "method": request.method,
                "path": request.path[:200],
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "store": call.store,
            },
        )


def build_pos_app(
    sessions: async_sessionmaker,
    settings: Settings,
    bot_username: str = "",
) -> web.Application:
    """The API as an aiohttp application (`start_pos_api` serves it as the bot should)."""
    api = _Api(sessions, settings, bot_username or settings.bot_username or "")
    app = web.Application(middlewares=[_access_log, _errors], client_max_size=MAX_BODY)
    app.router.add_get(f"{PREFIX}/balance", api.balance, allow_head=False)
    app.router.add_post(f"{PREFIX}/purchases", api.purchase)
    app.router.add_post(f"{PREFIX}/refunds", api.refund)
    app.router.add_post(f"{PREFIX}/receipt-qr", api.receipt_qr)
    return app


async def start_pos_api(
    sessions: async_sessionmaker,
    settings: Settings,
    bot_username: str = "",
) -> web.AppRunner:
    """Listen on POS_API_HOST:POS_API_PORT; the caller awaits `runner.cleanup()` at shutdown.

    aiohttp's own access log is off: it would write the query string, and a balance by phone
    carries the phone there. `_access_log` writes the line instead.
    """
    if settings.pos_api_port is None:
        raise ValueError("POS_API_PORT is not set")
    app = build_pos_app(sessions, settings, bot_username)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.pos_api_host, settings.pos_api_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info(
        "pos api listening",
        extra={"host": settings.pos_api_host, "port": settings.pos_api_port},
    )
    return runner
