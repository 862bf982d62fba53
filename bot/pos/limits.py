"""Rate limits of the POS API: token buckets in process memory, per token and per address.

- every request: POS_RATE_PER_MINUTE per token and per client address;
- failures, far stricter, POS_FAILURES_PER_HOUR: bad tokens per address (once spent, the
  address gets nothing but 429 until the bucket refills), and lookups that find nobody per token
  and per address (once spent, card and phone lookups get 429; refunds still work).

A bucket holds its allowance and refills it evenly over the period, so a till may spend a burst
and then goes on at the steady rate. When failures empty a bucket the owners get one alert for
that burst (through the outbox); the burst ends when the bucket is full again.

The buckets live in one process: with several processes each keeps its own, so the limits hold
per process. A full bucket is the same as none, so full ones are dropped when there are many.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.pos.errors import ApiError
from bot.services import pos_alerts
from bot.settings import Settings

MAX_KEYS = 10_000  # buckets kept before the full ones are dropped
Clock = Callable[[], float]


@dataclass(slots=True)
class _Bucket:
    level: float
    stamp: float
    failures: int = 0  # in the current burst: since the bucket was last full
    alerted: bool = False


class Buckets:
    """Token buckets by key: each holds `capacity` and refills it evenly over `period` seconds."""

    def __init__(self, capacity: int, period: float, clock: Clock) -> None:
        self.capacity = capacity
        self._rate = capacity / period
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
            return bucket
        bucket.level = min(self.capacity, bucket.level + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        if bucket.level >= self.capacity:
            bucket.failures, bucket.alerted = 0, False  # the burst, if any, is over
        return bucket

    def _prune(self, now: float) -> None:
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.level + (now - bucket.stamp) * self._rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # a flood of fresh keys: forget the oldest half
            for key in list(self._buckets)[: MAX_KEYS // 2]:
                del self._buckets[key]

    def wait(self, key: str) -> float:
        """Seconds until the bucket holds one token again; 0 when it holds one now."""
        bucket = self._bucket(key)
        return 0.0 if bucket.level >= 1 else (1 - bucket.level) / self._rate

    def take(self, key: str) -> float:
        """Take a token: 0 when one was there, else the seconds to wait (nothing taken)."""
        bucket = self._bucket(key)
        if bucket.level >= 1:
            bucket.level -= 1
            return 0.0
        return (1 - bucket.level) / self._rate

    def fail(self, key: str) -> int | None:
        """Count a failure; the failures of this burst when it just emptied the bucket for the
        first time in the burst (time to tell the owner), else None."""
        bucket = self._bucket(key)
        bucket.level = max(0.0, bucket.level - 1)
        bucket.failures += 1
        if bucket.level < 1 and not bucket.alerted:
            bucket.alerted = True
            return bucket.failures
        return None


def client_address(address: str) -> str:
    """The key a client is limited under: its IPv4 address, or the /64 network of an IPv6 one
    (one subscriber holds a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "-"  # not an address: all such requests share one bucket
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def too_many(code: str, message: str, wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(429, code, message, retry_after=seconds)


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: the client address and the token it presents."""

    address: str
    token: str | None


class Guard:
    """The POS API's limits, and the owners' alert when failures come in a burst."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self._owners: Sequence[int] = settings.owner_ids
        self._behind_proxy = settings.pos_behind_proxy
        self._sessions = sessions
        self._wall = wall
        per_minute = settings.pos_rate_per_minute
        per_hour = settings.pos_failures_per_hour
        self._period = 3600.0
        self._requests = Buckets(per_minute, 60.0, clock)  # keys: "a:<address>", "t:<token>"
        self._bad_tokens = Buckets(per_hour, self._period, clock)  # keys: addresses
        self._misses = Buckets(per_hour, self._period, clock)  # keys as for requests

    def caller(self, request: web.Request, token: str | None) -> Caller:
        """Behind a reverse proxy (POS_BEHIND_PROXY) the client is the last X-Forwarded-For
        entry, the one the proxy itself added; otherwise the peer of the connection."""
        address = request.remote or "-"
        if self._behind_proxy:
            forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
            address = forwarded.split(",")[-1].strip() or address
        return Caller(client_address(address), token)

    def admit(self, caller: Caller) -> None:
        """Before the token is checked: the address's request rate and its bad tokens."""
        if wait := self._bad_tokens.wait(caller.address):
            raise too_many(
                "too_many_failures", "too many bad tokens from this address; wait and retry", wait
            )
        if wait := self._requests.take(f"a:{caller.address}"):
            raise too_many("rate_limited", "too many requests from this address", wait)

    def admit_token(self, caller: Caller) -> None:
        """Once the token is known good: its own request rate."""
        if wait := self._requests.take(f"t:{caller.token}"):
            raise too_many("rate_limited", "too many requests with this token", wait)

    def admit_lookup(self, caller: Caller) -> None:
        """Before a card or phone is looked up: lookups that missed, by token and by address."""
        wait = max(self._misses.wait(f"t:{caller.token}"), self._misses.wait(f"a:{caller.address}"))
        if wait:
            raise too_many(
                "too_many_failures",
                "too many lookups found nobody; check the card or phone and retry later",
                wait,
            )

    async def bad_token(self, caller: Caller) -> None:
        if (count := self._bad_tokens.fail(caller.address)) is not None:
            fields = {"address": caller.address, "count": count}
            await self._alert(pos_alerts.AUTH_FAILURES, fields, caller.address)

    async def missed(self, caller: Caller, store: str) -> None:
        by_token = self._misses.fail(f"t:{caller.token}")
        by_address = self._misses.fail(f"a:{caller.address}")
        count = max(by_token or 0, by_address or 0)
        if count:
            fields = {"address": caller.address, "store": store, "count": count}
            source = f"t:{caller.token}" if by_token else f"a:{caller.address}"
            await self._alert(pos_alerts.LOOKUP_MISSES, fields, source)

    async def _alert(self, alert: str, fields: dict[str, object], source: str) -> None:
        if not self._owners:
            return
        async with self._sessions() as session:
            await pos_alerts.alert_owners(
                session,
                self._owners,
                alert,
                fields,
                source=source,
                window=int(self._wall() // self._period),
            )
