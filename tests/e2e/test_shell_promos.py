"""`clientbase promos`: an owner creates promotions from the shell and lists them with uses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot.domain.promos import normalize_code
from db.engine import create_engine, create_session_factory
from db.models import AuditEntry
from tests.e2e.test_shell import _clientbase


def test_an_owner_creates_and_lists_promotions(tmp_path: Path) -> None:
    made = _clientbase(
        tmp_path, "promos", "create", "--name", "Осень", "--kind", "percent", "--value", "10",
        "--days", "30",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Акция №1 «Осень» создана. Общий код: ")
    code = made.stdout.strip().rsplit(" ", 1)[1]
    assert normalize_code(code) is not None
    personal = _clientbase(
        tmp_path, "promos", "create", "--name", "Лично", "--kind", "fixed", "--value", "300",
        "--personal",
    )  # fmt: skip
    assert personal.returncode == 0 and personal.stdout.strip().endswith("Общий код: —")
    wrong = _clientbase(
        tmp_path, "promos", "create", "--name", "X", "--kind", "percent", "--value", "150"
    )
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "does not fit --kind percent" in wrong.stderr

    listing = _clientbase(tmp_path, "promos", "--disable", "2")
    assert listing.returncode == 0, listing.stderr
    first, second = listing.stdout.strip().split("\n")
    assert first.startswith("№1 вкл  «Осень» percent 10% до ") and f"код {code}" in first
    assert first.endswith("выдано 1 использовано 0")
    assert second.startswith("№2 выкл «Лично» fixed 300\u00a0₽ до — personal код —")

    async def audited() -> list[str]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        async with create_session_factory(engine)() as session:
            rows = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        await engine.dispose()
        return rows

    assert asyncio.run(audited()) == ["promo_create", "promo_create", "promo_off"]
