"""When an advertising message may go out (38-FZ, and manners): quiet hours and a weekly cap.

Transactional messages (a sale notice, an owner's alert) are not advertising and follow none
of this; the delivery engine asks these rules only for rows marked `advertising`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in the shop's time zone; `start > end` wraps past midnight (21:00-09:00)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def next_allowed(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """None when `now` is outside quiet hours, else the moment they end (aware, UTC-able)."""
        local = now.astimezone(zone)
        if not self.contains(local.time()):
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end


def parse_quiet_hours(value: str) -> QuietHours | None:
    """`21:00-09:00`; empty means no quiet hours. ValueError with a readable message otherwise."""
    if not value.strip():
        return None
    match = _WINDOW.match(value)
    if match is None:
        raise ValueError("write it as HH:MM-HH:MM, e.g. 21:00-09:00 (empty: none)")
    hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
    if hour1 > 23 or hour2 > 23 or minute1 > 59 or minute2 > 59:
        raise ValueError("hours 0-23 and minutes 0-59, e.g. 21:00-09:00")
    window = QuietHours(time(hour1, minute1), time(hour2, minute2))
    if window.start == window.end:
        raise ValueError("start and end are the same; leave it empty for no quiet hours")
    return window


@dataclass(frozen=True)
class FrequencyCap:
    """At most `messages` advertising messages per customer in any `days` days (0: no cap)."""

    messages: int
    days: int

    def window_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)

    def allows(self, already_sent: int) -> bool:
        return self.messages <= 0 or already_sent < self.messages
