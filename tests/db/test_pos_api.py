"""The point-of-sale API over real HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, NamedTuple

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.cards import new_card_code
from bot.logs import KeyValueFormatter
from bot.pos.app import build_pos_app, start_pos_api
from bot.services import ledger, pos_tokens, till
from bot.settings import Settings
from db.models import Customer, Delivery, LedgerEntry, PosToken, Purchase, Redemption

STORE, OTHER_STORE = "Тверская, 1", "Ленина, 5"
Reply = tuple[int, dict[str, Any]]


class Shopper(NamedTuple):
    id: int
    card: str
    phone: str  # E.164


def _settings(**overrides: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        tiers="Base:0:5, Silver:10000:7, Gold:30000:10",
        redeem_cap_percent=Decimal(30),
        purchase_points_days=365,
        bonus_points_days=180,
        referral_bonus=200,
        **overrides,
    )


@pytest.fixture
async def client(sessions: async_sessionmaker) -> AsyncIterator[TestClient]:
    """A till whose shop spends points without asking the customer (REDEEM_CONFIRMATION=false):
    these tests hold the ledger's rules; tests/db/test_pos_redemption.py the confirmation."""
    settings = _settings(redeem_confirmation=False)
    server = TestServer(build_pos_app(sessions, settings), host="127.0.0.1")
    async with TestClient(server) as client:
        yield client


@pytest.fixture
async def tokens(sessions: async_sessionmaker) -> dict[str, str]:
    async with sessions() as session:
        return {
            STORE: await pos_tokens.issue_token(session, STORE),
            OTHER_STORE: await pos_tokens.issue_token(session, OTHER_STORE),
        }


@pytest.fixture
def member(sessions: async_sessionmaker, new_customer):
    """A customer with a card code: `new_customer` gives none."""

    async def make() -> Shopper:
        customer = await new_customer()
        card = new_card_code()
        async with sessions() as session:
            await session.execute(
                update(Customer).where(Customer.id == customer).values(card_code=card)
            )
            await session.commit()
            phone = await session.scalar(select(Customer.phone).where(Customer.id == customer))
        assert phone is not None
        return Shopper(customer, card, phone)

    return make


async def _call(
    client: TestClient,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    *,
    raw: bytes | None = None,
    params: dict[str, str] | None = None,
) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    options: dict[str, Any] = {"headers": headers, "params": params}
    if raw is not None:
        options["data"] = raw
    elif body is not None:
        options["json"] = body
    async with client.request(method, f"/api/v1/{path}", **options) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def _buy(
    client: TestClient, token: str, card: str, amount: Any, receipt: str, **more
) -> Reply:
    body = {"card": card, "amount": amount, "receipt_id": receipt, **more}
    return await _call(client, "POST", "purchases", token, body)


async def _refund(client: TestClient, token: str, **body) -> Reply:
    return await _call(client, "POST", "refunds", token, body)


async def _balance(client: TestClient, token: str, **params: str) -> Reply:
    return await _call(client, "GET", "balance", token, params=params)


async def _gift(sessions: async_sessionmaker, customer: int, points: int) -> None:
    async with sessions() as session:
        program = _settings().program
        await ledger.grant_bonus(session, program, customer, points, key="gift", reason="test")


async def test_a_purchase_accrues_and_the_balance_shows_it(client, tokens, member) -> None:
    shopper = await member()
    card = shopper.card
    status, sale = await _buy(client, tokens[STORE], card, "1250.50", "R-1")
    assert status == 201
    assert sale == {
        "purchase_id": sale["purchase_id"],
        "amount": "1250.50",
        "redeemed": 0,
        "accrued": 62,  # 5 % of 1250.50, rounded down
        "balance": 62,
        "tier": "Base",
        "upgraded": False,
        "duplicate": False,
    }
    status, view = await _balance(client, tokens[STORE], card=card)
    assert status == 200
    assert view == {
        "customer": {
            "first_name": "Клиент",
            "masked_phone": view["customer"]["masked_phone"],
            "card": card,
        },
        "points": 62,
        "tier": "Base",
        "next_tier": "Silver",
        "to_next_tier_rub": "8749.50",
        "expiring_30d_points": 0,
        "max_redeem_hint": None,
    }
    assert (
        view["customer"]["masked_phone"]
        == f"+7 *** ***-{shopper.phone[-4:-2]}-{shopper.phone[-2:]}"
    )
    status, hinted = await _balance(client, tokens[STORE], card=card, amount="100")
    assert (status, hinted["max_redeem_hint"]) == (200, 30)


