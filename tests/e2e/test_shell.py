"""The owner's shell commands, run as a shop owner would: `clientbase qr`, `sources`, `stats`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import Customer, LedgerEntry
from tests.qr_reading import decode_pdf, decode_png, render_pdf


def _clientbase(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "BOT_USERNAME": "zerno_coffee_bot",
        "LINK_SECRET": "shell-test-secret-0123456789",
        "SHOP_NAME": "Кофейня «Зерно»",
    }
    env |= extra
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_qr_writes_scannable_files_offline_and_stats_list_the_sources(tmp_path: Path) -> None:
    made = _clientbase(
        tmp_path,
        *("qr", "--store", "Тверская, 1", "--campaign", "Касса"),
        *("--employee", "Мария", "--employee", "Олег", "--out", "print"),
    )
    assert made.returncode == 0, made.stderr
    links = [line.split("\t")[2] for line in made.stdout.splitlines() if "\t" in line]
    assert len(links) == 2 and all(
        link.startswith("https://t.me/zerno_coffee_bot?start=s") for link in links
    )
    folder = tmp_path / "print"
    assert decode_png((folder / "tverskaya-1_kassa_mariya_qr.png").read_bytes()) == links[0]
    a4 = (folder / "tverskaya-1_kassa_oleg_a4.pdf").read_bytes()
    assert decode_pdf(a4) == links[1]
    width, height = render_pdf(a4)[0]
    assert (round(width), round(height)) == (595, 842)

    again = _clientbase(tmp_path, "qr", "--store", "Тверская, 1", "--campaign", "Касса")
    assert again.returncode == 0, again.stderr

    listing = _clientbase(tmp_path, "sources", "--disable", "2")
    assert listing.returncode == 0, listing.stderr
    assert [line.split("\t")[:3] for line in listing.stdout.splitlines()] == [
        ["1", "вкл ", "Тверская, 1 / Касса / Мария"],
        ["2", "выкл", "Тверская, 1 / Касса / Олег"],
        ["3", "вкл ", "Тверская, 1 / Касса"],
    ]
    english = _clientbase(tmp_path, "sources", DEFAULT_LANGUAGE="en")
    assert [line.split("\t")[1] for line in english.stdout.splitlines()] == ["on ", "off", "on "]

    stats = _clientbase(tmp_path, "stats", "sources")
    assert stats.returncode == 0, stats.stderr
    assert "Открыли" in stats.stdout and "✗ Тверская, 1 / Касса / Олег" in stats.stdout


def test_pos_tokens_are_issued_and_revoked_from_the_shell(tmp_path: Path) -> None:
    issued = _clientbase(tmp_path, "pos-token", "--store", "Тверская, 1")
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("cbp_")
    revoked = _clientbase(tmp_path, "pos-token", "--store", "Тверская, 1", "--revoke")
    assert revoked.returncode == 0
    assert "Отозвано токенов магазина 'Тверская, 1': 1" in revoked.stdout


def test_an_owner_corrects_points_by_hand(tmp_path: Path) -> None:
    async def seed() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        await upgrade(engine)
        async with create_session_factory(engine)() as session:
            session.add(Customer(telegram_id=1, status="active", name="Анна", phone="+79161234567"))
            await session.commit()
        await engine.dispose()

    async def entries() -> list[tuple[int, str, str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(LedgerEntry.points, LedgerEntry.reason, LedgerEntry.actor)
            )
            found = [tuple(row) for row in rows]
        await engine.dispose()
        return found

    asyncio.run(seed())
    added = _clientbase(
        tmp_path,
        "adjust",
        "--customer",
        "8 916 123-45-67",
        "--points",
        "70",
        "--reason",
        "чек не пробился",
        "--by",
        "Ольга",
    )
    assert added.returncode == 0, added.stderr
    assert "Анна +7 *** ***-45-67: +70, баланс 70" in added.stdout
    too_much = _clientbase(
        tmp_path, "adjust", "--customer", "+79161234567", "--points", "-100", "--reason", "x"
    )
    assert too_much.returncode == 1 and "У клиента только 70 баллов" in too_much.stdout
    assert asyncio.run(entries()) == [(70, "чек не пробился", "shell:Ольга")]


def test_migrate_names_the_database_in_the_shops_language(tmp_path: Path) -> None:
    russian = _clientbase(tmp_path, "migrate")
    assert russian.returncode == 0, russian.stderr
    assert russian.stdout.strip() == f"Схема базы данных актуальна: SQLite {tmp_path / 'shop.db'}"
    english = _clientbase(
        tmp_path,
        "migrate",
        DEFAULT_LANGUAGE="en",
        DATABASE_URL="postgresql://shop:s3cret-pw@127.0.0.1:1/shopdb",
    )
    assert "s3cret-pw" not in english.stdout + english.stderr
    assert english.stderr.strip().startswith(
        "clientbase: DATABASE_URL: cannot open PostgreSQL shop@127.0.0.1:1/shopdb"
    )


def test_codes_are_not_signed_with_the_sandbox_key(tmp_path: Path) -> None:
    """Without LINK_SECRET a printed code would count as "unknown" once the secret is set."""
    for args in (("qr", "--store", "Тверская, 1"), ("receipt", "--amount", "100")):
        result = _clientbase(tmp_path, *args, LINK_SECRET="")
        assert result.returncode == 2, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("clientbase: LINK_SECRET: ")
    assert not (tmp_path / "qr").exists() and not (tmp_path / "shop.db").exists()
