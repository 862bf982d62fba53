"""Every user-facing text, per language; Russian is the default."""

from bot.texts.catalog import Texts
from bot.texts.en import EN
from bot.texts.ru import RU

LANGUAGES: dict[str, Texts] = {"ru": RU, "en": EN}


def pick_language(telegram_code: str | None, default: str) -> str:
    """The user's Telegram language when we speak it, else the shop's default."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


def texts_for(language: str) -> Texts:
    return LANGUAGES.get(language, RU)


__all__ = ["LANGUAGES", "Texts", "pick_language", "texts_for"]
