"""Phone numbers: normalised to E.164 so that one person is one number, however it was typed."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "RU"


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a typed or shared number, or None when it cannot be a real number.

    Telegram shares contacts without the leading "+" (e.g. `79161234567`); a Russian habit
    writes `8 916 …` for `+7 916 …`. Both are handled by the library's RU rules.
    """
    text = raw.strip()
    if not text or len(text) > 32:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and len(digits) > 10 and not digits.startswith("8"):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """`+79161234567` → `+7 *** ***-45-67`: enough for a cashier or a log to tell numbers apart."""
    return f"{e164[:2]} *** ***-{e164[-4:-2]}-{e164[-2:]}"
