"""Reports shared by the chat and the shell: the funnel (a wide table for the terminal, cards
for a phone) and the statistics' figures.

A phone shows about 40 monospace characters in a Telegram `<pre>` block, so the bot sends each
source as a short card; the shell, with a terminal's width, gets one table row per source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape

from aiogram import html

from bot.domain.money import format_rub
from bot.services.funnel import FunnelReport, SourceFunnel
from bot.services.stats import SEGMENTS, StatsReport
from bot.texts import Texts


def render_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; numbers (all but the label columns) right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _label(row: SourceFunnel, texts: Texts, limit: int = 32) -> str:
    label = row.source.label if row.source else texts.funnel_unknown
    if row.source is not None and not row.source.enabled:
        label = f"✗ {label}"
    return label if len(label) <= limit else label[: limit - 1] + "…"


PHONE_WIDTH = 40


def _wrap_fields(fields: list[str], width: int, indent: str = "  ") -> list[str]:
    """`name value` pairs joined by ` · `, a new line before one would pass `width`."""
    lines: list[str] = []
    current = ""
    for field in fields:
        candidate = f"{current} · {field}" if current else f"{indent}{field}"
        if current and len(candidate) > width:
            lines.append(current)
            candidate = f"{indent}{field}"
        current = candidate
    if current:
        lines.append(current)
    return lines


def _summary(report: FunnelReport, texts: Texts, label_limit: int) -> list[str]:
    lines = []
    for template, row in ((texts.funnel_best, report.best), (texts.funnel_worst, report.worst)):
        if row is not None:
            lines.append(
                template.format(
                    label=_label(row, texts, label_limit), conversion=_percent(row.conversion)
                )
            )
    if report.purchases:
        lines.append(
            texts.funnel_receipt_share.format(
                claimed=report.receipt_qr_purchases,
                total=report.purchases,
                share=_percent(report.receipt_qr_purchases / report.purchases),
            )
        )
    return lines


def funnel_text(report: FunnelReport, texts: Texts) -> str:
    """For Telegram: one short card per source, lines of at most ~40 characters."""
    names = texts.funnel_columns[2:]
    cards = []
    for row in report.rows:
        number = f"{row.source.id} " if row.source else ""
        values = (
            row.opens,
            row.consents,
            row.declines,
            row.signups,
            _percent(row.conversion),
            row.customers,
            row.first_purchases,
        )
        fields = [f"{name} {value}" for name, value in zip(names, values, strict=True)]
        title = number + _label(row, texts, PHONE_WIDTH - len(number))
        cards.append("\n".join([title, *_wrap_fields(fields, PHONE_WIDTH)]))
    return "\n\n".join([*cards, *_summary(report, texts, 32)])


def funnel_table(report: FunnelReport, texts: Texts) -> str:
    """For a terminal: one row per source, every stage in its own column."""
    rows = [
        (
            str(row.source.id) if row.source else "",
            _label(row, texts),
            str(row.opens),
            str(row.consents),
            str(row.declines),
            str(row.signups),
            _percent(row.conversion),
            str(row.customers),
            str(row.first_purchases),
        )
        for row in report.rows
    ]
    tables = [render_table(texts.funnel_columns, rows)]
    if len(report.channels) > 1:  # the same stages per messenger
        columns = ("", *texts.funnel_columns[2:6])
        tables.append(render_table(columns, [tuple(map(str, c)) for c in report.channels]))
    return "\n\n".join([*tables, *_summary(report, texts, 60)])


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def stats_text(report: StatsReport, texts: Texts, *, active_days: int) -> str:
    """The figures of `/stats` (HTML, for Telegram); `plain()` strips the tags for a terminal."""
    names = dict(zip(SEGMENTS, texts.stats_segments, strict=True))
    segments = ", ".join(
        f"{names[s.segment]} {s.customers}"
        for s in report.segments
        if s.customers or s.segment != "cooling"
    )
    lines = [
        texts.stats_summary.format(
            date=report.at.date().strftime("%d.%m.%Y"),
            customers=report.customers,
            new_week=report.new_this_week,
            active_days=active_days,
            active_share=_share(report.active_share),
            average_check="—" if report.average_check is None else format_rub(report.average_check),
            repeat_rate=_share(report.repeat_rate),
            outstanding=texts.points(report.liability.outstanding),
            lapsing=texts.points(report.liability.lapsing_soon),
            segments=segments,
        )
    ]
    if report.sources:
        lines += ["", texts.stats_sources_title]
        lines += [
            texts.stats_source_line.format(
                label=html.quote(source.label or texts.funnel_unknown),
                customers=source.customers,
                ltv=format_rub(source.ltv),
            )
            for source in report.sources[:10]
        ]
    if report.decay:
        lines += ["", texts.stats_decay_title]
        lines += [
            texts.stats_decay_line.format(
                date=point.at.strftime("%d.%m.%Y"),
                customers=point.customers,
                unreachable=_share(point.unreachable_share),
                inactive=_share(point.inactive_share),
            )
            for point in report.decay
        ]
    if report.top:
        lines += ["", texts.stats_top_title]
        lines += [
            texts.stats_top_line.format(
                rank=rank,
                name=html.quote(top.first_name),
                phone=top.masked_phone,
                spend=format_rub(top.spend),
                purchases=top.purchases,
            )
            for rank, top in enumerate(report.top, start=1)
        ]
    return "\n".join(lines)


def plain(text: str) -> str:
    """Telegram HTML as terminal text: tags dropped, entities decoded."""
    return unescape(re.sub(r"</?[a-z]+>", "", text))
