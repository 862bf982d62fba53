"""Campaigns: a broadcast to a segment, its holdout, its progress and whether it paid off.

Lifecycle: `create` (draft, or scheduled with a start time) → `start` (now, or by `tick` at its
time) → running → done when nothing is left to send; a running campaign can be paused and
resumed; any campaign not finished can be cancelled. Every change is a conditional UPDATE of
the campaign's state, so two processes (or the shell beside the bot) never start it twice.

Starting expands the segment in SQL: the target is written to `campaign_members`, a random
share of it (HOLDOUT, default 10 %) as the control group that is never sent to, and one outbox
row per other member (`advertising`, `campaign_id`, kind `campaign`) for the delivery engine,
which checks consent, quiet hours and the frequency cap again at send time. The shell only
queues: the bot process sends.

Whether it paid off compares purchases within RESULTS_DAYS after the start by the recipients
(every non-holdout member, sent to or not: intention to treat) with the holdout's.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import campaigns as rules_
from bot.domain.campaigns import CODE_PLACEHOLDER, CampaignError, CampaignState, GroupFigures
from bot.domain.segments import SegmentFilter, SegmentRules
from bot.services import audit, promos
from bot.services.permissions import Action, Actor, Grant, NotAllowedError, allowed, require
from bot.services.sources import attributed_source_ids
from bot.services.staff import StaffMember
from db.base import utcnow
from db.models import Campaign
from db.repositories import campaigns as repo
from db.repositories import deliveries
from db.repositories import segments as segment_repo

log = logging.getLogger(__name__)

DEFAULT_HOLDOUT = 10
DEFAULT_RESULTS_DAYS = 14


class CampaignNotFoundError(LookupError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(campaign_id)
        self.campaign_id = campaign_id


class WrongStateError(Exception):
    """The change does not apply to the campaign's state now (`state`)."""

    def __init__(self, campaign_id: int, state: str, action: str) -> None:
        super().__init__(f"campaign {campaign_id} is {state}: cannot {action}")
        self.campaign_id = campaign_id
        self.state = state
        self.action = action


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    name: str
    text: str
    has_photo: bool
    button_url: str | None
    segment_name: str | None  # None: built on the spot (or everyone, when the filter is empty)
    segment: SegmentFilter
    holdout_percent: int
    state: CampaignState
    created_by: str
    created_at: datetime
    start_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    targeted: int  # in the segment (reachable) at the start
    held_out: int  # of them in the holdout
    promotion_id: int | None = None  # personal codes handed out with it


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    state: CampaignState
    sent: int
    failed: int
    blocked: int
    skipped: int  # consent withdrawn meanwhile, frequency cap, cancelled
    left: int
    time_left: timedelta  # at the configured rate (quiet hours not counted)
    preparing: bool = False  # the recipients are still being written (a big start)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.blocked + self.skipped + self.left


@dataclass(frozen=True)
class Results:
    campaign_id: int
    delivered: int
    failed: int
    blocked: int
    unsubscribed: int  # withdrew the advertising consent after receiving it
    days: int  # the window after the start in which purchases count
    recipients: GroupFigures  # non-holdout members
    holdout: GroupFigures
    incremental_revenue: int | None  # kopecks; None without a holdout
    promo_redemptions: int | None  # None: the campaign carries no promotion


@dataclass(frozen=True)
class Started:
    campaign_id: int
    targeted: int
    held_out: int

    @property
    def queued(self) -> int:
        return self.targeted - self.held_out


def _info(row: Campaign) -> CampaignInfo:
    return CampaignInfo(
        id=row.id,
        name=row.name,
        text=row.text,
        has_photo=bool(row.photo_file_id or row.photo_data is not None),
        button_url=row.button_url,
        segment_name=row.segment_name,
        segment=SegmentFilter.from_dict(row.segment),
        holdout_percent=row.holdout_percent,
        state=CampaignState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
        start_at=row.start_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        targeted=row.targeted,
        held_out=row.held_out,
        promotion_id=row.promotion_id,
    )


def _own_actor(member: StaffMember) -> str:
    return audit.messenger_actor(member.telegram_id)