async def test_a_customer_is_found_by_phone_in_any_spelling(client, tokens, member) -> None:
    shopper = await member()
    card, digits = shopper.card, shopper.phone.removeprefix("+7")
    for spelling in (f"+7{digits}", f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:]}", f"7{digits}"):
        status, view = await _balance(client, tokens[STORE], phone=spelling)
        assert (status, view["customer"]["card"]) == (200, card), spelling
    status, sale = await _call(
        client,
        "POST",
        "purchases",
        tokens[STORE],
        {"phone": f"+7{digits}", "amount": 100, "receipt_id": "P-1"},
    )
    assert (status, sale["accrued"]) == (201, 5)


async def test_the_same_receipt_twice_is_one_accrual(client, tokens, member, sessions) -> None:
    card = (await member()).card
    status, first = await _buy(client, tokens[STORE], card, "1000", "R-42")
    assert (status, first["accrued"], first["duplicate"]) == (201, 50, False)
    status, again = await _buy(client, tokens[STORE], card, "1000", "R-42")
    assert status == 200
    assert again == {**first, "duplicate": True}
    async with sessions() as session:
        accruals = await session.scalar(select(func.count()).where(LedgerEntry.kind == "accrual"))
    assert accruals == 1
    other_card = (await member()).card
    status, taken = await _buy(client, tokens[STORE], other_card, "1000", "R-42")
    assert (status, taken["error"]["code"]) == (409, "receipt_used_by_another_customer")


async def test_redemption_is_capped_and_cannot_overdraw(client, tokens, member, sessions) -> None:
    shopper = await member()
    customer, card = shopper.id, shopper.card
    await _gift(sessions, customer, 1000)
    status, capped = await _buy(client, tokens[STORE], card, "1000.00", "R-1", redeem=301)
    assert status == 422
    assert capped["error"]["code"] == "redeem_over_cap" and capped["error"]["cap"] == 300
    status, paid = await _buy(client, tokens[STORE], card, "1000.00", "R-1", redeem=300)
    assert status == 201
    assert (paid["redeemed"], paid["accrued"], paid["balance"]) == (300, 35, 735)
    status, short = await _buy(client, tokens[STORE], card, "10000", "R-2", redeem=800)
    assert status == 422
    assert short["error"]["code"] == "not_enough_points"
    assert (short["error"]["available"], short["error"]["wanted"]) == (735, 800)
    status, view = await _balance(client, tokens[STORE], card=card)
    assert view["points"] == 735
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_a_full_refund_retried_is_a_duplicate(client, tokens, member, sessions) -> None:
    shopper = await member()
    customer, card = shopper.id, shopper.card
    await _gift(sessions, customer, 500)
    status, sale = await _buy(client, tokens[STORE], card, "2000", "R-7", redeem=400)
    assert (status, sale["accrued"], sale["balance"]) == (201, 80, 180)
    status, back = await _refund(client, tokens[STORE], receipt_id="R-7", refund_id="ret-1")
    assert status == 200
    assert back == {
        "purchase_id": sale["purchase_id"],
        "refunded": "2000.00",
        "reversed_points": 80,
        "returned_points": 400,
        "shortfall_points": 0,
        "balance": 500,
        "duplicate": False,
    }
    status, again = await _refund(client, tokens[STORE], receipt_id="R-7", refund_id="ret-1")
    assert status == 200
    assert again == {**back, "duplicate": True}
    status, more = await _refund(client, tokens[STORE], receipt_id="R-7", refund_id="ret-2")
    assert status == 422
    assert more["error"]["code"] == "refund_exceeds_purchase"
    assert more["error"]["left_rub"] == "0.00"
    assert (await _balance(client, tokens[STORE], card=card))[1]["points"] == 500


