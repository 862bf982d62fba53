"""The shop's people: owners (from settings or promoted), managers and cashiers (one-time invites).

`role_of` says who someone is; what each role may do is `bot.services.permissions`; taking
people on, changing roles and deactivating is `bot.services.team`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links
from db.base import utcnow
from db.models import StaffInvite
from db.repositories import staff as staff_repo

INVITE_KIND = "i"
INVITE_LIFETIME = timedelta(hours=24)
# Every cashier update asks for the role; the answer is kept this long (seconds). A change made
# by this process is seen at once (`_forget_roles`); one made by another process within this.
ROLE_TTL = 30.0


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
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


def forget_roles(session: AsyncSession) -> None:
    """Staff changed: this process reads every role again at once (others within ROLE_TTL)."""
    _forget_roles(session)


async def role_of(
    session: AsyncSession, owner_ids: list[int], telegram_id: int
) -> StaffMember | None:
    if telegram_id in owner_ids:
        return StaffMember(telegram_id, Role.OWNER)
    known = _known_roles(session)
    now = time.monotonic()
    if (hit := known.get(telegram_id)) is not None and hit[0] > now:
        return hit[1]
    staff = await staff_repo.active_member(session, telegram_id)
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
    """The new member of staff; None for a forged, expired or someone else's used invite.

    The invite is claimed with a conditional UPDATE before anything else is written: two people
    opening one link at the same moment cannot both pass a check and both become staff.
    """
    now = now or utcnow()
    ref = links.verify(link_key, payload)
    if ref is None or ref.kind != INVITE_KIND:
        return None
    if not await staff_repo.claim_invite(session, ref.id, telegram_id, now):
        await session.rollback()
        invite = await staff_repo.invite(session, ref.id)
        if invite is None or invite.used_by != telegram_id:
            return None
        # A double tap by the one who took it: they are staff already, say so again.
        return StaffMember(telegram_id, Role(invite.role), invite.store)
    invite = await staff_repo.invite(session, ref.id)
    assert invite is not None
    await staff_repo.add_member(session, telegram_id, invite.role, invite.store, name[:100])
    await session.commit()
    _forget_roles(session)
    return StaffMember(telegram_id, Role(invite.role), invite.store)
