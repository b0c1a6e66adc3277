"""Settings from the environment and .env, validated before anything starts."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from funnel.outbox import Policy, QuietHours

_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,100}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """A setting is missing or malformed; each line names the variable and the problem."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("; ".join(lines))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    BOT_TOKEN: SecretStr = SecretStr("")
    ADMIN_IDS: Annotated[tuple[int, ...], NoDecode] = ()
    DATABASE_URL: str = "sqlite:///var/funnel.sqlite3"
    TELEGRAM_API_URL: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    HTTP_HOST: str = "127.0.0.1"
    HTTP_PORT: Annotated[int, Field(ge=1, le=65535)] = 8080
    PUBLIC_URL: AnyHttpUrl | None = None
    WEBHOOK_SECRET: SecretStr = SecretStr("")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["auto", "console", "json"] = "auto"
    SHOP_TIMEZONE: str = "Europe/Moscow"
    FUNNEL_FILE: Path = Path("funnel.toml")
    CONVERSION_WINDOW_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    COMPARE_DROP_POINTS: Annotated[float, Field(gt=0, le=100)] = 5.0
    SEND_RATE_PER_SECOND: Annotated[float, Field(gt=0, le=1000)] = 30.0
    MARKETING_CAP_PER_DAY: Annotated[int, Field(ge=0, le=100)] = 3
    QUIET_HOURS: str = "22:00-09:00"
    DIGEST_TIME: str = "09:00"
    SHOP_REGION: str = "RU"
    SHOP_API_KEY: SecretStr = SecretStr("")
    SHOPIFY_WEBHOOK_SECRETS: SecretStr = SecretStr("")
    WOOCOMMERCE_WEBHOOK_SECRET: SecretStr = SecretStr("")
    AFTERSHIP_WEBHOOK_SECRET: SecretStr = SecretStr("")
    CDEK_WEBHOOK_TOKEN: SecretStr = SecretStr("")
    GENERIC_WEBHOOK_SECRETS: SecretStr = SecretStr("")
    WEBHOOK_RETENTION_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    CDEK_CLIENT_ID: str = ""
    CDEK_CLIENT_SECRET: SecretStr = SecretStr("")
    CDEK_API_URL: AnyHttpUrl = AnyHttpUrl("https://api.cdek.ru")
    STALE_PARCEL_HOURS: Annotated[int, Field(ge=1, le=720)] = 24

    @field_validator("BOT_TOKEN")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if token and not _TOKEN.fullmatch(token):
            raise ValueError("does not look like a bot token from @BotFather (123456:ABC...)")
        return SecretStr(token)

    @field_validator("ADMIN_IDS", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(re.fullmatch(r"-?\d+", part) for part in parts):
                raise ValueError("must be comma-separated Telegram user ids, e.g. 12345,67890")
            return tuple(int(part) for part in parts)
        return value

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("LOG_FORMAT", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith("sqlite:///") or value == "sqlite:///":
            raise ValueError("must be a sqlite:///path URL, e.g. sqlite:///var/funnel.sqlite3")
        return value

    @field_validator("WEBHOOK_SECRET")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not _WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError("must be 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("CDEK_WEBHOOK_TOKEN")
    @classmethod
    def _path_safe_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if token and not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", token):
            raise ValueError("must be 16-128 characters from A-Z, a-z, 0-9, _ and - (a URL part)")
        return SecretStr(token)

    @field_validator("QUIET_HOURS")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @field_validator("DIGEST_TIME")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be a local time such as 09:00") from None
        return value.strip()

    @field_validator("SHOP_REGION")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a two-letter country code such as RU or DE")
        return region

    @field_validator("SHOP_TIMEZONE")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Moscow") from None
        return value

    @property
    def demo_mode(self) -> bool:
        return not self.BOT_TOKEN.get_secret_value()

    @property
    def webhook_mode(self) -> bool:
        return self.PUBLIC_URL is not None

    @property
    def shop_zone(self) -> ZoneInfo:
        return ZoneInfo(self.SHOP_TIMEZONE)

    @property
    def policy(self) -> Policy:
        return Policy(
            QuietHours.parse(self.QUIET_HOURS), self.MARKETING_CAP_PER_DAY, self.shop_zone
        )

    @property
    def digest_time(self) -> time:
        return time.fromisoformat(self.DIGEST_TIME)

    @property
    def webhook_secrets(self) -> dict[str, tuple[str, ...]]:
        """Each enabled platform's secrets; a platform with none is not in the mapping."""
        configured = {
            "shopify": self.SHOPIFY_WEBHOOK_SECRETS,
            "woocommerce": self.WOOCOMMERCE_WEBHOOK_SECRET,
            "aftership": self.AFTERSHIP_WEBHOOK_SECRET,
            "cdek": self.CDEK_WEBHOOK_TOKEN,
            "generic": self.GENERIC_WEBHOOK_SECRETS,
        }
        enabled: dict[str, tuple[str, ...]] = {}
        for platform, secret in configured.items():
            # Only the platforms that rotate secrets take a list; the others' may hold commas.
            text = secret.get_secret_value()
            listed = text.split(",") if platform in ("shopify", "generic") else [text]
            values = tuple(value.strip() for value in listed if value.strip())
            if values:
                enabled[platform] = values
        return enabled

    @property
    def cdek_polling(self) -> bool:
        """Stale CDEK parcels are looked up when both API credentials are set."""
        return bool(self.CDEK_CLIENT_ID and self.CDEK_CLIENT_SECRET.get_secret_value())

    def secrets(self) -> list[str]:
        """Every secret value, so that logging can scrub them wherever they appear."""
        values = [
            self.BOT_TOKEN.get_secret_value(),
            self.WEBHOOK_SECRET.get_secret_value(),
            self.SHOP_API_KEY.get_secret_value(),
            self.CDEK_CLIENT_SECRET.get_secret_value(),
        ]
        values += [secret for group in self.webhook_secrets.values() for secret in group]
        return [value for value in values if value]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, .env and overrides; SettingsError names what is wrong."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError([_line(e) for e in error.errors()]) from None
    if settings.webhook_mode and not settings.WEBHOOK_SECRET.get_secret_value():
        raise SettingsError(["WEBHOOK_SECRET: required when PUBLIC_URL is set (webhook mode)"])
    return settings


def _line(error: ErrorDetails) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"
