"""Scheduled jobs with a controlled clock, on SQLite and PostgreSQL: who gets what, exactly once."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.program import Program, parse_tiers
from bot.services import ledger
from bot.services.jobs import birthdays
from bot.services.jobs.context import JobConfig, RunContext
from bot.services.jobs.runner import (
    JobName,
    RunOutcome,
    run_due,
    run_period,
    set_enabled,
    statuses,
)
from bot.services.permissions import SHELL
from db.engine import create_engine, create_session_factory
from db.models import (
    Customer,
    Delivery,
    FsmRecord,
    JobRun,
    LedgerEntry,
    ReceiptToken,
    StaffInvite,
)
from db.repositories import deliveries
from tests.conftest import Backend

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
PROGRAM = Program(
    tiers=parse_tiers("Base:0:5, Silver:10000:7"),
    purchase_points_days=365,
    bonus_points_days=180,
    birthday_bonus=300,
)
CONFIG = JobConfig(zone=MOSCOW, program=PROGRAM, birthday_hour=10, birthday_bonus_days=30)
_numbers = itertools.count(1)


def at(day: date, hour: int, zone: ZoneInfo = MOSCOW) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


async def add_customer(
    sessions: async_sessionmaker,
    birthday: date | None = None,
    *,
    status: str = "active",
    ads: bool = False,
    created_at: datetime | None = None,
) -> int:
    number = next(_numbers)
    async with sessions() as session:
        customer = Customer(
            telegram_id=700_000 + number,
            status=status,
            name=f"Клиент {number}",
            phone=f"+7917{number:07d}" if status == "active" else None,
            birthday=birthday,
            ads_opt_in=ads,
            created_at=created_at or datetime(2026, 1, 1, tzinfo=UTC),
        )
        session.add(customer)
        await session.commit()
        return customer.id


async def sent(sessions: async_sessionmaker, kind: str) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)
        )
        return list(rows)


async def birthday_bonuses(sessions: async_sessionmaker) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(LedgerEntry.idempotency_key).where(LedgerEntry.reason == "birthday")
        )
        return sorted(rows)


async def test_birthdays_across_a_year_including_29_february(
    sessions: async_sessionmaker,
) -> None:
    """Every day of 2027 (no 29th) and around 28 February 2028: each greeted on their day."""
    march = await add_customer(sessions, date(1990, 3, 15))
    leap = await add_customer(sessions, date(1992, 2, 29))
    feb28 = await add_customer(sessions, date(1980, 2, 28))
    new_year = await add_customer(sessions, date(1985, 1, 1))
    await add_customer(sessions, None)  # skipped the question: nothing, ever
    await add_customer(sessions, date(1990, 3, 15), status="pending")  # never finished signup

    greeted_on: dict[int, list[date]] = {}
    seen = 0
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    days += [date(2028, 2, 27), date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)]
    for day in days:
        result = await run_period(
            sessions, CONFIG, JobName.BIRTHDAY, day, owner="a", now=at(day, 10)
        )
        assert result.outcome is RunOutcome.DONE
        queued = await sent(sessions, "birthday")
        for delivery in queued[seen:]:
            greeted_on.setdefault(delivery.customer_id, []).append(day)
        seen = len(queued)

    assert greeted_on == {
        new_year: [date(2027, 1, 1)],
        leap: [date(2027, 2, 28), date(2028, 2, 29)],
        feb28: [date(2027, 2, 28), date(2028, 2, 28)],
        march: [date(2027, 3, 15)],
    }
    assert await birthday_bonuses(sessions) == sorted(
        [
            f"birthday:{new_year}:2027",
            f"birthday:{leap}:2027",
            f"birthday:{leap}:2028",
            f"birthday:{feb28}:2027",
            f"birthday:{feb28}:2028",
            f"birthday:{march}:2027",
        ]
    )
    greeting = (await sent(sessions, "birthday"))[0]
    assert greeting.payload == {"bonus": 300, "expires": "2027-01-31"}
    assert greeting.advertising is False


async def test_greeting_days_before_and_the_bonus_expiry(sessions: async_sessionmaker) -> None:
    customer = await add_customer(sessions, date(1990, 3, 15))
    config = replace(CONFIG, birthday_days_before=3, birthday_bonus_days=10)
    day = date(2027, 3, 12)
    now = at(day, 10)
    await run_period(sessions, config, JobName.BIRTHDAY, day, owner="a", now=now)

    [greeting] = await sent(sessions, "birthday")
    assert greeting.customer_id == customer
    assert greeting.dedup_key == f"birthday:{customer}:2027"
    assert greeting.payload == {"bonus": 300, "expires": "2027-03-22"}
    async with sessions() as session:
        view = await ledger.balance(session, PROGRAM, customer, now)
        assert view.points == 300
        lapsed = await ledger.balance(session, PROGRAM, customer, now + timedelta(days=10))
        assert lapsed.points == 0


async def test_a_failure_halfway_then_a_rerun_greets_everyone_once(
    sessions: async_sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [await add_customer(sessions, date(1990, 5, 20)) for _ in range(7)]
    day, calls = date(2027, 5, 20), 0
    real_enqueue = deliveries.enqueue

    async def crash_on_the_fourth(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise ConnectionError("the database went away")
        await real_enqueue(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deliveries, "enqueue", crash_on_the_fourth)
    first = await run_period(sessions, CONFIG, JobName.BIRTHDAY, day, owner="a", now=at(day, 10))
    assert first.outcome is RunOutcome.FAILED
    assert len(await sent(sessions, "birthday")) == 3
    assert len(await birthday_bonuses(sessions)) == 3  # the fourth's bonus rolled back too

    # The process restarts; its catch-up finds the failed run and finishes it.
    results = await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=at(day, 11))
    assert [(r.outcome, r.counts.done, r.counts.skipped) for r in results] == [
        (RunOutcome.DONE, 4, 3)
    ]
    assert sorted(d.customer_id for d in await sent(sessions, "birthday")) == people
    assert len(await birthday_bonuses(sessions)) == 7


async def test_two_schedulers_at_once_greet_each_customer_once(
    backend: Backend, sessions: async_sessionmaker
) -> None:
    people = [await add_customer(sessions, date(1991, 7, 1)) for _ in range(30)]
    day = date(2027, 7, 1)
    engines = [create_engine(backend.database_url) for _ in range(2)]
    try:
        factories = [create_session_factory(engine) for engine in engines]
        results = await asyncio.gather(
            *(
                run_due(factory, CONFIG, JobName.BIRTHDAY, owner=f"p{n}", now=at(day, 10))
                for n, factory in enumerate(factories)
            )
        )
        outcomes = sorted(result.outcome for runs in results for result in runs)
        assert outcomes in (
            [RunOutcome.BUSY, RunOutcome.DONE],
            [RunOutcome.ALREADY_DONE, RunOutcome.DONE],
        )

        # Even with the run's claim bypassed, the keys alone keep it to one greeting each.
        contexts = [
            RunContext(factory, CONFIG, at(day, 12), _no_heartbeat) for factory in factories
        ]
        await asyncio.gather(*(birthdays.run(context, day) for context in contexts))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(d.customer_id for d in await sent(sessions, "birthday")) == people
    assert len(await birthday_bonuses(sessions)) == 30


async def _no_heartbeat() -> None:
    return None


async def test_downtime_over_the_run_time_is_caught_up_once(sessions: async_sessionmaker) -> None:
    start = date(2027, 6, 1)
    await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="a", now=at(start, 10))
    belated = await add_customer(sessions, date(1990, 6, 2))
    on_time = await add_customer(sessions, date(1990, 6, 4))

    # Down from 1 June evening to 4 June 15:00: 2, 3 and 4 June are run on start, once each.
    back = at(date(2027, 6, 4), 15)
    results = await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=back)
    assert [(r.period, r.outcome) for r in results] == [
        ("2027-06-02", RunOutcome.DONE),
        ("2027-06-03", RunOutcome.DONE),
        ("2027-06-04", RunOutcome.DONE),
    ]
    assert await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="c", now=back) == []
    keys = [d.dedup_key for d in await sent(sessions, "birthday")]
    assert keys == [f"birthday:{belated}:2027", f"birthday:{on_time}:2027"]


async def test_catch_up_stops_at_the_grace_period_and_at_the_first_run(
    sessions: async_sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    config = replace(CONFIG, catch_up_days=1)
    # A new installation starts today: last week's birthdays are not greeted.
    first = await run_due(
        sessions, config, JobName.BIRTHDAY, owner="a", now=at(date(2027, 6, 1), 9)
    )
    assert first == []  # 09:00, before the 10:00 run
    results = await run_due(
        sessions, config, JobName.BIRTHDAY, owner="a", now=at(date(2027, 6, 1), 10)
    )
    assert [r.period for r in results] == ["2027-06-01"]
    with caplog.at_level(logging.WARNING, logger="bot.services.jobs.runner"):
        later = await run_due(
            sessions, config, JobName.BIRTHDAY, owner="a", now=at(date(2027, 6, 5), 11)
        )
    assert [r.period for r in later] == ["2027-06-04", "2027-06-05"]
    # The days beyond the grace period are named in the log, not silently dropped.
    [warning] = [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]
    assert "from 2027-06-02 to 2027-06-03" in warning and "clientbase jobs run" in warning


async def test_a_dead_process_run_is_taken_over_after_its_lease(
    sessions: async_sessionmaker,
) -> None:
    customer = await add_customer(sessions, date(1990, 8, 8))
    day = date(2027, 8, 8)
    now = at(day, 10)
    async with sessions() as session:
        session.add(
            JobRun(
                job="birthday",
                period="2027-08-08",
                state="running",
                owner="dead",
                started_at=now,
                lease_until=now + timedelta(minutes=5),
            )
        )
        await session.commit()
    busy = await run_due(
        sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=now + timedelta(minutes=1)
    )
    assert [r.outcome for r in busy] == [RunOutcome.BUSY]
    assert await sent(sessions, "birthday") == []
    taken = await run_due(
        sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=now + timedelta(minutes=6)
    )
    assert [r.outcome for r in taken] == [RunOutcome.DONE]
    assert [d.customer_id for d in await sent(sessions, "birthday")] == [customer]
    async with sessions() as session:
        run = await session.scalar(select(JobRun))
        assert run is not None and (run.owner, run.state, run.attempts) == ("b", "done", 2)


@pytest.mark.parametrize(
    ("hour", "days"),
    [
        (2, [date(2026, 3, 27) + timedelta(days=n) for n in range(4)]),  # 02:00 does not exist
        (2, [date(2026, 10, 23) + timedelta(days=n) for n in range(4)]),  # 02:00 happens twice
        (23, [date(2026, 3, 28) + timedelta(days=n) for n in range(3)]),
    ],
)
async def test_daylight_saving_changes_neither_double_nor_skip_a_day(
    sessions: async_sessionmaker, hour: int, days: list[date]
) -> None:
    config = replace(CONFIG, zone=BERLIN, birthday_hour=hour)
    people = {day: await add_customer(sessions, day.replace(year=1990)) for day in days}
    clock = at(days[0], 0, BERLIN)
    end = at(days[-1] + timedelta(days=1), 0, BERLIN)
    ran: list[str] = []
    while clock < end:  # the scheduler's watchdog, every 20 minutes of real (UTC) time
        results = await run_due(sessions, config, JobName.BIRTHDAY, owner="a", now=clock)
        ran += [r.period for r in results if r.outcome is RunOutcome.DONE]
        clock += timedelta(minutes=20)
    assert ran == [day.isoformat() for day in days]
    greeted = [d.customer_id for d in await sent(sessions, "birthday")]
    assert greeted == [people[day] for day in days]


async def test_points_expiring_reminder_once_per_expiry_date(sessions: async_sessionmaker) -> None:
    customer = await add_customer(sessions)
    other = await add_customer(sessions)
    granted = at(date(2027, 1, 5), 15)  # a 180-day bonus lapses on 4 July 2027 at 15:00
    async with sessions() as session:
        for who, key in ((customer, "a"), (customer, "b"), (other, "c")):
            await ledger.add_bonus(
                session, PROGRAM, who, 40, key=key, reason="welcome", now=granted
            )
        await session.commit()
        await ledger.record_purchase(
            session, PROGRAM, other, 10_000, redeem=30, channel="till", actor="t", now=granted
        )

    day = date(2027, 6, 27)  # seven days before
    for owner in ("a", "b"):
        await run_period(
            sessions, CONFIG, JobName.EXPIRING_POINTS, day, owner=owner, now=at(day, 11),
            rerun_done=True,
        )  # fmt: skip
    reminders = await sent(sessions, "points_expiring")
    assert [(d.customer_id, d.payload) for d in reminders] == [
        (customer, {"points": 80, "date": "2027-07-04"}),
        (other, {"points": 10, "date": "2027-07-04"}),  # 30 of its 40 were spent
    ]
    assert not any(d.advertising for d in reminders)
    day_before = date(2027, 6, 26)
    await run_period(
        sessions, CONFIG, JobName.EXPIRING_POINTS, day_before, owner="a", now=at(day_before, 11)
    )
    assert len(await sent(sessions, "points_expiring")) == 2


async def test_points_expiry_writes_lapsed_lots_off_for_everyone(
    sessions: async_sessionmaker,
) -> None:
    people = [await add_customer(sessions) for _ in range(3)]
    granted = at(date(2027, 1, 5), 15)
    async with sessions() as session:
        for who in people:
            await ledger.add_bonus(
                session, PROGRAM, who, 50, key=f"w{who}", reason="welcome", now=granted
            )
        await session.commit()
    day = date(2027, 7, 5)
    result = await run_period(
        sessions, CONFIG, JobName.POINTS_EXPIRY, day, owner="a", now=at(day, 1)
    )
    assert result.counts.done == 3
    async with sessions() as session:
        held = await session.scalar(select(func.sum(LedgerEntry.remaining)))
        expiries = await session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.kind == "expiry")
        )
    assert (held, expiries) == (0, -150)
    again = await run_period(
        sessions, CONFIG, JobName.POINTS_EXPIRY, day, owner="b", now=at(day, 2), rerun_done=True
    )
    assert again.counts.done == 0


async def test_balance_digest_goes_only_to_customers_who_accepted_advertising(
    sessions: async_sessionmaker,
) -> None:
    yes = await add_customer(sessions, ads=True)
    no = await add_customer(sessions, ads=False)
    empty = await add_customer(sessions, ads=True)
    now = at(date(2027, 3, 1), 12)
    async with sessions() as session:
        for who in (yes, no):
            await ledger.grant_bonus(
                session, PROGRAM, who, 70, key=f"d{who}", reason="welcome", now=now
            )
        await session.commit()
        await ledger.record_purchase(
            session, PROGRAM, yes, 1_200_000, channel="till", actor="t", now=now
        )
    await run_due(sessions, CONFIG, JobName.BALANCE_DIGEST, owner="a", now=now)
    await run_due(sessions, CONFIG, JobName.BALANCE_DIGEST, owner="a", now=now + timedelta(days=1))
    [digest] = await sent(sessions, "balance_digest")
    assert digest.customer_id == yes and digest.customer_id not in (no, empty)
    assert digest.payload == {"points": 670, "tier": "Silver"}
    assert digest.advertising is True and digest.dedup_key == f"balance_digest:{yes}:2027-03"
    async with sessions() as session:
        periods = list(await session.scalars(select(JobRun.period)))
    assert periods == ["2027-03"]  # a monthly job: one run for the month


async def test_housekeeping_purges_abandoned_signups_and_stale_codes(
    sessions: async_sessionmaker,
) -> None:
    now = at(date(2027, 4, 10), 4)
    old, recent = now - timedelta(days=31), now - timedelta(days=5)
    abandoned = await add_customer(sessions, status="pending", created_at=old)
    midway = await add_customer(sessions, status="pending", created_at=recent)
    member = await add_customer(sessions, created_at=old)
    async with sessions() as session:
        session.add_all(
            [
                FsmRecord(key="fsm:1:1:1", state="Signup:city", data={"x": 1}, updated_at=old),
                FsmRecord(key="fsm:1:2:2", state="Signup:city", data={"x": 1}, updated_at=recent),
                StaffInvite(role="cashier", created_by=1, expires_at=now - timedelta(hours=1)),
                StaffInvite(role="cashier", created_by=1, expires_at=old, used_by=5, used_at=old),
                StaffInvite(role="cashier", created_by=1, expires_at=now + timedelta(hours=1)),
                ReceiptToken(
                    amount=100,
                    receipt_id="R1",
                    store="s",
                    issued_at=now - timedelta(days=2),
                ),
                ReceiptToken(
                    amount=100,
                    receipt_id="R2",
                    store="s",
                    issued_at=now - timedelta(days=2),
                    claimed_by=member,
                    claimed_at=now - timedelta(days=2),
                ),
                ReceiptToken(
                    amount=100,
                    receipt_id="R3",
                    store="s",
                    issued_at=now - timedelta(hours=1),
                ),
            ]
        )
        await session.commit()
    result = await run_period(
        sessions, CONFIG, JobName.HOUSEKEEPING, now.date(), owner="a", now=now
    )
    assert result.counts.done == 4
    async with sessions() as session:
        customers = set(await session.scalars(select(Customer.id)))
        forms = set(await session.scalars(select(FsmRecord.key)))
        invites = len(list(await session.scalars(select(StaffInvite.id))))
        receipts = set(await session.scalars(select(ReceiptToken.receipt_id)))
    assert abandoned not in customers and {midway, member} <= customers
    assert forms == {"fsm:1:2:2"}
    assert invites == 2
    assert receipts == {"R2", "R3"}


async def test_a_job_turned_off_sends_nothing_for_the_days_it_was_off(
    sessions: async_sessionmaker,
) -> None:
    off_day, on_day = date(2027, 9, 9), date(2027, 9, 10)
    await add_customer(sessions, off_day.replace(year=1990))
    greeted = await add_customer(sessions, on_day.replace(year=1990))
    async with sessions() as session:
        await set_enabled(session, "birthday", False, by="owner:1", actor=SHELL)
    off = await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="a", now=at(off_day, 10))
    assert [r.outcome for r in off] == [RunOutcome.DISABLED]
    async with sessions() as session:
        jobs = {job.name: job for job in await statuses(session, CONFIG, at(off_day, 10))}
    assert jobs["birthday"].enabled is False and jobs["housekeeping"].enabled is True
    assert jobs["birthday"].next_run == at(on_day, 10)
    assert (jobs["birthday"].last_period, jobs["birthday"].last_state) == ("2027-09-09", "skipped")

    # Turned on again (in another process, without a restart): no belated greeting for the 9th.
    async with sessions() as session:
        await set_enabled(session, "birthday", True, by="owner:1", actor=SHELL)
    assert await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=at(off_day, 11)) == []
    on = await run_due(sessions, CONFIG, JobName.BIRTHDAY, owner="b", now=at(on_day, 10))
    assert [(r.period, r.outcome) for r in on] == [("2027-09-10", RunOutcome.DONE)]
    assert [d.customer_id for d in await sent(sessions, "birthday")] == [greeted]
    async with sessions() as session:
        jobs = {job.name: job for job in await statuses(session, CONFIG, at(on_day, 10))}
    assert (jobs["birthday"].last_period, jobs["birthday"].last_done) == ("2027-09-10", 1)
