"""A broadcast's start time as the owner types it, in the shop's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.send_time import SendTimeError, parse_send_time

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 6, 13, 40, 30, tzinfo=UTC)  # 16:40:30 in Moscow


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-31 10:00", datetime(2026, 12, 31, 7, 0, tzinfo=UTC)),
        ("  2026-12-31   10:00 ", datetime(2026, 12, 31, 7, 0, tzinfo=UTC)),
        ("07.12 09:05", datetime(2026, 12, 7, 6, 5, tzinfo=UTC)),
        ("7.12.2026 9:05", datetime(2026, 12, 7, 6, 5, tzinfo=UTC)),
        ("01.01 10:00", datetime(2027, 1, 1, 7, 0, tzinfo=UTC)),  # passed this year: the next
        ("06.12 16:40", NOW),  # the current minute is now
    ],
)
def test_times_are_read_in_the_shops_zone(typed: str, expected: datetime) -> None:
    assert parse_send_time(typed, NOW, MOSCOW) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("завтра", "format"),
        ("31.02 10:00", "format"),
        ("2026-12-06 25:00", "format"),
        ("2026-12-06 16:30", "past"),
        ("06.12.2026 16:39", "past"),
    ],
)
def test_bad_and_past_times_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(SendTimeError) as refused:
        parse_send_time(typed, NOW, MOSCOW)
    assert refused.value.reason == reason
