"""The owner's wording of the scheduled jobs' messages (`/schedule`), per language.

Empty means the default text from bot/texts. A text may use only its job's placeholders (e.g.
`{points}`); it is checked when saved, HTML-escaped when sent, and queued with each message, so a
change reaches the next run and never a message already queued. Changes are audited.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.audit import Channel
from bot.services.permissions import Action, Actor
from bot.services.program import actor_for
from db.base import utcnow
from db.repositories import program as repo

TEXT_LIMIT = 1000
LANGUAGES = ("ru", "en")
AUDIT_ACTION = "job_text_change"
# The jobs that send a message, with the placeholders their text may use.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "birthday": (),
    "expiring_points": ("points", "date"),
    "balance_digest": ("points", "tier"),
}


class JobTextError(ValueError):
    """`reason`: `job` (no such job or language), `length`, or `placeholder` (`allowed` lists
    the ones this job's text may use)."""

    def __init__(self, reason: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.allowed = allowed


@dataclass(frozen=True)
class JobTextChange:
    job: str
    language: str
    old: str | None
    new: str | None


def clean(job: str, language: str, text: str) -> str | None:
    """The text as it will be stored (None: back to the default), or JobTextError."""
    if job not in PLACEHOLDERS or language not in LANGUAGES:
        raise JobTextError("job")
    text = text.strip()
    if not text:
        return None
    if len(text) > TEXT_LIMIT:
        raise JobTextError("length")
    allowed = PLACEHOLDERS[job]
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError:
        raise JobTextError("placeholder", allowed) from None
    if any(field not in allowed for field in fields):
        raise JobTextError("placeholder", allowed)
    return text


async def texts_of(session: AsyncSession) -> dict[str, dict[str, str]]:
    """job → language → the owner's text, for the jobs that have one."""
    return await repo.job_texts(session)


async def set_text(
    session: AsyncSession,
    job: str,
    language: str,
    text: str | None,
    *,
    by: Actor,
    channel: Channel,
    shell_user: str = "",
) -> JobTextChange:
    """Store (or with None/empty, drop) the owner's text; audited and committed. Only an owner
    (or the shell): NotAllowedError otherwise."""
    actor = actor_for(by, channel, shell_user, Action.SCHEDULE)
    new = clean(job, language, text or "")
    old = (await repo.job_texts(session, job)).get(job, {}).get(language)
    if old == new:
        return JobTextChange(job, language, old, new)
    await repo.set_job_text(session, job, language, new, actor, utcnow())
    await audit.record(
        session,
        actor,
        channel,
        AUDIT_ACTION,
        f"{job}:{language}",
        old_length=len(old or ""),
        new_length=len(new or ""),
    )
    await session.commit()
    return JobTextChange(job, language, old, new)
