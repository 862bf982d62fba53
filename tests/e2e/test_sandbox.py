"""The terminal sandbox: `clientbase` without a token, a person typing as a customer."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox.console import render_html, run_sandbox, sandbox_settings
from bot.settings import Settings
from db.engine import create_engine
from db.models import Customer, Source

ROOT = Path(__file__).resolve().parents[2]


def _settings(database: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        sandbox_database_url=f"sqlite+aiosqlite:///{database}",
        link_secret=None,
        bot_token=None,
    )


class Transcript:
    """Collects what the sandbox writes; `button` reads the numbers it printed."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def write(self, text: str) -> None:
        self.blocks.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.blocks)

    def since_last_input(self) -> str:
        """The output after the last echoed input line (`Name> ...`): the bot's latest answer."""
        for index in range(len(self.blocks) - 1, -1, -1):
            if re.match(r"^\S+> ", self.blocks[index]):
                return "\n".join(self.blocks[index + 1 :])
        return self.text

    def button(self, label: str) -> str:
        """The number to type to press `label` in the latest answer."""
        latest = self.since_last_input()
        found = re.search(rf"\[(\d+)\] {re.escape(label)}(?:   |\n|$)", latest)
        assert found, f"no button {label!r} in the latest answer:\n{latest}"
        return found.group(1)


def _signup(out: Transcript, name: str) -> list[Callable[[], str]]:
    """The shortest signup as typed lines; each is computed when the sandbox asks for it."""
    return [
        lambda: "/open",
        lambda: out.button("✅ Согласен(на)"),
        lambda: name,
        lambda: "/contact",
        lambda: out.button("Пропустить"),  # birthday
        lambda: out.button("Пропустить"),  # gender
        lambda: out.button("Пропустить"),  # city
        lambda: out.button("Готово ✔️"),  # interests
        lambda: out.button("Нет, спасибо"),  # advertising
    ]


async def _play(steps: list[Callable[[], str]]) -> AsyncIterator[str]:
    """run_sandbox lets the bot finish answering before it takes the next line."""
    for step in steps:
        yield step()


