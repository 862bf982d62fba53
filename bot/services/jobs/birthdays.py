"""Birthday greetings with a bonus: one per customer per birthday, however often the job runs.

The bonus lot (ledger key `birthday:{customer}:{year}`) and the greeting (outbox key of the same
shape) are written in one transaction per customer: a crash leaves either both or neither.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.domain.schedule import birthday_dates
from bot.services import ledger
from bot.services.jobs.context import PAGE, JobCounts, RunContext, own_texts
from db.repositories import jobs as repo

KIND = "birthday"


async def run(ctx: RunContext, day: date) -> JobCounts:
    """Greet everyone whose birthday is `birthday_days_before` days after `day`."""
    config = ctx.config
    birthday, born = birthday_dates(day, config.birthday_days_before)
    # The birthday gift lapses on its own schedule, not the other bonuses'.
    program = replace(config.program, bonus_points_days=config.birthday_bonus_days)
    expires = (ctx.now + timedelta(days=config.birthday_bonus_days)).astimezone(config.zone)
    payload = {
        "bonus": config.program.birthday_bonus,
        "expires": expires.date().isoformat(),
        **own_texts(ctx),
    }
    async with ctx.sessions() as session:
        customers = await repo.birthday_customers(session, born)
    done = skipped = 0
    for number, customer_id in enumerate(customers, 1):
        key = f"{KIND}:{customer_id}:{birthday.year}"
        async with ctx.sessions() as session:
            if await repo.enqueue_once(
                session, KIND, payload, customer_id=customer_id, dedup_key=key
            ):
                await ledger.add_bonus(
                    session,
                    program,
                    customer_id,
                    config.program.birthday_bonus,
                    key=key,
                    reason="birthday",
                    now=ctx.now,
                )
                done += 1
            else:
                skipped += 1
            await session.commit()
        if number % PAGE == 0:
            await ctx.heartbeat()
    return JobCounts(done, skipped)
