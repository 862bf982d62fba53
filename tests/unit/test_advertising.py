"""Quiet hours and the frequency cap: when an advertising message may go out."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.advertising import FrequencyCap, QuietHours, parse_quiet_hours

MOSCOW = ZoneInfo("Europe/Moscow")
NIGHT = QuietHours(time(21), time(9))


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (datetime(2026, 5, 1, 20, 59, tzinfo=MOSCOW), None),
        (datetime(2026, 5, 1, 21, 0, tzinfo=MOSCOW), datetime(2026, 5, 2, 9, 0, tzinfo=MOSCOW)),
        (datetime(2026, 5, 1, 23, 59, tzinfo=MOSCOW), datetime(2026, 5, 2, 9, 0, tzinfo=MOSCOW)),
        (datetime(2026, 5, 2, 3, 0, tzinfo=MOSCOW), datetime(2026, 5, 2, 9, 0, tzinfo=MOSCOW)),
        (datetime(2026, 5, 2, 9, 0, tzinfo=MOSCOW), None),
    ],
)
def test_quiet_hours_across_midnight_end_in_the_shops_morning(
    local: datetime, until: datetime | None
) -> None:
    assert NIGHT.next_allowed(local.astimezone(UTC), MOSCOW) == until


def test_a_daytime_window_does_not_wrap() -> None:
    lunch = parse_quiet_hours("13:00-14:00")
    assert lunch is not None
    noon = datetime(2026, 5, 1, 13, 30, tzinfo=MOSCOW)
    assert lunch.next_allowed(noon, MOSCOW) == datetime(2026, 5, 1, 14, 0, tzinfo=MOSCOW)
    assert lunch.next_allowed(noon.replace(hour=15), MOSCOW) is None


@pytest.mark.parametrize("value", ["21-09", "25:00-09:00", "21:00-21:00", "nine to five"])
def test_a_bad_window_is_refused_with_a_hint(value: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|hours 0-23|same"):
        parse_quiet_hours(value)


def test_empty_means_no_quiet_hours() -> None:
    assert parse_quiet_hours(" ") is None


def test_the_cap_counts_what_was_already_sent() -> None:
    assert FrequencyCap(2, 7).allows(1) and not FrequencyCap(2, 7).allows(2)
    assert FrequencyCap(0, 7).allows(100)  # 0: no cap
