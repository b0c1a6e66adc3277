"""Every parcel move, once, in the customer's language: the payload samples from CDEK with
WooCommerce, and from Shopify with AfterShip, arriving late, twice and out of order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.inbox_worker import InboxWorker
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.events import epoch_ms
from funnel.linking import claim
from funnel.store.base import FunnelStore
from tests.conftest import ADMIN_ID
from tests.shop.conftest import Client, Runner, deliver, outbox_lines, story_customer
from tests.webhooks.conftest import ANNA, EMILY, TOKENS


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_a_cdek_parcel_is_told_once_per_status_in_order(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    await story_customer(store, sandbox, clock, ANNA, "ru")
    story = [
        ("2026-09-08T08:21:00+00:00", "woocommerce", "02-order-created"),
        ("2026-09-09T09:48:00+00:00", "cdek", "01-received-at-shipment-warehouse"),
        ("2026-09-10T06:16:00+00:00", "cdek", "03-accepted-in-recipient-city"),
        ("2026-09-10T06:20:00+00:00", "cdek", "02-sent-to-recipient-city"),  # late, older
        ("2026-09-10T13:43:00+00:00", "cdek", "05-accepted-at-pick-up-point"),
        ("2026-09-10T13:44:00+00:00", "cdek", "05-accepted-at-pick-up-point"),  # again
        ("2026-09-12T10:06:00+00:00", "cdek", "06-delivered"),
        ("2026-09-12T10:07:00+00:00", "cdek", "03-accepted-in-recipient-city"),  # very late
    ]
    for when, platform, name in story:
        await runner.run(at(when) - clock.now())
        await deliver(client, worker, platform, name)
    await runner.run(at("2026-09-20T00:00:00+00:00") - clock.now())

    told = [(m.date, m.text) for m in sandbox.messages_to(ANNA)]
    cod = "\n💵 При получении оплатите 3\xa0650,00\xa0₽."
    assert told == [
        (at("2026-09-09T09:48:00+00:00"),
         "📦 Заказ передан в CDEK, трек-номер 1582046731.\n"
         f"Отследить: https://www.cdek.ru/ru/tracking?order_id=1582046731{cod}"),
        (at("2026-09-10T06:16:00+00:00"), f"🚚 Посылка 1582046731 в пути.{cod}"),
        (at("2026-09-10T13:43:00+00:00"),
         "📍 Посылка ждёт вас в пункте выдачи: SPB318.\n"
         f"Заберите её до 17 сентября, 16:42 (Москва).{cod}"),
        (at("2026-09-12T10:06:00+00:00"), "✅ Посылка получена. Спасибо за покупку!"),
    ]  # fmt: skip


async def test_pickup_reminders_go_until_the_parcel_is_collected(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock, tmp_path: Path,
) -> None:  # fmt: skip
    await story_customer(store, sandbox, clock, ANNA, "en")
    await runner.run(at("2026-09-08T08:21:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "02-order-created")
    await runner.run(at("2026-09-10T13:43:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "05-accepted-at-pick-up-point")
    await runner.settle()
    waiting = outbox_lines(tmp_path, "parcel.pickup")
    # Two and one day before the deadline (17 Sep 13:42 UTC), and 09:00 Moscow on its day.
    assert [row.due_ms for row in waiting] == [
        epoch_ms(at(t)) for t in ("2026-09-15T13:42:27+00:00", "2026-09-16T13:42:27+00:00",
                                  "2026-09-17T06:00:00+00:00")
    ]  # fmt: skip

    await runner.run(at("2026-09-16T15:00:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "06-delivered")
    await runner.run(at("2026-09-20T00:00:00+00:00") - clock.now())

    texts = [m.text for m in sandbox.messages_to(ANNA)]
    reminder = (
        "⏰ Your parcel is waiting at SPB318 until 17 September, 16:42 (Moscow). After that it"
        " goes back to the shop.\n💵 Pay RUB3,650.00 on delivery."
    )
    assert texts[1:] == [
        reminder,
        reminder,
        "✅ Your parcel has been delivered. Thank you for your order!",
    ]
    statuses = [row.status for row in outbox_lines(tmp_path, "parcel.pickup")]
    assert statuses == ["sent", "sent", "cancelled"]


async def test_shopify_and_aftership_reports_of_one_parcel_are_told_once(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    await story_customer(store, sandbox, clock, EMILY, "en", zone="America/Denver")
    story = [
        ("2026-09-08T14:15:00+00:00", "shopify", "07-orders-create"),
        ("2026-09-09T13:21:00+00:00", "shopify", "12-fulfillments-create"),
        ("2026-09-09T13:27:00+00:00", "aftership", "01-info-received"),  # shipped again
        ("2026-09-11T14:21:00+00:00", "aftership", "05-out-for-delivery"),
        ("2026-09-11T14:25:00+00:00", "aftership", "02-in-transit"),  # late, older
        ("2026-09-11T22:06:00+00:00", "aftership", "06-attempt-fail"),
        ("2026-09-12T16:41:00+00:00", "aftership", "07-available-for-pickup"),
        ("2026-09-12T16:42:00+00:00", "aftership", "07-available-for-pickup"),  # redelivered
        ("2026-09-14T18:26:00+00:00", "aftership", "08-delivered"),
        ("2026-09-14T18:32:00+00:00", "shopify", "19-fulfillments-update"),  # delivered again
    ]
    for when, platform, name in story:
        await runner.run(at(when) - clock.now())
        await deliver(client, worker, platform, name)
    await runner.run(at("2026-09-25T00:00:00+00:00") - clock.now())

    ups = "https://www.ups.com/track?loc=en_US&tracknum=1Z4V78W20391847265"
    assert [(m.date, m.text) for m in sandbox.messages_to(EMILY)] == [
        # 07:21 in Denver: "shipped" waits for the end of quiet hours, 09:00.
        (at("2026-09-09T15:00:00+00:00"), "📦 Your order is on its way with UPS, tracking number"
         f" 1Z4V78W20391847265.\nTrack it: {ups}"),
        (at("2026-09-11T14:21:00+00:00"), "🛵 A UPS courier is bringing your parcel today."),
        (at("2026-09-11T22:06:00+00:00"),
         f"⚠️ UPS could not deliver parcel 1Z4V78W20391847265. Status: {ups}"),
        (at("2026-09-12T16:41:00+00:00"), "📍 Your parcel is waiting at the pickup point: UPS"
         " Access Point, 2401 E Colfax Ave, Denver, CO 80206.\nCollect it by 19 September,"
         " 10:40."),
        (at("2026-09-14T18:26:00+00:00"),
         "✅ Your parcel has been delivered. Thank you for your order!"),
    ]  # fmt: skip


async def test_opted_out_customers_still_hear_blocked_ones_do_not(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    # 23:43 in Vladivostok when the parcel reaches the pickup point: urgent, so at once.
    anna = await story_customer(store, sandbox, clock, ANNA, "en", zone="Asia/Vladivostok")
    async with store.transaction() as tx:
        await tx.opt_out(anna, epoch_ms(clock.now()))
    await runner.run(at("2026-09-08T08:21:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "02-order-created")
    await runner.run(at("2026-09-10T13:43:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "05-accepted-at-pick-up-point")
    await runner.settle()

    [ready] = sandbox.messages_to(ANNA)
    assert ready.date == at("2026-09-10T13:43:00+00:00")
    assert ready.text.startswith("📍 Your parcel is waiting at the pickup point: SPB318.")
    sandbox.blocked_by.add(ANNA)
    await runner.run(at("2026-09-12T10:06:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "06-delivered")
    await runner.run(at("2026-09-20T00:00:00+00:00") - clock.now())

    assert len(sandbox.messages_to(ANNA)) == 1
    async with store.transaction() as tx:
        customer = await tx.customer_by_id(anna)
    assert customer is not None and customer.blocked


async def test_a_customer_linked_late_hears_the_current_status_once(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    sandbox.add_user(Profile(ANNA, "Анна", "ru"))
    async with store.transaction() as tx:
        anna = (await tx.add_customer(NewCustomer(clock.now(), ANNA, "ru"))).id
        # The shop's token, not yet claimed: nobody is linked to the order.
        await tx.issue_link_token(TOKENS[ANNA], None, epoch_ms(clock.now()))
    await runner.run(at("2026-09-08T08:21:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "02-order-created")
    for name in ("01-received-at-shipment-warehouse", "03-accepted-in-recipient-city",
                 "05-accepted-at-pick-up-point"):  # fmt: skip
        await deliver(client, worker, "cdek", name)
    await runner.run(at("2026-09-11T10:00:00+00:00") - clock.now())
    assert sandbox.messages_to(ANNA) == []

    claimed = await claim(store, TOKENS[ANNA], anna, clock.now())
    await runner.run(at("2026-09-11T10:05:00+00:00") - clock.now())

    assert claimed.accepted
    [only] = sandbox.messages_to(ANNA)
    assert only.text.startswith("📍 Посылка ждёт вас в пункте выдачи: SPB318.")


async def test_a_returned_parcel_alerts_the_admins_once_linked_or_not(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    sandbox.add_user(Profile(ADMIN_ID, "Owner", "en"))
    async with store.transaction() as tx:
        await tx.add_customer(NewCustomer(clock.now(), ADMIN_ID, "en"))
    await runner.run(at("2026-09-09T12:00:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "04-order-created")  # Дмитрий: no link
    await deliver(client, worker, "cdek", "04-received-at-shipment-warehouse",
                  "07-accepted-at-pick-up-point")  # fmt: skip
    await runner.run(at("2026-09-20T12:00:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "08-not-delivered")
    await runner.run(at("2026-09-23T12:00:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "09-return-delivered")
    await runner.run(at("2026-09-25T12:00:00+00:00") - clock.now())

    alerts = [m.text for m in sandbox.messages_to(ADMIN_ID)]
    assert alerts == [
        "⚠️ Parcel 1582071954 (CDEK, order 4131) is going back to the shop (2026-09-21 19:00 UTC)."
    ]