async def test_a_partial_refund_reverses_in_proportion(client, tokens, member) -> None:
    card = (await member()).card
    await _buy(client, tokens[STORE], card, "1000", "R-9")
    status, part = await _refund(
        client, tokens[STORE], receipt_id="R-9", refund_id="a", amount="400.00"
    )
    assert status == 200
    assert (part["refunded"], part["reversed_points"], part["balance"]) == ("400.00", 20, 30)
    status, too_much = await _refund(
        client, tokens[STORE], receipt_id="R-9", refund_id="b", amount=700
    )
    assert status == 422
    assert too_much["error"]["code"] == "refund_exceeds_purchase"
    assert too_much["error"]["left_rub"] == "600.00"
    status, rest = await _refund(client, tokens[STORE], receipt_id="R-9", refund_id="c")
    assert status == 200
    assert (rest["refunded"], rest["reversed_points"], rest["balance"]) == ("600.00", 30, 0)
    status, missing = await _refund(client, tokens[STORE], receipt_id="nope", refund_id="d")
    assert (status, missing["error"]["code"]) == (404, "purchase_not_found")


async def test_receipt_ids_are_per_store(client, tokens, member, sessions) -> None:
    card = (await member()).card
    status, here = await _buy(client, tokens[STORE], card, "1000", "R-1")
    assert status == 201
    status, there = await _buy(client, tokens[OTHER_STORE], card, "1000", "R-1")
    assert status == 201 and not there["duplicate"]
    assert there["purchase_id"] != here["purchase_id"] and there["balance"] == 100
    async with sessions() as session:
        stores = (await session.scalars(select(Purchase.store).order_by(Purchase.id))).all()
        actors = (await session.scalars(select(Purchase.actor).order_by(Purchase.id))).all()
    assert stores == [STORE, OTHER_STORE]
    assert actors == [f"pos:{STORE}", f"pos:{OTHER_STORE}"]
    await _buy(client, tokens[STORE], card, "500", "only-here")
    status, refused = await _refund(
        client, tokens[OTHER_STORE], receipt_id="only-here", refund_id="x"
    )
    assert (status, refused["error"]["code"]) == (404, "purchase_not_found")


async def test_a_wrong_absent_or_revoked_token_is_refused(client, tokens, member, sessions) -> None:
    card = (await member()).card
    for token in (None, "cbp_not-a-token", tokens[STORE] + "x", "plain-secret"):
        status, refused = await _balance(client, token, card=card)  # type: ignore[arg-type]
        assert (status, refused["error"]["code"]) == (401, "unauthorized"), token
    async with client.get(
        "/api/v1/balance",
        params={"card": card},
        headers={"Authorization": f"Basic {tokens[STORE]}"},
    ) as response:
        assert response.status == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    status, _ = await _buy(client, None, card, "100", "R-1")  # type: ignore[arg-type]
    assert status == 401
    async with sessions() as session:
        assert await pos_tokens.revoke_store_tokens(session, STORE) == 1
        assert await pos_tokens.store_for_token(session, tokens[OTHER_STORE]) == OTHER_STORE
    status, refused = await _buy(client, tokens[STORE], card, "100", "R-2")
    assert (status, refused["error"]["code"]) == (401, "unauthorized")
    status, _ = await _buy(client, tokens[OTHER_STORE], card, "100", "R-2")
    assert status == 201
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_only_the_hash_of_a_token_is_kept(sessions) -> None:
    async with sessions() as session:
        token = await pos_tokens.issue_token(session, "  Тверская, 1 ")
        rows = (await session.execute(select(PosToken.store, PosToken.token_hash))).all()
        assert token.startswith("cbp_") and len(token) > 40
        assert rows == [("Тверская, 1", hashlib.sha256(token.encode()).hexdigest())]
        assert await pos_tokens.store_for_token(session, token) == "Тверская, 1"
        assert await pos_tokens.issue_token(session, STORE) != token
        with pytest.raises(ValueError):
            await pos_tokens.issue_token(session, "   ")
        assert await pos_tokens.revoke_store_tokens(session, STORE) == 2
        assert await pos_tokens.revoke_store_tokens(session, STORE) == 0
        assert await pos_tokens.store_for_token(session, token) is None


