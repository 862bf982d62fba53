"""`clientbase segments|broadcast|campaigns` run as a shop owner would: the shell only queues."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, insert, select

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import AuditEntry, Campaign, CampaignMember, Customer, Delivery


def _clientbase(
    tmp_path: Path, *args: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "BOT_USERNAME": "zerno_coffee_bot",
        "LINK_SECRET": "shell-test-secret-0123456789",
        "TIMEZONE": "Europe/Moscow",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _database(tmp_path: Path, work):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        try:
            await upgrade(engine)
            async with create_session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _with_customers(tmp_path: Path) -> None:
    async def add(session):  # type: ignore[no-untyped-def]
        await session.execute(
            insert(Customer),
            [
                {
                    "id": n,
                    "telegram_id": 700_000 + n,
                    "status": "active",
                    "gender": "female" if n <= 30 else "male",
                    "interests": [],
                    "ads_opt_in": n % 10 != 0,  # every tenth declined advertising
                }
                for n in range(1, 51)
            ],
        )

    _database(tmp_path, add)


def _count(tmp_path: Path, model, *where):  # type: ignore[no-untyped-def]
    async def count(session):  # type: ignore[no-untyped-def]
        return await session.scalar(select(func.count()).select_from(model).where(*where))

    return _database(tmp_path, count)


def test_segments_are_saved_and_listed_with_their_sizes(tmp_path: Path) -> None:
    _with_customers(tmp_path)
    saved = _clientbase(tmp_path, "segments", "save", "Женщины", "--gender", "female")
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.strip() == (
        "Сегмент 'Женщины' сохранён: 30 в сегменте, получателей рассылки 27"
    )
    again = _clientbase(tmp_path, "segments", "save", "Женщины", "--gender", "male")
    assert again.returncode == 2 and "занято" in again.stderr
    wrong = _clientbase(
        tmp_path, "segments", "save", "Старшие", "--age-min", "60", "--age-max", "20"
    )
    assert wrong.returncode == 2 and "age" in wrong.stderr
    listing = _clientbase(tmp_path, "segments")
    assert listing.stdout.splitlines() == [
        'Женщины\tв сегменте 30\tполучателей 27\t{"gender": "female"}'
    ]
    deleted = _clientbase(tmp_path, "segments", "delete", "Женщины")
    assert deleted.returncode == 0
    assert _clientbase(tmp_path, "segments").stdout.strip() == "Сохранённых сегментов нет"


def test_broadcast_asks_first_queues_and_is_followed_and_controlled(tmp_path: Path) -> None:
    _with_customers(tmp_path)
    _clientbase(tmp_path, "segments", "save", "Женщины", "--gender", "female")
    text = "<b>Скидка 20%</b> на зёрна"

    declined = _clientbase(
        tmp_path, "broadcast", "--segment", "Женщины", "--text", text, answer="n\n"
    )
    assert declined.returncode == 1
    assert declined.stdout.startswith(
        "Получателей: 27 (в сегменте 30; контрольная группа ≈10 % не получит)\nОтправить? [y/N] "
    )
    assert _count(tmp_path, Campaign) == 0

    sent = _clientbase(
        tmp_path,
        *("broadcast", "--segment", "Женщины", "--text", text),
        *("--holdout", "20", "--button-url", "https://example.com/sale"),
        answer="y\n",
    )
    assert sent.returncode == 0, sent.stderr
    held = _count(tmp_path, CampaignMember, CampaignMember.holdout.is_(True))
    queued = _count(tmp_path, Delivery, Delivery.campaign_id == 1)
    assert queued + held == 27
    assert f"Кампания №1: в очереди {queued}, в контрольной группе {held}." in sent.stdout

    listing = _clientbase(tmp_path, "campaigns")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == "№1 [running] Скидка 20% на зёрна"
    assert lines[1].startswith("  сегмент: Женщины; создана ")
    assert lines[2].startswith(
        f"  отправлено 0, ошибок 0, заблокировали 0, пропущено 0, осталось {queued}"
    )
    assert lines[3].startswith(f"  за 14 дн.: получатели {queued} чел., купили 0")

    assert _clientbase(tmp_path, "campaigns", "--pause", "1").stdout.strip() == (
        "Кампания №1: paused"
    )
    again = _clientbase(tmp_path, "campaigns", "--pause", "1")
    assert again.returncode == 1 and "paused" in again.stdout
    assert _clientbase(tmp_path, "campaigns", "--resume", "1").returncode == 0
    assert _clientbase(tmp_path, "campaigns", "--cancel", "1").returncode == 0
    assert _count(tmp_path, Delivery, Delivery.state == "skipped") == queued
    assert _clientbase(tmp_path, "campaigns", "--cancel", "7").returncode == 2

    later = _clientbase(
        tmp_path,
        *("broadcast", "--segment", "all", "--text", "Скоро"),
        *("--at", "2030-01-01 10:00", "--yes"),
    )
    assert later.returncode == 0, later.stderr
    assert later.stdout.splitlines()[-1] == "Кампания №2 запланирована на 2030-01-01 10:00"
    assert _count(tmp_path, Delivery, Delivery.campaign_id == 2) == 0

    async def actions(session):  # type: ignore[no-untyped-def]
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))

    assert _database(tmp_path, actions) == [
        "segment_saved",
        "campaign_created",
        "campaign_started",
        "campaign_paused",
        "campaign_resumed",
        "campaign_cancelled",
        "campaign_created",
    ]


def test_broadcast_mistakes_are_one_line_and_queue_nothing(tmp_path: Path) -> None:
    _with_customers(tmp_path)
    cases = [
        (("--segment", "Мужчины", "--text", "Привет"), "Сегмента 'Мужчины' нет"),
        (("--segment", "all", "--text", "<b>Привет"), "Не отправлено: text: <b> is never closed"),
        (("--segment", "all", "--text", "Привет", "--at", "завтра"), "Это не время"),
        (("--segment", "all", "--text", "Привет", "--photo", "nope.jpg"), "Файла нет"),
        (("--segment", "all", "--text", "Привет", "--holdout", "95"), "holdout"),
    ]
    for args, message in cases:
        run = _clientbase(tmp_path, "broadcast", *args, "--yes")
        assert run.returncode == 2, (args, run.stderr)
        assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert _count(tmp_path, Campaign) == 0 and _count(tmp_path, Delivery) == 0


def test_broadcast_with_a_promotion_hands_out_personal_codes(tmp_path: Path) -> None:
    from db.models import PromoCode, Promotion

    _with_customers(tmp_path)
    created = _clientbase(
        tmp_path,
        *("promos", "create", "--name", "Лично", "--kind", "fixed", "--value", "200"),
        "--personal",
    )
    assert created.returncode == 0, created.stderr
    shared = _clientbase(
        tmp_path, *("promos", "create", "--name", "Всем", "--kind", "percent", "--value", "10")
    )
    assert shared.returncode == 0, shared.stderr

    async def ids(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(select(Promotion.name, Promotion.id))
        return dict(rows.all())

    promotions = _database(tmp_path, ids)
    refused = _clientbase(
        tmp_path,
        *("broadcast", "--segment", "all", "--text", "Код: {code}", "--yes"),
        *("--promotion", str(promotions["Всем"])),
    )
    assert refused.returncode == 2 and "promotion" in refused.stderr
    sent = _clientbase(
        tmp_path,
        *("broadcast", "--segment", "all", "--text", "Код: {code}", "--yes"),
        *("--promotion", str(promotions["Лично"]), "--holdout", "20"),
    )
    assert sent.returncode == 0, sent.stderr
    recipients = _count(tmp_path, CampaignMember, CampaignMember.holdout.is_(False))
    assert recipients > 0
    personal = PromoCode.customer_id.is_not(None)
    assert _count(tmp_path, PromoCode, personal) == recipients  # the holdout has none
    assert _count(tmp_path, Campaign, Campaign.promotion_id == promotions["Лично"]) == 1
