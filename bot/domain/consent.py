"""Consent kinds and text versions.

A version is derived from the exact text the person saw (wording, shop, operator, policy link),
so editing any of them makes a new version without anyone having to remember to bump a number.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum


class ConsentKind(StrEnum):
    PERSONAL_DATA = "personal_data"  # 152-FZ
    ADVERTISING = "advertising"  # 38-FZ


_PREFIX = {ConsentKind.PERSONAL_DATA: "pd", ConsentKind.ADVERTISING: "ads"}


def text_version(kind: ConsentKind, language: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{_PREFIX[kind]}-{language}-{digest}"
