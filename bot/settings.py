"""One settings object for the whole process, read from the environment and `.env`.

Every field is documented in `.env.example`; a wrong value stops the process with one line that
names it (see `load_settings`), because a shop owner editing `.env` should not face a traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.advertising import QuietHours, parse_quiet_hours
from bot.domain.program import Program, parse_tiers

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
Language = Literal["ru", "en"]
# @BotFather's tokens: the bot's numeric id, a colon, 35 URL-safe characters.
BOT_TOKEN_FORMAT = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,}")
WEBHOOK_SECRET_MIN = 32
SANDBOX_DATABASE_DEFAULT = "sqlite+aiosqlite:///clientbase-sandbox.db"


def _split_list(value: object) -> object:
    """Accept `a, b, c` in `.env` as well as a list, for the list-valued settings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def async_database_url(value: str) -> str:
    """The URL with an asyncio driver: `postgresql://` becomes `postgresql+asyncpg://`."""
    if value.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + value.split("://", 1)[1]
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db")
    return value


class Settings(BaseSettings):
    # `NAME=` (as in `.env.example`) means "not set": the default applies, for every field.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = TELEGRAM_API_DEFAULT
    bot_username: str | None = None
    database_url: str = "sqlite+aiosqlite:///clientbase.db"
    sandbox_database_url: str = SANDBOX_DATABASE_DEFAULT
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
    # Spending points waits for the customer's tap in their chat (or the code they read out).
    redeem_confirmation: bool = True
    redeem_confirmation_seconds: int = Field(default=180, ge=30, le=3600)
    purchase_points_days: int = Field(default=365, ge=0, le=3650)
    bonus_points_days: int = Field(default=180, ge=0, le=3650)
    receipt_qr_hours: int = Field(default=24, ge=1, le=24 * 30)
    pos_api_port: int | None = Field(default=None, ge=1, le=65535)
    pos_api_host: str = "127.0.0.1"
    # The POS API's rate limits (docs/pos-api.md, Rate limits): requests per token and per
    # client address; bad tokens and lookups that find nobody, per token and per address.
    pos_rate_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    pos_failures_per_hour: int = Field(default=30, ge=1, le=100_000)
    pos_behind_proxy: bool = False
    cities: Annotated[list[str], NoDecode] = Field(default_factory=list)
    interests: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Новинки", "Скидки", "Подарки"]
    )

    # The delivery engine (every message the bot sends on its own).
    delivery_rate: float = Field(default=25.0, gt=0, le=100_000)
    delivery_per_chat_interval: float = Field(default=1.0, ge=0, le=3600)
    delivery_paid_broadcast: bool = False
    delivery_paid_rate: float = Field(default=1000.0, gt=0, le=100_000)
    delivery_max_attempts: int = Field(default=5, ge=1, le=100)
    delivery_lease_seconds: int = Field(default=60, ge=30, le=3600)
    delivery_poll_seconds: float = Field(default=2.0, gt=0, le=600)
    quiet_hours: str = "21:00-09:00"
    ads_per_customer: int = Field(default=2, ge=0, le=1000)
    ads_per_days: int = Field(default=7, ge=1, le=365)
    # Campaigns: the share of a segment held out as a control group (never sent to), the days
    # after a campaign's start in which purchases count towards its results.
    broadcast_holdout_percent: int = Field(default=10, ge=0, le=90)
    campaign_results_days: int = Field(default=14, ge=1, le=365)
    # How often the owner's live progress message of a running broadcast is edited (seconds).
    broadcast_progress_seconds: float = Field(default=5.0, gt=0, le=3600)

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    active_days: int = Field(default=90, ge=1, le=3650)
    quiet_days: int = Field(default=90, ge=1, le=3650)

    # WhatsApp (Cloud API through pywa): off unless the five below are all set.
    whatsapp_phone_id: str | None = None
    whatsapp_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_number: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "23.0"
    whatsapp_webhook_host: str = "127.0.0.1"
    whatsapp_webhook_port: int = Field(default=8081, ge=1, le=65535)
    whatsapp_webhook_path: str = "/whatsapp"
    # Approved templates for messages outside the 24-hour window (one body parameter: the text).
    whatsapp_utility_template: str = "clientbase_notice"
    whatsapp_marketing_template: str = "clientbase_offer"

    # The scheduler (each hour is local time in TIMEZONE).
    scheduler_enabled: bool = True
    jobs_catch_up_days: int = Field(default=3, ge=0, le=31)
    birthday_hour: int = Field(default=10, ge=0, le=23)
    birthday_days_before: int = Field(default=0, ge=0, le=30)
    birthday_bonus_days: int = Field(default=30, ge=1, le=3650)
    expiring_points_hour: int = Field(default=11, ge=0, le=23)
    expiring_points_days: int = Field(default=7, ge=1, le=90)
    points_expiry_hour: int = Field(default=1, ge=0, le=23)
    balance_digest_hour: int = Field(default=12, ge=0, le=23)
    balance_digest_day: int = Field(default=1, ge=1, le=31)
    housekeeping_hour: int = Field(default=4, ge=0, le=23)
    pending_purge_days: int = Field(default=30, ge=1, le=3650)

    # Promo codes: refused codes per cashier or till within the window before a pause.
    promo_failed_attempts: int = Field(default=5, ge=1, le=1000)
    promo_attempt_window_minutes: int = Field(default=15, ge=1, le=1440)
    # The win-back job: a personal code for customers with no purchase for WINBACK_DAYS.
    winback_hour: int = Field(default=13, ge=0, le=23)
    winback_days: int = Field(default=60, ge=1, le=3650)
    winback_every_days: int = Field(default=90, ge=1, le=3650)
    winback_kind: Literal["percent", "fixed", "points"] = "percent"
    winback_value: int = Field(default=10, ge=1, le=1_000_000)  # %, roubles or points
    winback_code_days: int = Field(default=30, ge=1, le=3650)

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

    @field_validator("bot_token")
    @classmethod
    def _token_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not BOT_TOKEN_FORMAT.fullmatch(value.get_secret_value()):
            raise ValueError(
                "not a token from @BotFather (digits, a colon, 35 letters, digits, - or _)"
            )
        return value

    @field_validator("database_url", "sandbox_database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("telegram_api_url", "webhook_url", "whatsapp_api_url")
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

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
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

    @model_validator(mode="after")
    def _webhook_secret(self) -> Settings:
        """Without it anyone who finds the URL can post updates as any user (the owner too)."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if self.webhook_url and len(secret) < WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"WEBHOOK_SECRET: set at least {WEBHOOK_SECRET_MIN} random characters for "
                "webhook mode (e.g. `openssl rand -hex 24`)"
            )
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("WEBHOOK_SECRET: only letters, digits, - and _ (Telegram's rule)")
        return self

    @model_validator(mode="after")
    def _whatsapp_whole(self) -> Settings:
        """WhatsApp is on with all five settings, off with none; half of them is a mistake."""
        names = ("phone_id", "token", "app_secret", "verify_token", "number")
        given = [getattr(self, f"whatsapp_{name}") is not None for name in names]
        if any(given) and not all(given):
            missing = names[given.index(False)]
            raise ValueError(
                f"WHATSAPP_{missing.upper()}: set it too, or none of the WHATSAPP_* settings"
            )
        if self.whatsapp_number is not None and not re.fullmatch(
            r"\+?[0-9]{8,15}", self.whatsapp_number.replace(" ", "")
        ):
            raise ValueError("WHATSAPP_NUMBER: the shop's number in international form, digits")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_token is not None

    @cached_property
    def program(self) -> Program:
        """The environment's program: only the seed of `program_settings` on first start; the
        running program is `bot.services.program.current` (the owner changes it in /program)."""
        return Program(
            tiers=parse_tiers(self.tiers),
            redeem_cap_percent=self.redeem_cap_percent,
            purchase_points_days=self.purchase_points_days,
            bonus_points_days=self.bonus_points_days,
            welcome_bonus=self.welcome_bonus,
            profile_bonus=self.profile_bonus,
            referral_bonus=self.referral_bonus,
            birthday_bonus=self.birthday_bonus,
            receipt_qr_hours=self.receipt_qr_hours,
        )

    @property
    def quiet_window(self) -> QuietHours | None:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def delivery_speed(self) -> float:
        """Messages per second: the paid-broadcast rate when that mode is on."""
        return self.delivery_paid_rate if self.delivery_paid_broadcast else self.delivery_rate

    @property
    def receipt_window(self) -> timedelta:
        return timedelta(hours=self.receipt_qr_hours)

    @property
    def redeem_confirmation_window(self) -> timedelta:
        return timedelta(seconds=self.redeem_confirmation_seconds)

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