async def restricted(session: AsyncSession, by: Actor, segment: SegmentFilter) -> SegmentFilter:
    """The segment `by` may send to: as it is (Grant.ALL), or cut down to the customers their
    QR codes brought (a manager, Grant.OWN): only sources among their own are kept, and none
    given means all of theirs, so no forged segment reaches anyone else. With no source of
    their own it matches nobody (source id 0 never exists)."""
    if require(by, Action.BROADCAST) is Grant.ALL:
        return segment
    assert isinstance(by, StaffMember)
    own = set(await attributed_source_ids(session, by))
    wanted = own & set(segment.source_ids) if segment.source_ids else own
    return replace(segment, source_ids=tuple(sorted(wanted)) or (0,))


async def allowed_campaign(session: AsyncSession, by: Actor, campaign_id: int) -> CampaignInfo:
    """The campaign if `by` may see and steer it: any (owner, shell) or their own (manager).
    NotAllowedError for anyone else, the same whether the campaign exists or not."""
    if require(by, Action.BROADCAST) is Grant.ALL:
        return _info(await _row(session, campaign_id))
    assert isinstance(by, StaffMember)
    row = await repo.get(session, campaign_id)
    if row is None or row.created_by != _own_actor(by):
        raise NotAllowedError(Action.BROADCAST)
    return _info(row)


async def _row(session: AsyncSession, campaign_id: int) -> Campaign:
    row = await repo.get(session, campaign_id)
    if row is None:
        raise CampaignNotFoundError(campaign_id)
    return row


async def create(
    session: AsyncSession,
    *,
    text: str,
    segment: SegmentFilter,
    segment_name: str | None = None,
    photo_file_id: str | None = None,
    photo_data: bytes | None = None,
    button_url: str | None = None,
    start_at: datetime | None = None,
    holdout_percent: int = DEFAULT_HOLDOUT,
    name: str = "",
    promotion_id: int | None = None,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
) -> CampaignInfo:
    """A draft (start it with `start`), or scheduled when `start_at` is given. Commits.

    `promotion_id`: an active personal-code promotion; every non-holdout recipient gets their
    own code at the start, shown where the text says `{code}`, otherwise behind a "show my
    promo code" button.

    Raises CampaignError (field, message) for a text, photo, link, holdout, time or promotion
    that cannot be sent; nothing is stored then.
    """
    segment = await restricted(session, by, segment)
    if isinstance(by, StaffMember) and allowed(by, Action.BROADCAST) is not Grant.ALL:
        actor = _own_actor(by)  # whose campaign it is: `listing` shows a manager theirs
    now = now or utcnow()
    with_photo = bool(photo_file_id) or photo_data is not None
    text = rules_.check_text(text, with_photo=with_photo)
    photo_data = rules_.check_photo(photo_data)
    button_url = rules_.check_button_url(button_url)
    holdout_percent = rules_.check_holdout(holdout_percent)
    if start_at is not None:
        if start_at.tzinfo is None:
            raise CampaignError("start_at", "a time with its time zone")
        if start_at < now - timedelta(minutes=1):
            raise CampaignError("start_at", "in the past")
    if promotion_id is not None and not await promos.usable_for_campaign(
        session, promotion_id, now
    ):
        raise CampaignError("promotion", "not an active personal-code promotion")
    row = await repo.add(
        session,
        name=(name or re.sub(r"<[^>]+>", "", text).split("\n", 1)[0]).strip()[:100],
        text=text,
        photo_file_id=photo_file_id or None,
        photo_data=photo_data,
        button_url=button_url,
        segment_name=segment_name,
        segment=segment.to_dict(),
        holdout_percent=holdout_percent,
        state=CampaignState.SCHEDULED if start_at else CampaignState.DRAFT,
        created_by=actor[:64],
        created_at=now,
        start_at=start_at,
        targeted=0,
        held_out=0,
        promotion_id=promotion_id,
    )
    await audit.record(
        session,
        actor,
        channel,
        "campaign_created",
        row.id,
        segment=segment_name,
        holdout=holdout_percent,
        start_at=start_at.isoformat() if start_at else None,
        promotion=promotion_id,
    )
    await session.commit()
    return _info(row)


