"""WhatsApp: the same customer journey through the Cloud API fake, on the same core."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from bot.app import start_whatsapp
from bot.domain import promos as promo_rules
from bot.domain.promos import Kind
from bot.domain.segments import SegmentFilter
from bot.sandbox.fake_whatsapp import (
    APP_SECRET,
    PHONE_ID,
    SHOP_NUMBER,
    VERIFY_TOKEN,
    FakeWhatsApp,
)
from bot.services import audit, campaigns, ledger, promos, receipts, segments, sources
from bot.services.permissions import SHELL
from bot.services.signup import invite_payload
from db.models import Consent, Customer, FunnelEvent, Identity, PromoCode
from tests.e2e.conftest import RunningBot
from tests.e2e.test_signup import sign_up

WA_ID = "79161112233"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def fake_wa() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp() as fake:
        yield fake


@pytest.fixture
def settings_overrides(fake_wa: FakeWhatsApp) -> dict[str, object]:
    port = _free_port()
    fake_wa.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
    return {
        "whatsapp_phone_id": PHONE_ID,
        "whatsapp_token": "test-token",
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_number": SHOP_NUMBER,
        "whatsapp_api_url": fake_wa.url,
        "whatsapp_webhook_port": port,
        # Advertising would wait for the morning between 21:00 and 09:00 Moscow time: the
        # campaign's message must arrive whenever the suite runs.
        "quiet_hours": "",
    }


@pytest.fixture
async def wa(running: RunningBot, fake_wa: FakeWhatsApp) -> AsyncIterator[FakeWhatsApp]:
    assert running.app is not None
    runner = await start_whatsapp(running.app)
    assert runner is not None
    yield fake_wa
    await runner.cleanup()


async def _sign_up_on_whatsapp(bot: RunningBot, wa: FakeWhatsApp, wa_id: str, first: str) -> None:
    consent = await wa.write(wa_id, first)
    name_q = await wa.pick(wa_id, consent, "✅ Согласен(на)")
    assert "Как вас зовут?" in name_q.text
    birthday_q = await wa.write(wa_id, "Анна")
    gender_q = await wa.pick(wa_id, birthday_q, "Пропустить")
    city_q = await wa.pick(wa_id, gender_q, "Пропустить")
    interests_q = await wa.pick(wa_id, city_q, "Пропустить")
    ads_q = await wa.pick(wa_id, interests_q, "Готово ✔️")
    welcome = await wa.pick(wa_id, ads_q, "Нет, спасибо")
    assert "*100 баллов*" in welcome.text


async def test_full_signup_from_a_wa_me_qr_then_balance_and_card(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot = running
    async with bot.sessions() as session:
        link = await sources.source_for(session, bot.settings.link_key, "Тверская", by=SHELL)
    url = sources.whatsapp_link(SHOP_NUMBER, "Хочу в программу", link.payload)
    assert url.startswith(f"https://wa.me/{SHOP_NUMBER}?text=")
    typed = f"Хочу в программу {link.payload}"

    consent = await wa.write(WA_ID, typed)
    assert consent.type == "interactive" and "152-ФЗ" in consent.text
    assert "https://example.com/privacy" in consent.text
    assert list(consent.options()) == ["✅ Согласен(на)", "Отказаться"]
    name_q = await wa.pick(WA_ID, consent, "✅ Согласен(на)")
    assert "✓ +7 *** ***-22-33" in name_q.text  # the phone step is skipped: WhatsApp's own
    birthday_q = await wa.write(WA_ID, "  Анна  Петрова ")
    assert "Пропустить" in birthday_q.options()
    gender_q = await wa.write(WA_ID, "25.03.1990")
    city_q = await wa.pick(WA_ID, gender_q, "Женский")
    interests_q = await wa.pick(WA_ID, city_q, "Тверь")
    interests_q = await wa.pick(WA_ID, interests_q, "Кофе")
    assert "✓ Кофе" in interests_q.options()
    ads_q = await wa.pick(WA_ID, interests_q, "Готово ✔️")
    welcome = await wa.pick(WA_ID, ads_q, "Да, присылайте")
    assert "Анна Петрова" in welcome.text and "*150 баллов*" in welcome.text
    assert "Меню" in welcome.body["interactive"]["action"]["button"]

    async with bot.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()
        assert customer.telegram_id is None and customer.phone == "+79161112233"
        assert (customer.status, customer.city, customer.gender) == ("active", "Тверь", "female")
        assert customer.source_id == link.id and customer.ads_opt_in
        identity = (await session.scalars(select(Identity))).one()
        assert (identity.channel, identity.account_id) == ("whatsapp", WA_ID)
        kinds = await session.scalars(select(Consent.kind).where(Consent.granted.is_(True)))
        assert sorted(kinds) == ["advertising", "personal_data"]
        funnel = await session.execute(select(FunnelEvent.kind, FunnelEvent.channel))
        assert set(funnel) >= {("opened", "whatsapp"), ("completed", "whatsapp")}

    balance = await wa.write(WA_ID, "баланс")
    assert "150 баллов" in balance.text
    menu = await wa.write(WA_ID, "меню")
    card = await wa.pick(WA_ID, menu, "💳 Моя карта")
    assert card.type == "image" and card.body["image"]["id"] == "media-1"
    assert wa.media[0].startswith(b"\x89PNG") and customer.card_code in card.text
    invite = await wa.write(WA_ID, "пригласить")
    assert f"https://wa.me/{SHOP_NUMBER}?text=" in invite.text
    assert invite_payload(bot.settings.link_key, customer.id) in invite.text


async def test_forged_webhooks_are_refused_and_nothing_is_processed(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    update = wa.update(WA_ID, {"type": "text", "text": {"body": "привет"}})
    assert await wa.post(update, secret=None) == 401
    assert await wa.post(update, secret="not-the-app-secret") == 403
    # A good signature: processed (the consent comes), so the refusals above were not.
    assert await wa.post(wa.update(WA_ID, {"type": "text", "text": {"body": "привет"}})) == 200
    consent = await wa.next_message(WA_ID)
    assert "152-ФЗ" in consent.text
    assert wa.sent[WA_ID].empty()
    async with running.sessions() as session:
        opened = await session.scalars(select(FunnelEvent.kind))
        assert list(opened) == ["opened"]


async def test_webhook_verification(running: RunningBot, wa: FakeWhatsApp) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
        async with http.get(wa.webhook_url, params=good) as response:
            assert (response.status, await response.text()) == (200, "42")
        bad = {**good, "hub.verify_token": "wrong"}
        async with http.get(wa.webhook_url, params=bad) as response:
            assert response.status == 403


async def _sale(bot: RunningBot, amount: int) -> None:
    async with bot.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()
        await ledger.add_purchase(
            session, bot.settings.program, customer.id, amount, store="A", channel="pos", actor="t"
        )
        await session.commit()


async def test_sale_notice_free_text_inside_the_window_template_outside(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    await _sign_up_on_whatsapp(running, wa, WA_ID, "Привет")
    await _sale(running, 100_00)
    notice = await wa.next_message(WA_ID)
    assert notice.type == "text" and "Покупка" in notice.text

    async with running.sessions() as session:
        await session.execute(
            update(Identity).values(last_message_at=datetime.now(UTC) - timedelta(hours=25))
        )
        await session.commit()
    await _sale(running, 200_00)
    template = await wa.next_message(WA_ID)
    assert template.template == running.settings.whatsapp_utility_template
    assert "Покупка" in template.text and "\n" not in template.text
    assert [m.type for m in wa.all_sent if m.to == WA_ID][-2:] == ["text", "template"]


async def test_reengagement_error_falls_back_to_the_template_and_gone_number_is_unreachable(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    await _sign_up_on_whatsapp(running, wa, WA_ID, "Привет")
    wa.errors[WA_ID] = [131047]
    await _sale(running, 100_00)
    template = await wa.next_message(WA_ID)
    assert template.template == running.settings.whatsapp_utility_template
    wa.errors[WA_ID] = [131026, 131026]
    await _sale(running, 100_00)
    async with running.sessions() as session:
        for _ in range(100):
            customer = (await session.scalars(select(Customer))).one()
            if customer.unreachable_at is not None:
                break
            await session.rollback()
            await asyncio.sleep(0.1)
        assert customer.unreachable_at is not None


async def test_stop_advertising_on_whatsapp(running: RunningBot, wa: FakeWhatsApp) -> None:
    consent = await wa.write(WA_ID, "Привет")
    name_q = await wa.pick(WA_ID, consent, "✅ Согласен(на)")
    birthday_q = await wa.write(WA_ID, "Анна")
    gender_q = await wa.pick(WA_ID, birthday_q, "Пропустить")
    city_q = await wa.pick(WA_ID, gender_q, "Пропустить")
    interests_q = await wa.pick(WA_ID, city_q, "Пропустить")
    ads_q = await wa.pick(WA_ID, interests_q, "Готово ✔️")
    await wa.pick(WA_ID, ads_q, "Да, присылайте")
    assert name_q is not None
    stopped = await wa.write(WA_ID, "стоп")
    assert "больше не будем" in stopped.text.lower() or "рассыл" in stopped.text.lower()
    async with running.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()
        assert customer.ads_opt_in is False
        withdrawn = await session.scalars(select(Consent.kind).where(Consent.granted.is_(False)))
        assert list(withdrawn) == ["advertising"]


async def test_a_person_on_both_messengers_is_one_customer_after_confirming(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)  # Telegram, phone +7916<user id>
    wa_id = f"7916{user.id:07d}"
    offer = await wa.write(wa_id, "Привет")
    assert "/link" in offer.text
    code = offer.text.split("/link ")[1][:6]
    async with bot.sessions() as session:  # nothing merged, nobody new
        assert len(list(await session.scalars(select(Customer)))) == 1
        assert len(list(await session.scalars(select(Identity)))) == 1

    wrong = await bot.say(user, "/link 000000" if code != "000000" else "/link 111111")
    assert "не подошёл" in wrong.text
    done = await bot.say(user, f"/link {code}")
    assert "WhatsApp подключён" in done.text
    told = await wa.next_message(wa_id)  # and WhatsApp hears of it (its window is open)
    assert told.text.startswith("Готово: WhatsApp подключён")
    again = await bot.say(user, f"/link {code}")
    assert "не подошёл" in again.text  # one-time

    balance = await wa.write(wa_id, "баланс")
    assert "100 баллов" in balance.text
    async with bot.sessions() as session:
        assert len(list(await session.scalars(select(Customer)))) == 1
        channels = sorted(await session.scalars(select(Identity.channel)))
        assert channels == ["telegram", "whatsapp"]

    # Notices go where a free message is possible: WhatsApp while its window is open, else
    # Telegram (never a paid template when the customer can be reached for free).
    await _sale(bot, 100_00)
    on_whatsapp = await wa.next_message(wa_id)
    assert on_whatsapp.type == "text" and "Покупка" in on_whatsapp.text
    async with bot.sessions() as session:
        await session.execute(
            update(Identity)
            .where(Identity.channel == "whatsapp")
            .values(last_message_at=datetime.now(UTC) - timedelta(hours=25))
        )
        await session.commit()
    await _sale(bot, 100_00)
    on_telegram = await bot.reply(user)
    assert "Покупка" in on_telegram.text


async def test_a_receipt_qr_on_whatsapp_credits_the_purchase_once(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    await _sign_up_on_whatsapp(running, wa, WA_ID, "Привет")
    async with running.sessions() as session:
        issued = await receipts.issue(
            session,
            running.settings.link_key,
            store="A",
            amount=1000_00,
            receipt_id="R-1",
            issued_by="test",
            window=running.settings.receipt_window,
        )
    url = sources.whatsapp_link(SHOP_NUMBER, "Мой чек:", issued.payload)
    assert issued.payload in unquote(url)
    notice = await wa.write(WA_ID, f"Мой чек: {issued.payload}")
    assert "Покупка" in notice.text and "50 баллов" in notice.text
    again = await wa.write(WA_ID, f"Мой чек: {issued.payload}")
    assert "уже" in again.text.lower()
    async with running.sessions() as session:
        customer = (await session.scalars(select(Customer))).one()
        assert await ledger.points_of(session, customer.id) == 100 + 50


async def test_the_whatsapp_sandbox_signs_up_from_the_demo_qr(tmp_path, monkeypatch) -> None:
    from bot.sandbox.whatsapp import run_whatsapp_sandbox
    from bot.settings import Settings

    monkeypatch.chdir(tmp_path)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, sandbox_database_url=f"sqlite+aiosqlite:///{tmp_path / 'wa.db'}"
    )
    script = ["/qr", "1", "Анна", "1", "3", "1", "4", "2", "баланс", "/quit"]

    async def lines():
        for line in script:
            yield line

    out: list[str] = []
    await asyncio.wait_for(run_whatsapp_sandbox(settings, lines=lines(), write=out.append), 90)
    transcript = "\n".join(out)
    assert "152-ФЗ" in transcript and "Как вас зовут?" in transcript
    assert "100 баллов" in transcript
    assert transcript.rstrip().endswith("WhatsApp sandbox stopped.")


async def test_a_campaign_with_personal_codes_reaches_a_whatsapp_member(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    """A WhatsApp-only member with advertising consent is a recipient; with no reveal button
    on WhatsApp, their own code is written into the message."""
    consent = await wa.write(WA_ID, "Привет")
    await wa.pick(WA_ID, consent, "✅ Согласен(на)")
    birthday_q = await wa.write(WA_ID, "Анна")
    gender_q = await wa.pick(WA_ID, birthday_q, "Пропустить")
    city_q = await wa.pick(WA_ID, gender_q, "Пропустить")
    interests_q = await wa.pick(WA_ID, city_q, "Пропустить")
    ads_q = await wa.pick(WA_ID, interests_q, "Готово ✔️")
    await wa.pick(WA_ID, ads_q, "Да, присылайте")
    async with running.sessions() as session:
        promotion = await promos.create_promotion(
            session,
            name="Лично для вас",
            kind=Kind.FIXED,
            value=200_00,
            expires_at=datetime.now(UTC) + timedelta(days=10),
            personal=True,
            by=SHELL,
            actor="owner:1",
            channel=audit.Channel.SHELL,
        )
    rules = segments.rules_from(running.settings)
    async with running.sessions() as session:
        assert (await segments.size(session, SegmentFilter(), rules)).recipients == 1
        created = await campaigns.create(
            session,
            text="Скидка по коду",
            segment=SegmentFilter(),
            holdout_percent=0,
            promotion_id=promotion.id,
            button_url="https://example.com/autumn",
            by=SHELL,
            actor="shell",
            channel="shell",
        )
    async with running.sessions() as session:
        await campaigns.start(session, created.id, rules, by=SHELL, actor="shell", channel="shell")
    got = await wa.next_message(WA_ID)
    async with running.sessions() as session:
        code = (await session.scalars(select(PromoCode.code))).one()
    assert got.text.startswith("Скидка по коду")
    assert promo_rules.format_code(code) in got.text
    assert "https://example.com/autumn" in got.text


async def test_the_phone_is_no_edit_on_whatsapp_and_no_one_elses_in_telegram(
    running: RunningBot, wa: FakeWhatsApp
) -> None:
    bot, user = running, running.new_user()
    await _sign_up_on_whatsapp(bot, wa, WA_ID, "Анна")
    profile = await wa.write(WA_ID, "профиль")
    assert "Телефон — это ваш аккаунт WhatsApp, здесь его не изменить." in profile.text
    await sign_up(bot, user)
    telegram_profile = await bot.say(user, "/profile")
    await bot.press(user, telegram_profile, "✏️ Телефон")
    refused = await bot.say(user, f"+{WA_ID}")  # the WhatsApp member's number
    assert refused.text.startswith("Этот номер уже указан у другого участника")
    async with bot.sessions() as session:
        phones = (await session.scalars(select(Customer.phone).order_by(Customer.id))).all()
    assert phones == [f"+{WA_ID}", f"+7916{user.id:07d}"]
