"""The routes of the point-of-sale API and the server that runs them beside the bot.

Money on the wire is roubles as a string with two decimals ("1250.50"); points are integers.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.money import plain_rub
from bot.pos import requests
from bot.pos.access_log import access_log, current_note
from bot.pos.auth import bearer_token, store_of, unauthorized
from bot.pos.errors import ApiError, bad_request, handle_errors, json_answer, promo_error
from bot.pos.limits import Caller, Clock, Guard
from bot.render import qr
from bot.services import ledger, members, promos, receipts, till
from bot.services import program as program_service
from bot.services.sources import deep_link, whatsapp_link
from bot.settings import Settings
from bot.texts import texts_for

PREFIX = "/api/v1"
CHANNEL = "pos"
ACTOR_MAX_LENGTH = 64  # LedgerEntry.actor, Purchase.actor

log = logging.getLogger("clientbase.pos")

__all__ = ["PREFIX", "build_pos_app", "start_pos_api"]


def _actor(store: str) -> str:
    return f"pos:{store}"[:ACTOR_MAX_LENGTH]


def _promo(applied: promos.Applied) -> dict[str, Any]:
    """The code the sale used: the purchase's `amount` is what was paid, after `discount`."""
    return {
        "code": applied.code,
        "name": applied.name,
        "kind": applied.kind.value,
        "amount_before": plain_rub(applied.amount),
        "discount": plain_rub(applied.discount),
        "bonus_points": applied.bonus,
    }


