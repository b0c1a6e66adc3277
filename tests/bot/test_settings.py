"""Settings: exact variable names, sensible defaults, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

NAMES = [
    "BOT_TOKEN",
    "ADMIN_IDS",
    "DATABASE_URL",
    "TELEGRAM_API_URL",
    "HTTP_HOST",
    "HTTP_PORT",
    "PUBLIC_URL",
    "WEBHOOK_SECRET",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SHOP_TIMEZONE",
    "FUNNEL_FILE",
    "CONVERSION_WINDOW_DAYS",
    "COMPARE_DROP_POINTS",
    "SEND_RATE_PER_SECOND",
    "MARKETING_CAP_PER_DAY",
    "QUIET_HOURS",
    "DIGEST_TIME",
    "SHOP_REGION",
    "SHOP_API_KEY",
    "SHOPIFY_WEBHOOK_SECRETS",
    "WOOCOMMERCE_WEBHOOK_SECRET",
    "AFTERSHIP_WEBHOOK_SECRET",
    "CDEK_WEBHOOK_TOKEN",
    "GENERIC_WEBHOOK_SECRETS",
    "WEBHOOK_RETENTION_DAYS",
    "CDEK_CLIENT_ID",
    "CDEK_CLIENT_SECRET",
    "CDEK_API_URL",
    "STALE_PARCEL_HOURS",
]
TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def problem_with(**env: str) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_settings(**env)
    return raised.value.lines


def test_defaults_run_the_offline_demo_on_a_local_sqlite_file() -> None:
    settings = load_settings()

    assert settings.demo_mode and not settings.webhook_mode
    assert settings.DATABASE_URL == "sqlite:///var/funnel.sqlite3"
    assert str(settings.TELEGRAM_API_URL) == "https://api.telegram.org/"
    assert settings.SHOP_TIMEZONE == "Europe/Moscow"
    assert Path("funnel.toml") == settings.FUNNEL_FILE
    assert settings.ADMIN_IDS == ()
    assert settings.LOG_FORMAT == "auto"


def test_every_documented_variable_is_a_setting() -> None:
    assert set(NAMES) <= set(Settings.model_fields)
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"{name}=" in example, f"{name} is not documented in .env.example"


def test_values_come_from_the_environment_and_the_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nADMIN_IDS=11, 22\nLOG_LEVEL=debug\n")
    monkeypatch.setenv("ADMIN_IDS", "33")

    settings = load_settings()

    assert settings.BOT_TOKEN.get_secret_value() == TOKEN
    assert settings.ADMIN_IDS == (33,)
    assert settings.LOG_LEVEL == "DEBUG"
    assert not settings.demo_mode


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ADMIN_IDS", "12, bob", "must be comma-separated Telegram user ids"),
        ("HTTP_PORT", "eighty", "valid integer"),
        ("HTTP_PORT", "70000", "less than or equal to 65535"),
        ("SHOP_TIMEZONE", "Moscow", "is not an IANA time zone"),
        ("BOT_TOKEN", "not-a-token", "does not look like a bot token"),
        ("DATABASE_URL", "mysql://db", "must be a sqlite:///path URL"),
        ("TELEGRAM_API_URL", "api.telegram.org", "valid URL"),
        ("LOG_FORMAT", "xml", "'auto', 'console' or 'json'"),
        ("WEBHOOK_SECRET", "has spaces", "1-256 characters"),
        ("QUIET_HOURS", "late evening", "must look like 22:00-09:00"),
        ("QUIET_HOURS", "25:00-09:00", "hours go up to 23"),
        ("DIGEST_TIME", "nine", "must be a local time such as 09:00"),
        ("SEND_RATE_PER_SECOND", "0", "greater than 0"),
    ],
)
def test_a_malformed_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)

    [line] = problem_with()

    assert line.startswith(f"{name}: ")
    assert message in line


def test_webhook_mode_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com")

    assert problem_with() == ["WEBHOOK_SECRET: required when PUBLIC_URL is set (webhook mode)"]


def test_secrets_are_listed_for_scrubbing_and_hidden_from_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_value")

    settings = load_settings()

    assert settings.secrets() == [TOKEN, "s3cret_value"]
    assert TOKEN not in repr(settings) and "s3cret_value" not in repr(settings)


def test_webhook_secrets_enable_their_platforms_and_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", " old-one , new-one ")
    monkeypatch.setenv("CDEK_WEBHOOK_TOKEN", "cdek-path-token-0123")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "woo,with,commas")

    settings = load_settings()

    assert settings.webhook_secrets == {
        "shopify": ("old-one", "new-one"),
        "woocommerce": ("woo,with,commas",),
        "cdek": ("cdek-path-token-0123",),
    }
    assert {"old-one", "new-one", "woo,with,commas", "cdek-path-token-0123"} <= set(
        settings.secrets()
    )
    assert "cdek-path-token-0123" not in repr(settings)


def test_cdek_api_credentials_turn_stale_parcel_lookups_on_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not load_settings().cdek_polling
    monkeypatch.setenv("CDEK_CLIENT_ID", "account-id")
    assert not load_settings().cdek_polling  # the secret is needed too
    monkeypatch.setenv("CDEK_CLIENT_SECRET", "cdek-api-secret")
    monkeypatch.setenv("STALE_PARCEL_HOURS", "12")

    settings = load_settings()

    assert settings.cdek_polling and settings.STALE_PARCEL_HOURS == 12
    assert "cdek-api-secret" in settings.secrets()
    assert "cdek-api-secret" not in repr(settings)
    assert problem_with(STALE_PARCEL_HOURS="0") == [
        "STALE_PARCEL_HOURS: Input should be greater than or equal to 1"
    ]


def test_a_cdek_token_must_fit_a_url_path() -> None:
    assert problem_with(CDEK_WEBHOOK_TOKEN="short") == [
        "CDEK_WEBHOOK_TOKEN: must be 16-128 characters from A-Z, a-z, 0-9, _ and - (a URL part)"
    ]
