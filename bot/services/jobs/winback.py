"""Win-back: a personal promo code for customers who have not bought for a while.

A customer whose last purchase is older than `winback_days` gets a personal code of the
window's win-back promotion (kind and value from settings, valid `winback_code_days`), at most
once per `winback_every_days`. It is advertising: only customers with advertising consent are
selected, and the message is queued with `advertising=True`, so the delivery engine applies
quiet hours, the frequency cap and the unsubscribe button.

Exactly once per (customer, window): windows are `winback_every_days` long, counted from
1970-01-01 in the shop's calendar; each has its own promotion (`system_key` winback:{window}:…)
in which a customer has at most one code (unique key), and the message is keyed
`winback:{customer}:{window}` in the outbox. The selection skips anyone given a win-back code
in the last `winback_every_days`, so two codes are never closer than that, even across the
boundary of two windows. A rerun, a catch-up or a second process adds nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.domain.promos import Kind
from bot.services import promos
from bot.services.jobs.context import PAGE, JobCounts, RunContext
from db.repositories import jobs as job_repo
from db.repositories import promos as repo

KIND = "winback"
EPOCH = date(1970, 1, 1)


def window_of(day: date, every_days: int) -> int:
    return (day - EPOCH).days // every_days


async def run(ctx: RunContext, day: date) -> JobCounts:
    config = ctx.config
    window = window_of(day, config.winback_every_days)
    kind = Kind(config.winback_kind)
    key = f"{repo.WINBACK_PREFIX}{window}:{kind.value}:{config.winback_value}"
    expires = ctx.now + timedelta(days=config.winback_code_days)
    payload = {
        "kind": kind.value,
        "value": config.winback_value,
        "expires": expires.astimezone(config.zone).date().isoformat(),
    }
    async with ctx.sessions() as session:
        promotion = await promos.system_promotion(
            session, key, name=config.winback_name, kind=kind,
            value=config.winback_value, now=ctx.now,
        )  # fmt: skip
        await session.commit()
    # Calendar days, not hours: a code given on day D allows the next on day D + every_days.
    since = day - timedelta(days=config.winback_every_days - 1)
    spaced_since = datetime.combine(since, time(), config.zone).astimezone(UTC)
    done = skipped = after = 0
    while True:
        async with ctx.sessions() as session:
            page = await repo.winback_page(
                session,
                quiet_before=ctx.now - timedelta(days=config.winback_days),
                spaced_since=spaced_since,
                after_id=after,
                limit=PAGE,
            )
            # One INSERT for the page; a customer who has this window's code keeps it.
            codes = await promos.issue_personal_codes(
                session, promotion, page, expires_at=expires, now=ctx.now
            )
            for customer_id in page:
                queued = await job_repo.enqueue_once(
                    session,
                    KIND,
                    {**payload, "code": codes[customer_id]},
                    customer_id=customer_id,
                    dedup_key=f"{KIND}:{customer_id}:{window}",
                    advertising=True,
                )
                done, skipped = (done + 1, skipped) if queued else (done, skipped + 1)
            await session.commit()
        if len(page) < PAGE:
            return JobCounts(done, skipped)
        after = page[-1]
        await ctx.heartbeat()
