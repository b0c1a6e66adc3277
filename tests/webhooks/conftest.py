"""Webhook tests: the payload samples in fixtures/, signed as each platform signs, posted to the
real web application, then processed by the real inbox worker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from bot.app import create_web_app
from bot.inbox_worker import InboxWorker
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.events import StoredEvent, epoch_ms
from funnel.store.base import FunnelStore
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS = {
    "shopify": ("shopify-old-secret", "shopify-new-secret"),
    "woocommerce": ("woo-secret",),
    "aftership": ("aftership-secret",),
    "cdek": ("cdek-path-token-0123456789",),
    "generic": ("generic-secret",),
}
SIGNATURE_HEADERS = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "woocommerce": "X-WC-Webhook-Signature",
    "aftership": "aftership-hmac-sha256",
}
Client = TestClient[web.Request, web.Application]

# The story's Telegram customers and the link tokens the bot issued them (see fixtures/README).
ANNA, EMILY, MARCUS, TOBIAS, JONAS = 501, 502, 503, 507, 506
TOKENS = {
    ANNA: "lt_P5sJ2kAr8MuZ0xQv",
    EMILY: "lt_7KfQ2mXw9RbN4sPz",
    MARCUS: "lt_V3nH8cYq1LdT6gWe",
    TOBIAS: "lt_Hx4Tq9WmB2cR7nLs",
}
# Jonas shared his number with the bot (a contact gate); Lena and Дмитрий never wrote to it.
JONAS_PHONE = "+4916098765432"


@dataclass(frozen=True, slots=True)
class Sample:
    platform: str
    name: str
    headers: dict[str, str]
    body: bytes

    def signed(self, secret: str | None = None) -> Sample:
        """The sample with the signature its platform would send, under secret."""
        header = SIGNATURE_HEADERS.get(self.platform)
        if header is None:
            return self
        key = (secret or SECRETS[self.platform][0]).encode()
        digest = base64.b64encode(hmac.new(key, self.body, hashlib.sha256).digest()).decode()
        return replace(self, headers={**self.headers, header: digest})

    @property
    def path(self) -> str:
        if self.platform == "cdek":
            return f"/webhooks/cdek/{SECRETS['cdek'][0]}"
        return f"/webhooks/{self.platform}"


def sample(platform: str, name: str) -> Sample:
    folder = FIXTURES / platform
    body_file = next(p for p in folder.iterdir() if p.stem == name and ".headers" not in p.name)
    headers = json.loads((folder / f"{name}.headers.json").read_text())
    # Real deliveries are compact JSON; the samples are pretty-printed for reading.
    raw = body_file.read_bytes()
    if body_file.suffix == ".json":
        raw = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    return Sample(platform, name, headers, raw)


def story(platform: str) -> list[Sample]:
    names = sorted(p.name.split(".")[0] for p in (FIXTURES / platform).glob("*.headers.json"))
    return [sample(platform, name) for name in names]


def all_samples() -> list[Sample]:
    """Every sample, platform by platform, each folder in story order."""
    return [
        s for platform in ("shopify", "woocommerce", "aftership", "cdek") for s in story(platform)
    ]


def generic_signature(body: bytes, timestamp: int, secret: str = SECRETS["generic"][0]) -> str:
    signed = str(timestamp).encode() + b"." + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


@pytest.fixture
def worker(store: FunnelStore, clock: ManualClock) -> InboxWorker:
    return InboxWorker(store, clock, parsers(), region="RU")


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    store: FunnelStore,
    clock: ManualClock,
) -> Client:
    app = create_web_app(store=store, clock=clock, webhooks=Webhooks(SECRETS))
    return await aiohttp_client(app)


@pytest.fixture
async def customers(store: FunnelStore, clock: ManualClock) -> dict[int, int]:
    """The story's Telegram customers: their customer ids by Telegram id."""
    ids: dict[int, int] = {}
    async with store.transaction() as tx:
        for telegram_id in (ANNA, EMILY, MARCUS, TOBIAS, JONAS):
            keys = [f"phone:{JONAS_PHONE}"] if telegram_id == JONAS else []
            new = NewCustomer(first_seen_at=clock.now(), telegram_user_id=telegram_id)
            customer = await tx.add_customer(new, keys)
            ids[telegram_id] = customer.id
            if telegram_id in TOKENS:
                await tx.issue_link_token(TOKENS[telegram_id], customer.id, epoch_ms(clock.now()))
    return ids


async def post(client: Client, item: Sample) -> ClientResponse:
    return await client.post(item.path, data=item.body, headers=item.headers)


async def events_of(store: FunnelStore, customer_id: int) -> list[StoredEvent]:
    async with store.transaction() as tx:
        return await tx.events_of(customer_id)


async def commerce_events(store: FunnelStore, customer_id: int) -> list[tuple[str, str]]:
    """(type, platform) of the customer's shop and carrier events, in the order kept."""
    return [(e.event.type, e.event.platform or "") for e in await events_of(store, customer_id)
            if e.event.key.startswith("commerce:")]  # fmt: skip
