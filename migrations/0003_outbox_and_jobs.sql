-- Everything the bot says on its own initiative, from enqueue to sent (or why not).
-- Times are milliseconds since the epoch. due_ms moves with postponements and retries.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    template TEXT NOT NULL,
    variables TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variables)),
    kind TEXT NOT NULL CHECK (kind IN ('transactional', 'marketing')),
    quiet_hours INTEGER NOT NULL CHECK (quiet_hours IN (0, 1)),
    -- A follow-up stops once the customer orders: checked when it falls due.
    stop_on_order INTEGER NOT NULL DEFAULT 0 CHECK (stop_on_order IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'expired')),
    due_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    dedupe_key TEXT UNIQUE,
    cancel_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_ms INTEGER,
    reason TEXT,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER
);
CREATE INDEX outbox_due ON outbox (status, due_ms);
CREATE INDEX outbox_by_cancel_key ON outbox (cancel_key, status) WHERE cancel_key IS NOT NULL;
CREATE INDEX outbox_marketing_sent ON outbox (customer_id, kind, status, finished_ms);

-- Timed work for the scheduler: a daily digest, "abandoned if nothing happens within 1 h"...
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    due_ms INTEGER NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload))
);
CREATE INDEX jobs_due ON jobs (due_ms);

-- Admins' own choices, such as whether the daily digest comes to them.
CREATE TABLE admin_settings (
    telegram_user_id INTEGER PRIMARY KEY,
    digest INTEGER NOT NULL DEFAULT 1 CHECK (digest IN (0, 1))
);

-- The last time each alert went out, so that repeats within the hour collapse into one.
CREATE TABLE alerts (
    key TEXT PRIMARY KEY,
    last_sent_ms INTEGER NOT NULL,
    collapsed INTEGER NOT NULL DEFAULT 0
);
