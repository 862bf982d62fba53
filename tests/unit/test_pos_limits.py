"""The POS API's token buckets: steady refill, the wait a 429 announces, one alert per burst."""

from hypothesis import given
from hypothesis import strategies as st

from bot.pos import limits
from bot.pos.limits import Buckets


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate() -> None:
    clock = Clock()
    buckets = Buckets(60, 60.0, clock)  # 60 a minute: one a second once the burst is spent
    assert [buckets.take("k") for _ in range(60)] == [0.0] * 60
    assert buckets.take("k") == 1.0
    clock.now += 0.25
    assert buckets.take("k") == 0.75  # nothing taken by a refused call
    clock.now += 0.75
    assert buckets.take("k") == 0.0
    assert buckets.take("other") == 0.0  # keys are separate


def test_a_burst_of_failures_alerts_once_and_a_new_burst_again() -> None:
    clock = Clock()
    failures = Buckets(3, 3600.0, clock)
    assert [failures.fail("a") for _ in range(3)] == [None, None, 3]
    assert failures.wait("a") == 1200.0
    for _ in range(5):  # going on at the pace allowed: the same burst
        clock.now += 1200
        assert failures.wait("a") == 0.0
        assert failures.fail("a") is None
    clock.now += 3600  # full again: that burst is over
    assert failures.wait("a") == 0.0
    assert [failures.fail("a") for _ in range(3)] == [None, None, 3]


@given(st.lists(st.floats(min_value=0, max_value=120), max_size=200))
def test_never_more_than_the_allowance_in_any_window(steps: list[float]) -> None:
    """Whatever the timing, at most capacity + rate × elapsed requests pass."""
    clock = Clock()
    buckets = Buckets(10, 60.0, clock)
    passed = 0
    for step in steps:
        clock.now += step
        passed += buckets.take("k") == 0.0
        assert passed <= 10 + clock.now * 10 / 60 + 1e-9


def test_many_keys_are_pruned_when_full(monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 100)
    clock = Clock()
    buckets = Buckets(5, 60.0, clock)
    for n in range(99):
        buckets.take(f"spent-{n}")
    clock.now += 60
    buckets.take("busy")
    buckets.take("new")  # the 101st key: every full bucket goes
    assert buckets.take("busy") == 0.0
    assert len(buckets) == 2


def test_clients_are_limited_by_ipv4_address_or_ipv6_network() -> None:
    assert limits.client_address("203.0.113.7") == "203.0.113.7"
    assert limits.client_address("::ffff:203.0.113.7") == "203.0.113.7"
    assert limits.client_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert limits.client_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert limits.client_address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert limits.client_address("fe80::1%eth0") == "fe80::/64"
    assert limits.client_address("unknown") == limits.client_address("") == "-"
