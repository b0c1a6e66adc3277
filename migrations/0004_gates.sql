-- A magnet waiting behind a gate: what the customer asked for, and how often they tried.
CREATE TABLE gate_requests (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    magnet TEXT NOT NULL,
    source TEXT NOT NULL,
    gate TEXT NOT NULL CHECK (gate IN ('contact', 'email', 'channel')),
    attempts INTEGER NOT NULL DEFAULT 0,
    requested_ms INTEGER NOT NULL
);
