"""Link tokens: how a shop's cart or order is tied to a Telegram customer, and only by proof.

A token is issued by the bot, either to a customer (their links to the shop carry it) or to the
shop (which shows t.me/<bot>?start=<token> on its thank-you page). Whoever opens that link first
claims a shop-issued token. Payloads name tokens, never Telegram ids, so no payload can make the
bot message someone of its choosing.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from funnel.events import epoch_ms
from funnel.identity import phone_key
from funnel.ingest import Applied, identify
from funnel.store.base import FunnelStore, FunnelTransaction

LINK_PREFIX = "lt_"
TOKEN = re.compile(r"lt_[A-Za-z0-9]{16}")
_ALPHABET = string.ascii_letters + string.digits
# The source of an entry through a shop's link: the token is proof, not a campaign name.
SHOP_SOURCE = "shop"


def new_token() -> str:
    """16 random characters from 62: about 95 bits, not guessable."""
    return LINK_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def is_token(text: str | None) -> bool:
    return text is not None and TOKEN.fullmatch(text) is not None


async def issue_for_shop(store: FunnelStore, now: datetime) -> str:
    """A fresh token for the shop to show its customer; nobody owns it until it is opened."""
    token = new_token()
    async with store.transaction() as tx:
        await tx.issue_link_token(token, None, epoch_ms(now))
    return token


# The query parameter a shop's theme copies into the cart's attributes (tg_link).
LINK_PARAMETER = "tg_link"


def with_link_token(url: str, token: str) -> str:
    """The shop URL carrying the customer's token, so the cart they fill is known as theirs."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != LINK_PARAMETER]
    query.append((LINK_PARAMETER, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def token_of(tx: FunnelTransaction, customer_id: int, now: datetime) -> str:
    """The customer's own token (issued on first use) for their links to the shop."""
    owned = await tx.link_tokens_of(customer_id)
    if owned:
        return owned[0]
    token = new_token()
    await tx.issue_link_token(token, customer_id, epoch_ms(now))
    return token


@dataclass(frozen=True, slots=True)
class Claim:
    accepted: bool
    applied: Applied


async def claim(store: FunnelStore, token: str, customer_id: int, now: datetime) -> Claim:
    """The customer opened a link carrying the token: unless it is unknown or someone else's,
    it is theirs, and the shop's records carrying it join them."""
    async with store.transaction() as tx:
        if not await tx.claim_link_token(token, customer_id, epoch_ms(now)):
            return Claim(False, Applied())
        return Claim(True, await identify(tx, customer_id, now))


async def phone_verified(
    store: FunnelStore, customer_id: int, phone: str, now: datetime
) -> Applied:
    """Telegram vouched for the customer's own number: orders placed with it join them."""
    async with store.transaction() as tx:
        await tx.add_key(customer_id, phone_key(phone), now.isoformat())
        return await identify(tx, customer_id, now)
