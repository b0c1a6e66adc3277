-- Abandoned carts and the reminders about them.
-- One row per abandoned cart: its real deadline, its arm (nudged, held out as a control, or
-- skipped for the customer's cooldown), how far the series went and how the cart ended.
CREATE TABLE abandoned_carts (
    cart_id INTEGER PRIMARY KEY REFERENCES carts (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    abandoned_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    arm TEXT NOT NULL CHECK (arm IN ('nudged', 'holdout', 'cooldown')),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    ended_reason TEXT,
    next_step INTEGER NOT NULL DEFAULT 0,
    recovered_ms INTEGER,
    recovered_order_id INTEGER REFERENCES orders (id),
    recovered_via TEXT CHECK (recovered_via IN ('nudge', 'link')),
    recovered_step INTEGER,
    recovered_amount TEXT,
    recovered_currency TEXT
);
CREATE INDEX abandoned_carts_by_customer ON abandoned_carts (customer_id, active);
CREATE INDEX abandoned_carts_by_time ON abandoned_carts (abandoned_ms);

-- Each step of a series that came due: sent through the outbox, or withheld for the holdout
-- (outbox_id NULL). The token is the unguessable part of the tracked link /r/{token}.
CREATE TABLE nudges (
    id INTEGER PRIMARY KEY,
    cart_id INTEGER NOT NULL REFERENCES abandoned_carts (cart_id),
    step INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    outbox_id INTEGER REFERENCES outbox (id),
    token TEXT UNIQUE,
    clicks INTEGER NOT NULL DEFAULT 0,
    first_click_ms INTEGER,
    UNIQUE (cart_id, step)
);

-- A reminder about a cart is checked against that cart when it falls due.
ALTER TABLE outbox ADD COLUMN cart_id INTEGER REFERENCES carts (id);

-- A coupon given in a reminder belongs to that cart and expires with its deadline.
ALTER TABLE coupons ADD COLUMN cart_id INTEGER REFERENCES carts (id);
