"""Where a customer came from, read from a deep-link payload."""

from __future__ import annotations

import re

DIRECT = "direct"
UNKNOWN = "unknown"

# Telegram allows only these characters, at most 64 of them, in a /start payload.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def source_from_payload(payload: str | None) -> str:
    """The source a /start payload names: 'direct' without one, 'unknown' for a malformed one."""
    if payload is None or payload == "":
        return DIRECT
    if _PAYLOAD.fullmatch(payload) is None:
        return UNKNOWN
    return payload
