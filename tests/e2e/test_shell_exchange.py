"""`clientbase import`, `export`, `stats` and `audit` run as the shop's technician would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OLD_BASE = (
    "Name,Phone,Birthday,Points,Consent date\n"
    "Anna,8 916 123-45-67,25.03.1990,150,01.02.2024\n"
    "Boris,12345,,,\n"
    "Vera,+7 916 555-66-77,,20,\n"
)


def _clientbase(tmp_path: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "BOT_USERNAME": "zerno_coffee_bot",
        "LINK_SECRET": "shell-test-secret-0123456789",
        "DEFAULT_LANGUAGE": "en",
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


def test_dry_run_then_a_refusal_then_the_import(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text(OLD_BASE, encoding="utf-8")
    dry = _clientbase(tmp_path, "import", "old.csv", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Rows in the file: 3. New customers: 2" in dry.stdout
    assert "row 3: phone not recognised" in dry.stdout

    declined = _clientbase(tmp_path, "import", "old.csv", answer="n\n")
    assert declined.returncode == 1 and "Import cancelled, nothing written." in declined.stdout
    empty = _clientbase(tmp_path, "export", "--format", "csv", "--out", "none.csv")
    assert "Customers: 0" in empty.stdout

    done = _clientbase(tmp_path, "import", "old.csv", answer="y\n")
    assert done.returncode == 0, done.stderr
    assert "Done: 2 new customers, 0 merged, 170 points credited." in done.stdout
    invites = (tmp_path / "old-invites.csv").read_text(encoding="utf-8-sig").splitlines()
    assert invites[0] == "row;customer;invite" and invites[1].startswith("4;")
    assert "https://t.me/zerno_coffee_bot?start=m" in invites[1]

    exported = _clientbase(tmp_path, "export", "--format", "xlsx", "--out", "base.xlsx")
    assert exported.returncode == 0 and (tmp_path / "base.xlsx").read_bytes()[:2] == b"PK"
    figures = _clientbase(tmp_path, "stats")
    assert "Customers: 2 (this week +0)" in figures.stdout
    assert "Points outstanding: 170 points" in figures.stdout
    log = _clientbase(tmp_path, "audit")
    actions = [line.split()[4] for line in log.stdout.splitlines()[:-1]]
    assert actions == ["export", "import", "export"]
    assert "page 1 of 1 (3 entries)" in log.stdout


def test_an_unreadable_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\x00\x00garbage")
    result = _clientbase(tmp_path, "import", "photo.csv", "--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip() == "I could not read the file: send an Excel (.xlsx) or CSV file."
