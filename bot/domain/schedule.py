"""The scheduler's calendar: periods are local dates in the shop's zone, never UTC instants.

A daily job's period is the local date it runs for; a monthly job's is the month. Keying runs
by local date is what keeps daylight-saving changes from doubling or skipping a day: a day has
one date whether it lasts 23, 24 or 25 hours.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Customers' birthdays are at most this far back: signup accepts ages up to 110.
OLDEST_BIRTHDAY_YEARS = 130


@dataclass(frozen=True)
class Timing:
    """When a job runs: at `hour` local time every day, or on `month_day` of every month."""

    hour: int
    month_day: int | None = None  # None: daily; a day past the month's end means its last day

    def runs_on(self, day: date) -> bool:
        if self.month_day is None:
            return True
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(self.month_day, last)

    def period(self, day: date) -> str:
        return day.isoformat() if self.month_day is None else f"{day:%Y-%m}"

    def moment(self, day: date, zone: ZoneInfo) -> datetime:
        """The UTC instant of the run on `day`; an hour lost to DST maps to the hour after."""
        local = datetime.combine(day, time(self.hour), tzinfo=zone)
        return local.astimezone(UTC)

    def due_days(self, now: datetime, zone: ZoneInfo, since: date) -> list[date]:
        """Days from `since` to today whose run time has come, oldest first."""
        today = now.astimezone(zone).date()
        days = []
        day = since
        while day <= today:
            if self.runs_on(day) and self.moment(day, zone) <= now:
                days.append(day)
            day += timedelta(days=1)
        return days

    def next_run(self, now: datetime, zone: ZoneInfo) -> datetime:
        day = now.astimezone(zone).date()
        while not (self.runs_on(day) and self.moment(day, zone) > now):
            day += timedelta(days=1)
        return self.moment(day, zone)


def birthday_dates(greeting_day: date, days_before: int) -> tuple[date, list[date]]:
    """(the birthday greeted on `greeting_day`, every date of birth that has it).

    29 February birthdays are greeted with 28 February in years without a 29th. Dates of
    birth are listed year by year so that a plain index on the birthday finds them.
    """
    target = greeting_day + timedelta(days=days_before)
    months_days = [(target.month, target.day)]
    if (target.month, target.day) == (2, 28) and not calendar.isleap(target.year):
        months_days.append((2, 29))
    born = []
    for year in range(target.year - OLDEST_BIRTHDAY_YEARS, target.year + 1):
        for month, day in months_days:
            if day <= calendar.monthrange(year, month)[1]:
                born.append(date(year, month, day))
    return target, born


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC: 23 or 25 hours long on a DST change."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
