"""The published JSON Schema of the generic format is the one the server validates with."""

from __future__ import annotations

import json

from handlers.webhooks.generic import schema
from tests.conftest import REPO

PUBLISHED = REPO / "docs" / "webhooks" / "generic.schema.json"


def test_the_published_schema_is_current() -> None:
    assert PUBLISHED.read_text() == schema(), (
        "regenerate it: python -c 'from handlers.webhooks.generic import schema; "
        'print(schema(), end="")\' > docs/webhooks/generic.schema.json'
    )


def test_the_schema_names_every_normalized_event_type() -> None:
    document = json.loads(PUBLISHED.read_text())

    assert set(document["properties"]["type"]["enum"]) == {
        "cart_updated", "checkout_started", "order_created", "order_paid", "order_cancelled",
        "refunded", "shipped", "in_transit", "out_for_delivery", "ready_for_pickup",
        "delivered", "delivery_failed", "returned",
    }  # fmt: skip
