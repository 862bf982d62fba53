"""Privacy housekeeping: what is kept only while it serves a purpose is deleted after it.

Abandoned signups (a pending customer and half-filled forms) go after `pending_purge_days`;
staff invites nobody used, purchase QRs nobody scanned and messenger link codes nobody
confirmed (they name a WhatsApp number) go once their window has passed. A purged signup
takes its messenger accounts, their chat forms and link codes with it.
Customers who withdraw consent need nothing here: `privacy.forget` deletes them at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.services.jobs.context import JobCounts, RunContext
from db.repositories import identities
from db.repositories import jobs as repo


async def run(ctx: RunContext, day: date) -> JobCounts:
    cutoff = ctx.now - timedelta(days=ctx.config.pending_purge_days)
    async with ctx.sessions() as session:
        purged = (
            await repo.purge_pending_customers(session, cutoff)
            + await repo.purge_forms(session, cutoff)
            + await repo.purge_staff_invites(session, ctx.now)
            + await repo.purge_receipt_tokens(session, ctx.now - ctx.config.receipt_window)
            + await identities.purge_links(session, ctx.now)
        )
        await session.commit()
    return JobCounts(purged, 0)
