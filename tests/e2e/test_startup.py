"""Start-up mistakes are one line naming the setting and exit code 2, never a traceback.

Each case is what a shop owner meets on the first day: a database that is not there (or not
yet), a role or host mistyped, a folder missing, a token pasted wrong or revoked, no internet.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot import startup
from bot.cli import main
from bot.sandbox.fake_telegram import FakeTelegram
from bot.settings import Settings
from db.engine import create_engine
from tests.conftest import PG_URL

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # well-formed, but not the fake's
needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path: Path, **env: str) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    clean = {k: v for k, v in os.environ.items() if k.upper() not in names}
    clean["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    return clean | env


def _assert_one_line(code: int | None, stderr: str, setting: str) -> str:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"clientbase: {setting}: "), stderr
    return lines[0]


def _migrate(tmp_path: Path, database_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=_environment(tmp_path, DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return _assert_one_line(result.returncode, result.stderr, "DATABASE_URL")


def _pg_url(**parts: str) -> str:
    return make_url(PG_URL or "").set(**parts).render_as_string(hide_password=False)


def test_a_database_nobody_listens_for(tmp_path: Path) -> None:
    line = _migrate(tmp_path, f"postgresql://shop:pw@127.0.0.1:{_closed_port()}/shop")
    assert "cannot open PostgreSQL shop@127.0.0.1:" in line and "pw" not in line


def test_an_unknown_database_host(tmp_path: Path) -> None:
    line = _migrate(tmp_path, "postgresql://shop@no-such-host.invalid/shop")
    assert "unknown host 'no-such-host.invalid'" in line


def test_an_sqlite_file_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    line = _migrate(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'nowhere' / 'shop.db'}")
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in line


@needs_pg
def test_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = f"no_such_db_{uuid.uuid4().hex[:8]}"
    line = _migrate(tmp_path, _pg_url(database=missing))
    assert f'database "{missing}" does not exist' in line


@needs_pg
def test_a_role_that_does_not_exist(tmp_path: Path) -> None:
    line = _migrate(tmp_path, _pg_url(username="no_such_role_x", password=""))
    assert 'role "no_such_role_x" does not exist' in line


async def test_a_token_telegram_rejects(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:  # answers 401 to any other token
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=_environment(
                tmp_path,
                BOT_TOKEN=TOKEN,
                LINK_SECRET="startup-test-secret-0123",
                TELEGRAM_API_URL=fake.url,
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
    line = _assert_one_line(process.returncode, stderr.decode(), "BOT_TOKEN")
    assert "Telegram rejected the token" in line


def test_telegram_unreachable_is_retried_then_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(startup, "START_ATTEMPTS", 3)
    monkeypatch.setattr(startup, "FIRST_PAUSE", 0.01)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    closed = f"http://127.0.0.1:{_closed_port()}"
    for name, value in _environment(
        tmp_path, BOT_TOKEN=TOKEN, LINK_SECRET="startup-test-secret-0123", TELEGRAM_API_URL=closed
    ).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["run"])
    lines = capsys.readouterr().err.strip().splitlines()
    retries = [line for line in lines if "Telegram did not answer, retrying" in line]
    assert len(retries) == 2 and all("level=warning" in line for line in retries)
    rest = "\n".join(line for line in lines if line not in retries)
    line = _assert_one_line(exited.value.code, rest, "TELEGRAM_API_URL")
    assert f"Telegram at {closed} did not answer" in line


async def test_a_database_still_starting_is_retried_with_growing_pauses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine(f"postgresql+asyncpg://shop@127.0.0.1:{_closed_port()}/shop")
    refused = pytest.raises(startup.StartupError, match=r"^DATABASE_URL: cannot open")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.startup"), refused:
            await startup.wait_for_database(engine, attempts=3, first_pause=0.01)
    finally:
        await engine.dispose()
    retried = "the database did not answer, retrying"
    pauses = [r.pause for r in caplog.records if r.message == retried]
    assert pauses == [0.01, 0.02]
