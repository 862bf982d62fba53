"""A broadcast with personal promo codes (issue 11), and a redemption the customer confirms
that carries a promo code (issue 13), through the fake Telegram and the POS API."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import promos as promo_rules
from bot.domain.promos import Kind
from bot.domain.segments import SegmentFilter
from bot.sandbox.fake_telegram import FakeUser
from bot.services import audit, campaigns, promos, segments
from bot.services.permissions import SHELL
from bot.telegram.delivery import PromoCodeCb
from db.base import utcnow
from db.models import (
    Campaign,
    CampaignMember,
    Customer,
    PromoCode,
    PromoRedemption,
    Purchase,
    Redemption,
)
from db.repositories import campaigns as campaign_repo
from tests.e2e.conftest import RunningBot
from tests.e2e.test_broadcast_chat import BASE, OWNER, add_customers, compose, started
from tests.e2e.test_delivery import until
from tests.e2e.test_loyalty import _hire_cashier
from tests.e2e.test_pos_with_bot import till  # noqa: F401  (the fixture)
from tests.e2e.test_promos import _personal_code
from tests.e2e.test_signup import sign_up
from tests.e2e.test_till_messenger import _pressed, _sell

SHOW = "🎟 Показать мой промокод"
NO_CODE = "В этом сообщении нет промокода для вас."


async def _promotion(bot: RunningBot, name: str = "Лично для вас", **kw: Any) -> int:
    values: dict[str, Any] = {
        "name": name,
        "kind": Kind.FIXED,
        "value": 200_00,
        "expires_at": utcnow() + timedelta(days=10),
        "personal": True,
        "actor": "owner:1",
        "by": SHELL,
        "channel": audit.Channel.SHELL,
    } | kw
    async with bot.sessions() as session:
        return (await promos.create_promotion(session, **values)).id


async def _members(bot: RunningBot) -> dict[int, tuple[int, bool]]:
    """Telegram id → (customer id, holdout) of campaign 1."""
    async with bot.sessions() as session:
        rows = await session.execute(
            select(Customer.telegram_id, Customer.id, CampaignMember.holdout).join(
                CampaignMember, CampaignMember.customer_id == Customer.id
            )
        )
        return {tid: (cid, bool(held)) for tid, cid, held in rows}


async def _codes(bot: RunningBot) -> dict[int, str]:
    """Customer id → their personal code, as shown."""
    async with bot.sessions() as session:
        rows = await session.execute(
            select(PromoCode.customer_id, PromoCode.code).where(PromoCode.customer_id.is_not(None))
        )
        return {cid: promo_rules.format_code(code) for cid, code in rows}


@pytest.mark.parametrize("settings_overrides", [BASE | {"broadcast_holdout_percent": 50}])
async def test_each_recipient_gets_their_own_code_and_its_use_counts(running: RunningBot) -> None:
    bot = running
    chats = await add_customers(bot, *({"phone": f"+7916555{n:04d}"} for n in range(16)))
    await _promotion(bot)
    await _promotion(bot, "Общая", kind=Kind.PERCENT, value=10, personal=False)  # not offered

    menu = await bot.say(OWNER, "/broadcast")
    await bot.press(OWNER, menu, "👥 Все (16)")
    button_q = await bot.say(OWNER, "Скидка 200 ₽ по вашему коду")
    ask = await bot.press(OWNER, button_q, "Без кнопки")
    assert ask.text.startswith("Приложить акцию?")
    assert ask.button_texts() == ["🎟 Лично для вас", "Без акции", "✖️ Отмена"]
    await bot.press(OWNER, ask, "🎟 Лично для вас")  # the preview's title
    preview = await bot.reply(OWNER)
    assert preview.button_texts() == [SHOW, "🔕 Отписаться от рассылки"]
    confirm = await bot.reply(OWNER)
    await bot.press(OWNER, confirm, "🚀 Отправить сейчас")
    await until(lambda: started(bot))

    members = await _members(bot)
    codes = await _codes(bot)
    recipients = [tid for tid, (_, held) in members.items() if not held]
    holdout = [tid for tid, (_, held) in members.items() if held]
    assert recipients and holdout and sorted(members) == sorted(chats)
    # Each recipient has one code, all distinct; the holdout has none.
    assert sorted(codes) == sorted(members[tid][0] for tid in recipients)
    assert len(set(codes.values())) == len(codes)

    for tid in recipients:
        user = FakeUser(id=tid)
        got = await bot.fake.next_message(tid, timeout=15)
        assert got.text == "Скидка 200 ₽ по вашему коду"
        assert got.button_texts() == [SHOW, "🔕 Отписаться от рассылки"]
        bot.fake.press(user, got, SHOW)
        shown = await bot.reply(user)
        found = re.search(r"<code>([A-Z0-9-]+)</code>", shown.text)
        assert found and found.group(1) == codes[members[tid][0]]  # their own code

    # Forged presses reveal nothing: the holdout, a stranger, another campaign's id.
    stranger = bot.new_user()
    forged = [
        bot.fake.press_data(FakeUser(id=holdout[0]), PromoCodeCb(campaign=1).pack()),
        bot.fake.press_data(stranger, PromoCodeCb(campaign=1).pack()),
        bot.fake.press_data(FakeUser(id=recipients[0]), PromoCodeCb(campaign=2).pack()),
    ]
    for update in forged:
        assert (await _pressed(bot, update))["text"] == NO_CODE
    await bot.quiet()
    assert bot.fake.messages_to(holdout[0]) == []
    assert bot.fake.messages_to(stranger.id) == []

    # The recipient's code redeemed at /sale shows in the campaign's results.
    buyer = recipients[0]
    async with bot.sessions() as session:
        phone = await session.scalar(select(Customer.phone).where(Customer.telegram_id == buyer))
    cashier = await _hire_cashier(bot)
    await bot.say(cashier, "/sale")
    await bot.say(cashier, str(phone))
    await bot.reply(cashier)  # the amount question
    await bot.say(cashier, "1000")
    confirm = await bot.say(cashier, "R-1")  # no points: straight to the confirmation
    await bot.press(cashier, confirm, "🎟 Промокод")
    await bot.say(cashier, codes[members[buyer][0]])  # the code applied
    confirm = await bot.reply(cashier)
    done = await bot.press(cashier, confirm, "✅ Провести")
    assert "скидка 200\u00a0₽" in done.text
    async with bot.sessions() as session:
        got = await campaigns.results(session, 1)
    assert got.promo_redemptions == 1
    listing = await bot.say(OWNER, "/campaigns")
    card = await bot.press(OWNER, listing, listing.button_texts()[0])
    assert "Погашено промокодов: 1" in card.text


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_the_code_in_the_text_and_from_the_shell_service(running: RunningBot) -> None:
    """{code} in the text shows each recipient's own code; no button then."""
    bot = running
    chats = await add_customers(bot, {}, {})
    promotion = await _promotion(bot)
    async with bot.sessions() as session:
        created = await campaigns.create(
            session,
            text="Ваш код: {code}",
            segment=SegmentFilter(),
            holdout_percent=0,
            promotion_id=promotion,
            by=SHELL,
            actor="shell",
            channel="shell",
        )
    async with bot.sessions() as session:
        rules = segments.rules_from(bot.settings)
        await campaigns.start(
            session, created.id, rules, by=SHELL, actor="shell", channel="shell", slice_size=1
        )
    codes = await _codes(bot)
    members = await _members(bot)
    for tid in chats:
        got = await bot.fake.next_message(tid, timeout=15)
        assert got.text == f"Ваш код: <code>{codes[members[tid][0]]}</code>"
        assert got.button_texts() == ["🔕 Отписаться от рассылки"]
    # A retried expansion hands out the same codes (one per promotion and customer).
    async with bot.sessions() as session:
        again = await promos.issue_personal_codes(session, promotion, list(codes))
        await session.commit()
    assert again == codes
    # A shared promotion cannot be attached.
    shared = await _promotion(bot, "Общая", kind=Kind.PERCENT, value=10, personal=False)
    async with bot.sessions() as session:
        with pytest.raises(campaigns.CampaignError):
            await campaigns.create(
                session,
                text="x",
                segment=SegmentFilter(),
                promotion_id=shared,
                by=SHELL,
                actor="shell",
                channel="shell",
            )


