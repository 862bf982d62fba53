"""The scheduler's SQL: run claims and leases, job switches, the daily selections, housekeeping.

Repositories flush at most; the job services own their transactions. A day's selection (its
birthdays, its lapsing lots) is read in one indexed query as bare ids and numbers, a few
thousand in a million-customer base; the digest, which reaches every consenting customer,
pages by customer id instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    OPEN_LOT,
    Customer,
    FsmRecord,
    Identity,
    IdentityLink,
    JobRun,
    JobSetting,
    LedgerEntry,
    Purchase,
    ReceiptToken,
    StaffInvite,
)
from db.repositories import deliveries
from db.repositories.rows import insert_unique, rows_changed

_ACTIVE = Customer.status == "active"


async def claim_run(
    session: AsyncSession,
    job: str,
    period: str,
    owner: str,
    now: datetime,
    lease_until: datetime,
    *,
    rerun_done: bool = False,
) -> bool:
    """Take the (job, period) run: a new row, or a failed run, or one whose holder's lease lapsed.

    The unique (job, period) decides between two processes inserting at once; the conditional
    UPDATE decides between two taking over the same lapsed run. Never read-then-write.
    """
    fresh = JobRun(
        job=job,
        period=period,
        state="running",
        owner=owner,
        started_at=now,
        lease_until=lease_until,
        attempts=1,
        done=0,
        skipped=0,
        error="",
    )
    if await insert_unique(session, fresh):
        return True
    takeable = ["failed", "done"] if rerun_done else ["failed"]
    result = await session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.period == period,
            or_(
                JobRun.state.in_(takeable),
                and_(JobRun.state == "running", JobRun.lease_until <= now),
            ),
        )
        .values(
            state="running",
            owner=owner,
            started_at=now,
            finished_at=None,
            lease_until=lease_until,
            attempts=JobRun.attempts + 1,
            done=0,
            skipped=0,
            error="",
        )
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def renew_lease(
    session: AsyncSession, job: str, period: str, owner: str, lease_until: datetime
) -> bool:
    """Extend the lease; False when another process has taken the run over meanwhile."""
    result = await session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.period == period,
            JobRun.owner == owner,
            JobRun.state == "running",
        )
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def finish_run(
    session: AsyncSession,
    job: str,
    period: str,
    owner: str,
    *,
    state: str,
    now: datetime,
    done: int,
    skipped: int,
    error: str = "",
) -> bool:
    result = await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.owner == owner)
        .values(state=state, finished_at=now, done=done, skipped=skipped, error=error[:200])
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def first_period(session: AsyncSession, job: str) -> str | None:
    """The earliest period this job ever ran for: catch-up never reaches back before it."""
    return await session.scalar(select(func.min(JobRun.period)).where(JobRun.job == job))


async def latest_done_period(session: AsyncSession, job: str) -> str | None:
    return await session.scalar(
        select(func.max(JobRun.period)).where(
            JobRun.job == job, JobRun.state.in_(("done", "skipped"))
        )
    )


async def done_periods(session: AsyncSession, job: str, since: str) -> set[str]:
    """Periods closed for good: run to the end, or skipped because the job was off."""
    rows = await session.scalars(
        select(JobRun.period).where(
            JobRun.job == job, JobRun.period >= since, JobRun.state.in_(("done", "skipped"))
        )
    )
    return set(rows)


async def last_runs(session: AsyncSession) -> dict[str, JobRun]:
    """The latest period's run of every job (one row per job, however long the history)."""
    latest = (
        select(JobRun.job, func.max(JobRun.period).label("period")).group_by(JobRun.job).subquery()
    )
    rows = await session.scalars(
        select(JobRun).join(
            latest, and_(JobRun.job == latest.c.job, JobRun.period == latest.c.period)
        )
    )
    return {run.job: run for run in rows}


async def switches(session: AsyncSession) -> dict[str, bool]:
    rows = await session.execute(select(JobSetting.job, JobSetting.enabled))
    return {job: enabled for job, enabled in rows}


