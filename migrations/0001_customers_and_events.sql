-- A customer is one person, whichever ways the bot and the shops know them.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    telegram_user_id INTEGER UNIQUE,
    language TEXT,
    time_zone TEXT,
    first_seen_at TEXT NOT NULL,
    first_source TEXT,
    opted_out INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
    blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
);

-- Other ways to know a customer: 'shopify:<shop>:<id>', 'phone:+79154821736', 'email:...'.
CREATE TABLE customer_keys (
    key TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL
);
CREATE INDEX customer_keys_by_customer ON customer_keys (customer_id);

-- The funnel log. occurred_at keeps the source's own offset; occurred_ms (milliseconds since
-- the epoch) orders and windows.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    occurred_ms INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT,
    platform TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    properties TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(properties))
);
CREATE INDEX events_by_customer ON events (customer_id, type, occurred_ms);
CREATE INDEX events_by_type ON events (type, occurred_ms);

CREATE TRIGGER events_are_not_updated BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_are_not_deleted BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
