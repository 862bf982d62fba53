"""Taking people on and managing them: invites with a role, the list, role changes,
deactivation, and the owners kept in the database (issue 13).

Every function takes the caller as a `StaffMember` (or None) and checks the caller's rights
first (`permissions.require`), so a forged button or a customer's command changes nothing.
Owners named in `OWNER_IDS` are the settings' business: nobody changes them from the bot.
A change is seen at once by this process (`staff.forget_roles`); other processes see it within
`staff.ROLE_TTL` seconds, when their cached answer runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.permissions import Action, NotAllowedError, invitable_roles, require
from bot.services.staff import Role, StaffMember, create_invite, forget_roles
from db.models import Staff
from db.repositories import staff as staff_repo


@dataclass(frozen=True)
class Colleague:
    telegram_id: int
    role: Role
    store: str
    name: str
    active: bool
    from_settings: bool = False  # in OWNER_IDS: changed in the settings, not here


class ChangeRefused(StrEnum):
    UNKNOWN = "unknown"  # no such member of staff
    SETTINGS_OWNER = "settings_owner"  # in OWNER_IDS
    YOURSELF = "yourself"  # nobody demotes or deactivates themselves
    UNCHANGED = "unchanged"  # already so (a double tap)


class StaffChangeError(Exception):
    def __init__(self, reason: ChangeRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _actor(member: StaffMember) -> str:
    return audit.messenger_actor(member.telegram_id)


def _colleague(row: Staff, owner_ids: Sequence[int]) -> Colleague:
    return Colleague(
        row.telegram_id,
        Role(row.role),
        row.store,
        row.name,
        row.active,
        row.telegram_id in owner_ids,
    )


async def staff_list(
    session: AsyncSession, owner_ids: Sequence[int], caller: StaffMember | None
) -> list[Colleague]:
    """The owners from the settings, then everyone in the database (active first)."""
    require(caller, Action.MANAGE_STAFF)
    rows = await staff_repo.members(session)
    stored = [_colleague(row, owner_ids) for row in rows if row.telegram_id not in owner_ids]
    listed = [Colleague(tid, Role.OWNER, "", "", True, True) for tid in owner_ids]
    return listed + stored


async def invite(
    session: AsyncSession,
    link_key: bytes,
    caller: StaffMember | None,
    role: Role,
    store: str = "",
) -> str:
    """A one-time signed payload making whoever opens it first `role` (a day to use it)."""
    if role not in invitable_roles(caller):
        raise NotAllowedError(Action.INVITE_STAFF)
    assert caller is not None
    await audit.record(
        session, _actor(caller), audit.Channel.MESSENGER, "staff_invite", None, role=role.value
    )
    return await create_invite(session, link_key, caller.telegram_id, store, role)  # commits


async def _target(
    session: AsyncSession, owner_ids: Sequence[int], caller: StaffMember, telegram_id: int
) -> Colleague:
    if telegram_id in owner_ids:
        raise StaffChangeError(ChangeRefused.SETTINGS_OWNER)
    if telegram_id == caller.telegram_id:
        raise StaffChangeError(ChangeRefused.YOURSELF)
    row = await staff_repo.member(session, telegram_id)
    if row is None:
        raise StaffChangeError(ChangeRefused.UNKNOWN)
    return _colleague(row, owner_ids)


async def change_role(
    session: AsyncSession,
    owner_ids: Sequence[int],
    caller: StaffMember | None,
    telegram_id: int,
    role: Role,
) -> Colleague:
    """The member with the new role (audited); the caller needs the right to manage staff."""
    require(caller, Action.MANAGE_STAFF)
    assert caller is not None
    before = await _target(session, owner_ids, caller, telegram_id)
    if not await staff_repo.set_role(session, telegram_id, role.value):
        await session.rollback()
        raise StaffChangeError(ChangeRefused.UNCHANGED)
    await audit.record(
        session,
        _actor(caller),
        audit.Channel.MESSENGER,
        "staff_role",
        telegram_id,
        before=before.role.value,
        after=role.value,
    )
    await session.commit()
    forget_roles(session)
    return Colleague(telegram_id, role, before.store, before.name, before.active)


async def set_active(
    session: AsyncSession,
    owner_ids: Sequence[int],
    caller: StaffMember | None,
    telegram_id: int,
    active: bool,
) -> Colleague:
    """Deactivate (nothing staff-only for them from their next update) or reactivate."""
    require(caller, Action.MANAGE_STAFF)
    assert caller is not None
    before = await _target(session, owner_ids, caller, telegram_id)
    if not await staff_repo.set_active(session, telegram_id, active):
        await session.rollback()
        raise StaffChangeError(ChangeRefused.UNCHANGED)
    action = "staff_reactivate" if active else "staff_deactivate"
    await audit.record(
        session, _actor(caller), audit.Channel.MESSENGER, action, telegram_id, role=before.role
    )
    await session.commit()
    forget_roles(session)
    return Colleague(telegram_id, before.role, before.store, before.name, active)


async def active_members(session: AsyncSession, owner_ids: Sequence[int]) -> list[StaffMember]:
    """Everyone with a staff role now (for their menus at start-up): no rights needed."""
    rows = await staff_repo.members(session)
    stored = [
        StaffMember(row.telegram_id, Role(row.role), row.store)
        for row in rows
        if row.active and row.telegram_id not in owner_ids
    ]
    return [StaffMember(tid, Role.OWNER) for tid in owner_ids] + stored


async def member_of(
    session: AsyncSession, owner_ids: Sequence[int], caller: StaffMember | None, telegram_id: int
) -> Colleague:
    """One member of staff, for the caller who may manage staff."""
    require(caller, Action.MANAGE_STAFF)
    if telegram_id in owner_ids:
        return Colleague(telegram_id, Role.OWNER, "", "", True, True)
    row = await staff_repo.member(session, telegram_id)
    if row is None:
        raise StaffChangeError(ChangeRefused.UNKNOWN)
    return _colleague(row, owner_ids)


# Owners kept in the database, managed from the shell (`clientbase owner add|list|remove`).


async def has_owner(session: AsyncSession, owner_ids: Sequence[int]) -> bool:
    """Somebody owns the shop: an id in OWNER_IDS or an active owner in the database."""
    return bool(owner_ids) or bool(await staff_repo.active_owner_ids(session))


async def owners(session: AsyncSession, owner_ids: Sequence[int]) -> list[Colleague]:
    stored = await staff_repo.active_owner_ids(session)
    return [Colleague(tid, Role.OWNER, "", "", True, True) for tid in owner_ids] + [
        Colleague(tid, Role.OWNER, "", "", True) for tid in stored if tid not in owner_ids
    ]


async def add_owner(session: AsyncSession, telegram_id: int, actor: str) -> None:
    """Make this person an owner (a new row, or a member of staff promoted), audited."""
    await staff_repo.make_owner(session, telegram_id)
    await audit.record(session, actor, audit.Channel.SHELL, "owner_add", telegram_id)
    await session.commit()
    forget_roles(session)


async def remove_owner(
    session: AsyncSession, owner_ids: Sequence[int], telegram_id: int, actor: str
) -> bool:
    """Deactivate an owner kept in the database; False when there is none with this id.

    An id in OWNER_IDS is removed from the settings instead: raises StaffChangeError.
    """
    if telegram_id in owner_ids:
        raise StaffChangeError(ChangeRefused.SETTINGS_OWNER)
    if telegram_id not in await staff_repo.active_owner_ids(session):
        return False
    await staff_repo.set_active(session, telegram_id, False)
    await audit.record(session, actor, audit.Channel.SHELL, "owner_remove", telegram_id)
    await session.commit()
    forget_roles(session)
    return True
