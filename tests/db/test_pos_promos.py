"""`promo_code` on a till's purchase, over real HTTP: discount, refusals, retries, refunds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.promos import Kind
from bot.services import audit, promos
from bot.services.permissions import SHELL
from db.base import utcnow
from db.models import PromoCode, PromoRedemption, Purchase
from tests.db import test_pos_api as pos
from tests.db.test_pos_api import STORE, _buy, _refund

client, member, tokens = pos.client, pos.member, pos.tokens  # the till's fixtures


async def _shared(sessions: async_sessionmaker, **kw: object) -> str:
    values: dict = {
        "name": "Осень",
        "kind": Kind.PERCENT,
        "value": 10,
        "expires_at": utcnow() + timedelta(days=30),
        "actor": "owner:1",
        "channel": audit.Channel.SHELL,
    }
    values.update(kw)
    async with sessions() as session:
        promotion = await promos.create_promotion(session, **values, by=SHELL)
    assert promotion.code is not None
    return promotion.code


async def test_a_till_sale_with_a_code_names_the_discount_and_a_retry_is_one_use(
    sessions, client, tokens, member
) -> None:
    shopper = await member()
    code = await _shared(sessions)
    status, sale = await _buy(
        client, tokens[STORE], shopper.card, "1000.00", "R-1", promo_code=code.lower()
    )
    assert status == 201
    assert sale["amount"] == "900.00" and sale["accrued"] == 45
    assert sale["promo"] == {
        "code": code,
        "name": "Осень",
        "kind": "percent",
        "amount_before": "1000.00",
        "discount": "100.00",
        "bonus_points": 0,
    }
    status, again = await _buy(
        client, tokens[STORE], shopper.card, "1000.00", "R-1", promo_code=code
    )
    assert status == 200 and again["duplicate"] is True
    assert again["purchase_id"] == sale["purchase_id"] and again["promo"]["discount"] == "100.00"
    # A second sale with the single-use code is refused with the reason, nothing recorded.
    status, refused = await _buy(
        client, tokens[STORE], shopper.card, "500.00", "R-2", promo_code=code
    )
    assert status == 422 and refused["error"]["code"] == "promo_used"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1
        assert await session.scalar(select(func.count()).select_from(PromoRedemption)) == 1
    # The whole check returned: the code is free again.
    status, _ = await _refund(client, tokens[STORE], receipt_id="R-1", refund_id="F-1")
    assert status == 200
    async with sessions() as session:
        assert await session.scalar(select(PromoCode.uses)) == 0
    status, sale = await _buy(client, tokens[STORE], shopper.card, "500.00", "R-3", promo_code=code)
    assert status == 201 and sale["promo"]["discount"] == "50.00"


async def test_refusals_are_clean_json_with_a_reason_code(sessions, client, tokens, member) -> None:
    anna, boris = await member(), await member()
    async with sessions() as session:
        personal = await promos.create_promotion(
            session,
            name="Лично",
            kind=Kind.FIXED,
            value=30000,
            expires_at=None,
            personal=True,
            actor="owner:1",
            channel=audit.Channel.SHELL,
            by=SHELL,
        )
    async with sessions() as session:
        codes = await promos.issue_personal_codes(session, personal.id, [anna.id])
        await session.commit()
    token = tokens[STORE]
    cases = [
        (boris.card, "1000", codes[anna.id], "promo_foreign"),
        (anna.card, "200", codes[anna.id], "promo_amount_too_small"),
        (anna.card, "1000", "ABCD-EFGH", "promo_unknown"),
    ]
    for number, (card, amount, code, reason) in enumerate(cases):
        status, body = await _buy(client, token, card, amount, f"X-{number}", promo_code=code)
        assert status == 422 and body["error"]["code"] == reason, body
    status, body = await _buy(client, token, anna.card, "1000", "X-9", promo_code=17)
    assert status == 400 and body["error"]["code"] == "bad_request"
    # Two more wrong guesses and the till is slowed down (PROMO_FAILED_ATTEMPTS=5).
    for number in range(2):
        status, body = await _buy(
            client, token, anna.card, "1000", f"G-{number}", promo_code="ZZZZ-ZZZ2"
        )
        assert body["error"]["code"] == "promo_unknown"
    status, body = await _buy(client, token, anna.card, "1000", "G-9", promo_code=codes[anna.id])
    assert status == 429 and body["error"]["code"] == "promo_too_many_attempts"
    assert body["error"]["retry_after"] > 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0
