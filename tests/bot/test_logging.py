"""Logging: JSON off a terminal, stdlib loggers on the same path, ids bound, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from bot.logging import REDACTED, SecretScrubber, configure_logging

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", "auto", [TOKEN], stream=stream)
    yield stream
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_off_a_terminal_every_line_is_json_with_bound_ids(stream: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(update_id=17, user_id=42):
        structlog.get_logger("handlers.customer.start").info("customer entered", source="vk")

    [line] = lines(stream)
    assert line["event"] == "customer entered"
    assert (line["update_id"], line["user_id"], line["source"]) == (17, 42, "vk")
    assert line["level"] == "info" and str(line["timestamp"]).endswith("Z")


def test_stdlib_loggers_go_through_the_same_renderer_and_scrubber(
    stream: io.StringIO,
) -> None:
    logging.getLogger("aiogram.event").warning(
        "Request to https://api.telegram.org/bot%s/getMe failed", TOKEN
    )

    [line] = lines(stream)
    assert line["logger"] == "aiogram.event"
    assert TOKEN not in stream.getvalue()
    assert line["event"] == f"Request to https://api.telegram.org/bot{REDACTED}/getMe failed"


def test_fields_named_like_secrets_are_redacted(stream: io.StringIO) -> None:
    structlog.get_logger().info("configured", webhook_secret="abc", token="xyz", port=8080)

    [line] = lines(stream)
    assert (line["webhook_secret"], line["token"], line["port"]) == (REDACTED, REDACTED, 8080)


def test_console_format_is_used_when_asked(stream: io.StringIO) -> None:
    console = io.StringIO()
    configure_logging("INFO", "console", [], stream=console)

    structlog.get_logger().info("hello", who="owner")

    assert "hello" in console.getvalue() and "who=owner" in console.getvalue()
    assert not console.getvalue().startswith("{")


def test_tracebacks_are_scrubbed_and_carry_no_locals(stream: io.StringIO) -> None:
    def fail(token: str) -> None:
        raise RuntimeError(f"Telegram refused {token}")

    try:
        fail(TOKEN)
    except RuntimeError:
        logging.getLogger("aiogram.dispatcher").exception("update failed")

    [line] = lines(stream)
    assert TOKEN not in stream.getvalue()
    assert isinstance(line["exception"], list)
    [exception] = line["exception"]
    assert exception["exc_value"] == f"Telegram refused {REDACTED}"
    assert all("locals" not in frame for frame in exception["frames"])


@given(prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_a_known_secret_never_survives_scrubbing(prefix: str, suffix: str) -> None:
    scrub = SecretScrubber([TOKEN])

    event = scrub(None, "info", {"event": prefix + TOKEN + suffix, "nested": {"url": TOKEN}})

    assert TOKEN not in json.dumps(event, ensure_ascii=False)
