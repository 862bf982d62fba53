"""Sources and the signed links that name them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from db.repositories import events
from db.repositories import sources as source_repo

log = logging.getLogger(__name__)
SOURCE_KIND = "s"


@dataclass(frozen=True)
class SourceLink:
    id: int
    store: str
    campaign: str
    employee: str
    payload: str


async def create_source(
    session: AsyncSession, link_key: bytes, store: str, campaign: str = "", employee: str = ""
) -> SourceLink:
    source = await source_repo.add(session, store.strip(), campaign.strip(), employee.strip())
    await session.commit()
    payload = links.sign(link_key, SOURCE_KIND, source.id)
    return SourceLink(source.id, source.store, source.campaign, source.employee, payload)


async def resolve_start(session: AsyncSession, link_key: bytes, payload: str | None) -> int | None:
    """The source a `/start` payload names, recording the open; None means "unknown".

    A forged, truncated, disabled or unknown payload is the customer's problem only in that the
    shop loses the attribution: it is logged for the owner and signup goes on.
    """
    source_id: int | None = None
    if payload:
        ref = links.verify(link_key, payload)
        if ref is None or ref.kind != SOURCE_KIND:
            log.warning("start payload rejected: bad signature payload=%.64r", payload)
        else:
            source = await source_repo.get(session, ref.id)
            if source is None or not source.enabled:
                log.warning("start payload rejected: source %s unknown or disabled", ref.id)
            else:
                source_id = source.id
    await events.add_funnel_event(session, "opened", source_id)
    return source_id
