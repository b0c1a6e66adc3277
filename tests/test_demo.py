"""`funnelbot demo` plays the whole story offline and shows what was recorded."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from bot.demo import run_demo
from funnel.definition import FunnelDefinition


async def test_the_demo_shows_the_conversation_and_the_recorded_funnel(
    definition: FunnelDefinition,
) -> None:
    out = io.StringIO()

    await run_demo(definition, ZoneInfo("Europe/Moscow"), out)

    text = out.getvalue()
    assert "Анна ▸ /start tea_guide--vk" in text
    assert "bot ◂ [document tea-guide.txt, " in text
    assert "bot ◂ Hello, John! 👋" in text
    assert "bot ◂ С возвращением, Анна! Чем помочь?" in text
    recorded = text.split("What the funnel recorded:")[1].split("── ")[0].splitlines()
    rows = [line.split()[:3] for line in recorded[2:] if line.strip()]
    # What the outbox sent as the shop's days passed (follow-ups included) depends on the hour
    # the demo runs at; every other event does not.
    assert [row[:2] for row in rows if row[1] != "message_sent"] == [
        ["1", "bot_started"],
        ["1", "magnet_requested"],
        ["1", "magnet_delivered"],
        ["2", "bot_started"],
        ["2", "bot_reentered"],
        ["2", "magnet_requested"],
        ["2", "email_given"],
        ["2", "gate_passed"],
        ["2", "magnet_delivered"],
        ["1", "bot_reentered"],
        ["3", "bot_started"],
        ["2", "bot_reentered"],
        ["2", "order_created"],
        ["2", "shipped"],
        ["2", "ready_for_pickup"],
        ["2", "delivered"],
        ["2", "cart_updated"],
        ["2", "cart_abandoned"],
        ["2", "nudge_clicked"],
        ["2", "order_created"],
        ["2", "cart_recovered"],
    ]
    assert [row[2] for row in rows if row[1] == "magnet_delivered"] == ["vk", "tg_post"]
    assert "bot ◂ Checklist: water" in text
    assert "imported " in text and " events for 400 customers" in text
    assert "Owner ▸ /report 30d" in text
    assert "bot ◂ Cohort " in text and "Overall conversion:" in text
    assert "Owner ▸ /compare 7d" in text
    assert "bot ◂ [photo funnel-" in text
    assert "Owner ▸ /digest" in text and "bot ◂ Digest for " in text
    assert text.count("⚠️ Shopify webhooks fail their signature check") == 1
    assert "WooCommerce ▸ POST /webhooks/woocommerce  →  200" in text
    assert "bot ◂ Done, John: your order is linked to this chat." in text
    assert "Forger ▸ POST /webhooks/woocommerce  →  401" in text
    assert "refused    signature 1" in text
    assert "bot ◂ 📦 Your order is on its way with CDEK, tracking number 1582000001." in text
    assert "bot ◂ 📍 Your parcel is waiting at the pickup point: MSK42." in text
    assert "💵 Pay RUB2,490.00 on delivery." in text
    assert "bot ◂ ⏰ Your parcel is waiting at MSK42 until " in text
    assert "bot ◂ ✅ Your parcel has been delivered. Thank you for your order!" in text
    assert "delivered (buy-out)  100.0 %   of 1 that ended" in text
    assert "bot ◂ You left Da Hong Pao, 100 g, Gaiwan, 120 ml (RUB3,280.00) in your cart." in text
    assert "[Back to my cart] → http://127.0.0.1:" in text
    assert "→  302 https://shop.samovar.example/checkout/1?utm_source=telegram" in text
    assert "recovered                 1   via the link 1" in text
    assert "recovered revenue    3,280.00 RUB" in text