class _Api:
    def __init__(
        self,
        sessions: async_sessionmaker,
        settings: Settings,
        bot_username: str,
        guard: Guard,
    ) -> None:
        self._sessions = sessions
        self._guard = guard
        self._settings = settings
        self._seed = settings.program  # the program as stored is read per request (cached)
        self._bot_username = bot_username
        self._promo_guard = promos.guard_from(settings)

    @asynccontextmanager
    async def _unit(self, request: web.Request) -> AsyncIterator[tuple[AsyncSession, Caller, str]]:
        """One session for the request once its caller is within the limits and its token is
        good (429, 401 otherwise); the store of the token is noted for the access log."""
        caller = self._guard.caller(request, bearer_token(request))
        self._guard.admit(caller)
        async with self._sessions() as session:
            store = await store_of(session, caller.token)
            if store is not None:
                self._guard.admit_token(caller)
                current_note().store = store
                yield session, caller, store
                return
        await self._guard.bad_token(caller)
        raise unauthorized()

    async def _member(
        self, session: AsyncSession, caller: Caller, store: str, data: Mapping[str, Any]
    ) -> members.Member:
        query = requests.customer_query(data)
        self._guard.admit_lookup(caller)
        member = await members.find(session, query)
        if member is None:
            await self._guard.missed(caller, store)
            raise ApiError(404, "customer_not_found", "no active member with this card or phone")
        return member

    async def balance(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, caller, store):
            query = request.query
            if unknown := sorted(set(query) - {"card", "phone", "amount"}):
                raise bad_request(f"unknown parameter(s): {', '.join(unknown)}")
            amount = requests.amount(query, required=False)
            member = await self._member(session, caller, store, query)
            program = await program_service.current(session, self._seed)
            view = await ledger.balance(session, program, member.customer_id)
        hint = min(view.points, program.redeem_cap(amount)) if amount else None
        return json_answer(
            {
                "customer": {
                    "first_name": member.first_name,
                    "masked_phone": member.masked_phone,
                    "card": member.card_code or None,
                },
                "points": view.points,
                "tier": view.tier.name,
                "next_tier": view.next_tier.name if view.next_tier else None,
                "to_next_tier_rub": plain_rub(view.to_next_tier) if view.next_tier else None,
                "expiring_30d_points": view.expiring_soon,
                "max_redeem_hint": hint,
            }
        )

    async def purchase(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, caller, store):
            data = await requests.read_body(
                request,
                frozenset(
                    {
                        "card",
                        "phone",
                        "amount",
                        "receipt_id",
                        "redeem",
                        "confirmation_code",
                        "promo_code",
                    }
                ),
            )
            amount = requests.amount(data, required=True)
            assert amount is not None
            receipt_id = requests.identifier(data, "receipt_id")
            redeem = requests.points(data, "redeem")
            confirmation = (
                requests.identifier(data, "confirmation_code")
                if "confirmation_code" in data
                else None
            )
            promo_code = requests.promo_code(data)
            member = await self._member(session, caller, store, data)
            if redeem and self._settings.redeem_confirmation:
                waiting = await self._confirmed(
                    session,
                    store,
                    member.customer_id,
                    amount,
                    redeem,
                    receipt_id,
                    confirmation,
                    promo_code,
                )
                if waiting is not None:
                    return waiting
            try:
                sale = await promos.record_sale(
                    session,
                    await program_service.current(session, self._seed),
                    member.customer_id,
                    amount,
                    code=promo_code,
                    guard=self._promo_guard,
                    redeem=redeem,
                    receipt_id=receipt_id,
                    store=store,
                    channel=CHANNEL,
                    actor=_actor(store),
                )
            except promos.PromoRefusedError as refused:
                raise promo_error(refused) from None
        result = sale.purchase
        body = _purchase_body(result)
        if sale.promo is not None:  # only with a code: the answer without one is unchanged
            body["promo"] = _promo(sale.promo)
        return json_answer(body, status=200 if result.duplicate else 201)

    async def _confirmed(
        self,
        session: AsyncSession,
        store: str,
        customer_id: int,
        amount: int,
        redeem: int,
        receipt_id: str,
        code: str | None,
        promo_code: str | None = None,
    ) -> web.Response | None:
        """Spending points waits for the customer (REDEEM_CONFIRMATION): a 202 while they have
        not confirmed; None when they have, and the purchase (recorded by their tap, or now by
        the code they read out) is answered as the sale."""
        try:
            asked = await till.ask_redemption(
                session,
                await program_service.current(session, self._seed),
                customer_id,
                amount,
                redeem,
                receipt_id=receipt_id,
                store=store,
                channel=CHANNEL,
                actor=_actor(store),
                notify_chat=None,
                lifetime=self._settings.redeem_confirmation_window,
                promo_code=promo_code,
                promo_guard=self._promo_guard,
            )
            if asked.status == "pending" and code is not None:
                answer = await till.confirm_with_code(
                    session,
                    await program_service.current(session, self._seed),
                    asked.id,
                    code,
                    actor=_actor(store),
                )
                if answer.purchase is not None and not answer.purchase.duplicate:
                    body = _purchase_body(answer.purchase)
                    applied = await promos.applied_to_purchase(
                        session, answer.purchase.purchase_id, answer.purchase.amount
                    )
                    if applied is not None:
                        body["promo"] = _promo(applied)
                    return json_answer(body, status=201)
                asked = answer.redemption
        except till.CustomerUnreachableError as error:
            raise ApiError(
                409, error.code, "the customer is not in the messenger: sell without points"
            ) from None
        except till.WrongCodeError as error:
            raise ApiError(422, error.code, "the confirmation code does not match") from None
        except promos.PromoRefusedError as refused:
            raise promo_error(refused) from None
        if asked.status == "confirmed":
            return None  # recorded: record_purchase answers it as a duplicate, writing nothing
        if asked.status == "pending":
            return json_answer(_redemption_body(asked, None), status=202)
        raise ApiError(
            409,
            f"redemption_{asked.status}",
            "no points were spent: record the purchase without redeem",
            confirmation_id=asked.id,
        )

    async def redemption(self, request: web.Request) -> web.Response:
        """A till polling the request it made: pending, confirmed (with the purchase), declined,
        cancelled or expired. Another store's request is not found."""
        async with self._unit(request) as (session, _caller, store):
            try:
                number = int(request.match_info["redemption_id"])
                answer = await till.redemption_status(
                    session, await program_service.current(session, self._seed), number, store=store
                )
            except (ValueError, till.NotAllowedError):
                raise ApiError(404, "redemption_not_found", "no such request") from None
        return json_answer(_redemption_body(answer.redemption, answer.purchase))

    async def refund(self, request: web.Request) -> web.Response:
        async with self._unit(request) as (session, _caller, store):
            data = await requests.read_body(
                request, frozenset({"receipt_id", "amount", "refund_id"})
            )
            receipt_id = requests.identifier(data, "receipt_id")
            refund_id = requests.identifier(data, "refund_id")
            amount = requests.amount(data, required=False)
            result = await ledger.refund_receipt(
                session,
                store=store,
                receipt_id=receipt_id,
                amount=amount,
                refund_id=refund_id,
                actor=_actor(store),
            )
        if isinstance(result, ledger.VoidedReceipt):
            return json_answer({"purchase_id": None, "receipt_qr_voided": True})
        return json_answer(
            {
                "purchase_id": result.purchase_id,
                "refunded": plain_rub(result.amount),
                "reversed_points": result.reversed_points,
                "returned_points": result.returned_points,
                "shortfall_points": result.shortfall,
                "balance": result.balance,
                "duplicate": result.duplicate,
            }
        )

    def _whatsapp(self, payload: str) -> dict[str, str]:
        """The same purchase as a wa.me link (and its QR), when the shop is on WhatsApp."""
        number = self._settings.whatsapp_number
        if not number:
            return {}
        line = texts_for(self._settings.default_language).wa_qr_line
        link = whatsapp_link(number, line, payload)
        return {
            "whatsapp_link": link,
            "whatsapp_png_base64": base64.b64encode(qr.qr_png(link)).decode(),
        }

    async def receipt_qr(self, request: web.Request) -> web.Response:
        """A purchase QR for the receipt: the customer scans it and the points land."""
        async with self._unit(request) as (session, _caller, store):
            data = await requests.read_body(request, frozenset({"amount", "receipt_id"}))
            amount = requests.amount(data, required=True)
            assert amount is not None
            issued = await receipts.issue(
                session,
                self._settings.link_key,
                store=store,
                amount=amount,
                receipt_id=requests.identifier(data, "receipt_id"),
                issued_by=_actor(store),
                window=(await program_service.current(session, self._seed)).receipt_window,
            )
        link = deep_link(self._bot_username, issued.payload)
        return json_answer(
            {
                "link": link,
                "png_base64": base64.b64encode(qr.qr_png(link)).decode(),
                "receipt_id": issued.receipt_id,
                "amount": plain_rub(issued.amount),
                "expires_at": issued.expires_at.isoformat(),
                **self._whatsapp(issued.payload),
            },
            status=201,
        )