async def test_an_unknown_or_unnamed_customer(client, tokens, member) -> None:
    card = (await member()).card
    unknown = new_card_code()
    while unknown == card:
        unknown = new_card_code()
    status, missing = await _buy(client, tokens[STORE], unknown, "100", "R-1")
    assert (status, missing["error"]["code"]) == (404, "customer_not_found")
    status, missing = await _balance(client, tokens[STORE], phone="+79031234567")
    assert (status, missing["error"]["code"]) == (404, "customer_not_found")
    mistyped = card[:-1] + str((int(card[-1]) + 1) % 10)
    status, wrong = await _balance(client, tokens[STORE], card=mistyped)
    assert (status, wrong["error"]["code"]) == (400, "invalid_customer")
    status, nobody = await _call(
        client, "POST", "purchases", tokens[STORE], {"amount": "100", "receipt_id": "R-1"}
    )
    assert (status, nobody["error"]["code"]) == (400, "invalid_customer")
    status, both = await _balance(client, tokens[STORE], card=card, phone="+79031234567")
    assert (status, both["error"]["code"]) == (400, "invalid_customer")


async def test_malformed_requests_are_refused(client, tokens, member, sessions) -> None:
    card = (await member()).card
    token = tokens[STORE]
    for raw in (b"{", b"[1, 2]", b"", b"\xff", b'{"card": "1", "amount": NaN}'):
        status, reply = await _call(client, "POST", "purchases", token, raw=raw)
        assert (status, reply["error"]["code"]) == (400, "bad_request"), raw
    for body in (
        {"card": card, "amount": "100"},  # no receipt id
        {"card": card, "amount": "100", "receipt_id": "  "},
        {"card": card, "amount": "100", "receipt_id": "x" * 65},
        {"card": card, "amount": "100", "receipt_id": 17},
        {"card": card, "amount": "100", "receipt_id": "R", "redeem": "10"},
        {"card": card, "amount": "100", "receipt_id": "R", "redeem": -1},
        {"card": card, "amount": "100", "receipt_id": "R", "redeem": 1.5},
        {"card": card, "amount": "100", "receipt_id": "R", "redem": 10},  # a typo is not ignored
    ):
        status, reply = await _call(client, "POST", "purchases", token, body)
        assert (status, reply["error"]["code"]) == (400, "bad_request"), body
    for amount in ("-5", "12.345", "0", "0.00", 0, -1, True, "NaN", "abc", "1e3", [], None):
        status, reply = await _buy(client, token, card, amount, "R-bad")
        assert (status, reply["error"]["code"]) == (400, "invalid_amount"), amount
    status, reply = await _call(
        client,
        "POST",
        "purchases",
        token,
        raw=b'{"card": "%s", "amount": 12.345, "receipt_id": "R"}' % card.encode(),
    )
    assert (status, reply["error"]["code"]) == (400, "invalid_amount")
    status, reply = await _refund(client, token, receipt_id="R", refund_id="r", amount="-1")
    assert (status, reply["error"]["code"]) == (400, "invalid_amount")
    status, reply = await _refund(client, token, receipt_id="R")
    assert (status, reply["error"]["code"]) == (400, "bad_request")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0
    status, sale = await _call(
        client,
        "POST",
        "purchases",
        token,
        raw=b'{"card": "%s", "amount": 1250.5, "receipt_id": "R"}' % card.encode(),
    )
    assert (status, sale["amount"]) == (201, "1250.50")
    status, sale = await _buy(client, token, card, "99,90", "R-comma")
    assert (status, sale["amount"]) == (201, "99.90")


async def test_errors_outside_the_endpoints_are_json_too(client, tokens) -> None:
    status, reply = await _call(client, "GET", "nowhere", tokens[STORE])
    assert (status, reply["error"]["code"]) == (404, "not_found")
    status, reply = await _call(client, "GET", "purchases", tokens[STORE])
    assert (status, reply["error"]["code"]) == (405, "method_not_allowed")
    status, reply = await _call(client, "POST", "purchases", tokens[STORE], raw=b" " * 70_000)
    assert (status, reply["error"]["code"]) == (413, "payload_too_large")


