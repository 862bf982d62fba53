"""Telegram's HTML texts as WhatsApp formatting: *bold*, _italic_, `code`, links spelt out."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_TAGS = {"b": "*", "strong": "*", "i": "_", "em": "_", "code": "`", "s": "~"}
_TAG = re.compile(r"</?([a-z]+)(?: [^>]*)?>")


def whatsapp_text(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)}: {html.unescape(m.group(1))}", text)
    text = _TAG.sub(lambda m: _TAGS.get(m.group(1), ""), text)
    return html.unescape(text)


def one_line(text: str, limit: int = 1000) -> str:
    """A template parameter: no new lines or tabs (the Cloud API refuses them)."""
    return " · ".join(part.strip() for part in text.splitlines() if part.strip())[:limit]
