"""The scheduler's calendar (pure rules): birthdays by date of birth, local days, due runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.schedule import Timing, birthday_dates, local_day_bounds

BERLIN = ZoneInfo("Europe/Berlin")


def test_29_february_is_greeted_on_28_february_only_in_other_years() -> None:
    target, born = birthday_dates(date(2027, 2, 28), 0)
    assert target == date(2027, 2, 28)
    assert date(1992, 2, 29) in born and date(1990, 2, 28) in born
    _, leap_28 = birthday_dates(date(2028, 2, 28), 0)
    _, leap_29 = birthday_dates(date(2028, 2, 29), 0)
    assert date(1992, 2, 29) not in leap_28 and date(1992, 2, 29) in leap_29
    _, first_march = birthday_dates(date(2027, 3, 1), 0)
    assert all((b.month, b.day) == (3, 1) for b in first_march)


def test_days_before_cross_the_new_year() -> None:
    target, born = birthday_dates(date(2026, 12, 30), 3)
    assert target == date(2027, 1, 2) and date(1990, 1, 2) in born
    assert max(born) == date(2027, 1, 2) and min(born) == date(1897, 1, 2)


def test_a_local_day_lasts_23_or_25_hours_across_dst() -> None:
    spring = local_day_bounds(date(2026, 3, 29), BERLIN)
    autumn = local_day_bounds(date(2026, 10, 25), BERLIN)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_an_hour_lost_to_dst_runs_an_hour_later_and_once() -> None:
    timing = Timing(hour=2)
    moment = timing.moment(date(2026, 3, 29), BERLIN)
    assert moment == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert timing.due_days(moment, BERLIN, date(2026, 3, 28)) == [
        date(2026, 3, 28),
        date(2026, 3, 29),
    ]


def test_a_monthly_day_past_the_end_of_the_month_is_its_last_day() -> None:
    timing = Timing(hour=12, month_day=31)
    assert timing.period(date(2027, 2, 28)) == "2027-02"
    assert timing.runs_on(date(2027, 2, 28)) and not timing.runs_on(date(2027, 3, 30))
    now = datetime(2027, 2, 1, tzinfo=UTC)
    assert timing.next_run(now, BERLIN) == datetime(2027, 2, 28, 11, 0, tzinfo=UTC)
