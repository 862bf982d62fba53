"""The funnel report: cards a phone shows without wrapping, the full table in a terminal."""

from bot.reports import PHONE_WIDTH, funnel_table, funnel_text
from bot.services.funnel import FunnelReport, SourceFunnel
from bot.services.sources import SourceLink
from bot.texts import texts_for


def _report() -> FunnelReport:
    long = SourceLink(
        id=12345,
        store="Торговый центр «Европейский», 3 этаж",
        campaign="Листовка у кассы",
        employee="Александра Константиновна",
        payload="s12345_x",
    )
    short = SourceLink(id=2, store="Тверская, 1", campaign="Касса", employee="", payload="s2_x")
    rows = [
        SourceFunnel(long, 123456, 99999, 12345, 88888, 7777, 88888),
        SourceFunnel(short, 10, 8, 1, 5, 2, 5),
        SourceFunnel(None, 3, 1, 0, 1, 0, 1),
    ]
    return FunnelReport(rows=rows, best=rows[1], worst=rows[0], purchases=10)


def test_the_bots_funnel_fits_a_phone() -> None:
    for language in ("ru", "en"):
        text = funnel_text(_report(), texts_for(language))
        cards = text.split("\n\n")[:3]
        widths = [len(line) for card in cards for line in card.splitlines()]
        assert max(widths) <= PHONE_WIDTH, text
    ru = funnel_text(_report(), texts_for("ru"))
    assert "2 Тверская, 1 / Касса\n  Открыли 10 · Согласие 8 · Отказ 1" in ru
    assert "Конв. 50%" in ru and "без источника" in ru


def test_the_terminal_gets_the_whole_table() -> None:
    table = funnel_table(_report(), texts_for("ru")).splitlines()
    assert table[0].split() == ["№", "Источник", *texts_for("ru").funnel_columns[2:]]
    assert max(len(line) for line in table) > PHONE_WIDTH