async def test_one_log_line_per_request_without_personal_data(
    client, tokens, member, caplog, monkeypatch
) -> None:
    digits = (await member()).phone.removeprefix("+7")
    caplog.set_level(logging.INFO, logger="clientbase.pos")
    status, _ = await _balance(client, tokens[STORE], phone=f"+7{digits}")
    assert status == 200
    [line] = [record for record in caplog.records if record.name == "clientbase.pos"]
    assert (line.method, line.path, line.status, line.store) == (  # type: ignore[attr-defined]
        "GET",
        "/api/v1/balance",
        200,
        STORE,
    )
    assert isinstance(line.ms, float)  # type: ignore[attr-defined]

    async def broken(*args, **kwargs):
        raise RuntimeError(f"cannot read the balance of +7{digits}")

    monkeypatch.setattr(ledger, "balance", broken)
    caplog.clear()
    status, reply = await _balance(client, tokens[STORE], phone=f"+7{digits}")
    assert (status, reply["error"]["code"]) == (500, "internal")
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    assert "RuntimeError" in logged and "pos api failure" in logged
    assert digits not in logged
    assert [r.status for r in caplog.records if r.msg == "pos request"] == [500]  # type: ignore[attr-defined]


async def test_the_served_api_writes_no_query_string_to_any_log(
    sessions, tokens, member, caplog
) -> None:
    """`start_pos_api` as the bot runs it: a real port, aiohttp's own access log switched off."""
    shopper = await member()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings().model_copy(update={"pos_api_port": port})
    caplog.set_level(logging.INFO)  # DEBUG is for development: aiosqlite logs SQL parameters
    runner = await start_pos_api(sessions, settings)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{port}/api/v1/balance",
                params={"phone": shopper.phone},
                headers={"Authorization": f"Bearer {tokens[STORE]}"},
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["customer"]["card"] == shopper.card
    finally:
        await runner.cleanup()
    digits = shopper.phone.removeprefix("+7")
    assert "pos request" in caplog.text
    assert digits not in caplog.text + " ".join(str(vars(record)) for record in caplog.records)


async def test_a_purchase_retry_racing_the_first_attempt_is_one_purchase(
    client, tokens, member, sessions
) -> None:
    """A till that times out and resends while the first request is still running."""
    card = (await member()).card
    sales = await asyncio.gather(
        *(_buy(client, tokens[STORE], card, "1000", "R-race") for _ in range(4))
    )
    assert sorted(status for status, _ in sales) == [200, 200, 200, 201]
    assert len({sale["purchase_id"] for _, sale in sales}) == 1
    async with sessions() as session:
        accruals = await session.scalar(select(func.count()).where(LedgerEntry.kind == "accrual"))
    assert accruals == 1


async def test_a_refund_retry_racing_the_first_attempt_is_one_refund(
    client, tokens, member, sessions
) -> None:
    card = (await member()).card
    token = tokens[STORE]
    assert (await _buy(client, token, card, "1000", "R-race"))[0] == 201
    backs = await asyncio.gather(
        *(
            _refund(client, token, receipt_id="R-race", refund_id="ret", amount="300")
            for _ in range(4)
        )
    )
    assert [status for status, _ in backs] == [200] * 4
    assert sorted(back["duplicate"] for _, back in backs) == [False, True, True, True]
    assert {back["reversed_points"] for _, back in backs} == {15}
    async with sessions() as session:
        refunded = (await session.scalars(select(Purchase.refunded_amount))).all()
    assert refunded == [300_00]
    status, view = await _balance(client, token, card=card)
    assert (status, view["points"]) == (200, 50 - 15)


