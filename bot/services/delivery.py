"""The delivery engine: drains the outbox (`deliveries`) through a messenger channel.

Every message the bot sends on its own goes through here: sale and refund notices, owner
alerts, broadcasts. A worker claims due rows under a lease, checks the advertising rules at
send time, paces the sends at a rate Telegram accepts, and records each outcome.

Exactly once, and the one window where it is not. A row is marked `sent` in its own small
transaction right after the channel answered, together with the message id. A crash (kill -9,
power loss, the database going away) *after* the channel accepted a message and *before* that
commit leaves the row in `sending`; once its lease lapses another worker sends it again. The
window is one network answer plus one short commit (marks of sends that finish together are
grouped into one commit, which is never delayed on purpose). Nothing else can duplicate: a
lapsed lease is taken over only by the claim's conditional UPDATE (PostgreSQL: `FOR UPDATE
SKIP LOCKED`), and a worker never starts a send on a row whose lease is about to lapse.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.advertising import FrequencyCap, QuietHours
from db.base import utcnow
from db.repositories import deliveries
from db.repositories.deliveries import Claimed, Sent, Settled

log = logging.getLogger(__name__)


# --- what a channel reports ------------------------------------------------------------------


class DeliveryError(Exception):
    """A send that did not go through; `reason` is stored, so it holds no personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfterError(DeliveryError):
    """The messenger asks to slow down: every send pauses for `seconds`, nothing is lost."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds:g} s")
        self.seconds = seconds


class RecipientGoneError(DeliveryError):
    """Blocked the bot, deleted the account: the customer is unreachable from now on."""


class TemporaryFailureError(DeliveryError):
    """A network error or a server error: worth retrying with a backoff."""


class RejectedError(DeliveryError):
    """The messenger refused this message for good (a bad request): retrying cannot help."""


@dataclass(frozen=True)
class Outgoing:
    """One message to render and send: the channel turns kind + payload into text."""

    delivery_id: int
    chat_id: int
    language: str
    kind: str
    payload: dict[str, Any]
    advertising: bool
    paid_broadcast: bool
    # Which messenger the recipient is reached on, and their last message there (WhatsApp
    # allows free-form text for 24 hours after it, an approved template otherwise).
    channel: str = "telegram"
    last_message_at: datetime | None = None


class Channel(Protocol):
    """A messenger (Telegram today): renders and sends one message, returns its message id.

    Raises `RetryAfterError`, `RecipientGoneError`, `TemporaryFailureError` or
    `RejectedError`; anything else is treated as a temporary failure.
    """

    async def send(self, message: Outgoing) -> int: ...


class Channels:
    """Several messengers behind one `Channel`: each message goes to its recipient's."""

    def __init__(self, channels: dict[str, Channel]) -> None:
        self._channels = channels

    async def send(self, message: Outgoing) -> int:
        channel = self._channels.get(message.channel)
        if channel is None:
            raise RejectedError(f"channel {message.channel} is not configured")
        return await channel.send(message)


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryConfig:
    rate: float = 25.0  # messages per second, all chats together (per worker process)
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    paid_broadcast: bool = False  # Telegram's allow_paid_broadcast on every send
    max_attempts: int = 5  # network errors and 5xx before a row is `failed`
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    backoff_max: float = 600.0
    lease: timedelta = timedelta(seconds=60)
    send_timeout: float = 15.0  # no send starts with less lease than this left (plus margin)
    poll_interval: float = 2.0  # how often other processes' rows are looked for
    batch: int = 200
    concurrency: int = 64  # sends in flight at once
    quiet_hours: QuietHours | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    cap: FrequencyCap = field(default_factory=lambda: FrequencyCap(2, 7))
    default_language: str = "ru"

    def backoff_after(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff * 2 ** max(attempts - 1, 0), self.backoff_max))


Clock = Callable[[], datetime]


# --- pacing --------------------------------------------------------------------------------------


