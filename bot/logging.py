"""structlog set-up: a console renderer on a terminal, JSON otherwise, one path for every logger.

aiogram's and aiohttp's stdlib records go through the same processors, and every secret the
settings hold is scrubbed from every value before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

REDACTED = "[redacted]"
_SECRET_WORDS = ("token", "secret", "password", "authorization", "api_key")


class SecretScrubber:
    """Replaces known secret values, and fields named like secrets, wherever they appear."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [secret for secret in secrets if secret]

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {key: self._scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub(item) for item in value)
        return value

    def __call__(self, _: Any, __: str, event_dict: EventDict) -> EventDict:
        for key, value in list(event_dict.items()):
            if any(word in key.lower() for word in _SECRET_WORDS):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._scrub(value)
        return event_dict


def configure_logging(
    level: str, log_format: str, secrets: Iterable[str], stream: TextIO | None = None
) -> None:
    stream = stream if stream is not None else sys.stderr
    use_console = log_format == "console" or (log_format == "auto" and stream.isatty())
    # Tracebacks become plain data before the scrubber runs, so secrets in them are caught too;
    # local variables are never rendered, since they may hold tokens and customer data.
    tracebacks: Processor = (
        structlog.processors.format_exc_info
        if use_console
        else structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        tracebacks,
        SecretScrubber(secrets),
    ]
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log repeats what our request middleware already logs.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            # Below the level, drop the event before any other processor spends time on it.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
