"""Asking CDEK about a parcel: CDEK does not retry a failed webhook, so a status can be missed
for good. `GET /v2/orders/{uuid}` (OAuth client credentials) lists every status the parcel had;
each becomes an ORDER_STATUS delivery shaped as the webhook would have been, with the same
delivery id, so it goes through the same inbox and parser and counts once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp
from pydantic import ValidationError

from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.inbox import Incoming
from handlers.webhooks.cdek import ORDER_STATUS, PLATFORM, envelope
from handlers.webhooks.common import Model, Refused

TIMEOUT = aiohttp.ClientTimeout(total=15)
# A token is renewed this long before CDEK says it expires.
TOKEN_MARGIN = timedelta(seconds=60)


class CdekApiError(Exception):
    """CDEK refused or failed; the message says how, never with the credentials."""


class _Token(Model):
    access_token: str
    expires_in: int = 3600


class _Status(Model):
    code: str
    date_time: str
    city: str | None = None


class _Related(Model):
    type: str
    uuid: str | None = None


class _Entity(Model):
    uuid: str
    is_return: bool = False
    cdek_number: str | None = None
    number: str | None = None
    statuses: tuple[_Status, ...] = ()
    related_entities: tuple[_Related, ...] = ()


class _Order(Model):
    entity: _Entity


class CdekApi:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        client_id: str,
        client_secret: str,
        clock: Clock,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: str | None = None
        self._token_until = clock.now()

    async def deliveries(self, uuid: str) -> list[Incoming]:
        """Every status of the parcel, as the inbox would have received it."""
        order = await self._order(uuid)
        now_ms = epoch_ms(self._clock.now())
        found = []
        for status in order.entity.statuses:
            body = json.dumps(_notification(order.entity, status), ensure_ascii=False).encode()
            try:
                delivery = envelope({}, body)
            except Refused as refused:
                raise CdekApiError(f"order {uuid}: {refused.reason}") from refused
            found.append(Incoming(PLATFORM, delivery.delivery_id, ORDER_STATUS, {}, body, now_ms))
        return found

    async def _order(self, uuid: str) -> _Order:
        headers = {"Authorization": f"Bearer {await self._bearer()}"}
        url = f"{self._base}/v2/orders/{uuid}"
        try:
            async with self._session.get(url, headers=headers, timeout=TIMEOUT) as response:
                if response.status == 401:
                    self._token = None  # revoked early: ask for a new one next time
                if response.status != 200:
                    raise CdekApiError(f"GET /v2/orders/{uuid} answered {response.status}")
                return _Order.model_validate_json(await response.read())
        except aiohttp.ClientError as error:
            raise CdekApiError(f"GET /v2/orders/{uuid} failed: {error}") from error
        except ValidationError as error:
            raise CdekApiError(f"GET /v2/orders/{uuid}: unexpected answer") from error

    async def _bearer(self) -> str:
        if self._token is not None and self._clock.now() < self._token_until:
            return self._token
        form = {"grant_type": "client_credentials", "client_id": self._client_id,
                "client_secret": self._client_secret}  # fmt: skip
        url = f"{self._base}/v2/oauth/token"
        try:
            async with self._session.post(url, data=form, timeout=TIMEOUT) as response:
                if response.status != 200:
                    raise CdekApiError(
                        f"CDEK refused the credentials (token request answered {response.status})"
                    )
                token = _Token.model_validate_json(await response.read())
        except aiohttp.ClientError as error:
            raise CdekApiError(f"token request failed: {error}") from error
        except ValidationError as error:
            raise CdekApiError("token request: unexpected answer") from error
        self._token = token.access_token
        self._token_until = self._clock.now() + timedelta(seconds=token.expires_in) - TOKEN_MARGIN
        return self._token


def _notification(entity: _Entity, status: _Status) -> dict[str, Any]:
    return {
        "type": ORDER_STATUS,
        "date_time": status.date_time,
        "uuid": entity.uuid,
        "attributes": {
            "is_return": entity.is_return,
            "cdek_number": entity.cdek_number,
            "number": entity.number,
            "code": status.code,
            "status_date_time": status.date_time,
            "city_name": status.city,
            "related_entities": [
                {"type": r.type, "uuid": r.uuid} for r in entity.related_entities if r.uuid
            ],
        },
    }
