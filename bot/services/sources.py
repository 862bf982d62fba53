"""Sources (store, campaign, employee), the signed links that name them, and the funnel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from bot.services.permissions import Action, Actor, require
from bot.services.staff import StaffMember
from db.models import Source
from db.repositories import events
from db.repositories import sources as source_repo
from db.repositories import staff as staff_repo

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
    staff_id: int | None = None  # the member of staff an employee code belongs to

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
        source.id,
        source.store,
        source.campaign,
        source.employee,
        payload,
        source.enabled,
        source.staff_id,
    )


def _clean(value: str) -> str:
    return " ".join(value.split())[:100]


@dataclass(frozen=True)
class Employee:
    """A member of staff a QR code can be made for (`/qr` offers them as buttons)."""

    staff_id: int
    name: str
    store: str


async def create_source(
    session: AsyncSession,
    link_key: bytes,
    store: str,
    campaign: str = "",
    employee: str = "",
    *,
    by: Actor,
    staff_id: int | None = None,
) -> SourceLink:
    require(by, Action.MAKE_QR)
    source = await source_repo.add(
        session, _clean(store), _clean(campaign), _clean(employee), staff_id
    )
    await session.commit()
    return _link(link_key, source)


async def employees(session: AsyncSession, by: Actor) -> list[Employee]:
    """The active members of staff with a name, by name: whom an employee QR code can name."""
    require(by, Action.MAKE_QR)
    return sorted(
        (
            Employee(row.id, _clean(row.name), row.store)
            for row in await staff_repo.members(session)
            if row.active and _clean(row.name)
        ),
        key=lambda e: (e.name.casefold(), e.staff_id),
    )


async def source_for(
    session: AsyncSession,
    link_key: bytes,
    store: str,
    campaign: str = "",
    employee: str = "",
    *,
    by: Actor,
    staff_id: int | None = None,
) -> SourceLink:
    """The source with these names, created on first use, so reprinting gives the same QR.

    With `staff_id` the code is that member of staff's (their name is the employee's): an
    older code with the same names linked to nobody is linked to them and reused."""
    require(by, Action.MAKE_QR)
    if staff_id is not None:
        member = await staff_repo.by_id(session, staff_id)
        if member is None or not member.active:
            raise ValueError("no such member of staff")
        employee = member.name
    store, campaign, employee = _clean(store), _clean(campaign), _clean(employee)
    if not store:
        raise ValueError("a source needs a store name")
    existing = await source_repo.find(session, store, campaign, employee, staff_id)
    if existing is None and staff_id is not None:
        existing = await source_repo.find(session, store, campaign, employee, unlinked=True)
        if existing is not None:
            if await source_repo.link_staff(session, existing.id, staff_id):
                await session.commit()
            await session.refresh(existing)
    if existing is not None:
        return _link(link_key, existing)
    return await create_source(
        session, link_key, store, campaign, employee, by=by, staff_id=staff_id
    )


async def attributed_source_ids(session: AsyncSession, member: StaffMember) -> list[int]:
    """The QR codes linked to `member` (`sources.staff_id`): their customers are those who
    signed up through them. Linked codes only; no name matching (old codes were linked by
    name once, by migration 0015_source_staff). An owner from OWNER_IDS has no staff row and
    so no codes of their own."""
    row = await staff_repo.member(session, member.telegram_id)
    if row is None:
        return []
    return await source_repo.ids_of_staff(session, row.id)


async def list_sources(session: AsyncSession, link_key: bytes) -> list[SourceLink]:
    return [_link(link_key, source) for source in await source_repo.all_sources(session)]


async def set_enabled(session: AsyncSession, source_id: int, enabled: bool, *, by: Actor) -> bool:
    """Disable a lost or retired QR code: its scans then count as "unknown"."""
    require(by, Action.MAKE_QR)
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
