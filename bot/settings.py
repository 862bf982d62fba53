"""One settings object for the whole process, read from the environment and `.env`.

Every field is documented in `.env.example`; a wrong value stops the process with one line that
names it (see `load_settings`), because a shop owner editing `.env` should not face a traceback.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.program import Program, parse_tiers

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
Language = Literal["ru", "en"]


def _split_list(value: object) -> object:
    """Accept `a, b, c` in `.env` as well as a list, for the list-valued settings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = TELEGRAM_API_DEFAULT
    bot_username: str | None = None
    database_url: str = "sqlite+aiosqlite:///clientbase.db"
    redis_url: str | None = None
    owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    link_secret: SecretStr | None = None
    timezone: str = "Europe/Moscow"
    default_language: Language = "ru"

    shop_name: str = "Наш магазин"
    operator_name: str = ""
    privacy_policy_url: str = ""
    welcome_bonus: int = Field(default=100, ge=0, le=1_000_000)
    profile_bonus: int = Field(default=50, ge=0, le=1_000_000)
    referral_bonus: int = Field(default=200, ge=0, le=1_000_000)
    birthday_bonus: int = Field(default=300, ge=0, le=1_000_000)
    tiers: str = "Базовый:0:5, Серебро:10000:7, Золото:30000:10"
    redeem_cap_percent: Decimal = Field(default=Decimal(30), ge=0, le=100)
    purchase_points_days: int = Field(default=365, ge=0, le=3650)
    bonus_points_days: int = Field(default=180, ge=0, le=3650)
    receipt_qr_hours: int = Field(default=24, ge=1, le=24 * 30)
    pos_api_port: int | None = Field(default=None, ge=1, le=65535)
    pos_api_host: str = "127.0.0.1"
    cities: Annotated[list[str], NoDecode] = Field(default_factory=list)
    interests: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Новинки", "Скидки", "Подарки"]
    )

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    active_days: int = Field(default=90, ge=1, le=3650)
    quiet_days: int = Field(default=90, ge=1, le=3650)

    @field_validator("owner_ids", "cities", "interests", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        name = value.strip().lstrip("@")
        if not name.replace("_", "").isalnum() or not 5 <= len(name) <= 32:
            raise ValueError("a Telegram bot username: 5-32 letters, digits or _, e.g. my_shop_bot")
        return name

    @field_validator("tiers")
    @classmethod
    def _valid_tiers(cls, value: str) -> str:
        Program(parse_tiers(value))
        return value

    @field_validator("interests")
    @classmethod
    def _short_interests(cls, value: list[str]) -> list[str]:
        if len(value) > 20:
            raise ValueError("at most 20 interests")
        return value

    @model_validator(mode="after")
    def _secret_with_token(self) -> Settings:
        secret = self.link_secret.get_secret_value() if self.link_secret else ""
        if self.bot_token is not None and len(secret) < 16:
            raise ValueError("LINK_SECRET: set at least 16 random characters to sign QR links")
        return self

    @cached_property
    def program(self) -> Program:
        return Program(
            tiers=parse_tiers(self.tiers),
            redeem_cap_percent=self.redeem_cap_percent,
            purchase_points_days=self.purchase_points_days,
            bonus_points_days=self.bonus_points_days,
            welcome_bonus=self.welcome_bonus,
            profile_bonus=self.profile_bonus,
            referral_bonus=self.referral_bonus,
            birthday_bonus=self.birthday_bonus,
        )

    @property
    def receipt_window(self) -> timedelta:
        return timedelta(hours=self.receipt_qr_hours)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def link_key(self) -> bytes:
        """Key that signs deep links; the sandbox gets a fixed development key."""
        if self.link_secret is None:
            return b"sandbox-link-secret-not-for-production"
        return self.link_secret.get_secret_value().encode()


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first["loc"]
        name = str(location[0]).upper() if location else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        if len(location) > 1 and isinstance(location[1], int):
            message = f"item {location[1] + 1}: {message}"
        if name == "settings" and ":" in message:
            name, message = (part.strip() for part in message.split(":", 1))
        raise SettingsError(f"{name}: {message}") from None
