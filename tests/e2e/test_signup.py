"""The signup journey as a customer at the till lives it, through the real bot over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser
from bot.services.permissions import SHELL
from bot.services.sources import create_source
from db.models import (
    Consent,
    ConsentText,
    Customer,
    FsmRecord,
    FunnelEvent,
    LedgerEntry,
    OwnerAlert,
)
from tests.e2e.conftest import OWNER_ID, RunningBot


async def _source_payload(bot: RunningBot, employee: str = "Мария") -> tuple[int, str]:
    async with bot.sessions() as session:
        link = await create_source(
            session, bot.settings.link_key, "Тверская, 1", "Касса", employee, by=SHELL
        )
    return link.id, link.payload


async def sign_up(bot: RunningBot, user: FakeUser, payload: str | None = None) -> None:
    """The shortest complete signup: consent, name, phone, skips, no advertising."""
    consent = await bot.start_bot(user, payload)
    name_q = await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, user.first_name)
    bot.fake.share_contact(user, f"+7916{user.id:07d}")
    await bot.reply(user)  # the phone confirmation
    birthday_q = await bot.reply(user)
    gender_q = await bot.press(user, birthday_q, "Пропустить")
    city_q = await bot.press(user, gender_q, "Пропустить")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    welcome = await bot.press(user, ads_q, "Нет, спасибо")
    assert "Шаг 1 из 6" in name_q.text
    assert "<b>100 баллов</b>" in welcome.text


async def test_full_signup_from_a_signed_qr_payload(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    source_id, payload = await _source_payload(bot)
    started = datetime.now(UTC)

    consent = await bot.start_bot(user, payload)
    assert "152-ФЗ" in consent.text and "ИП Иванова А. А." in consent.text
    assert "https://example.com/privacy" in consent.text
    assert consent.button_texts() == ["✅ Согласен(на)", "Отказаться"]

    name_q = await bot.press(user, consent, "✅ Согласен(на)")
    assert "Шаг 1 из 6" in name_q.text and "Как вас зовут?" in name_q.text
    phone_q = await bot.say(user, "  Анна   Петрова ")
    assert "Шаг 2 из 6" in phone_q.text
    assert phone_q.reply_markup["keyboard"][0][0]["request_contact"] is True

    bad = await bot.say(user, "12345")
    assert "Не получилось распознать номер" in bad.text and "+7 916 123-45-67" in bad.text
    bot.fake.share_contact(user, "79161234567")
    confirmation = await bot.reply(user)
    assert confirmation.text == "✓ +7 *** ***-45-67"
    birthday_q = await bot.reply(user)
    assert "Шаг 3 из 6" in birthday_q.text

    bot.fake.send_sticker(user)
    again = await bot.reply(user)
    assert "Здесь нужен ответ текстом" in again.text and "Шаг 3 из 6" in again.text
    gender_q = await bot.say(user, "5.3.1990")
    assert gender_q.button_texts() == ["Женский", "Мужской", "⬅️ Назад", "Пропустить"]
    city_q = await bot.press(user, gender_q, "Женский")
    assert "Тверь" in city_q.button_texts()
    interests_q = await bot.press(user, city_q, "Тверь")
    edited = await bot.press(user, interests_q, "Кофе")
    assert edited.edited and "✅ Кофе" in edited.button_texts()
    edited = await bot.press(user, edited, "Зёрна")
    ads_q = await bot.press(user, edited, "Готово ✔️")
    assert "38-ФЗ" in ads_q.text
    welcome = await bot.press(user, ads_q, "Да, присылайте")
    # Every optional question answered: the welcome bonus and the complete-profile bonus.
    assert "Анна Петрова" in welcome.text and "<b>150 баллов</b>" in welcome.text
    assert "💰 Баланс" in welcome.button_texts()

    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.telegram_id == user.id))
        assert customer is not None
        assert (customer.status, customer.name, customer.phone) == (
            "active",
            "Анна Петрова",
            "+79161234567",
        )
        assert customer.birthday == date(1990, 3, 5)
        assert (customer.gender, customer.city) == ("female", "Тверь")
        assert customer.interests == ["Кофе", "Зёрна"]
        assert customer.ads_opt_in is True and customer.source_id == source_id
        consents = (await session.scalars(select(Consent).order_by(Consent.id))).all()
        assert [(c.kind, c.granted) for c in consents] == [
            ("personal_data", True),
            ("advertising", True),
        ]
        for record in consents:
            assert record.text_version.startswith(("pd-ru-", "ads-ru-"))
            assert started - timedelta(seconds=5) <= record.created_at.astimezone(UTC)
            stored = await session.get(ConsentText, record.text_version)
            assert stored is not None and stored.kind == record.kind
        assert "152-ФЗ" in (await session.get(ConsentText, consents[0].text_version)).text
        entries = (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all()
        assert [(e.customer_id, e.points, e.reason, e.remaining) for e in entries] == [
            (customer.id, 100, "welcome", 100),
            (customer.id, 50, "profile", 50),
        ]
        assert customer.card_code is not None and len(customer.card_code) == 8
        kinds = (await session.scalars(select(FunnelEvent.kind).order_by(FunnelEvent.id))).all()
        assert kinds == ["opened", "consent_given", "completed"]
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_declining_consent_stores_nothing_personal(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    source_id, payload = await _source_payload(bot)
    consent = await bot.start_bot(user, payload)
    declined = await bot.press(user, consent, "Отказаться")
    assert "ничего о вас не сохранили" in declined.text
    assert declined.button_texts() == ["Я передумал(а)"]

    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0
        assert await session.scalar(select(func.count()).select_from(Consent)) == 0
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0 or (
            bot.settings.redis_url is not None
        )
        events = (await session.execute(select(FunnelEvent.kind, FunnelEvent.source_id))).all()
        assert sorted(events) == [("consent_declined", source_id), ("opened", source_id)]

    # Coming back later keeps the source the QR code named.
    consent_again = await bot.press(user, declined, "Я передумал(а)")
    await bot.press(user, consent_again, "✅ Согласен(на)")
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer))
        assert customer is not None and customer.source_id == source_id
        kinds = (await session.scalars(select(FunnelEvent.kind).order_by(FunnelEvent.id))).all()
    assert kinds == ["opened", "consent_declined", "consent_given"]  # one open, not two


async def test_forged_payload_signs_up_with_unknown_source(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    _, payload = await _source_payload(bot)
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    await sign_up(bot, user, forged)
    other = running.new_user(first_name="Борис")
    await sign_up(bot, other, "s1_garbage!!")
    async with bot.sessions() as session:
        sources = (await session.scalars(select(Customer.source_id))).all()
        assert sources == [None, None]


async def test_plain_start_works_and_returning_customer_sees_balance(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    await sign_up(bot, user)
    greeting = await bot.start_bot(user)
    assert "С возвращением" in greeting.text and "<b>100 баллов</b>" in greeting.text
    assert "Как вас зовут" not in greeting.text
    balance = await bot.say(user, "💰 Баланс")
    assert "<b>100 баллов</b>" in balance.text


async def test_restart_mid_form_continues_at_the_same_step(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, "Анна")
    await bot.say(user, "+7 916 765-43-21")
    birthday_q = await bot.reply(user)
    assert "Шаг 3 из 6" in birthday_q.text

    await bot.restart()

    gender_q = await bot.say(user, "01.02.1985")
    assert "Шаг 4 из 6" in gender_q.text
    city_q = await bot.press(user, gender_q, "Мужской")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    await bot.press(user, ads_q, "Нет, спасибо")
    async with bot.sessions() as session:
        customer = await session.scalar(select(Customer))
        assert customer is not None
        assert (customer.name, customer.phone, customer.birthday) == (
            "Анна",
            "+79167654321",
            date(1985, 2, 1),
        )
        ads = await session.scalar(select(Consent).where(Consent.kind == "advertising"))
        assert ads is not None and ads.granted is False and customer.ads_opt_in is False


async def test_double_tapped_buttons_act_once(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    consent = await bot.start_bot(user)
    bot.fake.press(user, consent, "✅ Согласен(на)")
    bot.fake.press(user, consent, "✅ Согласен(на)")
    name_q = await bot.reply(user)
    assert "Как вас зовут" in name_q.text
    await bot.quiet()
    questions = [m for m in bot.fake.messages_to(user.id) if "Как вас зовут" in (m.text or "")]
    assert len(questions) == 1
    assert [a.get("text") for a in bot.fake.answered_callbacks][-1] == "Уже сделано 👌"

    await bot.say(user, "Анна")
    bot.fake.share_contact(user, "+79160000001")
    await bot.reply(user)
    birthday_q = await bot.reply(user)
    gender_q = await bot.press(user, birthday_q, "Пропустить")
    bot.fake.press(user, gender_q, "Пропустить")  # tapped twice: the city must not be skipped
    city_q = await bot.press(user, gender_q, "Пропустить")
    assert "В каком городе" in city_q.text
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    bot.fake.press(user, ads_q, "Да, присылайте")
    bot.fake.press(user, ads_q, "Да, присылайте")
    welcome = await bot.reply(user)
    assert "Готово, Анна" in welcome.text
    await bot.quiet()
    welcomes = [m for m in bot.fake.messages_to(user.id) if "Готово, Анна" in (m.text or "")]
    assert len(welcomes) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
        assert await session.scalar(select(func.count()).select_from(Consent)) == 2
        customer = await session.scalar(select(Customer))
        assert customer is not None and customer.ads_opt_in is True


async def test_phone_of_another_account_is_not_merged(running: RunningBot) -> None:
    bot = running
    bot.fake.register_user(FakeUser(id=OWNER_ID, first_name="Owner"))
    first, second = bot.new_user(), bot.new_user(first_name="Пётр")
    await sign_up(bot, first)
    consent = await bot.start_bot(second)
    await bot.press(user=second, message=consent, button="✅ Согласен(на)")
    await bot.say(second, "Пётр")
    taken = await bot.say(second, f"+7916{first.id:07d}")
    assert "уже привязан к другому аккаунту" in taken.text and "Шаг 2 из 6" in taken.text
    alert = await bot.fake.next_message(OWNER_ID)
    assert "не объединяем" in alert.text
    await bot.say(second, f"+7916{first.id:07d}")  # the same attempt again: one alert only
    await bot.quiet()
    assert len(bot.fake.messages_to(OWNER_ID)) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerAlert)) == 1
        phones = (await session.scalars(select(Customer.phone).order_by(Customer.id))).all()
        assert phones == [f"+7916{first.id:07d}", None]


async def test_someone_elses_contact_is_refused(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, "Анна")
    bot.fake.share_contact(user, "+79165550000", contact_user_id=424242)
    refused = await bot.reply(user)
    assert "Это чужой контакт" in refused.text and "Шаг 2 из 6" in refused.text


async def test_typed_text_is_escaped_when_echoed(running: RunningBot) -> None:
    bot, user = running, running.new_user()
    consent = await bot.start_bot(user)
    await bot.press(user, consent, "✅ Согласен(на)")
    await bot.say(user, "<b>Ann</b> & Co")
    bot.fake.share_contact(user, "+79160000002")
    await bot.reply(user)
    birthday_q = await bot.reply(user)
    gender_q = await bot.press(user, birthday_q, "Пропустить")
    city_q = await bot.press(user, gender_q, "Пропустить")
    interests_q = await bot.press(user, city_q, "Пропустить")
    ads_q = await bot.press(user, interests_q, "Готово ✔️")
    welcome = await bot.press(user, ads_q, "Нет, спасибо")
    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; Co" in welcome.text


async def test_english_speaker_gets_english(running: RunningBot) -> None:
    bot, user = running, running.new_user(language="en", first_name="Kate")
    consent = await bot.start_bot(user)
    assert "personal data" in consent.text
    name_q = await bot.press(user, consent, "✅ I agree")
    assert "Step 1 of 6" in name_q.text and name_q.button_texts() == ["Kate"]
    phone_q = await bot.press(user, name_q, "Kate")
    assert "Step 2 of 6" in phone_q.text
