"""`clientbase program`: print the program and change it from the shell, audited as shell."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from db.engine import create_engine, create_session_factory
from db.models import AuditEntry, ProgramSetting
from tests.e2e.test_shell import _clientbase


async def _read(database: Path) -> tuple[dict[str, str], list[AuditEntry]]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.scalars(select(ProgramSetting))
            values = {row.key: row.value for row in rows}
            return values, list(await session.scalars(select(AuditEntry)))
    finally:
        await engine.dispose()


def test_the_shell_prints_and_changes_the_program(tmp_path: Path) -> None:
    shown = _clientbase(tmp_path, "program", WELCOME_BONUS="150")
    assert shown.returncode == 0, shown.stderr
    assert "welcome_bonus         150" in shown.stdout
    assert "tiers                 Базовый:0:5, Серебро:10000:7, Золото:30000:10" in shown.stdout

    changed = _clientbase(
        tmp_path, "program", "set", "redeem_cap_percent", "25", WELCOME_BONUS="150"
    )
    assert changed.returncode == 0, changed.stderr
    assert (
        changed.stdout.strip() == "redeem_cap_percent: 30 -> 25 (applies from the next operation)"
    )
    # Seeded on first use: the environment's value is stored, and from now on the DB decides.
    later = _clientbase(tmp_path, "program", WELCOME_BONUS="999")
    assert "welcome_bonus         150" in later.stdout
    assert "redeem_cap_percent    25" in later.stdout

    for args, message in (
        (("bonus", "5"), "unknown key 'bonus'; one of: welcome_bonus,"),
        (("receipt_qr_hours", "0"), "receipt_qr_hours: not a valid value: '0' (a whole number"),
        (("tiers", "Base:5:5"), "tiers: not a valid value: 'Base:5:5' (name:from_roubles:percent"),
    ):
        refused = _clientbase(tmp_path, "program", "set", *args)
        assert refused.returncode == 2 and refused.stdout.startswith(message), refused.stdout
        assert len(refused.stdout.strip().splitlines()) == 1

    values, entries = asyncio.run(_read(tmp_path / "shop.db"))
    assert values["redeem_cap_percent"] == "25" and values["welcome_bonus"] == "150"
    [entry] = entries
    assert entry.channel == "shell" and entry.actor.startswith("shell:")
    assert (entry.action, entry.subject) == ("program_change", "redeem_cap_percent")
    assert entry.details == {"old": "30", "new": "25"}
    audit = _clientbase(tmp_path, "audit")
    assert "program_change" in audit.stdout and "new=25" in audit.stdout
