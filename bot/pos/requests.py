"""Reading a till's request: a JSON object with known fields, sums, ids, points, the customer.

Anything malformed is an `ApiError` with a stable code, never a 500 further down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.domain.cards import normalize_card_code
from bot.domain.money import MAX_AMOUNT, parse_amount
from bot.domain.phone import normalize_phone
from bot.pos.errors import ApiError, bad_request

MAX_BODY = 64 * 1024
ID_MAX_LENGTH = 64  # receipt and refund ids: Purchase.receipt_id is VARCHAR(64)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


async def read_body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """A JSON object with only the known fields; numbers with a fraction come as Decimal."""
    raw = await request.read()
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    if unknown := sorted(set(data) - allowed):
        raise bad_request(f"unknown field(s): {', '.join(unknown)}")
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


def amount(data: Mapping[str, Any], *, required: bool) -> int | None:
    """The `amount` field in kopecks (None when absent and not required)."""
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


def identifier(data: Mapping[str, Any], name: str) -> str:
    """A receipt or refund id: a non-empty string of at most ID_MAX_LENGTH characters."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} is required: a non-empty string")
    if len(value.strip()) > ID_MAX_LENGTH:
        raise bad_request(f"{name}: at most {ID_MAX_LENGTH} characters")
    return value.strip()


def points(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_request(f"{name}: a whole number of points, 0 or more")
    return value


def customer_query(data: Mapping[str, Any]) -> str:
    """The customer named by exactly one of `card` (8 digits) or `phone` (any spelling),
    normalised for `members.find`."""
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
        return query
    query = normalize_phone(phone) if isinstance(phone, str) else None
    if query is None:
        raise ApiError(400, "invalid_customer", "phone: not a valid phone number")
    return query
