"""Turning service results into the member's messages (one place for every such sentence)."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import html

from bot.domain.money import format_rub
from bot.services.history import HistoryPage, Operation
from bot.services.ledger import BalanceView, PurchaseResult, RefundResult
from bot.texts import Texts


def _percent(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).rstrip("0").rstrip(".")


def balance_text(texts: Texts, view: BalanceView) -> str:
    lines = [
        texts.balance.format(balance=texts.points(view.points)),
        texts.balance_tier.format(
            tier=html.quote(view.tier.name), percent=_percent(view.tier.percent)
        ),
    ]
    if view.next_tier is not None:
        lines.append(
            texts.balance_next.format(
                tier=html.quote(view.next_tier.name), left=format_rub(view.to_next_tier)
            )
        )
    else:
        lines.append(texts.balance_top)
    if view.expiring_soon:
        lines.append(texts.balance_expiring.format(points=texts.points(view.expiring_soon)))
    return "\n".join(lines)


def _operation(texts: Texts, operation: Operation, zone: tzinfo) -> str:
    reasons = dict(texts.bonus_reasons)
    points = texts.points(abs(operation.points))
    template = getattr(texts, f"op_{operation.kind}")
    text = template.format(
        points=points if operation.kind != "adjustment" else f"{operation.points:+d}",
        amount=format_rub(operation.purchase_amount or 0),
        reason=html.quote(reasons.get(operation.reason, operation.reason)),
    )
    return f"{operation.at.astimezone(zone):%d.%m.%Y} · {text}"


def history_text(texts: Texts, page: HistoryPage, zone: tzinfo) -> str:
    """Dates as the shop's clock shows them (TIMEZONE), not UTC: a sale at 01:00 in Moscow is
    that day's, not yesterday's."""
    if not page.operations:
        return texts.history_empty
    lines = [_operation(texts, operation, zone) for operation in page.operations]
    return texts.history_title.format(page=page.page + 1) + "\n\n" + "\n".join(lines)


def purchase_notice(texts: Texts, result: PurchaseResult) -> str:
    redeemed = (
        texts.purchase_redeemed.format(points=texts.points(result.redeemed))
        if result.redeemed
        else ""
    )
    text = texts.purchase_notice.format(
        amount=format_rub(result.amount),
        accrued=texts.points(result.accrued),
        redeemed=redeemed,
        balance=texts.points(result.balance),
    )
    return text


def refund_notice(texts: Texts, result: RefundResult) -> str:
    return texts.refund_notice.format(
        amount=format_rub(result.amount),
        reversed=texts.points(result.reversed_points),
        returned=texts.points(result.returned_points),
        balance=texts.points(result.balance),
    )
