"""The scheduler's edges: APScheduler triggers, `clientbase jobs`, and the texts the jobs queue."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.cli import jobs as cli_jobs
from bot.scheduler import JobScheduler
from bot.services.jobs import config_from
from bot.settings import Settings
from bot.telegram.job_texts import render
from bot.texts import texts_for
from db.models import Customer, Delivery
from tests.conftest import Backend


def _settings(backend: Backend, **overrides: object) -> Settings:
    return Settings(_env_file=None, database_url=backend.database_url, **overrides)  # type: ignore[arg-type]


async def test_each_job_fires_at_its_local_hour(
    backend: Backend, sessions: async_sessionmaker
) -> None:
    settings = _settings(
        backend, timezone="Asia/Yekaterinburg", birthday_hour=9, balance_digest_day=31
    )
    scheduler = JobScheduler(sessions, config_from(settings))
    scheduler.start()
    try:
        assert sorted(scheduler.job_ids()) == sorted(
            [
                "birthday",
                "expiring_points",
                "points_expiry",
                "balance_digest",
                "housekeeping",
                "winback",
                "catch_up",
            ]
        )
        birthday = scheduler.next_fire("birthday")
        digest = scheduler.next_fire("balance_digest")
    finally:
        scheduler.shutdown()
    zone = ZoneInfo("Asia/Yekaterinburg")
    assert birthday is not None and (birthday.astimezone(zone).hour, birthday.minute) == (9, 0)
    assert digest is not None
    local = digest.astimezone(zone)
    assert local.day in (30, 31) or (local.month == 2 and local.day >= 28)


async def test_shell_runs_a_missed_day_once_and_lists_it(
    backend: Backend, sessions: async_sessionmaker, capsys: pytest.CaptureFixture[str]
) -> None:
    async with sessions() as session:
        session.add(
            Customer(
                telegram_id=1, status="active", phone="+79160000001", birthday=date(1990, 2, 3)
            )
        )
        await session.commit()
    settings = _settings(backend)
    assert await cli_jobs.run_job(settings, "birthday", "2027-02-03") == 0
    assert await cli_jobs.run_job(settings, "birthday", "2027-02-03") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "birthday 2027-02-03: 1 done, 0 already done before",
        "birthday 2027-02-03: 0 done, 1 already done before",
    ]
    async with sessions() as session:
        assert len(list(await session.scalars(select(Delivery)))) == 1

    assert await cli_jobs.list_jobs(settings) == 0
    listing = capsys.readouterr().out
    assert "birthday" in listing and "2027-02-03 done: 0 done, 1 skipped" in listing
    assert "housekeeping" in listing and "never" in listing

    assert await cli_jobs.run_job(settings, "birthdays", None) == 2
    assert await cli_jobs.run_job(settings, "birthday", "03.02.2027") == 2
    errors = capsys.readouterr().out
    assert "no job 'birthdays'; jobs: birthday, expiring_points" in errors
    assert "not a date: '03.02.2027'" in errors


@pytest.mark.parametrize("language", ["ru", "en"])
def test_job_messages_render_in_the_recipients_language(language: str) -> None:
    texts = texts_for(language)
    birthday = render("birthday", {"bonus": 300, "expires": "2027-03-22"}, texts)
    plain = render("birthday", {"bonus": 0, "expires": "2027-03-22"}, texts)
    expiring = render("points_expiring", {"points": 21, "date": "2027-07-04"}, texts)
    digest = render("balance_digest", {"points": 2, "tier": "<Gold>"}, texts)
    assert "22.03.2027" in birthday and "300" in birthday and "22.03.2027" not in plain
    assert "04.07.2027" in expiring and "&lt;Gold&gt;" in digest
    if language == "ru":
        assert "Дарим вам 300 баллов" in birthday
        assert "04.07.2027 сгорят 21 балл." in expiring
        assert "<b>2 балла</b>" in digest


def test_an_hour_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="birthday_hour"):
        Settings(_env_file=None, birthday_hour=24)  # type: ignore[call-arg]
