"""A reminder a few days before points lapse, with the amount and the date, once per date."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.schedule import local_day_bounds
from bot.services.jobs.context import PAGE, JobCounts, RunContext, own_texts
from db.repositories import jobs as repo

KIND = "points_expiring"


async def run(ctx: RunContext, day: date) -> JobCounts:
    """Remind everyone whose points lapse on the local day `expiring_points_days` after `day`."""
    lapse_day = day + timedelta(days=ctx.config.expiring_points_days)
    start, end = local_day_bounds(lapse_day, ctx.config.zone)
    async with ctx.sessions() as session:
        lapsing = await repo.expiring_points(session, start, end)
    done = skipped = 0
    for first in range(0, len(lapsing), PAGE):
        async with ctx.sessions() as session:
            for customer_id, points in lapsing[first : first + PAGE]:
                queued = await repo.enqueue_once(
                    session,
                    KIND,
                    {"points": points, "date": lapse_day.isoformat(), **own_texts(ctx)},
                    customer_id=customer_id,
                    dedup_key=f"{KIND}:{customer_id}:{lapse_day.isoformat()}",
                )
                done, skipped = (done + 1, skipped) if queued else (done, skipped + 1)
            await session.commit()
        await ctx.heartbeat()
    return JobCounts(done, skipped)
