"""Signed deep-link payloads: `<kind><id>_<signature>`, within Telegram's 64-character limit.

The signature is a truncated HMAC-SHA256 (72 bits, base64url) over kind and id, so a customer
cannot walk the ids to claim another store's source, card or receipt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PAYLOAD_LIMIT = 64
_SIGNATURE_BYTES = 9
# One canonical form per payload: no leading zeros (`p01_…` would verify as `p1`).
_PAYLOAD = re.compile(r"([a-z])(0|[1-9][0-9]{0,17})_([A-Za-z0-9_-]{12})")


@dataclass(frozen=True)
class SignedRef:
    kind: str
    id: int


def _signature(key: bytes, kind: str, ref_id: int) -> str:
    digest = hmac.new(key, f"clientbase:{kind}:{ref_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode()


def sign(key: bytes, kind: str, ref_id: int) -> str:
    if not (len(kind) == 1 and kind.islower()) or ref_id < 0:
        raise ValueError("kind is one lowercase letter, id is a non-negative integer")
    return f"{kind}{ref_id}_{_signature(key, kind, ref_id)}"


def verify(key: bytes, payload: str) -> SignedRef | None:
    """The reference the payload names, or None for anything forged, truncated or malformed."""
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        return None
    kind, raw_id, signature = match.groups()
    ref_id = int(raw_id)
    if not hmac.compare_digest(signature, _signature(key, kind, ref_id)):
        return None
    return SignedRef(kind, ref_id)


def claimed_kind(payload: str) -> str | None:
    """The kind a payload claims to be, signature unchecked: to tell a forged receipt apart."""
    match = _PAYLOAD.fullmatch(payload)
    return match.group(1) if match else None
