"""A monthly message with the balance and tier.

There is no separate opt-in for digests, so the digest goes to customers who accepted
advertising (38-FZ) and is queued as advertising: the delivery engine applies quiet hours and
the frequency cap. Customers with no points get none: a balance of zero is not news.
"""

from __future__ import annotations

from datetime import date

from bot.services.jobs.context import PAGE, JobCounts, RunContext, own_texts
from db.repositories import jobs as repo

KIND = "balance_digest"


async def run(ctx: RunContext, day: date) -> JobCounts:
    month = f"{day:%Y-%m}"
    program = ctx.config.program
    done = skipped = after = 0
    while True:
        async with ctx.sessions() as session:
            page = await repo.digest_page(session, ctx.now, after, PAGE)
            for customer_id, points, spend in page:
                if points <= 0:
                    continue
                queued = await repo.enqueue_once(
                    session,
                    KIND,
                    {"points": points, "tier": program.tier_for(spend).name, **own_texts(ctx)},
                    customer_id=customer_id,
                    dedup_key=f"{KIND}:{customer_id}:{month}",
                    advertising=True,
                )
                done, skipped = (done + 1, skipped) if queued else (done, skipped + 1)
            await session.commit()
        if len(page) < PAGE:
            return JobCounts(done, skipped)
        after = page[-1][0]
        await ctx.heartbeat()
