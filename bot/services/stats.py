"""The base at a glance: growth, lifecycle, money, the program's liability, decay, top buyers.

Every figure is an aggregate computed by the database (`db.repositories.stats`); this module
only arranges them into frozen dataclasses, and turns them into charts. Money is kopecks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phone import mask_phone
from bot.domain.program import Program
from bot.render import charts
from bot.services.funnel import FunnelReport, funnel_report
from bot.services.permissions import Action, Actor, Grant, NotAllowedError, require
from bot.services.sources import attributed_source_ids, list_sources
from bot.services.staff import StaffMember
from bot.texts import Texts
from db.base import utcnow
from db.repositories import stats as repo

WEEKS = 12
MONTHS = 6
TOP = 10
LAPSING_WINDOW = timedelta(days=30)
LIABILITY_WEEKS = 12
# Lifecycle segments, in the order they are shown (the names are in Texts.stats_segments).
SEGMENTS = ("potential", "one_purchase", "active", "vip", "gone_quiet", "cooling")


@dataclass(frozen=True)
class WeekFigure:
    start: date  # the Monday the week begins (UTC)
    new_customers: int
    customers: int  # the base at the week's end
    revenue: int  # net kopecks
    purchases: int


@dataclass(frozen=True)
class SourceFigure:
    label: str | None  # None: came without a source link (or imported)
    customers: int
    net_revenue: int
    ltv: int  # net revenue per customer of the source, kopecks


@dataclass(frozen=True)
class SegmentFigure:
    segment: str
    customers: int


@dataclass(frozen=True)
class DecayFigure:
    at: date
    customers: int
    unreachable: int
    inactive: int  # no purchase within the active window before `at`

    @property
    def unreachable_share(self) -> float | None:
        return self.unreachable / self.customers if self.customers else None

    @property
    def inactive_share(self) -> float | None:
        return self.inactive / self.customers if self.customers else None


@dataclass(frozen=True)
class TopCustomer:
    first_name: str
    masked_phone: str
    spend: int
    purchases: int


@dataclass(frozen=True)
class Liability:
    outstanding: int  # points held by live lots: what the program owes
    lapsing_soon: int  # of which lapse within LAPSING_WINDOW
    by_week: tuple[int, ...]  # lapsing in each of the next LIABILITY_WEEKS weeks
    later: int  # lapsing after those weeks
    never: int  # lots without an expiry


@dataclass(frozen=True)
class StatsReport:
    at: datetime
    customers: int
    weeks: tuple[WeekFigure, ...]
    sources: tuple[SourceFigure, ...]
    segments: tuple[SegmentFigure, ...]
    active_share: float | None  # bought within the active window, of all customers
    average_check: int | None  # net kopecks per purchase
    repeat_rate: float | None  # buyers with two purchases or more, of all buyers
    liability: Liability
    decay: tuple[DecayFigure, ...]
    top: tuple[TopCustomer, ...]

    @property
    def new_this_week(self) -> int:
        return self.weeks[-1].new_customers if self.weeks else 0


def week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _month_ends(now: datetime, months: int) -> list[datetime]:
    """The first instant of each of the last months (oldest first), then now."""
    points = []
    year, month = now.year, now.month
    for _ in range(months - 1):
        points.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return [*reversed(points), now]


async def report(
    session: AsyncSession,
    link_key: bytes,
    program: Program,
    *,
    by: Actor,
    active_days: int,
    quiet_days: int,
    now: datetime | None = None,
) -> StatsReport:
    """The whole base (who may see all statistics); a manager gets `report_for`'s own."""
    if require(by, Action.VIEW_STATS) is not Grant.ALL:
        raise NotAllowedError(Action.VIEW_STATS)
    return await _report(
        session, link_key, program, active_days=active_days, quiet_days=quiet_days, now=now
    )


async def _report(
    session: AsyncSession,
    link_key: bytes,
    program: Program,
    *,
    active_days: int,
    quiet_days: int,
    now: datetime | None = None,
    scope: repo.Scope = None,
) -> StatsReport:
    """The report over the whole base (`scope` None) or the customers of these sources."""
    now = now or utcnow()
    rules = repo.LifecycleRules(
        active_since=now - timedelta(days=active_days),
        quiet_before=now - timedelta(days=quiet_days),
        vip_spend=program.tiers[-1].threshold if len(program.tiers) > 1 else None,
    )
    groups = await repo.customer_groups(session, rules, scope)
    customers = sum(group.customers for group in groups)
    buyers = sum(group.buyers for group in groups)
    purchases, revenue = await repo.purchase_totals(session, scope)
    return StatsReport(
        at=now,
        customers=customers,
        weeks=await _weeks(session, now, scope),
        sources=await _sources(session, link_key, groups),
        segments=tuple(
            SegmentFigure(name, sum(g.customers for g in groups if g.segment == name))
            for name in SEGMENTS
        ),
        active_share=sum(g.recent_buyers for g in groups) / customers if customers else None,
        average_check=revenue // purchases if purchases else None,
        repeat_rate=sum(g.repeaters for g in groups) / buyers if buyers else None,
        liability=await _liability(session, now, scope),
        decay=await _decay(session, now, active_days, scope),
        top=tuple(
            TopCustomer(name.split(" ")[0], mask_phone(phone) if phone else "", spend, count)
            for name, phone, spend, count in await repo.top_customers(session, TOP, scope)
        ),
    )


