"""Writing lapsed lots off on the day for everyone, so liability figures and balances are exact.

The ledger already writes a customer's lapsed lots off lazily at their next change; this job
uses the same rule (`ledger.expire_all_due`), one transaction per customer. A second run finds
nothing left to write off: the lots' state, not a key, makes it idempotent.
"""

from __future__ import annotations

from datetime import date

from bot.services import ledger
from bot.services.jobs.context import PAGE, JobCounts, RunContext
from db.repositories import jobs as repo


async def run(ctx: RunContext, day: date) -> JobCounts:
    """Write off every lot lapsed by the run's clock (`day` only names the period)."""
    async with ctx.sessions() as session:
        customers = await repo.customers_with_lapsed_lots(session, ctx.now)
    done = 0
    for number, customer_id in enumerate(customers, 1):
        async with ctx.sessions() as session:
            try:
                written_off = await ledger.expire_all_due(session, customer_id, ctx.now)
            except ledger.CustomerNotFoundError:  # withdrew consent meanwhile: nothing to do
                continue
            done += bool(written_off)
        if number % PAGE == 0:
            await ctx.heartbeat()
    return JobCounts(done, 0)