async def test_input_edges_are_refused_with_a_stable_code(client, tokens, member, sessions) -> None:
    """Each of these was a 500, a zero-kopeck purchase or an id nobody can read or type."""
    card = (await member()).card
    token = tokens[STORE]
    for number in (b"1E-999999999", b"1e3", b"1E+2", b"12.5e0", b"-0.0", b"0.001"):
        status, reply = await _call(
            client,
            "POST",
            "purchases",
            token,
            raw=b'{"card": "%s", "amount": %s, "receipt_id": "R"}' % (card.encode(), number),
        )
        assert (status, reply["error"]["code"]) == (400, "invalid_amount"), number
    for amount in ("１２５０", "١٢٥٠", "۱۲۵۰", "12.٥"):
        status, reply = await _buy(client, token, card, amount, "R-digits")
        assert (status, reply["error"]["code"]) == (400, "invalid_amount"), amount
        status, reply = await _balance(client, token, card=card, amount=amount)
        assert (status, reply["error"]["code"]) == (400, "invalid_amount"), amount
    for receipt in (
        "R\x00-1",  # NUL: PostgreSQL refuses it in text, which was a 500
        "R\ud800",  # a lone surrogate: not encodable as UTF-8
        "\u200b",  # zero-width space only
        "\u200b\u200c\u200d\ufeff",
        "\u00a0\u3000",  # no-break and ideographic spaces only
        "R-1\nR-2",
        "R\x1b[31m",
        "R\u202e1-R",  # a right-to-left override
        "R\u2028X",
    ):
        status, reply = await _buy(client, token, card, "100", receipt)
        assert (status, reply["error"]["code"]) == (400, "bad_request"), ascii(receipt)
        status, reply = await _refund(client, token, receipt_id="R", refund_id=receipt)
        assert (status, reply["error"]["code"]) == (400, "bad_request"), ascii(receipt)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0
    status, _ = await _buy(client, token, card, "100", "  Чек №12/А  ")
    assert status == 201
    async with sessions() as session:
        assert await session.scalar(select(Purchase.receipt_id)) == "Чек №12/А"


async def test_a_path_cannot_forge_a_log_line(client, tokens, caplog) -> None:
    caplog.set_level(logging.INFO, logger="clientbase.pos")
    status, reply = await _call(client, "GET", "x%0Alevel=error%20msg=forged", tokens[STORE])
    assert (status, reply["error"]["code"]) == (404, "not_found")
    [record] = [r for r in caplog.records if r.name == "clientbase.pos"]
    line = KeyValueFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert r'path="/api/v1/x\nlevel=error msg=forged"' in line


OWNERS = [900_001, 900_002]


class Clock:
    """The rate limits' clock, moved by hand: buckets refill only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rate_per_minute() -> int:
    return 5


@pytest.fixture
async def limited(
    sessions: async_sessionmaker, clock: Clock, rate_per_minute: int
) -> AsyncIterator[TestClient]:
    """3 failures an hour, behind a proxy so that tests can pick the client's address."""
    settings = _settings(
        pos_rate_per_minute=rate_per_minute,
        pos_failures_per_hour=3,
        pos_behind_proxy=True,
        owner_ids=OWNERS,
    )
    server = TestServer(build_pos_app(sessions, settings, clock=clock), host="127.0.0.1")
    async with TestClient(server) as client:
        yield client


