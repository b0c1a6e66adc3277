"""What the webhook pipeline needs from storage: the inbox, shop entities and link tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from funnel.commerce import CartFacts, Entity, Happening, OrderFacts, ShipmentFacts, Stored
from funnel.inbox import Delivery, DeliveryLine, Incoming, PlatformInbox


class InboxTransaction(Protocol):
    async def receive(
        self,
        platform: str,
        delivery_id: str,
        topic: str,
        headers: dict[str, str],
        body: bytes,
        now_ms: int,
    ) -> int | None:
        """Keep a delivery; its inbox id, or None when this delivery id was already kept."""
        ...

    async def receive_many(self, deliveries: Sequence[Incoming]) -> list[int | None]:
        """Keep deliveries in one statement; for each, its inbox id or None if already kept."""
        ...

    async def note_rejection(self, platform: str, reason: str, now_ms: int) -> None: ...

    async def waiting_deliveries(self, after_id: int, limit: int) -> list[Delivery]:
        """Pending deliveries in order of arrival, from after_id on."""
        ...

    async def delivery(self, inbox_id: int) -> Delivery | None: ...

    async def finish_delivery(self, inbox_id: int, now_ms: int) -> None: ...

    async def fail_delivery(self, inbox_id: int, error: str, now_ms: int) -> None: ...

    async def requeue_deliveries(self, inbox_ids: Sequence[int] | None) -> int:
        """Make failed deliveries pending again: those named, or every failed one."""
        ...

    async def drop_delivery(self, inbox_id: int) -> bool:
        """Delete a failed delivery for good; False unless it exists and failed."""
        ...

    async def prune_deliveries(self, before_ms: int) -> int:
        """Delete processed deliveries received before the moment; returns how many."""
        ...

    async def inbox_overview(self, since_ms: int) -> list[PlatformInbox]: ...

    async def recent_deliveries(
        self, limit: int, status: str | None = None
    ) -> list[DeliveryLine]: ...


class CommerceTransaction(Protocol):
    async def find_cart(self, platform: str, token: str) -> Stored[CartFacts] | None: ...

    async def cart_by_id(self, cart_id: int) -> Stored[CartFacts] | None: ...

    async def find_cart_by_checkout(
        self, platform: str, checkout_token: str
    ) -> Stored[CartFacts] | None: ...

    async def save_cart(self, facts: CartFacts, row_id: int | None, now_ms: int) -> int: ...

    async def find_order(self, platform: str, platform_id: str) -> Stored[OrderFacts] | None: ...

    async def order_by_id(self, order_id: int) -> Stored[OrderFacts] | None: ...

    async def find_order_by_ref(self, ref: str) -> Stored[OrderFacts] | None:
        """The order whose shop id or number is ref, on any platform (a carrier knows one)."""
        ...

    async def save_order(
        self, facts: OrderFacts, status_rank: int, row_id: int | None, now_ms: int
    ) -> int: ...

    async def find_shipment(self, ref: str) -> Stored[ShipmentFacts] | None: ...

    async def save_shipment(
        self,
        facts: ShipmentFacts,
        status_rank: int,
        order_id: int | None,
        row_id: int | None,
        now_ms: int,
    ) -> int: ...

    async def shipments_awaiting_order(self, refs: Sequence[str]) -> list[int]: ...

    async def attach_shipment(self, shipment_id: int, order_id: int) -> None: ...

    async def shipments_of_order(self, order_id: int) -> list[int]: ...

    async def orders_of_cart(self, platform: str, tokens: Sequence[str]) -> list[int]: ...

    async def set_entity_customer(self, entity: Entity, entity_id: int, customer_id: int) -> bool:
        """Link an unlinked entity; False when it already had a customer."""
        ...

    async def entity_customer(self, entity: Entity, entity_id: int) -> int | None: ...

    async def unlinked_entities(
        self, link_tokens: Sequence[str], phones: Sequence[str]
    ) -> list[tuple[Entity, int]]:
        """Carts, orders and shipments without a customer that carry one of these."""
        ...

    async def add_happening(
        self, happening: Happening, platform: str, entity: Entity, entity_id: int, inbox_id: int
    ) -> bool:
        """Keep a normalized event once (by key); False when the key was already kept."""
        ...

    async def unrecorded_happenings(
        self, entity: Entity, entity_id: int
    ) -> list[tuple[int, str, Happening]]:
        """(id, platform, happening) of the entity's events not yet in the funnel log."""
        ...

    async def mark_recorded(self, happening_ids: Sequence[int]) -> None: ...

    async def issue_link_token(self, token: str, customer_id: int | None, now_ms: int) -> None: ...

    async def link_token_owner(self, token: str) -> tuple[bool, int | None]:
        """(issued, customer id): whether the bot issued the token, and who claimed it."""
        ...

    async def claim_link_token(self, token: str, customer_id: int, now_ms: int) -> bool:
        """Give an issued, unclaimed token to the customer; True when it is now theirs."""
        ...

    async def link_tokens_of(self, customer_id: int) -> list[str]: ...
