import os
import subprocess
import sys

import pytest

from bot.settings import Settings, SettingsError, load_settings

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape of a token from @BotFather


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
        ({"BOT_TOKEN": TOKEN}, "LINK_SECRET"),
        ({"BOT_TOKEN": "1:abc"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": f"bot{TOKEN}"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": f"{TOKEN[:-2]} x"}, "BOT_TOKEN"),
        (
            {"BOT_TOKEN": TOKEN, "LINK_SECRET": "x" * 20, "WEBHOOK_URL": "https://a.example/h"},
            "WEBHOOK_SECRET",
        ),
        (
            {
                "BOT_TOKEN": TOKEN,
                "LINK_SECRET": "x" * 20,
                "WEBHOOK_URL": "https://a.example/h",
                "WEBHOOK_SECRET": "only-twenty-chars-xx",
            },
            "WEBHOOK_SECRET",
        ),
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
        load_settings(_env_file=None, bot_token=TOKEN, link_secret="short")


def test_env_example_documents_every_setting() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and line.split("=", 1)[0].lstrip("# ").strip().isupper()
    }
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_the_webhook_listens_on_this_machine_unless_told_otherwise() -> None:
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        link_secret="x" * 20,
        webhook_url="https://shop.example/tg",
        webhook_secret="s" * 32,
    )
    assert settings.webhook_host == "127.0.0.1"


def test_empty_values_mean_unset(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`NAME=` lines, as `.env.example` has them, take the default for every field."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    lines = [f"{name.upper()}=" for name in Settings.model_fields]
    (tmp_path / ".env").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == Settings(_env_file=None)  # type: ignore[call-arg]


def _without_settings(tmp_path) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in names}


def test_a_copied_env_example_starts(tmp_path) -> None:
    """`cp .env.example .env` then `clientbase`: the schema is made and the sandbox opens."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    env = _without_settings(tmp_path)
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([sys.executable, "-m", "bot", "migrate"], **run)  # type: ignore[call-overload]
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "clientbase.db").exists()
    sandbox = subprocess.run([sys.executable, "-m", "bot"], input="/quit\n", **run)  # type: ignore[call-overload]
    assert sandbox.returncode == 0, sandbox.stdout + sandbox.stderr
    assert "SANDBOX" in sandbox.stdout and "Traceback" not in sandbox.stderr
    assert (tmp_path / "clientbase-sandbox.db").exists()