async def _weeks(
    session: AsyncSession, now: datetime, scope: repo.Scope = None
) -> tuple[WeekFigure, ...]:
    start = week_start(now) - timedelta(weeks=WEEKS - 1)
    base = await repo.signups_before(session, start, scope)
    signups = await repo.signups_per_week(session, start, scope)
    revenue = await repo.revenue_per_week(session, start, scope)
    weeks = []
    for index in range(WEEKS):
        base += signups.get(index, 0)
        net, count = revenue.get(index, (0, 0))
        monday = (start + timedelta(weeks=index)).date()
        weeks.append(WeekFigure(monday, signups.get(index, 0), base, net, count))
    return tuple(weeks)


async def _sources(
    session: AsyncSession, link_key: bytes, groups: list[repo.CustomerGroup]
) -> tuple[SourceFigure, ...]:
    labels: dict[int | None, str | None] = {
        link.id: link.label for link in await list_sources(session, link_key)
    }
    totals: dict[int | None, tuple[int, int]] = {}
    for group in groups:
        customers, revenue = totals.get(group.source_id, (0, 0))
        totals[group.source_id] = (customers + group.customers, revenue + group.net_revenue)
    figures = [
        SourceFigure(labels.get(source_id), customers, revenue, revenue // customers)
        for source_id, (customers, revenue) in totals.items()
        if customers
    ]
    return tuple(sorted(figures, key=lambda f: (-f.ltv, -f.customers, f.label or "")))


async def _liability(session: AsyncSession, now: datetime, scope: repo.Scope = None) -> Liability:
    outstanding, lapsing = await repo.liability(session, now, now + LAPSING_WINDOW, scope)
    by_week = await repo.lapsing_per_week(session, now, scope)
    weeks = tuple(by_week.get(index, 0) for index in range(LIABILITY_WEEKS))
    never = by_week.get(None, 0)
    return Liability(outstanding, lapsing, weeks, outstanding - sum(weeks) - never, never)


async def _decay(
    session: AsyncSession, now: datetime, active_days: int, scope: repo.Scope = None
) -> tuple[DecayFigure, ...]:
    points = _month_ends(now, MONTHS)
    rows = await repo.decay(session, points, active_days, scope)
    return tuple(
        DecayFigure(point.date(), base, unreachable, max(base - buyers, 0))
        for point, (base, unreachable, buyers) in zip(points, rows, strict=True)
    )


def _rubles(kopecks: int) -> float:
    return kopecks / 100


def draw_charts(report: StatsReport, funnel: FunnelReport, texts: Texts) -> list[charts.Chart]:
    """Base growth, the signup funnel, lifecycle segments, revenue by week, liability."""
    weeks = [week.start.strftime("%d.%m") for week in report.weeks]
    growth = charts.line_chart(
        "growth.png",
        texts.chart_growth,
        weeks,
        [
            charts.Series(texts.chart_growth_base, tuple(w.customers for w in report.weeks)),
            charts.Series(texts.chart_growth_new, tuple(w.new_customers for w in report.weeks)),
        ],
    )
    steps = (
        sum(row.opens for row in funnel.rows),
        sum(row.consents for row in funnel.rows),
        sum(row.signups for row in funnel.rows),
        sum(row.first_purchases for row in funnel.rows),
    )
    funnel_chart = charts.horizontal_bars(
        "funnel.png", texts.chart_funnel, texts.chart_funnel_steps, steps
    )
    names = dict(zip(SEGMENTS, texts.stats_segments, strict=True))
    shown = [s for s in report.segments if s.customers or s.segment != "cooling"]
    segments = charts.horizontal_bars(
        "segments.png",
        texts.chart_segments,
        [names[s.segment] for s in shown],
        [s.customers for s in shown],
    )
    revenue = charts.bar_chart(
        "revenue.png",
        texts.chart_revenue,
        weeks,
        [charts.Series(texts.chart_revenue, tuple(_rubles(w.revenue) for w in report.weeks))],
    )
    liability = report.liability
    labels = [
        (report.at + timedelta(weeks=index)).strftime("%d.%m")
        for index in range(len(liability.by_week))
    ]
    lapsing = charts.bar_chart(
        "liability.png",
        texts.chart_liability.format(outstanding=liability.outstanding),
        [*labels, texts.chart_later, texts.chart_never],
        [
            charts.Series(
                texts.chart_liability_lapsing,
                (*liability.by_week, liability.later, liability.never),
            )
        ],
    )
    return [growth, funnel_chart, segments, revenue, lapsing]


@dataclass(frozen=True)
class OwnReport:
    """A manager's statistics: the same report, over the customers their QR codes brought."""

    sources: int  # their QR codes (sources linked to them)
    report: StatsReport
    funnel: FunnelReport


async def report_for(
    session: AsyncSession,
    member: Actor,
    link_key: bytes,
    program: Program,
    *,
    active_days: int,
    quiet_days: int,
    now: datetime | None = None,
) -> StatsReport | OwnReport:
    """What `member` may see: the whole base (owner) or the report over their own customers
    (a manager: the customers of the sources linked to them, `sources.staff_id`)."""
    if require(member, Action.VIEW_STATS) is Grant.ALL:
        return await _report(
            session, link_key, program, active_days=active_days, quiet_days=quiet_days, now=now
        )
    assert isinstance(member, StaffMember)
    ids = await attributed_source_ids(session, member)
    own = await _report(
        session,
        link_key,
        program,
        active_days=active_days,
        quiet_days=quiet_days,
        now=now,
        scope=ids,
    )
    return OwnReport(len(ids), own, await funnel_report(session, link_key, scope=ids))
