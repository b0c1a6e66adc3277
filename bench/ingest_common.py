"""What both sides of bench.ingest share: the Shopify secret and how a delivery is made."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

SECRET = "bench-shopify-secret"  # noqa: S105 - the benchmark's own key, not a credential
SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "tests" / "webhooks" / "fixtures" / "shopify" / "07-orders-create.json"
)  # fmt: skip


def delivery(template: dict[str, object], n: int) -> tuple[bytes, dict[str, str]]:
    """The sample order as order n, compact and signed, with its own webhook id."""
    body = json.dumps({**template, "id": 9_000_000_000 + n, "name": f"#B{n}"},
                      separators=(",", ":")).encode()  # fmt: skip
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": f"bench-{n}",
        "X-Shopify-Triggered-At": "2026-09-08T14:14:55.371905Z",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
    }
    return body, headers


def template() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(SAMPLE.read_text())
    return loaded
