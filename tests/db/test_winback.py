"""The win-back job with a controlled clock: who gets a code, exactly once per window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.services import ledger, promos
from bot.services.jobs.runner import JobName, RunOutcome, run_period, statuses
from db.models import Delivery, PromoCode
from tests.db.test_jobs import CONFIG, PROGRAM, add_customer, at

DAY = date(2026, 6, 1)
NOW = at(DAY, 13)
WINBACK = replace(CONFIG, winback_days=60, winback_every_days=90, winback_code_days=30)


async def _bought(sessions: async_sessionmaker, customer: int, days_ago: int) -> None:
    async with sessions() as session:
        await ledger.record_purchase(
            session,
            PROGRAM,
            customer,
            1000_00,
            channel="test",
            actor="t",
            now=NOW - timedelta(days=days_ago),
        )


async def _winbacks(sessions: async_sessionmaker) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.kind == "winback").order_by(Delivery.id)
        )
        return list(rows)


async def _run(sessions: async_sessionmaker, day: date, **kw: object):
    return await run_period(
        sessions, WINBACK, JobName.WINBACK, day, owner="a", now=at(day, 13), **kw
    )


async def test_a_quiet_customer_with_consent_gets_one_code_per_window(
    sessions: async_sessionmaker,
) -> None:
    gone = await add_customer(sessions, ads=True)
    no_consent = await add_customer(sessions, ads=False)
    recent = await add_customer(sessions, ads=True)
    never_bought = await add_customer(sessions, ads=True)
    await _bought(sessions, gone, 70)
    await _bought(sessions, no_consent, 70)
    await _bought(sessions, recent, 10)
    await _bought(sessions, gone, 65)  # the latest purchase counts

    first = await _run(sessions, DAY)
    assert first.outcome is RunOutcome.DONE and first.counts.done == 1
    [sent] = await _winbacks(sessions)
    assert sent.customer_id == gone and sent.advertising is True
    assert sent.dedup_key == f"winback:{gone}:{(DAY - date(1970, 1, 1)).days // 90}"
    assert sent.payload["kind"] == "percent" and sent.payload["value"] == 10
    assert sent.payload["expires"] == (DAY + timedelta(days=30)).isoformat()
    async with sessions() as session:
        stored = await session.scalar(select(PromoCode.code).where(PromoCode.customer_id == gone))
    assert stored is not None and sent.payload["code"] == f"{stored[:4]}-{stored[4:]}"
    assert never_bought not in {d.customer_id for d in await _winbacks(sessions)}

    # Forced again, and on the following days: nobody gets a second code within 90 days.
    again = await _run(sessions, DAY, rerun_done=True)
    assert again.outcome is RunOutcome.DONE and again.counts.done == 0
    for later in (1, 30, 89):
        await _run(sessions, DAY + timedelta(days=later))
    # The one who bought 10 days before DAY went quiet meanwhile (60 days): their code came.
    assert [d.customer_id for d in await _winbacks(sessions)] == [gone, recent]

    # 90 days on, still gone: one more code, in the next window.
    result = await _run(sessions, DAY + timedelta(days=90))
    assert result.counts.done == 1
    codes = [d.payload["code"] for d in await _winbacks(sessions) if d.customer_id == gone]
    assert len(codes) == 2 and codes[0] != codes[1]
    assert no_consent not in {d.customer_id for d in await _winbacks(sessions)}

    # The code is the customer's own and takes 10 % off at the till.
    async with sessions() as session:
        sale = await promos.record_sale(
            session,
            PROGRAM,
            gone,
            1000_00,
            code=codes[1],
            guard=promos.GuessGuard(5, 900),
            channel="test",
            actor="t",
            now=at(DAY + timedelta(days=91), 12),
        )
    assert sale.promo is not None and sale.purchase.amount == 900_00


async def test_the_job_is_listed_with_the_others(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        names = [job.name for job in await statuses(session, WINBACK, NOW)]
    assert "winback" in names


def test_the_message_shows_the_code_in_both_languages() -> None:
    from bot.telegram.delivery import render_text
    from bot.texts import texts_for

    payload = {"code": "K7QM-3XWP", "kind": "fixed", "value": 300_00, "expires": "2026-07-01"}
    ru = render_text(texts_for("ru"), PROGRAM, "winback", payload)
    en = render_text(texts_for("en"), PROGRAM, "winback", payload)
    assert "<code>K7QM-3XWP</code>: скидка 300\u00a0₽. Действует до 01.07.2026" in ru
    assert "<code>K7QM-3XWP</code>: 300\u00a0₽ off. Valid until 01.07.2026" in en
