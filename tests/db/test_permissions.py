"""The permission matrix through the services: every role × every staff action.

People are real rows (the deactivated cashier is a row with `active` false) and their rights
are read through `staff.role_of`, as every caller does. Each refusal is `NotAllowedError`, and
the services that act (invites, role changes, deactivation, statistics) change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import ledger, staff, stats, team
from bot.services.permissions import Action, Grant, NotAllowedError, allowed, require
from bot.services.staff import Role, StaffMember
from db.base import utcnow
from db.models import AuditEntry, Customer, Source, Staff, StaffInvite
from tests.db.conftest import PROGRAM

KEY = b"test-link-key"
OWNER_IDS = [1]
DB_OWNER, MANAGER, CASHIER, CUSTOMER, STRANGER, GONE = 2, 3, 4, 5, 6, 7
PEOPLE = {
    "owner": 1,
    "db_owner": DB_OWNER,
    "manager": MANAGER,
    "cashier": CASHIER,
    "customer": CUSTOMER,
    "stranger": STRANGER,
    "deactivated": GONE,
}
TARGET = 8  # a cashier whom everyone tries to change

TILL = {
    Action.RECORD_SALE: Grant.ALL,
    Action.REDEEM: Grant.ALL,
    Action.RETURN: Grant.ALL,
    Action.RECEIPT_QR: Grant.ALL,
    Action.FIND_CUSTOMER: Grant.ALL,
    Action.VIEW_CUSTOMER: Grant.LIMITED,
    Action.OWN_FIGURES: Grant.ALL,
}
# Written out on its own (not read from the module under test): the rules.
EXPECTED: dict[str, dict[Action, Grant]] = {
    "owner": {action: Grant.ALL for action in Action},
    "db_owner": {action: Grant.ALL for action in Action},
    "manager": TILL
    | {
        Action.VIEW_CUSTOMER: Grant.OWN,
        Action.MESSAGE_CUSTOMERS: Grant.OWN,
        Action.VIEW_STATS: Grant.OWN,
        Action.INVITE_STAFF: Grant.LIMITED,
    },
    "cashier": TILL,
    "customer": {},
    "stranger": {},
    "deactivated": {},
}


async def _people(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        session.add_all(
            [
                Staff(telegram_id=DB_OWNER, role="owner", name="Вера"),
                Staff(telegram_id=MANAGER, role="manager", name="Мария"),
                Staff(telegram_id=CASHIER, role="cashier", name="Олег"),
                Staff(telegram_id=GONE, role="manager", name="Ушёл", active=False),
                Staff(telegram_id=TARGET, role="cashier", name="Пётр"),
                Customer(telegram_id=CUSTOMER, status="active", name="Анна", phone="+79160000005"),
            ]
        )
        await session.commit()


async def _snapshot(session: AsyncSession) -> tuple[Any, ...]:
    people = (await session.execute(select(Staff.telegram_id, Staff.role, Staff.active))).all()
    invites = await session.scalar(select(func.count()).select_from(StaffInvite))
    audited = await session.scalar(select(func.count()).select_from(AuditEntry))
    return tuple(sorted(people)), invites, audited


async def _member(session: AsyncSession, who: str) -> StaffMember | None:
    return await staff.role_of(session, OWNER_IDS, PEOPLE[who])


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_every_role_by_every_action(sessions: async_sessionmaker, who: str) -> None:
    await _people(sessions)
    async with sessions() as session:
        member = await _member(session, who)
    for action in Action:
        expected = EXPECTED[who].get(action)
        assert allowed(member, action) == expected, action
        if expected is None:
            with pytest.raises(NotAllowedError) as refused:
                require(member, action)
            assert str(refused.value) == f"not allowed: {action}"  # names nothing else
        else:
            assert require(member, action) is expected


ACTING = {
    Action.INVITE_STAFF: lambda s, m: team.invite(s, KEY, m, Role.MANAGER),
    Action.MANAGE_STAFF: lambda s, m: team.change_role(s, OWNER_IDS, m, TARGET, Role.MANAGER),
    "deactivate": lambda s, m: team.set_active(s, OWNER_IDS, m, TARGET, False),
    "list": lambda s, m: team.staff_list(s, OWNER_IDS, m),
    "open": lambda s, m: team.member_of(s, OWNER_IDS, m, TARGET),
    Action.VIEW_STATS: lambda s, m: stats.report_for(
        s, m, KEY, PROGRAM, active_days=30, quiet_days=90
    ),
}


@pytest.mark.parametrize("who", ["manager", "cashier", "customer", "stranger", "deactivated"])
@pytest.mark.parametrize("acting", list(ACTING))
async def test_the_services_refuse_and_change_nothing(
    sessions: async_sessionmaker, who: str, acting: str
) -> None:
    if who == "manager" and acting == Action.VIEW_STATS:
        pytest.skip("a manager sees their own figures: tested below")
    await _people(sessions)
    async with sessions() as session:
        before = await _snapshot(session)
        member = await _member(session, who)
        with pytest.raises(NotAllowedError):
            await ACTING[acting](session, member)
    async with sessions() as session:
        assert await _snapshot(session) == before


async def test_a_manager_invites_cashiers_only(sessions: async_sessionmaker) -> None:
    await _people(sessions)
    async with sessions() as session:
        manager = await _member(session, "manager")
        payload = await team.invite(session, KEY, manager, Role.CASHIER, "Центр")
        for role in (Role.MANAGER, Role.OWNER):
            with pytest.raises(NotAllowedError):
                await team.invite(session, KEY, manager, role)
    async with sessions() as session:
        joined = await staff.accept_invite(session, KEY, payload, 50, "Новый")
        assert joined == StaffMember(50, Role.CASHIER, "Центр")
        assert await session.scalar(select(func.count()).select_from(StaffInvite)) == 1


async def test_an_owner_changes_a_role_deactivates_and_the_next_update_sees_it(
    sessions: async_sessionmaker,
) -> None:
    await _people(sessions)
    async with sessions() as session:
        owner = await _member(session, "owner")
        assert await staff.role_of(session, OWNER_IDS, TARGET) == StaffMember(TARGET, Role.CASHIER)
        changed = await team.change_role(session, OWNER_IDS, owner, TARGET, Role.MANAGER)
        assert changed.role is Role.MANAGER
        # the role cache of this process is dropped: the next update sees the new role
        assert (await staff.role_of(session, OWNER_IDS, TARGET)).role is Role.MANAGER  # type: ignore[union-attr]
        with pytest.raises(team.StaffChangeError) as again:
            await team.change_role(session, OWNER_IDS, owner, TARGET, Role.MANAGER)
        assert again.value.reason is team.ChangeRefused.UNCHANGED
        await team.set_active(session, OWNER_IDS, owner, TARGET, False)
        assert await staff.role_of(session, OWNER_IDS, TARGET) is None
        await team.set_active(session, OWNER_IDS, owner, TARGET, True)
        assert await staff.role_of(session, OWNER_IDS, TARGET) is not None
        for target, reason in ((1, "settings_owner"), (DB_OWNER, "yourself")):
            caller = owner if target == 1 else await _member(session, "db_owner")
            with pytest.raises(team.StaffChangeError) as refused:
                await team.set_active(session, OWNER_IDS, caller, target, False)
            assert refused.value.reason == reason
        entries = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject).order_by(
                    AuditEntry.id
                )
            )
        ).all()
    assert entries == [
        ("tg:1", "staff_role", str(TARGET)),
        ("tg:1", "staff_deactivate", str(TARGET)),
        ("tg:1", "staff_reactivate", str(TARGET)),
    ]


async def test_owners_in_the_database(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        assert not await team.has_owner(session, [])
        await team.add_owner(session, 42, "shell")
        assert await team.has_owner(session, [])
        assert await staff.role_of(session, [], 42) == StaffMember(42, Role.OWNER)
        assert [o.telegram_id for o in await team.owners(session, [1])] == [1, 42]
        with pytest.raises(team.StaffChangeError):
            await team.remove_owner(session, [1], 1, "shell")
        assert await team.remove_owner(session, [1], 42, "shell")
        assert not await team.remove_owner(session, [1], 42, "shell")
        assert await staff.role_of(session, [], 42) is None
        assert not await team.has_owner(session, [])


async def test_a_manager_sees_only_the_customers_their_sources_brought(
    sessions: async_sessionmaker,
) -> None:
    await _people(sessions)
    async with sessions() as session:
        mine = Source(store="Центр", campaign="Касса", employee="  мария ")
        theirs = Source(store="Центр", campaign="Касса", employee="Олег")
        session.add_all([mine, theirs])
        await session.flush()
        people = [
            Customer(
                telegram_id=600 + n,
                status="active",
                name=f"Клиент {n}",
                phone=f"+7916100000{n}",
                source_id=(mine if n < 2 else theirs).id,
                signed_up_at=utcnow(),
            )
            for n in range(5)
        ]
        session.add_all(people)
        await session.commit()
        for customer, amount in ((people[0], 100_000), (people[3], 500_000)):
            await ledger.record_purchase(
                session, PROGRAM, customer.id, amount, channel="cashier", actor="test"
            )
        manager = await _member(session, "manager")
        figures = await stats.report_for(
            session, manager, KEY, PROGRAM, active_days=30, quiet_days=90
        )
        owner = await _member(session, "owner")
        whole = await stats.report_for(session, owner, KEY, PROGRAM, active_days=30, quiet_days=90)
    assert figures == stats.AttributedFigures(
        sources=1, customers=2, new_this_week=2, purchases=1, net_revenue=100_000
    )
    assert isinstance(whole, stats.StatsReport) and whole.customers == 6
