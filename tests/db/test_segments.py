"""Segments in SQL agree with the Python rule on random bases; sizes, recipients, saved ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain.segments import (
    CustomerFacts,
    Lifecycle,
    SegmentError,
    SegmentFilter,
    matches,
)
from bot.services import segments
from bot.services.permissions import SHELL
from bot.services.segments import SegmentNameError, UnknownSegmentError
from db.models import AuditEntry, Customer, Purchase, Segment
from tests.db.conftest import PROGRAM

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RULES = segments.rules_for(PROGRAM, active_days=30, quiet_days=60, now=NOW)
CITIES = ("Москва", "Тверь", "Казань")
INTERESTS = ("Кофе", "Десерты", "Зёрна", "tea_100%")

person = st.fixed_dictionaries(
    {
        "gender": st.sampled_from([None, "female", "male"]),
        "birthday": st.one_of(st.none(), st.dates(date(1940, 1, 1), date(2020, 12, 31))),
        "city": st.sampled_from([None, *CITIES]),
        "interests": st.lists(st.sampled_from(INTERESTS), unique=True, max_size=3),
        "ads": st.booleans(),
        "purchases": st.lists(
            st.tuples(st.integers(1, 400), st.integers(100, 6_000_000)), max_size=4
        ),
    }
)
moments = st.integers(0, 400).map(lambda days: NOW - timedelta(days=days))
filters = st.builds(
    SegmentFilter,
    lifecycle=st.one_of(st.none(), st.sampled_from(list(Lifecycle))),
    gender=st.sampled_from([None, "female", "male"]),
    age_min=st.one_of(st.none(), st.integers(0, 60)),
    age_max=st.one_of(st.none(), st.integers(60, 100)),
    birthday_month=st.one_of(st.none(), st.integers(1, 12)),
    cities=st.lists(st.sampled_from(CITIES), unique=True, max_size=2).map(tuple),
    interests=st.lists(st.sampled_from(INTERESTS), unique=True, max_size=2).map(tuple),
    tier=st.one_of(st.none(), st.sampled_from(["Base", "Silver", "gold"])),
    spend_min=st.one_of(st.none(), st.integers(0, 2_000_000)),
    spend_max=st.one_of(st.none(), st.integers(2_000_000, 20_000_000)),
    purchases_min=st.one_of(st.none(), st.integers(0, 3)),
    purchases_max=st.one_of(st.none(), st.integers(3, 5)),
    last_purchase_before=st.one_of(st.none(), moments),
    last_purchase_after=st.one_of(st.none(), moments),
    rfm_min=st.one_of(st.none(), st.from_regex(r"[1-5]{3}", fullmatch=True)),
)


async def _load(sessions: async_sessionmaker, people: list[dict]) -> list[CustomerFacts]:
    facts = []
    async with sessions() as session:
        for number, p in enumerate(people, start=1):
            spend = sum(amount for _, amount in p["purchases"])
            await session.execute(
                insert(Customer).values(
                    id=number,
                    telegram_id=9_000_000 + number,
                    status="active",
                    gender=p["gender"],
                    birthday=p["birthday"],
                    city=p["city"],
                    interests=p["interests"],
                    ads_opt_in=p["ads"],
                    spend=spend,
                    purchase_count=len(p["purchases"]),
                )
            )
            times = [NOW - timedelta(days=days) for days, _ in p["purchases"]]
            for when, (_, amount) in zip(times, p["purchases"], strict=True):
                await session.execute(
                    insert(Purchase).values(
                        customer_id=number, amount=amount, channel="test", created_at=when
                    )
                )
            facts.append(
                CustomerFacts(
                    gender=p["gender"],
                    birthday=p["birthday"],
                    city=p["city"],
                    interests=tuple(p["interests"]),
                    source_id=None,
                    spend=spend,
                    purchases=len(p["purchases"]),
                    last_purchase=max(times) if times else None,
                    ads_opt_in=p["ads"],
                )
            )
        await session.commit()
    return facts


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person, max_size=12), segment=filters)
async def test_sql_filters_agree_with_the_python_rule(sessions, people, segment) -> None:
    facts = await _load(sessions, people)
    try:
        expected = {i for i, f in enumerate(facts, start=1) if matches(segment, f, RULES)}
        async with sessions() as session:
            size = await segments.size(session, segment, RULES)
            ids = await segments.recipient_ids(session, segment, RULES)
        assert size.members == len(expected)
        assert set(ids) == {i for i in expected if facts[i - 1].ads_opt_in}
        assert size.recipients == len(ids)
        assert SegmentFilter.from_json(segment.to_json()) == segment
    finally:
        async with sessions() as session:
            await session.execute(delete(Purchase))
            await session.execute(delete(Customer))
            await session.commit()


async def test_recipients_are_consenting_reachable_members_only(sessions) -> None:
    rows = [
        {"id": 1, "status": "active", "ads_opt_in": True},
        {"id": 2, "status": "active", "ads_opt_in": False},
        {"id": 3, "status": "pending", "ads_opt_in": True},
        {"id": 4, "status": "active", "ads_opt_in": True, "unreachable_at": NOW},
        {"id": 5, "status": "active", "ads_opt_in": True, "consent_pending": True},
        {"id": 6, "status": "forgotten", "ads_opt_in": True},
        {"id": 7, "status": "active", "ads_opt_in": True, "telegram_id": None},
    ]
    async with sessions() as session:
        for row in rows:
            values = {"telegram_id": 100 + row["id"], "interests": []} | row
            await session.execute(insert(Customer).values(**values))
        await session.commit()
        everyone = SegmentFilter()
        assert await segments.size(session, everyone, RULES) == segments.SegmentSize(5, 1)
        assert await segments.recipient_ids(session, everyone, RULES) == [1]


async def test_saved_segments_are_named_listed_with_sizes_and_deleted(sessions) -> None:
    async with sessions() as session:
        await session.execute(
            insert(Customer),
            [
                {
                    "id": n,
                    "telegram_id": 100 + n,
                    "status": "active",
                    "ads_opt_in": n % 2 == 0,
                    "gender": "female" if n <= 3 else "male",
                    "interests": [],
                }
                for n in range(1, 7)
            ],
        )
        await session.commit()
        women = SegmentFilter(gender="female", lifecycle=Lifecycle.POTENTIAL)
        saved = await segments.save(
            session, " Женщины  без покупок ", women, actor="tg:1", channel="messenger", by=SHELL
        )
        assert saved.name == "Женщины без покупок"
        with pytest.raises(SegmentNameError) as taken:
            await segments.save(
                session,
                "Женщины без покупок",
                SegmentFilter(),
                actor="tg:1",
                channel="messenger",
                by=SHELL,
            )
        assert taken.value.taken
        with pytest.raises(SegmentNameError):
            await segments.save(
                session, "ALL", SegmentFilter(), actor="tg:1", channel="shell", by=SHELL
            )
        listing = await segments.saved(session, RULES)
        assert [(s.name, s.segment, s.size) for s in listing] == [
            ("Женщины без покупок", women, segments.SegmentSize(3, 1))
        ]
        assert await segments.resolve(session, "Женщины без покупок") == women
        assert await segments.resolve(session, "all") == SegmentFilter()
        with pytest.raises(UnknownSegmentError) as unknown:
            await segments.resolve(session, "Мужчины")
        assert unknown.value.names == ["Женщины без покупок"]
        assert await segments.delete(
            session, "Женщины без покупок", actor="tg:1", channel="messenger", by=SHELL
        )
        assert not await segments.delete(
            session, "Женщины без покупок", actor="tg:1", channel="messenger", by=SHELL
        )
        assert await segments.saved(session, RULES) == []
        actions = [
            a
            for (a,) in (
                await session.execute(
                    AuditEntry.__table__.select().with_only_columns(AuditEntry.action)
                )
            ).all()
        ]
        assert actions == ["segment_saved", "segment_deleted"]
        assert not (await session.execute(Segment.__table__.select())).all()


def test_a_filter_refuses_what_cannot_be() -> None:
    with pytest.raises(SegmentError, match="age"):
        SegmentFilter(age_min=40, age_max=30)
    with pytest.raises(SegmentError, match="rfm"):
        SegmentFilter(rfm_min="62")
    with pytest.raises(SegmentError, match="lifecycle"):
        SegmentFilter.from_dict({"lifecycle": "sleepy"})
    with pytest.raises(SegmentError, match="colour"):
        SegmentFilter.from_dict({"colour": "red"})
    with pytest.raises(SegmentError, match="tier"):
        RULES.tier_range("Platinum")
