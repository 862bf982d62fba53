import os
import subprocess
import sys

import pytest

from bot.settings import Settings, SettingsError, load_settings


def _clientbase(*args: str, tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    clean.update(env)
    clean.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cb.db'}")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"BOT_TOKEN": "1:abc"}, "LINK_SECRET"),
        ({"WELCOME_BONUS": "lots"}, "WELCOME_BONUS"),
        ({"DATABASE_URL": "mysql://localhost/shop"}, "DATABASE_URL"),
        ({"OWNER_IDS": "12, boss"}, "OWNER_IDS"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(tmp_path, env: dict, named: str) -> None:
    result = _clientbase("migrate", tmp_path=tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"clientbase: {named}:")
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_schema(tmp_path) -> None:
    result = _clientbase("migrate", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cb.db").exists()


def test_lists_accept_commas() -> None:
    settings = Settings(_env_file=None, owner_ids="1, 2", cities="Москва, Тверь")
    assert settings.owner_ids == [1, 2] and settings.cities == ["Москва", "Тверь"]


def test_plain_postgres_urls_get_the_async_driver() -> None:
    settings = load_settings(_env_file=None, database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


def test_short_link_secret_with_a_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="LINK_SECRET"):
        load_settings(_env_file=None, bot_token="1:a", link_secret="short")


def test_env_example_documents_every_setting() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and line.split("=", 1)[0].lstrip("# ").strip().isupper()
    }
    assert {name.upper() for name in Settings.model_fields} <= documented
