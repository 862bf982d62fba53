"""Sources (store, campaign, employee), the signed links that name them, and the funnel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from db.models import Source
from db.repositories import events
from db.repositories import sources as source_repo

log = logging.getLogger(__name__)
SOURCE_KIND = "s"
# Funnel steps in the order a customer meets them; "first_purchase" comes with the loyalty ledger.
FUNNEL_STEPS = ("opened", "consent_given", "consent_declined", "completed", "first_purchase")


@dataclass(frozen=True)
class SourceLink:
    id: int
    store: str
    campaign: str
    employee: str
    payload: str
    enabled: bool = True

    def url(self, bot_username: str) -> str:
        return deep_link(bot_username, self.payload)

    @property
    def label(self) -> str:
        return " / ".join(part for part in (self.store, self.campaign, self.employee) if part)


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"


def whatsapp_link(number: str, line: str, payload: str) -> str:
    """`https://wa.me/<number>?text=<line + code>`: the chat opens with the code typed in."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(f'{line} {payload}'.strip())}"


def _link(link_key: bytes, source: Source) -> SourceLink:
    payload = links.sign(link_key, SOURCE_KIND, source.id)
    return SourceLink(
        source.id, source.store, source.campaign, source.employee, payload, source.enabled
    )


def _clean(value: str) -> str:
    return " ".join(value.split())[:100]


async def create_source(
    session: AsyncSession, link_key: bytes, store: str, campaign: str = "", employee: str = ""
) -> SourceLink:
    source = await source_repo.add(session, _clean(store), _clean(campaign), _clean(employee))
    await session.commit()
    return _link(link_key, source)


async def source_for(
    session: AsyncSession, link_key: bytes, store: str, campaign: str = "", employee: str = ""
) -> SourceLink:
    """The source with these names, created on first use, so reprinting gives the same QR."""
    store, campaign, employee = _clean(store), _clean(campaign), _clean(employee)
    if not store:
        raise ValueError("a source needs a store name")
    existing = await source_repo.find(session, store, campaign, employee)
    if existing is not None:
        return _link(link_key, existing)
    return await create_source(session, link_key, store, campaign, employee)


async def list_sources(session: AsyncSession, link_key: bytes) -> list[SourceLink]:
    return [_link(link_key, source) for source in await source_repo.all_sources(session)]


async def set_enabled(session: AsyncSession, source_id: int, enabled: bool) -> bool:
    """Disable a lost or retired QR code: its scans then count as "unknown"."""
    source = await source_repo.get(session, source_id)
    if source is None:
        return False
    source.enabled = enabled
    await session.commit()
    return True


async def resolve_start(
    session: AsyncSession, link_key: bytes, payload: str | None, channel: str = "telegram"
) -> int | None:
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
    await events.add_funnel_event(session, "opened", source_id, channel)
    return source_id


def stores_of(known: list[SourceLink]) -> list[str]:
    return sorted({link.store for link in known})


def campaigns_of(known: list[SourceLink], store: str) -> list[str]:
    return sorted({link.campaign for link in known if link.store == store and link.campaign})


def employees_of(known: list[SourceLink], store: str) -> list[str]:
    return sorted({link.employee for link in known if link.store == store and link.employee})