def _payload(row: Campaign) -> dict[str, object]:
    payload: dict[str, object] = {
        "text": row.text,
        "photo": row.photo_file_id,
        "photo_campaign": row.id if row.photo_data is not None else None,
        "button_url": row.button_url,
    }
    if row.promotion_id is not None:
        payload |= {
            "campaign": row.id,
            "promotion": row.promotion_id,
            # Without a {code} in the text the code hides behind a "show my promo code" button.
            "promo_button": CODE_PLACEHOLDER not in row.text,
        }
    return payload


SLICE = 50_000  # customer ids per expansion transaction


async def start(
    session: AsyncSession,
    campaign_id: int,
    rules: SegmentRules,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
    slice_size: int = SLICE,
) -> Started:
    """Expand the segment into the outbox now (a draft, or a scheduled one early). Commits.

    Exactly once: the state moves draft/scheduled → running by a conditional UPDATE (a second
    caller gets WrongStateError), fixing the highest customer id then. The target is then
    expanded in slices of customer ids, each claimed by a conditional UPDATE and committed on
    its own, so SQLite's single writer is never held for long; `tick` resumes an expansion a
    crash interrupted.
    """
    await allowed_campaign(session, by, campaign_id)
    return await _start(
        session, campaign_id, rules, actor=actor, channel=channel, now=now, slice_size=slice_size
    )


async def _start(
    session: AsyncSession,
    campaign_id: int,
    rules: SegmentRules,
    *,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
    slice_size: int = SLICE,
) -> Started:
    """`start` without the rights check: the scheduler starting a campaign when it is due."""
    now = now or utcnow()
    await _row(session, campaign_id)
    until = await repo.highest_customer_id(session)
    if not await repo.change_state(
        session,
        campaign_id,
        tuple(rules_.STARTABLE),
        CampaignState.RUNNING,
        started_at=now,
        expand_until=until,
        expanded_through=0,
    ):
        await session.rollback()
        current = await _row(session, campaign_id)
        raise WrongStateError(campaign_id, current.state, "start")
    await audit.record(session, actor, channel, "campaign_started", campaign_id)
    await session.commit()
    await expand(session, campaign_id, rules, now=now, slice_size=slice_size)
    row = await _row(session, campaign_id)
    await session.refresh(row)
    log.info(
        "campaign %s started: %s queued, %s held out",
        campaign_id,
        row.targeted - row.held_out,
        row.held_out,
    )
    return Started(campaign_id, row.targeted, row.held_out)


_background: set[asyncio.Task[None]] = set()


def start_in_background(
    sessions: async_sessionmaker[AsyncSession],
    campaign_id: int,
    rules: SegmentRules,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
) -> asyncio.Task[None]:
    """`start` in a task of its own, so that the caller (the owner's update) answers at once
    while a big segment is expanded. The campaign should be scheduled for now (`create` with
    `start_at=now`): if this process dies first, `tick` starts it; of the two, the conditional
    UPDATE lets exactly one start it."""

    async def run() -> None:
        try:
            async with sessions() as session:
                await start(session, campaign_id, rules, by=by, actor=actor, channel=channel)
        except WrongStateError:  # the tick (or another process) started it first
            return
        except Exception:  # the tick resumes an interrupted expansion
            log.exception("campaign %s: background start failed", campaign_id)

    task = asyncio.create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def expand(
    session: AsyncSession,
    campaign_id: int,
    rules: SegmentRules,
    *,
    now: datetime | None = None,
    slice_size: int = SLICE,
) -> None:
    """Expand a started campaign from where its expansion stands, a slice per transaction."""
    now = now or utcnow()
    row = await _row(session, campaign_id)
    await session.refresh(row)
    segment = SegmentFilter.from_dict(row.segment)
    payload, holdout, until = _payload(row), row.holdout_percent, row.expand_until
    promotion_id = row.promotion_id
    after = row.expanded_through
    await session.commit()
    while after < until:
        through = min(after + slice_size, until)
        if not await repo.claim_slice(session, campaign_id, after, through):
            await session.rollback()  # another process is expanding it, or it was cancelled
            return
        await repo.expand_slice(
            session,
            campaign_id,
            segment_repo.recipients(segment, rules),
            holdout,
            payload,
            now,
            after,
            through,
        )
        if promotion_id is not None:  # the slice's recipients' codes, in the same transaction
            recipients = await repo.recipient_ids(session, campaign_id, after, through)
            await promos.issue_personal_codes(session, promotion_id, recipients, now=now)
        deliveries.ring_after_commit(session)
        await session.commit()
        after = through


