"""The program in the database: seeding, validation, permission, audit and the process cache."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.program import Program, ProgramValueError, parse_tiers
from bot.services import program as program_service
from bot.services.audit import Channel
from bot.services.staff import Role, StaffMember
from db.engine import create_engine, create_session_factory
from db.models import AuditEntry, ProgramSetting
from tests.conftest import Backend

SEED = Program(parse_tiers("Base:0:5, Silver:10000:7"), welcome_bonus=100, profile_bonus=50)
OWNER = StaffMember(1, Role.OWNER)


async def _stored(sessions: async_sessionmaker) -> dict[str, str]:
    async with sessions() as session:
        return {row.key: row.value for row in await session.scalars(select(ProgramSetting))}


async def test_seeding_stores_missing_keys_only(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        await program_service.ensure_seeded(session, SEED)
        await program_service.change(
            session, SEED, "welcome_bonus", "150", by=OWNER, channel=Channel.MESSENGER
        )
    other_env = Program(parse_tiers("Other:0:1"), welcome_bonus=999)
    async with sessions() as session:  # a restart with other .env values
        await program_service.ensure_seeded(session, other_env)
        program = await program_service.load(session, other_env)
    assert program.welcome_bonus == 150 and program.tiers == SEED.tiers
    stored = await _stored(sessions)
    assert stored["tiers"] == "Base:0:5, Silver:10000:7" and len(stored) == 9


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("welcome_bonus", "-1"),
        ("welcome_bonus", "1.5"),
        ("receipt_qr_hours", "0"),
        ("redeem_cap_percent", "101"),
        ("redeem_cap_percent", "NaN"),
        ("tiers", ""),
        ("tiers", "Base:0:5, Silver:0:7"),
        ("tiers", "Base:0:500"),
        ("nonsense", "1"),
    ],
)
async def test_bad_values_change_nothing(
    sessions: async_sessionmaker, key: str, value: str
) -> None:
    async with sessions() as session:
        await program_service.ensure_seeded(session, SEED)
        with pytest.raises(ProgramValueError):
            await program_service.change(
                session, SEED, key, value, by=OWNER, channel=Channel.MESSENGER
            )
    assert await _stored(sessions) == program_service.seed_values(SEED)


async def test_only_an_owner_or_the_shell_changes_it(sessions: async_sessionmaker) -> None:
    async with sessions() as session:
        await program_service.ensure_seeded(session, SEED)
        for by in (None, StaffMember(2, Role.CASHIER)):
            with pytest.raises(program_service.NotAllowedError):
                await program_service.change(
                    session, SEED, "welcome_bonus", "1", by=by, channel=Channel.MESSENGER
                )
        change = await program_service.change(
            session, SEED, "welcome_bonus", "7", by=None, channel=Channel.SHELL, shell_user="tech"
        )
        assert (change.old, change.new) == ("100", "7")
        entries = list(await session.scalars(select(AuditEntry)))
    assert [(e.actor, e.channel, e.details) for e in entries] == [
        ("shell:tech", "shell", {"old": "100", "new": "7"})
    ]


async def test_another_process_sees_a_change_within_the_cache_time(
    backend: Backend, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(program_service.time, "monotonic", lambda: clock[0])
    here = create_session_factory(engine)
    other_engine = create_engine(backend.database_url)  # another process's connection pool
    there = create_session_factory(other_engine)
    try:
        async with here() as session:
            await program_service.ensure_seeded(session, SEED)
        async with there() as session:
            assert (await program_service.current(session, SEED)).welcome_bonus == 100
        async with here() as session:
            await program_service.change(
                session, SEED, "welcome_bonus", "150", by=OWNER, channel=Channel.MESSENGER
            )
        async with here() as session:  # the process that changed it: the very next operation
            assert (await program_service.current(session, SEED)).welcome_bonus == 150
        async with there() as session:  # another process: its cache until CACHE_SECONDS pass
            assert (await program_service.current(session, SEED)).welcome_bonus == 100
            clock[0] += program_service.CACHE_SECONDS
            assert (await program_service.current(session, SEED)).welcome_bonus == 150
    finally:
        await other_engine.dispose()
