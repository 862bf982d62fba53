"""Every user-facing text, per language; Russian is the default."""

from bot.texts.catalog import ShellTexts, Texts
from bot.texts.en import EN, EN_SHELL
from bot.texts.ru import RU, RU_SHELL

LANGUAGES: dict[str, Texts] = {"ru": RU, "en": EN}
SHELL_LANGUAGES: dict[str, ShellTexts] = {"ru": RU_SHELL, "en": EN_SHELL}


def pick_language(telegram_code: str | None, default: str) -> str:
    """The user's Telegram language when we speak it, else the shop's default."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


def texts_for(language: str) -> Texts:
    return LANGUAGES.get(language, RU)


def shell_texts_for(language: str) -> ShellTexts:
    return SHELL_LANGUAGES.get(language, RU_SHELL)


__all__ = ["LANGUAGES", "ShellTexts", "Texts", "pick_language", "shell_texts_for", "texts_for"]
