"""The program's settings and the jobs' texts as the owner set them (key → text value)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import JobText, ProgramSetting
from db.repositories.rows import InsertOnce, insert_unique, rows_changed, table_of

_SETTINGS = table_of(ProgramSetting)
_SEED = InsertOnce(_SETTINGS, [_SETTINGS.c.key])
_VALUES = select(ProgramSetting.key, ProgramSetting.value)


async def values(session: AsyncSession) -> dict[str, str]:
    return {key: value for key, value in await session.execute(_VALUES)}


async def seed(session: AsyncSession, values: Mapping[str, str], now: datetime) -> None:
    """Insert the keys the table lacks; a key already there (the owner's value) stays."""
    for key, value in values.items():
        await session.execute(
            _SEED(session).values(key=key, value=value, updated_at=now, updated_by="env")
        )


async def set_value(
    session: AsyncSession, key: str, old: str | None, new: str, by: str, now: datetime
) -> bool:
    """Change `key` only if it still holds `old` (the stored text the change was based on);
    False if it changed meanwhile. `old` None: the key was never stored, insert it."""
    if old is None:
        return await insert_unique(
            session, ProgramSetting(key=key, value=new, updated_at=now, updated_by=by)
        )
    result = await session.execute(
        update(ProgramSetting)
        .where(ProgramSetting.key == key, ProgramSetting.value == old)
        .values(value=new, updated_at=now, updated_by=by)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def job_texts(session: AsyncSession, job: str | None = None) -> dict[str, dict[str, str]]:
    """job → language → the owner's text."""
    query = select(JobText.job, JobText.language, JobText.text)
    if job is not None:
        query = query.where(JobText.job == job)
    found: dict[str, dict[str, str]] = {}
    for name, language, text in await session.execute(query):
        found.setdefault(name, {})[language] = text
    return found


async def set_job_text(
    session: AsyncSession, job: str, language: str, text: str | None, by: str, now: datetime
) -> None:
    """The owner's text (None: back to the default); update, else insert."""
    if text is None:
        await session.execute(
            delete(JobText).where(JobText.job == job, JobText.language == language)
        )
        return
    result = await session.execute(
        update(JobText)
        .where(JobText.job == job, JobText.language == language)
        .values(text=text, updated_at=now, updated_by=by)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(result) and not await insert_unique(
        session, JobText(job=job, language=language, text=text, updated_at=now, updated_by=by)
    ):
        await set_job_text(session, job, language, text, by, now)
