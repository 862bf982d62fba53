"""Statistics on a small base whose every figure is known, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.render import charts
from bot.reports import plain, stats_text
from bot.services import stats
from bot.services.funnel import funnel_report
from bot.services.permissions import SHELL
from bot.texts import texts_for
from db.models import Customer, FunnelEvent, LedgerEntry, Purchase, Source
from tests.db.conftest import PROGRAM

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday
LINK_KEY = b"test-link-key-0123456789"


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


async def _base(sessions: async_sessionmaker) -> None:
    """A: one purchase; B: two, recent; C: none; D: one, 200 days ago, unreachable; E: VIP."""
    async with sessions() as session:
        store = Source(store="Тверская, 1", campaign="Касса")
        session.add(store)
        await session.flush()
        people = {
            "A": Customer(
                telegram_id=1,
                name="Анна Петрова",
                phone="+79160000001",
                source_id=store.id,
                signed_up_at=_days(1),
            ),
            "B": Customer(
                telegram_id=2,
                name="Борис",
                phone="+79160000002",
                source_id=store.id,
                signed_up_at=_days(5),
            ),
            "C": Customer(telegram_id=3, name="Вера", phone="+79160000003", signed_up_at=_days(2)),
            "D": Customer(
                telegram_id=4,
                name="Глеб",
                phone="+79160000004",
                signed_up_at=_days(300),
                unreachable_at=_days(40),
            ),
            "E": Customer(
                telegram_id=5, name="Елена Сергеевна", phone="+79161234567", signed_up_at=_days(60)
            ),
        }
        pending = Customer(telegram_id=6, status="pending", signed_up_at=None)
        for customer in [*people.values(), pending]:
            customer.status = customer.status or "active"
            session.add(customer)
        for customer in people.values():
            customer.status = "active"
        await session.flush()
        purchases = [
            ("A", 100_000, 0, 10),
            ("B", 50_000, 0, 30),
            ("B", 80_000, 10_000, 1),  # 100 ₽ of it returned
            ("D", 40_000, 0, 200),
            ("E", 2_000_000, 0, 50),
            ("E", 1_500_000, 0, 2),
        ]
        for who, amount, refunded, ago in purchases:
            session.add(
                Purchase(
                    customer_id=people[who].id,
                    amount=amount,
                    refunded_amount=refunded,
                    channel="pos",
                    created_at=_days(ago),
                )
            )
        lots = [
            ("E", 100, _days(-10)),  # lapses in 10 days
            ("A", 50, _days(-100)),
            ("C", 30, None),  # never lapses
            ("B", 999, _days(1)),  # already lapsed: not owed
        ]
        for index, (who, points, expires) in enumerate(lots):
            session.add(
                LedgerEntry(
                    customer_id=people[who].id,
                    kind="bonus",
                    points=points,
                    remaining=points,
                    expires_at=expires,
                    idempotency_key=f"lot{index}",
                    created_at=_days(20),
                )
            )
        for kind, count in (
            ("opened", 9),
            ("consent_given", 7),
            ("completed", 5),
            ("first_purchase", 4),
        ):
            session.add_all(FunnelEvent(kind=kind, source_id=store.id) for _ in range(count))
        await session.commit()


async def _report(sessions: async_sessionmaker) -> stats.StatsReport:
    async with sessions() as session:
        return await stats.report(
            session, LINK_KEY, PROGRAM, active_days=90, quiet_days=90, now=NOW, by=SHELL
        )


async def test_every_figure(sessions: async_sessionmaker) -> None:
    await _base(sessions)
    report = await _report(sessions)

    assert report.customers == 5  # the one mid-signup is not in the base
    assert {s.segment: s.customers for s in report.segments} == {
        "potential": 1,
        "one_purchase": 1,
        "active": 1,
        "vip": 1,
        "gone_quiet": 1,
        "cooling": 0,
    }
    assert report.active_share == pytest.approx(3 / 5)  # A, B, E bought within 90 days
    assert report.repeat_rate == pytest.approx(2 / 4)  # B and E of the four buyers
    net = 100_000 + 50_000 + 70_000 + 40_000 + 3_500_000
    assert report.average_check == net // 6
    assert report.liability == stats.Liability(
        outstanding=180, lapsing_soon=100, by_week=(0, 100, *[0] * 10), later=50, never=30
    )

    by_label = {source.label: source for source in report.sources}
    assert by_label["Тверская, 1 / Касса"].customers == 2
    assert by_label["Тверская, 1 / Касса"].ltv == (100_000 + 120_000) // 2
    assert by_label[None].ltv == (40_000 + 3_500_000) // 3

    assert [w.start.weekday() for w in report.weeks] == [0] * stats.WEEKS
    assert report.weeks[-1].start.isoformat() == "2026-03-16"
    assert [w.new_customers for w in report.weeks[-2:]] == [1, 2]  # B; then A and C
    assert report.weeks[-1].customers == 5
    assert report.weeks[-1].revenue == 1_500_000 + 70_000 and report.weeks[-1].purchases == 2

    last = report.decay[-1]
    assert (last.customers, last.unreachable, last.inactive) == (5, 1, 2)
    assert [p.at.isoformat() for p in report.decay][::5] == ["2025-11-01", "2026-03-18"]
    # On 1 November only D was a member, and had bought in late August: active then.
    assert (report.decay[0].customers, report.decay[0].inactive) == (1, 0)

    assert report.top[0] == stats.TopCustomer("Елена", "+7 *** ***-45-67", 3_500_000, 2)
    assert all("Петрова" not in top.first_name for top in report.top)

    text = plain(stats_text(report, texts_for("ru"), active_days=90))
    assert "Клиентов: 5 (за эту неделю +2)" in text
    assert "Баллов на руках: 180 баллов, из них сгорит за 30 дней: 100 баллов" in text
    assert "+79161234567" not in text and "+7 *** ***-45-67" in text


async def test_charts_are_pngs_of_the_figures(sessions: async_sessionmaker) -> None:
    await _base(sessions)
    report = await _report(sessions)
    async with sessions() as session:
        funnel = await funnel_report(session, LINK_KEY)
    drawn = stats.draw_charts(report, funnel, texts_for("en"))

    assert [c.name for c in drawn] == [
        "growth.png",
        "funnel.png",
        "segments.png",
        "revenue.png",
        "liability.png",
    ]
    for chart in drawn:
        image = Image.open(io.BytesIO(chart.png))
        assert image.format == "PNG"
        assert image.size == (charts.WIDTH * charts.DPI, charts.HEIGHT * charts.DPI)
    growth, funnel_chart, segments, revenue, liability = drawn
    assert growth.series[0].values == tuple(w.customers for w in report.weeks)
    assert growth.series[1].values == tuple(w.new_customers for w in report.weeks)
    assert funnel_chart.labels == ("opened", "consent", "questionnaire", "first purchase")
    assert funnel_chart.series[0].values == (9, 7, 5, 4)
    assert dict(zip(segments.labels, segments.series[0].values, strict=True)) == {
        "potential": 1,
        "one purchase": 1,
        "active": 1,
        "VIP": 1,
        "gone quiet": 1,
    }
    assert revenue.series[0].values[-1] == 15_700.0  # roubles
    assert liability.series[0].values == (0, 100, *[0] * 10, 50, 30)
    assert liability.title == "Points outstanding: 180; when they lapse"


async def test_an_empty_base_has_no_figures_to_divide(sessions: async_sessionmaker) -> None:
    report = await _report(sessions)
    assert (report.customers, report.active_share, report.average_check) == (0, None, None)
    async with sessions() as session:
        funnel = await funnel_report(session, LINK_KEY)
    assert len(stats.draw_charts(report, funnel, texts_for("ru"))) == 5
