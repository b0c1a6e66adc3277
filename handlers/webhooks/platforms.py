"""The platforms the bot takes webhooks from: how each is verified, acknowledged and parsed."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from funnel.commerce import Change
from handlers.webhooks import aftership, cdek, generic, shopify, woocommerce
from handlers.webhooks.common import Envelope


@dataclass(frozen=True, slots=True)
class Signed:
    """What a signature check may look at: the raw body, the headers, the secret path segment
    (CDEK's only proof) and the time (the generic format's replay window)."""

    headers: Mapping[str, str]
    body: bytes
    path_secret: str
    now: datetime


Verifier = Callable[[Signed, Sequence[str]], bool]
Parser = Callable[[str, bytes, str], list[Change]]


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    verify: Verifier
    envelope: Callable[[Mapping[str, str], bytes], Envelope]
    parse: Parser
    # CDEK sends no signature; its secret is a segment of the URL it posts to.
    secret_in_path: bool = False


def _path_secret(signed: Signed, secrets: Sequence[str]) -> bool:
    offered = signed.path_secret.encode()
    valid = False
    for secret in secrets:
        valid |= hmac.compare_digest(secret.encode(), offered)
    return valid and bool(offered)


PLATFORMS: dict[str, Platform] = {
    shopify.PLATFORM: Platform(
        shopify.PLATFORM,
        lambda signed, secrets: shopify.verify(signed.headers, signed.body, secrets),
        shopify.envelope,
        shopify.parse,
    ),
    woocommerce.PLATFORM: Platform(
        woocommerce.PLATFORM,
        lambda signed, secrets: woocommerce.verify(signed.headers, signed.body, secrets),
        woocommerce.envelope,
        woocommerce.parse,
    ),
    aftership.PLATFORM: Platform(
        aftership.PLATFORM,
        lambda signed, secrets: aftership.verify(signed.headers, signed.body, secrets),
        aftership.envelope,
        aftership.parse,
    ),
    cdek.PLATFORM: Platform(
        cdek.PLATFORM, _path_secret, cdek.envelope, cdek.parse, secret_in_path=True
    ),
    generic.PLATFORM: Platform(
        generic.PLATFORM,
        lambda signed, secrets: generic.verify(signed.headers, signed.body, secrets, signed.now),
        generic.envelope,
        generic.parse,
    ),
}


def parsers() -> dict[str, Parser]:
    """Every platform's parser by name, for the inbox worker."""
    return {name: platform.parse for name, platform in PLATFORMS.items()}
