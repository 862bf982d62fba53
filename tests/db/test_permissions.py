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

from bot.domain.promos import Kind
from bot.domain.segments import SegmentFilter
from bot.services import (
    audit,
    campaigns,
    exchange,
    funnel,
    job_texts,
    ledger,
    promos,
    segments,
    sources,
    staff,
    stats,
    team,
    till,
)
from bot.services import program as program_service
from bot.services.jobs import runner
from bot.services.permissions import Action, Grant, NotAllowedError, allowed, require
from bot.services.staff import Role, StaffMember
from bot.texts import texts_for
from db.base import Base, utcnow
from db.models import AuditEntry, Customer, JobSetting, Source, Staff, StaffInvite
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
        Action.BROADCAST: Grant.OWN,
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


def _sheet() -> bytes:
    return "Телефон;Имя\n+79160000099;Борис\n".encode()


# Every staff action through the service that does it: (session, member) -> awaitable.
# The till's sale, redemption and receipt QR are recorded through the ledger with an actor
# string shared with the POS API (its key is the right there): checked by the handlers'
# `Permitted` filter only, and so not in this table.
THROUGH_THE_BOT_ONLY = {Action.RECORD_SALE, Action.REDEEM, Action.RECEIPT_QR}
MESSENGER = audit.Channel.MESSENGER
SERVICES: dict[Action, Any] = {
    Action.RETURN: lambda s, m: till.purchases_to_return(s, m, receipt_id="R-1"),
    Action.FIND_CUSTOMER: lambda s, m: till.find_customers(s, m, "Анна"),
    Action.VIEW_CUSTOMER: lambda s, m: till.customer_card(s, PROGRAM, m, 1),
    Action.OWN_FIGURES: lambda s, m: till.my_figures(s, m, "Я"),
    Action.MESSAGE_CUSTOMERS: lambda s, m: campaigns.restricted(s, m, SegmentFilter()),
    Action.VIEW_STATS: lambda s, m: stats.report_for(
        s, m, KEY, PROGRAM, active_days=30, quiet_days=90
    ),
    Action.VIEW_SOURCES: lambda s, m: funnel.sources_report(s, KEY, by=m),
    Action.MAKE_QR: lambda s, m: sources.source_for(s, KEY, "Центр", "Касса", by=m),
    Action.BROADCAST: lambda s, m: campaigns.create(
        s, text="Скидка", segment=SegmentFilter(), by=m, actor="x", channel=MESSENGER
    ),
    Action.PROMOS: lambda s, m: promos.create_promotion(
        s,
        name="Весна",
        kind=Kind.PERCENT,
        value=10,
        expires_at=None,
        by=m,
        actor="x",
        channel=MESSENGER,
    ),
    Action.EXPORT: lambda s, m: exchange.export(
        s, KEY, PROGRAM, texts_for("ru"), ["csv"], by=m, actor="x", channel=MESSENGER
    ),
    Action.IMPORT: lambda s, m: exchange.run_import(
        s, PROGRAM, KEY, _sheet(), by=m, actor="x", channel=MESSENGER, language="ru"
    ),
    Action.INVITE_STAFF: lambda s, m: team.invite(s, KEY, m, Role.CASHIER),
    Action.MANAGE_STAFF: lambda s, m: team.change_role(s, OWNER_IDS, m, TARGET, Role.MANAGER),
    Action.PROGRAM_SETTINGS: lambda s, m: program_service.change(
        s, PROGRAM, "welcome_bonus", "77", by=m, channel=MESSENGER
    ),
    Action.SCHEDULE: lambda s, m: runner.set_enabled(s, "birthday", False, "x", actor=m),
    Action.AUDIT: lambda s, m: audit.page(s, by=m),
    Action.ADJUST_POINTS: lambda s, m: ledger.adjust(
        s, PROGRAM, CUSTOMER_ROW, 50, by=m, reason="подарок", actor="x"
    ),
}
# More ways in to the same rights: each refused alike.
MORE: dict[str, tuple[Action, Any]] = {
    "deactivate": (
        Action.MANAGE_STAFF,
        lambda s, m: team.set_active(s, OWNER_IDS, m, TARGET, False),
    ),
    "list staff": (Action.MANAGE_STAFF, lambda s, m: team.staff_list(s, OWNER_IDS, m)),
    "open staff": (Action.MANAGE_STAFF, lambda s, m: team.member_of(s, OWNER_IDS, m, TARGET)),
    "import dry run": (Action.IMPORT, lambda s, m: exchange.plan_import(s, _sheet(), by=m)),
    "promo list": (Action.PROMOS, lambda s, m: promos.list_promotions(s, by=m)),
    "promo off": (
        Action.PROMOS,
        lambda s, m: promos.set_active(s, 1, False, by=m, actor="x", channel=MESSENGER),
    ),
    "qr off": (Action.MAKE_QR, lambda s, m: sources.set_enabled(s, 1, False, by=m)),
    "staff for qr": (Action.MAKE_QR, lambda s, m: sources.employees(s, m)),
    "job text": (
        Action.SCHEDULE,
        lambda s, m: job_texts.set_text(s, "birthday", "ru", "С днём!", by=m, channel=MESSENGER),
    ),
    "campaign list": (Action.BROADCAST, lambda s, m: campaigns.listing(s, by=m)),
    "campaign pause": (
        Action.BROADCAST,
        lambda s, m: campaigns.pause(s, 1, by=m, actor="x", channel=MESSENGER),
    ),
    "segment save": (
        Action.BROADCAST,
        lambda s, m: segments.save(s, "Все мои", SegmentFilter(), by=m, actor="x", channel="x"),
    ),
    "stats whole": (
        Action.VIEW_STATS,
        lambda s, m: stats.report(s, KEY, PROGRAM, by=m, active_days=30, quiet_days=90),
    ),
}
CUSTOMER_ROW = 1  # Анна's customer id (the only customer)
CASES = [(action.value, action, call) for action, call in SERVICES.items()] + [
    (name, action, call) for name, (action, call) in MORE.items()
]
# Refused for a manager although they hold the action in part (Grant.OWN / LIMITED):
# the whole base's statistics, deleting shared things, inviting above a cashier.
# A campaign that is not theirs (here: none at all) is the same refusal.
REFUSED_IN_PART = {("manager", "stats whole"), ("manager", "campaign pause")}


