"""Ids that people and tills type: receipt numbers, refund numbers.

They end up in the database, in logs and on a cashier's screen, so one rule holds wherever they
come from: printable text, trimmed, 1 to ID_MAX_LENGTH characters. A NUL byte or a lone
surrogate was a 500 on PostgreSQL; an id of zero-width spaces looks like no id at all; a
direction override makes `R-12` read as another number.
"""

from __future__ import annotations

import unicodedata

ID_MAX_LENGTH = 64  # Purchase.receipt_id, ReceiptToken.receipt_id: VARCHAR(64)

# Control and format characters (NUL, escapes, zero-width, bidi overrides), surrogates,
# private-use and unassigned code points, line and paragraph separators.
_NOT_IN_IDS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean_id(text: str) -> str | None:
    """The id trimmed of spaces at either end; None when nothing visible is left, when it is
    too long, or when it holds a character no id may hold."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > ID_MAX_LENGTH:
        return None
    if any(unicodedata.category(char) in _NOT_IN_IDS for char in cleaned):
        return None
    return cleaned