async def _from(client: TestClient, address: str, token: str | None, **params: str):
    headers = {"X-Forwarded-For": f"203.0.113.250, {address}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with client.get("/api/v1/balance", params=params, headers=headers) as response:
        return response.status, response.headers.get("Retry-After"), await response.json()


async def _alerts(sessions: async_sessionmaker) -> list[tuple[int | None, dict[str, Any]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.payload)
            .where(Delivery.kind == "owner_alert")
            .order_by(Delivery.id)
        )
        return [(chat_id, payload) for chat_id, payload in rows]


async def test_requests_beyond_the_rate_get_429_with_retry_after(
    limited, tokens, member, clock
) -> None:
    card = (await member()).card
    token, other = tokens[STORE], tokens[OTHER_STORE]
    # Per token: five from five addresses pass, the sixth waits a twelfth of a minute.
    for n in range(5):
        status, _, _ = await _from(limited, f"10.0.0.{n}", token, card=card)
        assert status == 200
    status, retry_after, reply = await _from(limited, "10.0.0.9", token, card=card)
    assert (status, reply["error"]["code"], retry_after) == (429, "rate_limited", "12")
    assert reply["error"]["retry_after"] == 12
    assert (await _from(limited, "10.0.0.9", other, card=card))[0] == 200
    clock.now += 12
    assert (await _from(limited, "10.0.0.9", token, card=card))[0] == 200
    # Per address: the other store's token from one address, then a third party there too.
    for _ in range(3):
        assert (await _from(limited, "10.0.0.9", other, card=card))[0] == 200
    status, retry_after, reply = await _from(limited, "10.0.0.9", other, card=card)
    assert (status, reply["error"]["code"], retry_after) == (429, "rate_limited", "12")
    status, _, reply = await _from(limited, "10.0.0.9", None, card=card)
    assert (status, reply["error"]["code"]) == (429, "rate_limited")


async def test_bad_tokens_block_the_address_and_alert_the_owners_once(
    limited, tokens, member, sessions, clock
) -> None:
    card = (await member()).card
    for n in range(3):
        status, _, reply = await _from(limited, "198.51.100.7", f"cbp_guess-{n}", card=card)
        assert (status, reply["error"]["code"]) == (401, "unauthorized")
    # The address is refused outright now, a good token included; others are not.
    for token in ("cbp_guess-4", tokens[STORE]):
        status, retry_after, reply = await _from(limited, "198.51.100.7", token, card=card)
        assert (status, reply["error"]["code"]) == (429, "too_many_failures")
        assert retry_after == "1200"  # an hour's allowance of 3 refills one per 20 minutes
    assert (await _from(limited, "198.51.100.8", tokens[STORE], card=card))[0] == 200
    expected = {"alert": "pos_auth_failures", "address": "198.51.100.7", "count": 3}
    assert await _alerts(sessions) == [(owner, expected) for owner in OWNERS]
    # The burst goes on at the pace the bucket allows: still the one alert.
    for _ in range(3):
        clock.now += 1200
        assert (await _from(limited, "198.51.100.7", "cbp_again", card=card))[0] == 401
        assert (await _from(limited, "198.51.100.7", "cbp_again", card=card))[0] == 429
    assert len(await _alerts(sessions)) == len(OWNERS)


@pytest.mark.parametrize("rate_per_minute", [600])
async def test_lookups_that_miss_are_limited_and_alert_the_owners_once(
    limited, tokens, member, sessions, clock
) -> None:
    card = (await member()).card
    token = tokens[STORE]
    unknown = new_card_code()
    while unknown == card:
        unknown = new_card_code()
    for n in range(3):
        status, _, reply = await _from(limited, f"10.1.0.{n}", token, card=unknown)
        assert (status, reply["error"]["code"]) == (404, "customer_not_found")
    # This token may look nobody up now, a member included, from any address.
    status, retry_after, reply = await _from(limited, "10.1.0.9", token, card=card)
    assert (status, reply["error"]["code"], retry_after) == (429, "too_many_failures", "1200")
    status, _, reply = await _from(limited, "10.1.0.9", token, phone="+79031234567")
    assert (status, reply["error"]["code"]) == (429, "too_many_failures")
    # Refunds look nobody up: they still work.
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "10.1.0.9"}
    body = {"receipt_id": "nope", "refund_id": "r"}
    async with limited.post("/api/v1/refunds", json=body, headers=headers) as response:
        assert (response.status, (await response.json())["error"]["code"]) == (
            404,
            "purchase_not_found",
        )
    # Another token is not limited elsewhere, but is from an address that missed three times.
    assert (await _from(limited, "10.1.0.9", tokens[OTHER_STORE], card=card))[0] == 200
    for _ in range(3):
        assert (await _from(limited, "10.1.0.7", tokens[OTHER_STORE], card=unknown))[0] == 404
    status, _, reply = await _from(limited, "10.1.0.7", tokens[OTHER_STORE], card=card)
    assert (status, reply["error"]["code"]) == (429, "too_many_failures")
    alerts = await _alerts(sessions)
    first = {"alert": "pos_lookup_misses", "address": "10.1.0.2", "store": STORE, "count": 3}
    second = {"alert": "pos_lookup_misses", "address": "10.1.0.7", "store": OTHER_STORE, "count": 3}
    assert alerts == [(owner, first) for owner in OWNERS] + [(owner, second) for owner in OWNERS]
    clock.now += 1200
    assert (await _from(limited, "10.1.0.9", token, card=card))[0] == 200


