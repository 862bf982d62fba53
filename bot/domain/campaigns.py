"""A campaign's rules as plain values: its states, what its message may hold, its figures.

The text is the owner's, with Telegram's HTML formatting (<b>, <i>, <u>, <s>, <a href>, <code>,
<pre>, <blockquote>, <tg-spoiler>); it is checked here once, at creation, so a broadcast to ten
thousand customers never fails ten thousand times on one unclosed tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from urllib.parse import urlsplit

TEXT_MAX = 4096  # Telegram's message limit
CAPTION_MAX = 1024  # … and a photo caption's
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # Telegram's limit for an uploaded photo
HOLDOUT_MAX = 90
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"blockquote", "tg-spoiler", "span", "tg-emoji"}
)


class CampaignState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


STARTABLE = (CampaignState.DRAFT, CampaignState.SCHEDULED)
# Rows of these campaigns stay in the outbox unclaimed: the worker does not send them.
HELD = (CampaignState.PAUSED, CampaignState.CANCELLED)


class CampaignError(ValueError):
    """A campaign that cannot be: `field` (text, photo, button_url, holdout, start_at) and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = self.problem or f"<{tag}> is not a Telegram formatting tag"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = self.problem or f"</{tag}> closes nothing open"
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.visible += len(data)


def check_text(text: str, *, with_photo: bool) -> str:
    """The text as it will be sent (stripped), or CampaignError saying what is wrong."""
    text = text.strip()
    if not text:
        raise CampaignError("text", "empty")
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem is None and checker.open:
        checker.problem = f"<{checker.open[-1]}> is never closed"
    if checker.problem:
        raise CampaignError("text", checker.problem)
    limit = CAPTION_MAX if with_photo else TEXT_MAX
    if checker.visible > limit:
        raise CampaignError("text", f"{checker.visible} characters, at most {limit}")
    return text


def check_button_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "tg") or not (parts.netloc or parts.scheme == "tg"):
        raise CampaignError("button_url", "a link starting with https://, http:// or tg://")
    if len(url) > 500:
        raise CampaignError("button_url", "at most 500 characters")
    return url


def check_photo(data: bytes | None) -> bytes | None:
    if data is None:
        return None
    if not data:
        raise CampaignError("photo", "the file is empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise CampaignError("photo", "larger than 10 MB")
    return data


def check_holdout(percent: int) -> int:
    if isinstance(percent, bool) or not isinstance(percent, int):
        raise CampaignError("holdout", "a whole percent")
    if not 0 <= percent <= HOLDOUT_MAX:
        raise CampaignError("holdout", f"0-{HOLDOUT_MAX} %")
    return percent


@dataclass(frozen=True)
class GroupFigures:
    """One side of the comparison: the recipients (sent to) or the holdout (not)."""

    heads: int
    buyers: int
    purchases: int
    revenue: int  # kopecks, net of returns

    @property
    def revenue_per_head(self) -> float:
        return self.revenue / self.heads if self.heads else 0.0


def incremental_revenue(recipients: GroupFigures, holdout: GroupFigures) -> int | None:
    """(recipients' revenue per head − holdout's per head) × recipients, in kopecks.

    None without a holdout to compare with.
    """
    if holdout.heads == 0 or recipients.heads == 0:
        return None
    lift = recipients.revenue_per_head - holdout.revenue_per_head
    return round(lift * recipients.heads)


def time_left(left: int, rate: float) -> timedelta:
    """At `rate` messages per second, how long the rows still queued take."""
    return timedelta(seconds=left / rate) if rate > 0 else timedelta(0)


def results_window(started_at: datetime, days: int) -> tuple[datetime, datetime]:
    return started_at, started_at + timedelta(days=days)


CODE_PLACEHOLDER = "{code}"  # where a campaign's text shows the recipient's own promo code
