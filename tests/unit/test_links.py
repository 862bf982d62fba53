import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.links import PAYLOAD_LIMIT, SignedRef, claimed_kind, sign, verify

KEY = b"k" * 32
kinds = st.sampled_from("scrp")
ids = st.integers(min_value=0, max_value=10**18 - 1)


@given(kinds, ids)
def test_every_signed_payload_fits_telegram_and_verifies(kind: str, ref_id: int) -> None:
    payload = sign(KEY, kind, ref_id)
    assert len(payload) <= PAYLOAD_LIMIT
    assert re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    assert verify(KEY, payload) == SignedRef(kind, ref_id)


@given(kinds, ids, st.integers(min_value=0, max_value=40), st.characters(codec="ascii"))
def test_any_changed_character_is_refused(kind: str, ref_id: int, pos: int, char: str) -> None:
    payload = sign(KEY, kind, ref_id)
    pos %= len(payload)
    forged = payload[:pos] + char + payload[pos + 1 :]
    if forged != payload:
        assert verify(KEY, forged) is None


def test_another_secret_truncation_and_garbage_are_refused() -> None:
    payload = sign(KEY, "s", 42)
    assert verify(b"another-secret-entirely", payload) is None
    assert verify(KEY, payload[:-1]) is None
    assert verify(KEY, "") is None
    assert verify(KEY, "s42") is None
    assert verify(KEY, "<script>") is None


def test_one_canonical_form_per_payload() -> None:
    """`p01_…` carried the signature of `p1` and was accepted as it: leading zeros are refused."""
    payload = sign(KEY, "p", 1)
    assert payload.startswith("p1_")
    signature = payload.removeprefix("p1")
    for variant in ("p01", "p001", "p0001"):
        assert verify(KEY, variant + signature) is None
        assert claimed_kind(variant + signature) is None
    zero = sign(KEY, "p", 0)
    assert verify(KEY, zero) == SignedRef("p", 0)
    assert verify(KEY, "p00" + zero.removeprefix("p0")) is None
    assert verify(KEY, payload + "\n") is None
    assert verify(KEY, "p１" + signature) is None  # a full-width digit
