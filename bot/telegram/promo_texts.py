"""Promo codes as people read them: what a code gives, why it was refused, /promos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html

from bot.domain.money import format_rub
from bot.domain.promos import Kind, Refusal
from bot.services.promos import Applied, CodeView, PromoRefusedError
from bot.texts import Texts

DATE = "%d.%m.%Y"


def effect(texts: Texts, kind: Kind | str, value: int) -> str:
    """`скидка 10%`, `скидка 500 ₽`, `+300 баллов к покупке`."""
    kind = Kind(kind)
    if kind is Kind.PERCENT:
        return texts.promo_effect_percent.format(value=value)
    if kind is Kind.FIXED:
        return texts.promo_effect_fixed.format(value=format_rub(value))
    return texts.promo_effect_points.format(value=texts.points(value))


def applied_effect(texts: Texts, applied: Applied) -> str:
    """On a check: the discount in roubles (a percent too), or the points."""
    if applied.kind is Kind.PERCENT:
        return f"{effect(texts, applied.kind, applied.value)} (−{format_rub(applied.discount)})"
    if applied.kind is Kind.FIXED:
        return effect(texts, applied.kind, applied.discount)
    return effect(texts, applied.kind, applied.bonus)


def refusal_text(texts: Texts, refused: PromoRefusedError) -> str:
    text = dict(texts.promo_refusals)[refused.reason.value]
    if refused.reason is Refusal.THROTTLED:
        return text.format(minutes=max(1, -(-refused.retry_after // 60)))
    return text


def promos_text(texts: Texts, codes: list[CodeView], zone: ZoneInfo) -> str:
    if not codes:
        return texts.promos_empty
    lines = [texts.promos_title]
    for code in codes:
        until = (
            texts.promos_until.format(date=_local_day(code.expires_at, zone))
            if code.expires_at
            else ""
        )
        lines.append(
            texts.promos_line.format(
                code=code.code,
                name=html.quote(code.name),
                effect=effect(texts, code.kind, code.value),
                until=until,
                personal=texts.promos_personal if code.personal else "",
            )
        )
    lines.append(texts.promos_hint)
    return "\n".join(lines)


def winback_text(payload: dict[str, Any], texts: Texts) -> str:
    """The win-back job's message (rendered by the delivery engine at send time)."""
    return texts.winback.format(
        code=html.quote(str(payload["code"])),
        effect=effect(texts, str(payload["kind"]), int(payload["value"])),
        date=f"{date.fromisoformat(payload['expires']):{DATE}}",
    )


def _local_day(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):{DATE}}"
