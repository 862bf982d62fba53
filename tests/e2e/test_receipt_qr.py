"""Points by scanning the receipt: a purchase QR from the till, claimed once by one customer."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from bot.sandbox.fake_telegram import FakeUser
from bot.services import receipts
from db.base import utcnow
from db.models import FunnelEvent, Purchase
from tests.e2e.conftest import OWNER_ID, RunningBot
from tests.e2e.test_signup import sign_up
from tests.qr_reading import decode_png

OWNER = FakeUser(id=OWNER_ID, first_name="Ольга")


async def _issue_on_screen(bot: RunningBot, args: str) -> str:
    shown = await bot.say(OWNER, f"/receipt {args}")
    assert shown.method == "sendPhoto"
    link = decode_png(shown.file_bytes)
    assert link in shown.text and link.startswith("https://t.me/clientbase_test_bot?start=p")
    return link.split("start=")[1]


async def test_a_member_scans_once_and_nobody_scans_twice(running: RunningBot) -> None:
    bot = running
    anna, boris = bot.new_user(), bot.new_user(first_name="Борис")
    await sign_up(bot, anna)
    await sign_up(bot, boris)
    payload = await _issue_on_screen(bot, "1250 R-42")
    notice = await bot.start_bot(anna, payload)
    assert notice.text == (
        "🧾 Покупка на 1\u00a0250\u00a0₽: начислено 62 балла. Баланс: <b>162 балла</b>."
    )
    again = await bot.start_bot(anna, payload)
    assert again.text == "Этот чек уже зачислен — повторно баллы не начисляются."
    stolen = await bot.start_bot(boris, payload)
    assert stolen.text == again.text
    assert await _issue_on_screen(bot, "1250 R-42") == payload  # the same receipt, the same QR

    table = await bot.say(OWNER, "/sources")
    table = await bot.reply(OWNER)
    assert "Покупок по QR с чека: 1 из 1 (100%)" in table.text
    async with bot.sessions() as session:
        purchase = await session.scalar(select(Purchase))
    assert purchase is not None and (purchase.channel, purchase.receipt_id) == (
        "receipt_qr",
        "R-42",
    )


async def test_expired_forged_and_refunded_receipts_are_refused(running: RunningBot) -> None:
    bot = running
    anna = bot.new_user()
    await sign_up(bot, anna)
    async with bot.sessions() as session:
        old = await receipts.issue(
            session,
            bot.settings.link_key,
            store="",
            amount=50_000,
            receipt_id="OLD",
            issued_by="test",
            window=bot.settings.receipt_window,
            now=utcnow() - timedelta(hours=25),
        )
        returned = await receipts.issue(
            session,
            bot.settings.link_key,
            store="",
            amount=50_000,
            receipt_id="RET",
            issued_by="test",
            window=bot.settings.receipt_window,
        )
        assert await receipts.void(session, "", "RET")
    expired = await bot.start_bot(anna, old.payload)
    assert expired.text == "Срок действия QR-кода с чека истёк. Обратитесь к кассиру."
    refunded = await bot.start_bot(anna, returned.payload)
    assert refunded.text == "По этому чеку оформлен возврат — баллы не начисляются."
    forged = await bot.start_bot(anna, old.payload[:-2] + "zz")
    assert forged.text == "QR-код чека не распознан. Обратитесь к кассиру."
    tampered = await bot.start_bot(anna, f"p{old.token_id + 100}_{old.payload.split('_', 1)[1]}")
    assert tampered.text == forged.text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0


async def test_a_newcomer_signs_up_and_gets_the_purchase_once(running: RunningBot) -> None:
    bot = running
    payload = await _issue_on_screen(bot, "2000")
    newcomer = bot.new_user(first_name="Вера")
    held = await bot.start_bot(newcomer, payload)
    assert held.text == "Баллы за покупку начислим сразу после регистрации."
    consent = await bot.reply(newcomer)
    name_q = await bot.press(newcomer, consent, "✅ Согласен(на)")
    await bot.press(newcomer, name_q, "Вера")
    bot.fake.share_contact(newcomer, "+79165554433")
    await bot.reply(newcomer)
    birthday_q = await bot.reply(newcomer)
    gender_q = await bot.press(newcomer, birthday_q, "Пропустить")
    city_q = await bot.press(newcomer, gender_q, "Пропустить")
    interests_q = await bot.press(newcomer, city_q, "Пропустить")
    ads_q = await bot.press(newcomer, interests_q, "Готово ✔️")
    welcome = await bot.press(newcomer, ads_q, "Нет, спасибо")
    assert "Готово, Вера" in welcome.text
    notice = await bot.reply(newcomer)
    assert notice.text == (
        "🧾 Покупка на 2\u00a0000\u00a0₽: начислено 100 баллов. Баланс: <b>200 баллов</b>."
    )
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1
        firsts = await session.scalar(
            select(func.count()).where(FunnelEvent.kind == "first_purchase")
        )
    assert firsts == 1
    assert (await bot.start_bot(newcomer, payload)).text.startswith("Этот чек уже зачислен")


def test_the_shell_prints_a_receipt_width_qr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "BOT_USERNAME": "zerno_coffee_bot",
        "LINK_SECRET": "shell-test-secret-0123456789",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "receipt",
            "--store",
            "Тверская, 1",
            "--amount",
            "1250",
            "--receipt",
            "R-42",
            "--paper",
            "80",
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    link = result.stdout.splitlines()[0]
    assert link.startswith("https://t.me/zerno_coffee_bot?start=p1_")
    png = tmp_path / "receipt-1_80mm.png"
    assert decode_png(png.read_bytes()) == link
    assert Image.open(png).width == 576