@pytest.mark.parametrize("settings_overrides", [BASE])
async def test_the_owner_is_answered_before_the_recipients_are_prepared(
    running: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = running
    chats = await add_customers(bot, {}, {})
    gate = asyncio.Event()
    original = campaign_repo.claim_slice

    async def held(*args: Any, **kw: Any) -> Any:
        # The expansion of a big base, still going on (held before its slice takes SQLite's
        # one write lock: a real slice holds it briefly, this one would hold it for the test).
        await gate.wait()
        return await original(*args, **kw)

    monkeypatch.setattr(campaign_repo, "claim_slice", held)
    menu = await bot.say(OWNER, "/broadcast")
    confirm = await compose(bot, await bot.press(OWNER, menu, "👥 Все (2)"))
    progress = await bot.press(OWNER, confirm, "🚀 Отправить сейчас")
    assert "Готовим список получателей" in progress.text
    assert not gate.is_set()  # answered while the expansion waits
    assert all(bot.fake.messages_to(chat) == [] for chat in chats)
    gate.set()
    for chat in chats:
        await bot.fake.next_message(chat, timeout=15)
    await until(lambda: started(bot))
    rules = segments.rules_from(bot.settings)
    assert (await campaigns.tick(bot.sessions, rules)).started == []  # started exactly once
    await bot.quiet()
    assert [len(bot.fake.messages_to(chat)) for chat in chats] == [1, 1]
    async with bot.sessions() as session:
        [campaign] = list(await session.scalars(select(Campaign)))
    assert campaign.targeted == 2 and campaign.state in ("running", "done")


async def _purchase_with_code(bot: RunningBot) -> tuple[Purchase, PromoRedemption, Redemption]:
    async with bot.sessions() as session:
        purchase = (await session.execute(select(Purchase))).scalar_one()
        use = (await session.execute(select(PromoRedemption))).scalar_one()
        asked = (await session.execute(select(Redemption))).scalar_one()
    return purchase, use, asked


async def test_a_confirmed_redemption_at_sale_keeps_the_promo_code(running: RunningBot) -> None:
    bot = running
    cashier = await _hire_cashier(bot)
    anna = bot.new_user()
    await sign_up(bot, anna)
    code = await _personal_code(bot, anna)
    redeem_q = await _sell(bot, cashier, anna, "1000", "R-1")
    confirm = await bot.press(cashier, redeem_q, "Не списывать")
    await bot.press(cashier, confirm, "🎟 Промокод")
    await bot.say(cashier, code)  # applied
    redeem_q = await bot.reply(cashier)
    confirm = await bot.press(cashier, redeem_q, "Списать 100")
    waiting = await bot.press(cashier, confirm, "✅ Провести")
    assert waiting.text.startswith("⏳ Ждём согласия клиента")
    asked = await bot.reply(anna)
    assert asked.text.startswith("🔐 Списать <b>100 баллов</b> за покупку на 800\u00a0₽")
    async with bot.sessions() as session:
        assert await session.scalar(select(Purchase.id)) is None  # nothing before the tap
    answer = await _pressed(bot, bot.fake.press(anna, asked, "✅ Списать"))
    assert answer["text"] == "Баллы списаны 👌"
    purchase, use, request = await _purchase_with_code(bot)
    assert purchase.amount == 800_00 and purchase.redeemed == 100
    assert use.purchase_id == purchase.id and use.discount == 200_00
    assert request.status == "confirmed" and request.promo_code == code
    async with bot.sessions() as session:
        personal = select(PromoCode.uses).where(PromoCode.customer_id.is_not(None))
        assert await session.scalar(personal) == 1


async def test_a_confirmed_redemption_via_pos_keeps_the_promo_code(
    running: RunningBot,
    till: Any,  # noqa: F811
) -> None:
    bot = running
    customer = bot.new_user()
    await sign_up(bot, customer)
    code = await _personal_code(bot, customer)
    async with bot.sessions() as session:
        card = await session.scalar(select(Customer.card_code))
    refused = await till.post(
        "/api/v1/purchases",
        json={
            "card": card,
            "amount": "1000",
            "receipt_id": "P-0",
            "redeem": 100,
            "promo_code": "ZZZZ-ZZZZ",
        },
    )
    assert refused.status >= 400
    body = {"card": card, "amount": "1000", "receipt_id": "P-1", "redeem": 100, "promo_code": code}
    waiting = await till.post("/api/v1/purchases", json=body)
    assert waiting.status == 202
    asked = await bot.reply(customer)
    assert asked.text.startswith("🔐 Списать <b>100 баллов</b> за покупку на 800\u00a0₽")
    await _pressed(bot, bot.fake.press(customer, asked, "✅ Списать"))
    again = await till.post("/api/v1/purchases", json=body)
    answer = await again.json()
    assert again.status == 200 and answer["redeemed"] == 100
    assert answer["promo"]["code"] == code
    purchase, use, request = await _purchase_with_code(bot)
    assert purchase.amount == 800_00 and purchase.redeemed == 100
    assert use.purchase_id == purchase.id and use.discount == 200_00
    assert request.status == "confirmed"