def _purchase_body(result: ledger.PurchaseResult) -> dict[str, Any]:
    return {
        "purchase_id": result.purchase_id,
        "amount": plain_rub(result.amount),
        "redeemed": result.redeemed,
        "accrued": result.accrued,
        "balance": result.balance,
        "tier": result.tier_after,
        "upgraded": result.upgraded,
        "duplicate": result.duplicate,
    }


def _redemption_body(
    asked: till.RedemptionView, purchase: ledger.PurchaseResult | None
) -> dict[str, Any]:
    return {
        "confirmation_required": asked.status == "pending",
        "confirmation_id": asked.id,
        "status": asked.status,
        "redeem": asked.points,
        "amount": plain_rub(asked.amount),
        "receipt_id": asked.receipt_id,
        "expires_at": asked.expires_at.isoformat(),
        "purchase": _purchase_body(purchase) if purchase else None,
    }


def build_pos_app(
    sessions: async_sessionmaker,
    settings: Settings,
    bot_username: str = "",
    *,
    clock: Clock = time.monotonic,
) -> web.Application:
    """The API as an aiohttp application (`start_pos_api` serves it as the bot should);
    `clock` drives the rate limits (tests move it by hand)."""
    api = _Api(
        sessions,
        settings,
        bot_username or settings.bot_username or "",
        Guard(settings, sessions, clock),
    )
    app = web.Application(
        middlewares=[access_log, handle_errors], client_max_size=requests.MAX_BODY
    )
    app.router.add_get(f"{PREFIX}/balance", api.balance, allow_head=False)
    app.router.add_post(f"{PREFIX}/purchases", api.purchase)
    app.router.add_post(f"{PREFIX}/refunds", api.refund)
    app.router.add_get(f"{PREFIX}/redemptions/{{redemption_id}}", api.redemption, allow_head=False)
    app.router.add_post(f"{PREFIX}/receipt-qr", api.receipt_qr)
    return app


async def start_pos_api(
    sessions: async_sessionmaker,
    settings: Settings,
    bot_username: str = "",
) -> web.AppRunner:
    """Listen on POS_API_HOST:POS_API_PORT; the caller awaits `runner.cleanup()` at shutdown.

    aiohttp's own access log is off: it would write the query string, and a balance by phone
    carries the phone there. `access_log.access_log` writes the line instead.
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