def test_every_action_has_its_service() -> None:
    assert set(SERVICES) | THROUGH_THE_BOT_ONLY == set(Action)


async def _whole_snapshot(session: AsyncSession) -> tuple[Any, ...]:
    counts = []
    for table in Base.metadata.sorted_tables:
        counts.append((table.name, await session.scalar(select(func.count()).select_from(table))))
    people = (await session.execute(select(Staff.telegram_id, Staff.role, Staff.active))).all()
    switches = (await session.execute(select(JobSetting.job, JobSetting.enabled))).all()
    codes = (await session.execute(select(Source.id, Source.enabled, Source.staff_id))).all()
    return tuple(counts), tuple(sorted(people)), tuple(sorted(switches)), tuple(sorted(codes))


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize(("case", "action", "call"), CASES, ids=[c[0] for c in CASES])
async def test_every_role_through_every_service(
    sessions: async_sessionmaker, who: str, case: str, action: Action, call: Any
) -> None:
    """Whoever lacks the right is refused by the service itself (what a forged button or a
    bypassed filter reaches), with nothing changed; whoever has it is let through."""
    await _people(sessions)
    async with sessions() as session:
        member = await _member(session, who)
        before = await _whole_snapshot(session)
        refused = EXPECTED[who].get(action) is None or (who, case) in REFUSED_IN_PART
        if refused:
            with pytest.raises((NotAllowedError, till.NotAllowedError)):
                await call(session, member)
            await session.rollback()
        else:
            try:
                await call(session, member)
            except (NotAllowedError, till.NotAllowedError):
                pytest.fail(f"{who} refused {case}")
            except Exception:
                pass
    if refused:
        async with sessions() as session:
            assert await _whole_snapshot(session) == before


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
    """Attribution is the link `sources.staff_id`: a code with the manager's name but linked to
    nobody (or to someone else) brings them nothing."""
    await _people(sessions)
    async with sessions() as session:
        maria = await session.scalar(select(Staff.id).where(Staff.telegram_id == MANAGER))
        oleg = await session.scalar(select(Staff.id).where(Staff.telegram_id == CASHIER))
        mine = Source(store="Центр", campaign="Касса", employee="Мария", staff_id=maria)
        same_name = Source(store="Центр", campaign="Плакат", employee="Мария")
        theirs = Source(store="Центр", campaign="Касса", employee="Олег", staff_id=oleg)
        session.add_all([mine, same_name, theirs])
        await session.flush()
        sources_of = [mine, mine, theirs, theirs, same_name]
        people = [
            Customer(
                telegram_id=600 + n,
                status="active",
                name=f"Клиент {n}",
                phone=f"+7916100000{n}",
                source_id=sources_of[n].id,
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
        own = await stats.report_for(session, manager, KEY, PROGRAM, active_days=30, quiet_days=90)
        owner = await _member(session, "owner")
        whole = await stats.report_for(session, owner, KEY, PROGRAM, active_days=30, quiet_days=90)
    assert isinstance(own, stats.OwnReport)
    assert own.sources == 1
    mine_only = own.report
    assert mine_only.customers == 2 and mine_only.new_this_week == 2
    assert sum(week.revenue for week in mine_only.weeks) == 100_000
    assert sum(week.purchases for week in mine_only.weeks) == 1
    assert [top.spend for top in mine_only.top] == [100_000]
    assert [row.source.id for row in own.funnel.rows if row.source] == [mine.id]
    assert isinstance(whole, stats.StatsReport) and whole.customers == 6


async def test_a_forged_segment_cannot_widen_a_managers_broadcast(
    sessions: async_sessionmaker,
) -> None:
    await _people(sessions)
    async with sessions() as session:
        maria = await session.scalar(select(Staff.id).where(Staff.telegram_id == MANAGER))
        mine = Source(store="Центр", campaign="Касса", employee="Мария", staff_id=maria)
        theirs = Source(store="Центр", campaign="Касса", employee="Олег")
        session.add_all([mine, theirs])
        await session.commit()
        manager = await _member(session, "manager")
        owner = await _member(session, "owner")
        cut = campaigns.restricted
        assert (await cut(session, manager, SegmentFilter())).source_ids == (mine.id,)
        forged = SegmentFilter(source_ids=(theirs.id,), gender="female")
        assert await cut(session, manager, forged) == SegmentFilter(
            source_ids=(0,), gender="female"
        )
        both = SegmentFilter(source_ids=(mine.id, theirs.id))
        assert (await cut(session, manager, both)).source_ids == (mine.id,)
        assert await cut(session, owner, forged) == forged
        made = await campaigns.create(
            session, text="Мои", segment=forged, by=manager, actor="forged", channel="messenger"
        )
        assert made.created_by == f"tg:{MANAGER}"  # theirs, whatever actor was claimed
        assert [c.id for c in await campaigns.listing(session, by=manager)] == [made.id]
        with pytest.raises(NotAllowedError):  # a shared list: only who may message everyone
            await segments.delete(session, "x", by=manager, actor="x", channel="x")