async def test_signup_in_the_sandbox_chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "sandbox.db"
    out = Transcript()
    steps = [*_signup(out, "Анна Петрова"), lambda: "/balance", lambda: "/quit", lambda: "unread"]

    await asyncio.wait_for(
        run_sandbox(_settings(database), lines=_play(steps), write=out.write), 60
    )

    text = out.text
    assert "SANDBOX" in text and str(database.resolve()) in text
    assert re.search(r"/open s\d+_\S+", text), "the demo QR code's /open line"
    assert "152-ФЗ" in text and "Как вас зовут?" in text
    assert "[1] ✅ Согласен(на)" in text and "[2] Отказаться" in text
    assert "↳ 📱 shared the contact Анна, +7 916 000-10-01" in text
    assert "✓ +7 *** ***-10-01" in text
    assert "Готово, Анна Петрова! 🎉" in text and "Вам начислено 100 баллов" in text
    assert "На вашем счёте 100 баллов." in text
    assert "<b>" not in text and "<i>" not in text and "\033[" not in text
    assert "Sandbox stopped" in text and "unread" not in text
    assert not (tmp_path / "clientbase-sandbox.db").exists()  # SANDBOX_DATABASE_URL was set

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(Customer.name, Customer.phone, Customer.status, Source.store).join(
                        Source, Customer.source_id == Source.id
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert tuple(row) == ("Анна Петрова", "+79160001001", "active", "Демо-магазин")


async def test_other_users_languages_and_owner_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Transcript()
    steps = [
        *_signup(out, "Анна"),
        lambda: "/as Kate",
        lambda: "/lang en",
        lambda: "/open",
        lambda: out.button("✅ I agree"),
        lambda: out.button("Kate"),
        lambda: "+7 916 000-10-01",  # Anna's number: the owner is alerted
        lambda: "/users",
        lambda: "/as owner",
    ]  # then the input ends, like Ctrl-D

    await asyncio.wait_for(
        run_sandbox(_settings(tmp_path / "s.db"), lines=_play(steps), write=out.write), 60
    )

    text = out.text
    kate = re.search(r"You are now Kate, id (\d+) \(new", text)
    assert kate is not None
    assert "personal data" in text and "Step 2 of 6" in text
    assert re.search(r"🤖 → Owner:\n +⚠️ .*не объединяем", text), "the alert, shown to the owner"
    assert re.search(rf"\* Kate +id {kate.group(1)} +customer +lang en", text)
    assert "You are now Owner, id 1." in text
    assert "Sandbox stopped (end of input)" in text


async def test_numbers_beyond_the_buttons_are_refused_and_help_is_the_bots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Transcript()
    steps = [
        lambda: "/open",
        lambda: "7",
        lambda: "/say 1",
        lambda: "/help",
        lambda: "/sandbox",
        lambda: "/quit",
    ]
    await asyncio.wait_for(
        run_sandbox(_settings(tmp_path / "s.db"), lines=_play(steps), write=out.write), 60
    )
    answers = out.text.split("Анна> ")
    assert "there is no button 7 here (1–2); /say 7 sends it as text" in answers[2], answers[2]
    assert "🤖" not in answers[2]  # nothing went to the bot
    assert "1\n🤖 Выберите вариант кнопкой" in answers[3], answers[3]
    assert "↳" not in answers[3]  # nothing was pressed
    assert "🤖" in answers[4] and "/contact [phone]" not in answers[4]  # the bot's own help
    assert "/contact [phone]" in answers[5] and "/sandbox" in answers[5]


def test_terminal_rendering_of_telegram_html() -> None:
    text = '<b>Кофе &amp; чай</b>: <i>Шаг 1</i> <a href="https://x.ru/p">Политика</a> &lt;3'
    assert render_html(text) == "Кофе & чай: Шаг 1 Политика (https://x.ru/p) <3"
    assert render_html(text, ansi=True).startswith("\033[1mКофе & чай\033[22m: ")
    assert render_html("<b>unclosed", ansi=True).endswith("\033[22m")
    assert render_html('<a href="https://x.ru">https://x.ru</a>') == "https://x.ru"
    assert render_html("&lt;b&gt; stays", None) == "&lt;b&gt; stays"  # not HTML: as sent
    assert render_html("&amp;lt;") == "&lt;"  # unescaped once


def test_sandbox_settings_keep_the_shops_base_apart() -> None:
    url = "http://127.0.0.1:1"
    plain = sandbox_settings(Settings(_env_file=None, owner_ids=[42]), url)  # type: ignore[call-arg]
    assert plain.database_url == "sqlite+aiosqlite:///clientbase-sandbox.db"
    assert plain.owner_ids == [42, 1] and plain.telegram_api_url == url
    assert plain.bot_token is not None and plain.bot_token.get_secret_value() == "123456:SANDBOX"
    # The shop's DATABASE_URL is never the sandbox's: demo data stays out of the real base.
    shop = Settings(_env_file=None, database_url="postgresql://shop@db/shop")  # type: ignore[call-arg]
    assert sandbox_settings(shop, url).database_url == "sqlite+aiosqlite:///clientbase-sandbox.db"
    chosen = Settings(_env_file=None, sandbox_database_url="sqlite+aiosqlite:///mine.db")  # type: ignore[call-arg]
    assert sandbox_settings(chosen, url).database_url == "sqlite+aiosqlite:///mine.db"
    given = sandbox_settings(shop, url, "postgresql://me@localhost/demo")
    assert given.database_url == "postgresql+asyncpg://me@localhost/demo"


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "LINK_SECRET"):
        env.pop(name, None)
    env["SANDBOX_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "always::ResourceWarning"  # an unclosed session would show
    return env


def test_clientbase_without_a_token_starts_the_sandbox(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="/open\n1\nАнна\n/quit\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=_environment(tmp_path),
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SANDBOX" in result.stdout
    assert "152-ФЗ" in result.stdout and "[1] ✅ Согласен(на)" in result.stdout
    assert "Как вас зовут?" in result.stdout and "Шаг 2 из 6" in result.stdout
    assert "Traceback" not in output and "Unclosed" not in output, output
    assert (tmp_path / "sandbox.db").exists()


def _as_from_a_terminal() -> None:
    """Ctrl-C as a shell gives it to a program it starts: neither blocked nor ignored,
    whatever the test runner's process did with SIGINT (it is inherited across exec)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_ctrl_c_stops_the_sandbox_cleanly(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=_environment(tmp_path) | {"PYTHONFAULTHANDLER": "1"},
        preexec_fn=_as_from_a_terminal,
    )
    assert process.stdout is not None
    try:
        banner = await asyncio.wait_for(process.stdout.readuntil(b"/quit "), 60)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert b"SANDBOX" in banner
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:  # what it was doing, for whoever reads the failure
        status = Path(f"/proc/{process.pid}/status")
        text = await asyncio.to_thread(status.read_text)
        signals = [line for line in text.splitlines() if line.startswith("Sig")]
        process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
        stdout, stderr = await process.communicate()
        pytest.fail(
            f"still running 30 s after Ctrl-C; {signals}\nstdout: {stdout.decode()[-1500:]}\n"
            f"stderr: {stderr.decode()[-2500:]}"
        )
    output = (banner + stdout + stderr).decode()
    assert process.returncode == 0, output
    assert "Sandbox stopped (interrupted)" in output
    assert "Traceback" not in output and "Unclosed" not in output, output


def test_files_edits_and_other_chats_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.sandbox.console import _BusyCounter, _Console
    from bot.sandbox.fake_telegram import FakeTelegram, SentMessage

    monkeypatch.chdir(tmp_path)
    out = Transcript()
    settings = sandbox_settings(Settings(_env_file=None), "http://127.0.0.1:1")  # type: ignore[call-arg]
    console = _Console(FakeTelegram(), settings, out.write, False, False, "s1_x", _BusyCounter())
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100

    def message(chat_id: int, method: str, text: str | None, **extra: object) -> SentMessage:
        values: dict = dict(file_bytes=None, file_name=None, reply_markup=None) | extra
        return SentMessage(1, chat_id, method, text, "HTML", **values)

    card = console._format(message(1001, "sendPhoto", "Ваша <b>карта</b>", file_bytes=png))
    assert card.startswith("🤖 [photo: 108 bytes] saved to sandbox-files/1001-1-photo.png")
    assert card.endswith("\n   Ваша карта")
    assert (tmp_path / "sandbox-files" / "1001-1-photo.png").read_bytes() == png
    report = console._format(
        message(1, "sendDocument", None, file_bytes=b"a;b", file_name="../report.csv")
    )
    assert report == "🤖 → Owner:\n   [document: 3 bytes] saved to sandbox-files/1-1-report.csv"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}, {"text": "B", "url": "u"}]]}
    edited = console._format(message(1001, "sendMessage", "x", reply_markup=markup, edited=True))
    assert edited == "🤖 (edited) x\n   [1] A   [2] B (u)"
    poster = console._format(
        message(1001, "sendMediaGroup", None, file_bytes=b"%PDF-1.4", file_name="tverskaya_a6.pdf")
    )
    assert poster.endswith("saved to sandbox-files/1001-1-tverskaya_a6.pdf")


async def test_as_knows_people_from_an_earlier_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Transcript()
    steps = [lambda: "/as Борис", *_signup(first, "Борис"), lambda: "/quit"]
    await asyncio.wait_for(
        run_sandbox(_settings(tmp_path / "s.db"), lines=_play(steps), write=first.write), 60
    )
    assert "You are now Борис" in first.text and "(new;" in first.text
    again = Transcript()
    steps = [lambda: "/as Борис", lambda: "/as Кира", lambda: "/quit"]
    await asyncio.wait_for(
        run_sandbox(_settings(tmp_path / "s.db"), lines=_play(steps), write=again.write), 60
    )
    assert re.search(r"You are now Борис, id \d+ \(back:", again.text), again.text
    assert re.search(r"You are now Кира, id \d+ \(new;", again.text), again.text


def test_warnings_in_a_terminal_go_to_a_file_not_into_the_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from bot.sandbox.console import quiet_logging

    monkeypatch.chdir(tmp_path)
    with quiet_logging(interactive=True):
        logging.getLogger("aiogram.dispatcher").warning("Sleep for 1.0 seconds and try again")
    captured = capsys.readouterr()
    assert "try again" not in captured.out + captured.err
    assert "try again" in (tmp_path / "sandbox-files" / "sandbox.log").read_text()
    with quiet_logging(interactive=False):  # piped: stderr is apart from the transcript
        logging.getLogger("aiogram.dispatcher").warning("piped")
    assert "piped" in capsys.readouterr().err