class Pacer:
    """The global rate (evenly spaced starts, no bursts) and the pause a 429 asks for."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def slot(self) -> None:
        """Wait for the next send slot; after a pause the schedule restarts, no catch-up burst."""
        while (wait := self.paused_for) > 0:
            await asyncio.sleep(wait)
            self._next = time.monotonic()
        now = time.monotonic()
        start = max(self._next, now)
        self._next = start + self._gap
        if start > now:
            await asyncio.sleep(start - now)


# --- the worker ----------------------------------------------------------------------------------


@dataclass
class _Held:
    """A claimed row while this worker holds it."""

    row: Claimed
    lease_until: datetime


class DeliveryWorker:
    """One process's share of the outbox. `start()` it beside the bot, `stop()` before exit."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: Channel,
        config: DeliveryConfig,
        clock: Clock = utcnow,
    ) -> None:
        self._sessions = sessions
        self._channel = channel
        self._config = config
        self._clock = clock
        self._pacer = Pacer(config.rate)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ready: deque[_Held] = deque()
        self._waiting: list[tuple[float, int, _Held]] = []  # per-chat interval, by ready time
        self._order = itertools.count()
        self._chat_free_at: dict[int, float] = {}
        self._busy_chats: set[int] = set()
        self._gone: set[int] = set()  # customers found unreachable since their rows were claimed
        # The frequency cap: advertising sent per customer as the database knew it at the last
        # claim, plus this worker's own sends that are in flight or not yet committed.
        self._ads_known: Counter[int] = Counter()
        self._ads_mine: Counter[int] = Counter()
        self._ad_rows: dict[int, int] = {}  # row id -> customer, for this worker's ad sends
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._sent: list[Sent] = []
        self._settled: list[Settled] = []
        self._unreachable: list[int] = []
        self._retry_at = float("inf")  # monotonic time of the earliest retry this worker set
        self._flush_wanted = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    # lifecycle

    def start(self) -> None:
        deliveries.doorbell.register(self._wakeup)
        self._flusher = asyncio.create_task(self._flush_loop(), name="delivery-flush")
        self._task = asyncio.create_task(self._run(), name="delivery-worker")

    async def stop(self) -> None:
        """Finish the sends under way, record them, hand the rest back to the queue."""
        if self._task is None:
            return
        self._stopping = True
        self._wakeup.set()
        done, _ = await asyncio.wait({self._task}, timeout=1.0)
        if not done:  # waiting out a long flood-control pause: no need to
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_flight:
            await asyncio.wait(self._in_flight)
        deliveries.doorbell.unregister(self._wakeup)
        now = self._clock()
        for held in [*self._ready, *(entry[2] for entry in self._waiting)]:
            self._settled.append(Settled(held.row.id, "pending", now, held.row.attempts))
        self._ready.clear()
        self._waiting.clear()
        assert self._flusher is not None
        self._flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._flusher
        await self._flush()
        self._task = self._flusher = None

    def wake(self) -> None:
        self._wakeup.set()

    # the loop

    async def _run(self) -> None:
        next_poll = 0.0
        while not self._stopping:
            try:
                self._release_waiting()
                now = time.monotonic()
                if len(self._ready) + len(self._waiting) < self._config.batch // 2 and (
                    self._wakeup.is_set() or now >= min(next_poll, self._retry_at)
                ):
                    self._wakeup.clear()
                    if now >= self._retry_at:
                        self._retry_at = float("inf")
                    got = await self._claim()
                    if got == 0:
                        next_poll = time.monotonic() + self._config.poll_interval
                if not self._ready:
                    await self._idle(next_poll)
                    continue
                await self._dispatch(self._ready.popleft())
            except Exception:
                log.exception("delivery loop error; retrying in a moment")
                await asyncio.sleep(1.0)

    async def _idle(self, next_poll: float) -> None:
        """Sleep until a commit rings, the next poll, or the next chat is free again."""
        until = min(next_poll, self._retry_at)
        if self._waiting:
            until = min(until, self._waiting[0][0])
        timeout = max(0.0, until - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    def _release_waiting(self) -> None:
        now = time.monotonic()
        while self._waiting and self._waiting[0][0] <= now:
            self._ready.append(heapq.heappop(self._waiting)[2])

    async def _claim(self) -> int:
        await self._flush()  # retries and hand-backs first, so this claim can see them
        if not self._ready and not self._waiting:
            # Every row claimed before a customer was found unreachable is settled, and the mark
            # is in the database now (claims read it): one who unblocked may be written to again.
            self._gone.clear()
        now = self._clock()
        lease_until = now + self._config.lease
        async with self._sessions() as session:
            rows = await deliveries.claim(session, now, lease_until, self._config.batch)
            ad_customers = [r.customer_id for r in rows if r.advertising and r.customer_id]
            counts = await deliveries.advertising_sent_since(
                session, ad_customers, self._config.cap.window_start(now)
            )
            await session.commit()
        for customer_id in ad_customers:
            self._ads_known[customer_id] = counts.get(customer_id, 0)
        self._ready.extend(_Held(row, lease_until) for row in rows)
        return len(rows)

    # deciding and sending one row

    async def _dispatch(self, held: _Held) -> None:
        row, config = held.row, self._config
        now = self._clock()
        if now + timedelta(seconds=config.send_timeout + 5) >= held.lease_until:
            # The lease may lapse mid-send: let a fresh claim (ours or another's) take it.
            self._settle(Settled(row.id, "pending", now, row.attempts))
            return
        if row.chat_id is None:
            self._settle(Settled(row.id, "skipped", now, row.attempts, "no recipient"))
            return
        if row.customer_id is not None and (row.unreachable or row.customer_id in self._gone):
            self._settle(Settled(row.id, "skipped", now, row.attempts, "unreachable"))
            return
        if row.advertising:
            if not row.ads_opt_in:
                reason = "no advertising consent"
                self._settle(Settled(row.id, "skipped", now, row.attempts, reason))
                return
            if config.quiet_hours is not None:
                until = config.quiet_hours.next_allowed(now, config.zone)
                if until is not None:
                    self._settle(Settled(row.id, "pending", until, row.attempts, "quiet hours"))
                    return
        chat = row.chat_id
        free_at = self._chat_free_at.get(chat, 0.0)
        if chat in self._busy_chats or free_at > time.monotonic():
            ready_at = max(free_at, time.monotonic() + 0.05)
            heapq.heappush(self._waiting, (ready_at, next(self._order), held))
            return
        customer = row.customer_id
        if row.advertising and customer is not None:
            if not config.cap.allows(self._ads_known[customer] + self._ads_mine[customer]):
                reason = f"frequency cap: {config.cap.messages} in {config.cap.days} days"
                self._settle(Settled(row.id, "skipped", now, row.attempts, reason))
                return
            self._ads_mine[customer] += 1
            self._ad_rows[row.id] = customer
        try:
            await self._slots.acquire()
            try:
                await self._pacer.slot()
            except BaseException:
                self._slots.release()
                raise
        except BaseException:
            self._undo_ad(row)
            self._ready.appendleft(held)  # stopping: handed back with the rest
            raise
        self._busy_chats.add(chat)
        task = asyncio.create_task(self._send(held, chat))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, held: _Held, chat: int) -> None:
        row, config = held.row, self._config
        message = Outgoing(
            delivery_id=row.id,
            chat_id=chat,
            language=row.language or config.default_language,
            kind=row.kind,
            payload=row.payload,
            advertising=row.advertising,
            paid_broadcast=config.paid_broadcast,
            channel=row.channel,
            last_message_at=row.last_message_at,
        )
        try:
            message_id = await self._channel.send(message)
        except RetryAfterError as limited:
            log.warning("delivery paused for %s s by flood control", limited.seconds)
            self._pacer.pause(limited.seconds)
            self._undo_ad(row)
            self._ready.appendleft(held)
            self._wakeup.set()
        except RecipientGoneError as gone:
            self._undo_ad(row)
            if row.customer_id is not None:
                self._gone.add(row.customer_id)
            self._settle(
                Settled(row.id, "skipped", self._clock(), row.attempts + 1, gone.reason),
                unreachable=row.customer_id,
            )
        except RejectedError as rejected:
            self._undo_ad(row)
            self._settle(
                Settled(row.id, "failed", self._clock(), row.attempts + 1, rejected.reason)
            )
        except Exception as error:
            self._undo_ad(row)
            reason = error.reason if isinstance(error, DeliveryError) else type(error).__name__
            if not isinstance(error, TemporaryFailureError):
                log.exception("delivery %s: unexpected error from the channel", row.id)
            self._retry_or_fail(row, reason)
        else:
            self._sent.append(Sent(row.id, message_id, self._clock()))
            self._flush_wanted.set()
        finally:
            self._busy_chats.discard(chat)
            self._chat_free_at[chat] = time.monotonic() + config.per_chat_interval
            self._slots.release()

    def _undo_ad(self, row: Claimed) -> None:
        customer = self._ad_rows.pop(row.id, None)
        if customer is not None:
            self._ads_mine[customer] -= 1

    def _retry_or_fail(self, row: Claimed, reason: str) -> None:
        attempts = row.attempts + 1
        now = self._clock()
        if attempts >= self._config.max_attempts:
            self._settle(Settled(row.id, "failed", now, attempts, reason))
        else:
            due = now + self._config.backoff_after(attempts)
            self._settle(Settled(row.id, "pending", due, attempts, reason))

    def _settle(self, outcome: Settled, unreachable: int | None = None) -> None:
        self._settled.append(outcome)
        if outcome.state == "pending":
            wait = (outcome.due_at - self._clock()).total_seconds()
            self._retry_at = min(self._retry_at, time.monotonic() + max(wait, 0.0) + 0.01)
        if unreachable is not None:
            self._unreachable.append(unreachable)
        self._flush_wanted.set()

    # recording outcomes

    async def _flush_loop(self) -> None:
        """Records outcomes as soon as they exist; sends that finish together share a commit."""
        while True:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("recording delivery outcomes failed; retrying")
                await asyncio.sleep(1.0)
                self._flush_wanted.set()

    async def _flush(self) -> None:
        sent, settled, unreachable = self._sent, self._settled, self._unreachable
        if not (sent or settled or unreachable):
            return
        self._sent, self._settled, self._unreachable = [], [], []
        try:
            async with self._sessions() as session:
                await deliveries.record(session, sent, settled, unreachable, self._clock())
                await session.commit()
        except BaseException:
            self._sent, self._settled = sent + self._sent, settled + self._settled
            self._unreachable = unreachable + self._unreachable
            raise
        for mark in sent:
            customer = self._ad_rows.pop(mark.id, None)
            if customer is not None:  # now in the database: count it there
                self._ads_mine[customer] -= 1
                self._ads_known[customer] += 1
