"""Reading a till's request: a JSON object with known fields, sums, ids, points, the customer.

Anything malformed is an `ApiError` with a stable code, never a 500 further down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.domain.cards import normalize_card_code
from bot.domain.identifiers import ID_MAX_LENGTH, clean_id
from bot.domain.money import MAX_AMOUNT, parse_amount
from bot.domain.phone import normalize_phone
from bot.pos.errors import ApiError, bad_request

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class JsonFraction:
    """A JSON number with a fraction or an exponent, as written: only `amount` takes one,
    and only in plain decimal notation (`1E-999999999` as a Decimal was 0 kopecks)."""

    literal: str


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


async def read_body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """A JSON object with only the known fields; numbers with a fraction come as written."""
    raw = await request.read()
    try:
        data = json.loads(
            raw.decode("utf-8"), parse_float=JsonFraction, parse_constant=_no_constants
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    if unknown := sorted(set(data) - allowed):
        raise bad_request(f"unknown field(s): {', '.join(unknown)}")
    return data


def _kopecks(value: object) -> int | None:
    """Roubles as "1250.50" (a comma works too) or a JSON number → kopecks; None if not exact.

    Negative, zero, more than two decimals, exponents, digits other than ASCII, NaN/Infinity,
    booleans and absurd sums are refused (`parse_amount` holds the rule).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, JsonFraction):
        value = value.literal
    if isinstance(value, int):
        return value * 100 if 0 < value <= MAX_AMOUNT // 100 else None
    if isinstance(value, str):
        return parse_amount(value) if len(value) <= 32 else None
    return None


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
    """A receipt or refund id under the rule of `bot.domain.identifiers`."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} is required: a non-empty string")
    if len(value.strip()) > ID_MAX_LENGTH:
        raise bad_request(f"{name}: at most {ID_MAX_LENGTH} characters")
    cleaned = clean_id(value)
    if cleaned is None:
        raise bad_request(f"{name}: printable characters only (no control or invisible ones)")
    return cleaned


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


def promo_code(data: Mapping[str, Any]) -> str | None:
    """The optional `promo_code`: a string as printed or typed (checked by the promo service)."""
    value = data.get("promo_code")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 32:
        raise bad_request("promo_code: a code as printed, e.g. K7QM-3XWP")
    return value