async def _move(
    session: AsyncSession,
    campaign_id: int,
    before: tuple[CampaignState, ...],
    after: CampaignState,
    action: str,
    actor: str,
    channel: audit.Channel | str,
    now: datetime,
    by: Actor,
) -> CampaignInfo:
    await allowed_campaign(session, by, campaign_id)
    extra = {"finished_at": now} if after is CampaignState.CANCELLED else {}
    if not await repo.change_state(session, campaign_id, tuple(before), after, **extra):
        await session.rollback()
        current = await _row(session, campaign_id)
        raise WrongStateError(campaign_id, current.state, action)
    if after is CampaignState.CANCELLED:
        await repo.skip_pending(session, campaign_id, now)
    if after is CampaignState.RUNNING:
        deliveries.ring_after_commit(session)
    await audit.record(session, actor, channel, f"campaign_{action}", campaign_id)
    await session.commit()
    return _info(await _row(session, campaign_id))


async def pause(
    session: AsyncSession,
    campaign_id: int,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
) -> CampaignInfo:
    """Stop sending: workers claim no more of its rows (those already claimed, at most one
    batch, still go out). Commits; WrongStateError unless running."""
    return await _move(
        session,
        campaign_id,
        (CampaignState.RUNNING,),
        CampaignState.PAUSED,
        "paused",
        actor,
        channel,
        now or utcnow(),
        by,
    )


async def resume(
    session: AsyncSession,
    campaign_id: int,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
) -> CampaignInfo:
    """Go on sending where it stopped. Commits; WrongStateError unless paused."""
    return await _move(
        session,
        campaign_id,
        (CampaignState.PAUSED,),
        CampaignState.RUNNING,
        "resumed",
        actor,
        channel,
        now or utcnow(),
        by,
    )


async def cancel(
    session: AsyncSession,
    campaign_id: int,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel | str,
    now: datetime | None = None,
) -> CampaignInfo:
    """Never send the rest (queued rows become skipped). Commits; WrongStateError when it is
    already done or cancelled."""
    return await _move(
        session,
        campaign_id,
        (
            CampaignState.DRAFT,
            CampaignState.SCHEDULED,
            CampaignState.RUNNING,
            CampaignState.PAUSED,
        ),
        CampaignState.CANCELLED,
        "cancelled",
        actor,
        channel,
        now or utcnow(),
        by,
    )


async def get(session: AsyncSession, campaign_id: int) -> CampaignInfo:
    return _info(await _row(session, campaign_id))


async def listing(session: AsyncSession, limit: int = 20, *, by: Actor) -> list[CampaignInfo]:
    """The newest campaigns first: all of them, or a manager's own."""
    if require(by, Action.BROADCAST) is Grant.ALL:
        return [_info(row) for row in await repo.newest(session, limit)]
    assert isinstance(by, StaffMember)
    return [_info(row) for row in await repo.newest(session, limit, created_by=_own_actor(by))]


async def progress(session: AsyncSession, campaign_id: int, rate: float) -> Progress:
    """Sent, failed, blocked, skipped, left, and the time the rest takes at `rate` per second."""
    row = await _row(session, campaign_id)
    got = await repo.outcomes(session, campaign_id)
    return Progress(
        campaign_id,
        CampaignState(row.state),
        got.sent,
        got.failed,
        got.blocked,
        got.skipped,
        got.left,
        rules_.time_left(got.left, rate),
        preparing=row.state == CampaignState.SCHEDULED
        or (
            row.state in (CampaignState.RUNNING, CampaignState.PAUSED)
            and row.expanded_through < row.expand_until
        ),
    )


