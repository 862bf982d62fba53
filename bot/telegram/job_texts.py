"""The scheduler's messages as the customer reads them, and the owner's `/schedule` listing.

`render(kind, payload, texts)` is what the delivery worker calls at send time for the kinds
the jobs queue, in the recipient's language; the payloads hold no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html

from bot.services.jobs.runner import JobStatus
from bot.telegram import promo_texts
from bot.texts import Texts

DATE = "%d.%m.%Y"


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):{DATE}}"


def _own(payload: dict[str, Any], texts: Texts, default: str, **values: str) -> str:
    """The owner's text for this language (queued with the message) or the default; the
    owner's is escaped, and a text that no longer fits its placeholders falls back."""
    own = (payload.get("texts") or {}).get(texts.language)
    if own:
        try:
            return html.quote(str(own)).format(**values)
        except (KeyError, IndexError, ValueError):
            pass
    return default.format(**values)


def _birthday(payload: dict[str, Any], texts: Texts) -> str:
    lines = [_own(payload, texts, texts.birthday_greeting)]
    if payload.get("bonus"):
        lines.append(
            texts.birthday_gift.format(
                bonus=texts.points(int(payload["bonus"])), expires=_day(payload["expires"])
            )
        )
    return "\n".join(lines)


def _points_expiring(payload: dict[str, Any], texts: Texts) -> str:
    return _own(
        payload,
        texts,
        texts.points_expiring,
        points=texts.points(int(payload["points"])),
        date=_day(payload["date"]),
    )


def _balance_digest(payload: dict[str, Any], texts: Texts) -> str:
    return _own(
        payload,
        texts,
        texts.balance_digest,
        points=texts.points(int(payload["points"])),
        tier=html.quote(str(payload["tier"])),
    )


RENDERERS: dict[str, Callable[[dict[str, Any], Texts], str]] = {
    "birthday": _birthday,
    "points_expiring": _points_expiring,
    "balance_digest": _balance_digest,
    "winback": promo_texts.winback_text,
}


def render(kind: str, payload: dict[str, Any], texts: Texts) -> str:
    """The text of a job's message; KeyError for a kind the jobs never queue."""
    return RENDERERS[kind](payload, texts)


def job_label(texts: Texts, name: str) -> str:
    return dict(texts.job_names).get(name, name)


def schedule_text(texts: Texts, jobs: list[JobStatus], zone: ZoneInfo) -> str:
    states = dict(texts.schedule_states)
    blocks = [texts.schedule_title.format(zone=zone.key)]
    for job in jobs:
        last = texts.schedule_never
        if job.last_period and job.last_state:
            last = texts.schedule_last.format(
                period=job.last_period,
                state=states.get(job.last_state, job.last_state),
                done=job.last_done,
                skipped=job.last_skipped,
            )
        blocks.append(
            texts.schedule_job.format(
                state=texts.schedule_on if job.enabled else texts.schedule_off,
                name=job_label(texts, job.name),
                next=_local(job.next_run, zone),
                last=last,
            )
        )
    return "\n\n".join(blocks)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):{DATE} %H:%M}"
