"""A broadcast's start time as the owner types it: "YYYY-MM-DD HH:MM" or "DD.MM HH:MM", in the
shop's time zone. Pure: the caller passes the local "now" and gets an aware UTC instant."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_FULL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})$")
_SHORT = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?\s+(\d{1,2}):(\d{2})$")
# A time typed within the current minute is "now", not "in the past".
GRACE = timedelta(minutes=1)


class SendTimeError(ValueError):
    """`reason`: "format" (not a time we read) or "past" (already gone)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_send_time(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment in UTC. A "DD.MM" without a year is the next such day (this year, or the
    next when it has passed). Raises SendTimeError("format") or SendTimeError("past")."""
    value = " ".join(text.split())
    local_now = now.astimezone(zone)
    if full := _FULL.match(value):
        year, month, day, hour, minute = (int(part) for part in full.groups())
        guessed_year = False
    elif short := _SHORT.match(value):
        day, month = int(short[1]), int(short[2])
        hour, minute = int(short[4]), int(short[5])
        guessed_year = short[3] is None
        year = local_now.year if guessed_year else int(short[3])
    else:
        raise SendTimeError("format")
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise SendTimeError("format") from None
    if guessed_year and local < local_now - GRACE:
        try:
            local = local.replace(year=year + 1)
        except ValueError:  # 29 February
            raise SendTimeError("past") from None
    moment = local.astimezone(UTC)
    if moment < now - GRACE:
        raise SendTimeError("past")
    return max(moment, now)  # the current minute: now
