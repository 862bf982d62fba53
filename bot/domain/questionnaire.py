"""The signup questionnaire: its steps, their order and the rules for each answer.

Kept free of any messenger so that a WhatsApp adapter asks the same questions the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Step(StrEnum):
    NAME = "name"
    PHONE = "phone"
    BIRTHDAY = "birthday"
    GENDER = "gender"
    CITY = "city"
    INTERESTS = "interests"


STEPS: tuple[Step, ...] = tuple(Step)
SKIPPABLE = frozenset({Step.BIRTHDAY, Step.GENDER, Step.CITY})
GENDERS = ("female", "male")
NAME_LIMIT = 60
CITY_LIMIT = 60


def progress(step: Step) -> tuple[int, int]:
    return STEPS.index(step) + 1, len(STEPS)


def next_step(step: Step) -> Step | None:
    index = STEPS.index(step) + 1
    return STEPS[index] if index < len(STEPS) else None


def previous_step(step: Step) -> Step | None:
    index = STEPS.index(step)
    return STEPS[index - 1] if index > 0 else None


def _clean_words(raw: str, limit: int) -> str | None:
    text = re.sub(r"\s+", " ", raw).strip()
    if not 1 <= len(text) <= limit or not any(ch.isalpha() for ch in text):
        return None
    if text.startswith("/"):
        return None
    return text


def clean_name(raw: str) -> str | None:
    """A name as the person wants to be called, or None when it cannot be one."""
    return _clean_words(raw, NAME_LIMIT)


def clean_city(raw: str) -> str | None:
    return _clean_words(raw, CITY_LIMIT)


@dataclass
class SignupAnswers:
    """What the questionnaire collected; only name and phone are required."""

    name: str
    phone: str
    birthday: date | None = None
    gender: str | None = None
    city: str | None = None
    interests: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        """Every optional question answered: what the profile bonus rewards."""
        return bool(self.birthday and self.gender and self.city and self.interests)
