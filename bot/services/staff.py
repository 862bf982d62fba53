"""The shop's people: owners (from settings) and cashiers (added by a one-time invite).

This is the one permission check: every handler asks `role_of`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from db.base import utcnow
from db.models import Staff, StaffInvite

INVITE_KIND = "i"
INVITE_LIFETIME = timedelta(hours=24)
# Every cashier update asks for the role; the answer is kept this long (seconds). A change made
# by this process is seen at once (`_forget_roles`); one made by another process within this.
ROLE_TTL = 30.0


class Role(StrEnum):
    OWNER = "owner"
    CASHIER = "cashier"


@dataclass(frozen=True)
class StaffMember:
    telegram_id: int
    role: Role
    store: str = ""

    @property
    def actor(self) -> str:
        """How the ledger names who did it."""
        return f"{self.role}:{self.telegram_id}"


# Roles read from each database (keyed by its engine): telegram id -> (valid until, role).
_roles: WeakKeyDictionary[Engine, dict[int, tuple[float, StaffMember | None]]] = WeakKeyDictionary()


def _known_roles(session: AsyncSession) -> dict[int, tuple[float, StaffMember | None]]:
    bind = session.get_bind()
    return _roles.setdefault(bind if isinstance(bind, Engine) else bind.engine, {})


def _forget_roles(session: AsyncSession) -> None:
    """Staff changed: every role is read again. Call it wherever staff rows change."""
    _known_roles(session).clear()


async def role_of(
    session: AsyncSession, owner_ids: list[int], telegram_id: int
) -> StaffMember | None:
    if telegram_id in owner_ids:
        return StaffMember(telegram_id, Role.OWNER)
    known = _known_roles(session)
    now = time.monotonic()
    if (hit := known.get(telegram_id)) is not None and hit[0] > now:
        return hit[1]
    staff = await session.scalar(
        select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
    )
    member = StaffMember(telegram_id, Role(staff.role), staff.store) if staff else None
    known[telegram_id] = (now + ROLE_TTL, member)
    return member


async def create_invite(
    session: AsyncSession,
    link_key: bytes,
    created_by: int,
    store: str = "",
    role: Role = Role.CASHIER,
    now: datetime | None = None,
) -> str:
    """A signed one-time payload; whoever opens it first within a day joins the staff."""
    now = now or utcnow()
    invite = StaffInvite(
        role=role,
        store=" ".join(store.split())[:100],
        created_by=created_by,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    session.add(invite)
    await session.commit()
    return links.sign(link_key, INVITE_KIND, invite.id)


async def accept_invite(
    session: AsyncSession,
    link_key: bytes,
    payload: str,
    telegram_id: int,
    name: str,
    now: datetime | None = None,
) -> StaffMember | None:
    """The new member of staff; None for a forged, expired or someone else's used invite."""
    now = now or utcnow()
    ref = links.verify(link_key, payload)
    invite = await session.get(StaffInvite, ref.id) if ref and ref.kind == INVITE_KIND else None
    if invite is None or invite.expires_at <= now:
        return None
    if invite.used_by is not None:  # a double tap by the same person still succeeds
        same = invite.used_by == telegram_id
        return StaffMember(telegram_id, Role(invite.role), invite.store) if same else None
    invite.used_by, invite.used_at = telegram_id, now
    staff = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
    if staff is None:
        staff = Staff(telegram_id=telegram_id)
        session.add(staff)
    staff.role, staff.store, staff.name, staff.active = invite.role, invite.store, name[:100], True
    await session.commit()
    _forget_roles(session)
    return StaffMember(telegram_id, Role(invite.role), invite.store)