async def promo_redemptions(
    session: AsyncSession, campaign_id: int, days: int = DEFAULT_RESULTS_DAYS
) -> int | None:
    """Redemptions of the codes handed out with this campaign (its promotion's codes of its
    non-holdout members) within the results window, those released by a refund not counted.
    None: the campaign carries no promotion."""
    row = await _row(session, campaign_id)
    if row.promotion_id is None:
        return None
    if row.started_at is None:
        return 0
    start, end = rules_.results_window(row.started_at, days)
    return await repo.promo_redemptions(session, campaign_id, row.promotion_id, start, end)


async def my_promo_code(session: AsyncSession, campaign_id: int, telegram_id: int) -> str | None:
    """The code this campaign handed the customer with this Telegram id ("K7QM-3XWP"); None
    when they were not sent it (not a recipient, the holdout, another campaign, no promotion):
    a forged button reveals nothing."""
    code = await repo.member_code(session, campaign_id, telegram_id)
    return promos.shown_code(code) if code else None


async def results(
    session: AsyncSession, campaign_id: int, days: int = DEFAULT_RESULTS_DAYS
) -> Results:
    """Delivery outcomes and purchases within `days` of the start, recipients vs holdout."""
    row = await _row(session, campaign_id)
    got = await repo.outcomes(session, campaign_id)
    recipients = GroupFigures(0, 0, 0, 0)
    holdout = GroupFigures(0, 0, 0, 0)
    if row.started_at is not None:
        start, end = rules_.results_window(row.started_at, days)
        for group in await repo.groups(session, campaign_id, start, end):
            figures = GroupFigures(group.heads, group.buyers, group.purchases, group.revenue)
            if group.holdout:
                holdout = figures
            else:
                recipients = figures
    return Results(
        campaign_id=campaign_id,
        delivered=got.sent,
        failed=got.failed,
        blocked=got.blocked,
        unsubscribed=await repo.unsubscribed_after(session, campaign_id),
        days=days,
        recipients=recipients,
        holdout=holdout,
        incremental_revenue=rules_.incremental_revenue(recipients, holdout),
        promo_redemptions=await promo_redemptions(session, campaign_id, days),
    )


async def photo(session: AsyncSession, campaign_id: int) -> bytes | None:
    """The photo's bytes stored with a campaign (the channel uploads them once per process)."""
    return await repo.photo(session, campaign_id)


def code_loader(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[int], Awaitable[str | None]]:
    """For the Telegram channel: outbox row id → its recipient's code of the campaign's
    promotion ("K7QM-3XWP"), in a session of its own; None when there is none."""

    async def load(delivery_id: int) -> str | None:
        async with sessions() as session:
            code = await repo.delivery_code(session, delivery_id)
        return promos.shown_code(code) if code else None

    return load


def photo_loader(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[int], Awaitable[bytes | None]]:
    """For the Telegram channel: campaign id → its stored photo, in a session of its own."""

    async def load(campaign_id: int) -> bytes | None:
        async with sessions() as session:
            return await photo(session, campaign_id)

    return load


@dataclass(frozen=True)
class TickResult:
    started: list[Started]
    finished: list[int]


async def tick(
    sessions: async_sessionmaker[AsyncSession],
    rules: SegmentRules,
    *,
    now: datetime | None = None,
    actor: str = "scheduler",
) -> TickResult:
    """Start the scheduled campaigns whose time has come; mark finished ones done.

    Safe in any number of processes at once: each start is a conditional UPDATE of the state.
    """
    now = now or utcnow()
    async with sessions() as session:
        due = await repo.due(session, now)
        interrupted = await repo.unexpanded(session)
    for campaign_id in interrupted:  # a process died mid-expansion: go on from its slice
        async with sessions() as session:
            await expand(session, campaign_id, rules, now=now)
    started = []
    for campaign_id in due:
        async with sessions() as session:
            try:
                started.append(
                    await _start(session, campaign_id, rules, actor=actor, channel="shell", now=now)
                )
            except WrongStateError:  # another process started it first
                continue
    async with sessions() as session:
        finished = await repo.finish_done(session, now)
        for campaign_id in finished:
            await audit.record(session, actor, "shell", "campaign_done", campaign_id)
        await session.commit()
    return TickResult(started, finished)


async def holdout_sent(session: AsyncSession, campaign_id: int) -> int:
    """Outbox rows addressed to holdout members of the campaign (0 by construction)."""
    return await repo.holdout_sent(session, campaign_id)
