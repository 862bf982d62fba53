"""Reports as plain monospace text, the same in a Telegram `<pre>` block and in a terminal."""

from __future__ import annotations

from bot.services.funnel import FunnelReport, SourceFunnel
from bot.texts import Texts


def render_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
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


def funnel_text(report: FunnelReport, texts: Texts) -> str:
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
    lines = [render_table(texts.funnel_columns, rows)]
    for template, row in ((texts.funnel_best, report.best), (texts.funnel_worst, report.worst)):
        if row is not None:
            lines.append(
                template.format(label=_label(row, texts, 60), conversion=_percent(row.conversion))
            )
    if report.purchases:
        lines.append(
            texts.funnel_receipt_share.format(
                claimed=report.receipt_qr_purchases,
                total=report.purchases,
                share=_percent(report.receipt_qr_purchases / report.purchases),
            )
        )
    return "\n\n".join(lines)