async def set_switch(
    session: AsyncSession, job: str, enabled: bool, by: str, now: datetime
) -> None:
    """Upsert in the portable way: update, and insert when there was nothing to update."""
    result = await session.execute(
        update(JobSetting)
        .where(JobSetting.job == job)
        .values(enabled=enabled, updated_at=now, updated_by=by)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(result) and not await insert_unique(
        session, JobSetting(job=job, enabled=enabled, updated_at=now, updated_by=by)
    ):
        await set_switch(session, job, enabled, by, now)  # an owner in another chat was first


async def enqueue_once(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    customer_id: int,
    dedup_key: str,
    advertising: bool = False,
) -> bool:
    """Queue a message unless its (job, customer, period) key is already queued; True if new.

    Inside a savepoint: a clash rolls back this insert only, and on PostgreSQL a second process
    inserting the same key waits for the first to commit and then finds the clash.
    """
    try:
        async with session.begin_nested():
            await deliveries.enqueue(
                session,
                kind,
                payload,
                customer_id=customer_id,
                advertising=advertising,
                dedup_key=dedup_key,
            )
    except IntegrityError:
        return False
    return True


async def birthday_customers(session: AsyncSession, born: Sequence[date]) -> list[int]:
    """Active customers born on any of these dates (one index probe per date)."""
    rows = await session.scalars(
        select(Customer.id).where(Customer.birthday.in_(born), _ACTIVE).order_by(Customer.id)
    )
    return list(rows)


async def expiring_points(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """(customer id, points) of active customers' open lots that lapse in [start, end)."""
    rows = await session.execute(
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.remaining))
        .join(Customer, Customer.id == LedgerEntry.customer_id)
        .where(
            OPEN_LOT,
            LedgerEntry.expires_at >= start,
            LedgerEntry.expires_at < end,
            _ACTIVE,
        )
        .group_by(LedgerEntry.customer_id)
        .order_by(LedgerEntry.customer_id)
    )
    return [(customer_id, int(points or 0)) for customer_id, points in rows]


async def customers_with_lapsed_lots(session: AsyncSession, now: datetime) -> list[int]:
    """Customers holding open lots whose time is up; after a nightly run, only today's.

    Deduplicated here, not by GROUP BY: grouping in SQL makes SQLite walk the (customer,
    remaining) index over every lot instead of the few lapsed ones the expiry index finds.
    """
    rows = await session.scalars(
        select(LedgerEntry.customer_id).where(OPEN_LOT, LedgerEntry.expires_at <= now)
    )
    return sorted(set(rows))


async def digest_page(
    session: AsyncSession, now: datetime, after_id: int, limit: int
) -> list[tuple[int, int, int]]:
    """(customer id, spendable points, spend) for active customers who accept advertising."""
    live = or_(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at > now)
    points = (
        select(func.coalesce(func.sum(LedgerEntry.remaining), 0))
        .where(LedgerEntry.customer_id == Customer.id, OPEN_LOT, live)
        .correlate(Customer)
        .scalar_subquery()
    )
    spend = (
        select(func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0))
        .where(Purchase.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Customer.id, points, spend)
        .where(_ACTIVE, Customer.ads_opt_in.is_(True), Customer.id > after_id)
        .order_by(Customer.id)
        .limit(limit)
    )
    return [(customer_id, int(held), int(spent)) for customer_id, held, spent in rows]


async def purge_pending_customers(session: AsyncSession, created_before: datetime) -> int:
    """Signups abandoned before the last answer; their consents go with them (cascade).

    A pending row that holds ledger entries took over an imported customer (their points) at
    the phone step: it stays, the shop's records of that person are not purged with a form."""
    holds_points = select(LedgerEntry.id).where(LedgerEntry.customer_id == Customer.id).exists()
    doomed = select(Customer.id).where(
        Customer.status == "pending",
        Customer.created_at < created_before,
        ~holds_points,
    )
    # What is keyed by their messenger accounts (a WhatsApp account is the phone number) goes
    # with them: the chat's form and any link code offered to the account.
    accounts = select(Identity.channel + ":" + Identity.account_id).where(
        Identity.customer_id.in_(doomed)
    )
    await session.execute(
        delete(FsmRecord)
        .where(FsmRecord.key.in_(accounts))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(IdentityLink)
        .where((IdentityLink.channel + ":" + IdentityLink.account_id).in_(accounts))
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        delete(Customer).where(Customer.id.in_(doomed)).execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def purge_forms(session: AsyncSession, updated_before: datetime) -> int:
    result = await session.execute(
        delete(FsmRecord)
        .where(FsmRecord.updated_at < updated_before)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def purge_staff_invites(session: AsyncSession, now: datetime) -> int:
    """Invites nobody used in time; used ones stay as the record of who invited whom."""
    result = await session.execute(
        delete(StaffInvite)
        .where(StaffInvite.used_by.is_(None), StaffInvite.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def purge_receipt_tokens(session: AsyncSession, issued_before: datetime) -> int:
    """Purchase QRs nobody scanned in their window; claimed ones stay with their purchase."""
    result = await session.execute(
        delete(ReceiptToken)
        .where(ReceiptToken.claimed_by.is_(None), ReceiptToken.issued_at < issued_before)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)
