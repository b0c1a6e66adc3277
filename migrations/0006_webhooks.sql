-- Every verified delivery from a shop or carrier, stored before it is acknowledged.
-- A delivery id is unique per platform, so a redelivery is recognised and not processed twice.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
    body BLOB NOT NULL,
    received_ms INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processed', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    processed_ms INTEGER,
    UNIQUE (platform, delivery_id)
);
CREATE INDEX inbox_waiting ON inbox (status, id);
CREATE INDEX inbox_by_platform ON inbox (platform, id);

-- Deliveries refused before they reached the inbox (bad signature, bad body), counted per
-- platform and reason: a forger cannot grow this table.
CREATE TABLE webhook_rejections (
    platform TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, reason)
);

-- Tokens the bot issued to tie a shop's cart or order to a Telegram customer. A token issued to
-- the shop waits (customer_id NULL) until the customer opens t.me/<bot>?start=<token>.
CREATE TABLE link_tokens (
    token TEXT PRIMARY KEY,
    customer_id INTEGER REFERENCES customers (id),
    issued_ms INTEGER NOT NULL,
    claimed_ms INTEGER
);

-- Carts and checkouts as the shop last described them. updated_ms is the source's own time:
-- an older description never overwrites a newer one.
CREATE TABLE carts (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    checkout_token TEXT,
    customer_id INTEGER REFERENCES customers (id),
    link_token TEXT,
    phone TEXT,
    amount TEXT,
    currency TEXT,
    checkout_url TEXT,
    items TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(items)),
    status TEXT NOT NULL,
    reserved_until_ms INTEGER,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (platform, token)
);
CREATE INDEX carts_by_checkout ON carts (platform, checkout_token);
CREATE INDEX carts_by_customer ON carts (customer_id);
CREATE INDEX carts_unlinked_token ON carts (link_token) WHERE customer_id IS NULL;
CREATE INDEX carts_unlinked_phone ON carts (phone) WHERE customer_id IS NULL;

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    number TEXT,
    cart_token TEXT,
    checkout_token TEXT,
    customer_id INTEGER REFERENCES customers (id),
    link_token TEXT,
    phone TEXT,
    amount TEXT,
    currency TEXT,
    items TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(items)),
    status TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    payment_method TEXT,
    cash_on_delivery INTEGER NOT NULL DEFAULT 0 CHECK (cash_on_delivery IN (0, 1)),
    paid_ms INTEGER,
    pickup_point TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (platform, platform_id)
);
CREATE INDEX orders_by_number ON orders (number);
CREATE INDEX orders_by_cart ON orders (cart_token);
CREATE INDEX orders_by_checkout ON orders (checkout_token);
CREATE INDEX orders_by_customer ON orders (customer_id);
CREATE INDEX orders_unlinked_token ON orders (link_token) WHERE customer_id IS NULL;
CREATE INDEX orders_unlinked_phone ON orders (phone) WHERE customer_id IS NULL;

-- A parcel, whichever platforms report it: keyed by its tracking number (or the carrier's own
-- id when there is none), so a shop's fulfilment and the carrier's tracking are one shipment.
CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    order_ref TEXT,
    order_id INTEGER REFERENCES orders (id),
    customer_id INTEGER REFERENCES customers (id),
    phone TEXT,
    carrier TEXT,
    tracking_number TEXT,
    tracking_url TEXT,
    status TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    status_ms INTEGER NOT NULL,
    pickup_point TEXT,
    storage_until_ms INTEGER,
    cod_amount TEXT,
    cod_currency TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX shipments_by_order ON shipments (order_id);
CREATE INDEX shipments_waiting_for_order ON shipments (order_ref) WHERE order_id IS NULL;
CREATE INDEX shipments_by_customer ON shipments (customer_id);
CREATE INDEX shipments_unlinked_phone ON shipments (phone) WHERE customer_id IS NULL;

-- Normalized events from shops and carriers, each once (key). Those whose customer is not yet
-- known wait here; once the cart, order or shipment is linked they join the funnel log.
CREATE TABLE commerce_events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    platform TEXT NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('cart', 'order', 'shipment')),
    entity_id INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    occurred_ms INTEGER NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(properties)),
    inbox_id INTEGER,
    recorded INTEGER NOT NULL DEFAULT 0 CHECK (recorded IN (0, 1))
);
CREATE INDEX commerce_events_by_entity ON commerce_events (entity, entity_id);
CREATE INDEX commerce_events_by_type ON commerce_events (type, occurred_ms);
