"""Receipt and refund ids: printable text, trimmed, at most 64 characters."""

import pytest

from bot.domain.identifiers import ID_MAX_LENGTH, clean_id


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("R-1", "R-1"), ("  Чек №12/А  ", "Чек №12/А"), ("R-1\n", "R-1"), ("x" * 64, "x" * 64)],
)
def test_printable_ids_are_kept_trimmed(typed: str, kept: str) -> None:
    assert clean_id(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "\u00a0\u3000",  # no-break and ideographic spaces only
        "\u200b",  # zero-width space only
        "\u200b\u200c\u200d\ufeff",
        "R\x00-1",
        "R\ud800",  # a lone surrogate
        "R-1\nR-2",
        "R\x1b[31m",
        "R\u202e1-R",  # a right-to-left override
        "R\u2028X",
        "R\ue000",  # private use
        "x" * (ID_MAX_LENGTH + 1),
    ],
)
def test_invisible_control_and_overlong_ids_are_refused(typed: str) -> None:
    assert clean_id(typed) is None
