"""Texts promise only what the bot does: no staff statistics yet, no 0 points.

The birthday gift (the scheduler) and unsubscribing (a button under every advertising message)
are there now, so texts may name them.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot.render import posters
from bot.services import printables
from bot.services.sources import SourceLink
from bot.texts import Texts, texts_for

# Features that are not there yet: statistics for employees.
NOT_YET = {
    "ru": ("увидит, сколько",),
    "en": ("will see how many",),
}


def _all_strings(texts: Texts) -> list[str]:
    strings: list[str] = []
    for field in dataclasses.fields(texts):
        value = getattr(texts, field.name)
        if field.name == "bonus_reasons":  # labels of ledger entries, not promises
            continue
        items = value if isinstance(value, tuple) else (value,)
        strings.extend(item for item in items if isinstance(item, str))
    return strings


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_text_promises_a_feature_that_is_not_there(language: str) -> None:
    for text in _all_strings(texts_for(language)):
        for promise in NOT_YET[language]:
            assert promise not in text.lower(), text


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_bonus_no_promise_of_one(language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = texts_for(language)
    drawn: list[posters.PosterText] = []

    def poster(link: str, text: posters.PosterText, **_: object) -> bytes:
        drawn.append(text)
        return b"%PDF"

    monkeypatch.setattr(posters, "poster", poster)
    link = SourceLink(1, "Тверская, 1", "Касса", "", "s1_AAAAAAAAAAAA")
    printables.printables(link, "shop_bot", texts, shop_name="Зерно", welcome_bonus=0)
    printables.printables(link, "shop_bot", texts, shop_name="Зерно", welcome_bonus=100)
    none, some = drawn[0].call_to_action, drawn[-1].call_to_action
    assert "0" not in none and texts.points(100) in some
    assert texts.points(0) not in texts.declined_text(None)
    welcome = texts.welcome_text("Анна", "Зерно", None, "—")
    assert texts.points(0) not in welcome and "<b></b>" not in welcome
    assert texts.points(100) in texts.welcome_text("Анна", "Зерно", texts.points(100), "")
