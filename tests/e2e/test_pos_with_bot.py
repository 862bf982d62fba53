"""The till's HTTP API beside the running bot: members hear about POS sales, receipt QRs work."""

from __future__ import annotations

import asyncio
import base64

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.pos.app import build_pos_app
from bot.services import pos_tokens
from db.models import Customer
from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup import sign_up
from tests.qr_reading import decode_png

STORE = "Тверская, 1"


@pytest.fixture
async def till(running: RunningBot):
    app = running.app
    assert app is not None
    server = TestServer(
        build_pos_app(app.sessions, running.settings, "clientbase_test_bot"), host="127.0.0.1"
    )
    async with TestClient(server) as client:
        async with app.sessions() as session:
            token = await pos_tokens.issue_token(session, STORE)
        client.session.headers["Authorization"] = f"Bearer {token}"
        yield client


async def test_a_pos_sale_and_return_reach_the_member(running: RunningBot, till) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    async with bot.sessions() as session:
        card = await session.scalar(select(Customer.card_code))
    sale = await till.post(
        "/api/v1/purchases", json={"card": card, "amount": "2000", "receipt_id": "A-1"}
    )
    assert sale.status == 201 and (await sale.json())["accrued"] == 100
    notice = await bot.reply(customer)
    assert notice.text == (
        "🧾 Покупка на 2\u00a0000\u00a0₽: начислено 100 баллов. Баланс: <b>200 баллов</b>."
    )
    back = await till.post("/api/v1/refunds", json={"receipt_id": "A-1", "refund_id": "RF-1"})
    assert back.status == 200 and (await back.json())["reversed_points"] == 100
    notice = await bot.reply(customer)
    assert notice.text.startswith("↩️ Возврат на 2\u00a0000\u00a0₽: списано 100 баллов")


async def test_a_stalled_telegram_does_not_hold_the_till(running: RunningBot, till) -> None:
    """With sendMessage hanging, the till gets its answer; the notice follows when Telegram
    answers again. (It was 20 s of waiting at the till for 20 s of a slow Telegram.)"""
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    await bot.quiet()
    async with bot.sessions() as session:
        card = await session.scalar(select(Customer.card_code))
    stall = bot.fake.stall("sendMessage")
    sale = asyncio.ensure_future(
        till.post("/api/v1/purchases", json={"card": card, "amount": "2000", "receipt_id": "S-1"})
    )
    await stall.reached.wait()  # the notice is on its way and Telegram holds it
    # A guard against hanging forever, not a timing assertion: the answer needs no release.
    answer = await asyncio.wait_for(sale, 30)
    assert not stall.released.is_set()
    assert answer.status == 201 and (await answer.json())["accrued"] == 100
    stall.release()
    notice = await bot.reply(customer)
    assert notice.text.startswith("🧾 Покупка на 2\u00a0000\u00a0₽: начислено 100 баллов")


async def test_a_receipt_qr_from_the_till_and_a_return_before_the_scan(
    running: RunningBot, till
) -> None:
    bot, customer = running, running.new_user()
    await sign_up(bot, customer)
    issued = await till.post("/api/v1/receipt-qr", json={"amount": 1250, "receipt_id": "Q-1"})
    body = await issued.json()
    assert issued.status == 201 and body["receipt_id"] == "Q-1" and body["amount"] == "1250.00"
    assert decode_png(base64.b64decode(body["png_base64"])) == body["link"]
    credited = await bot.start_bot(customer, body["link"].split("start=")[1])
    assert "начислено 62 балла" in credited.text

    second = await till.post("/api/v1/receipt-qr", json={"amount": 500, "receipt_id": "Q-2"})
    link = (await second.json())["link"]
    returned = await till.post("/api/v1/refunds", json={"receipt_id": "Q-2", "refund_id": "R"})
    assert returned.status == 200 and (await returned.json())["receipt_qr_voided"] is True
    refused = await bot.start_bot(customer, link.split("start=")[1])
    assert refused.text == "По этому чеку оформлен возврат — баллы не начисляются."