# --- spending points the customer confirms (REDEEM_CONFIRMATION, the default) -----------------
# A purchase that redeems answers 202 and spends nothing until the customer taps the button in
# their chat or the till sends the code they read out; the till polls or retries.


@pytest.fixture
async def confirming(sessions: async_sessionmaker) -> AsyncIterator[TestClient]:
    server = TestServer(build_pos_app(sessions, _settings()), host="127.0.0.1")
    async with TestClient(server) as client:
        yield client


async def _purchases(sessions: async_sessionmaker) -> list[int]:
    async with sessions() as session:
        return list((await session.scalars(select(Purchase.redeemed))).all())


async def test_a_redemption_waits_for_the_customers_tap(
    confirming, tokens, member, sessions
) -> None:
    shopper = await member()
    await _gift(sessions, shopper.id, 500)
    status, asked = await _buy(confirming, tokens[STORE], shopper.card, "1000", "R-1", redeem=300)
    assert status == 202
    assert (asked["confirmation_required"], asked["status"], asked["redeem"]) == (
        True,
        "pending",
        300,
    )
    assert asked["purchase"] is None and await _purchases(sessions) == []
    number = asked["confirmation_id"]
    # The customer is asked in their own chat, through the outbox; the code is not in the answer.
    async with sessions() as session:
        kinds = (await session.scalars(select(Delivery.kind))).all()
        code = await session.scalar(select(Redemption.code))
        telegram_id = await session.scalar(
            select(Customer.telegram_id).where(Customer.id == shopper.id)
        )
    assert "redeem_ask" in kinds and code not in str(asked)
    # The till retries and polls: still waiting; another store cannot see the request.
    status, again = await _buy(confirming, tokens[STORE], shopper.card, "1000", "R-1", redeem=300)
    assert (status, again["confirmation_id"]) == (202, number)
    status, polled = await _call(confirming, "GET", f"redemptions/{number}", tokens[STORE])
    assert (status, polled["status"]) == (200, "pending")
    status, hidden = await _call(confirming, "GET", f"redemptions/{number}", tokens[OTHER_STORE])
    assert (status, hidden["error"]["code"]) == (404, "redemption_not_found")
    assert await _purchases(sessions) == []

    assert telegram_id is not None
    async with sessions() as session:
        answer = await till.answer_redemption(
            session, _settings().program, number, telegram_id, confirm=True
        )
    assert answer is not None and answer.purchase is not None
    status, polled = await _call(confirming, "GET", f"redemptions/{number}", tokens[STORE])
    assert (status, polled["status"], polled["purchase"]["redeemed"]) == (200, "confirmed", 300)
    status, sale = await _buy(confirming, tokens[STORE], shopper.card, "1000", "R-1", redeem=300)
    assert (status, sale["duplicate"], sale["redeemed"], sale["balance"]) == (200, True, 300, 235)
    assert await _purchases(sessions) == [300]


async def test_the_code_read_out_at_the_till_spends_once(
    confirming, tokens, member, sessions
) -> None:
    shopper = await member()
    await _gift(sessions, shopper.id, 500)
    status, _ = await _buy(confirming, tokens[STORE], shopper.card, "1000", "R-1", redeem=300)
    assert status == 202
    async with sessions() as session:
        code = await session.scalar(select(Redemption.code))
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    status, refused = await _buy(
        confirming, tokens[STORE], shopper.card, "1000", "R-1", redeem=300, confirmation_code=wrong
    )
    assert (status, refused["error"]["code"]) == (422, "wrong_confirmation_code")
    assert await _purchases(sessions) == []
    for expected in (201, 200):
        status, sale = await _buy(
            confirming,
            tokens[STORE],
            shopper.card,
            "1000",
            "R-1",
            redeem=300,
            confirmation_code=code,
        )
        assert (status, sale["redeemed"]) == (expected, 300)
    assert await _purchases(sessions) == [300]
    # Without points, no confirmation is needed at all.
    status, plain = await _buy(confirming, tokens[STORE], shopper.card, "100", "R-2")
    assert (status, plain["redeemed"]) == (201, 0)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Redemption)) == 1
