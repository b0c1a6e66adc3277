-- Coupon codes: loaded into a pool from the shop, or generated for shops that check our API.
-- A code belongs to nobody until it is handed out, and to one customer after.
CREATE TABLE coupons (
    code TEXT PRIMARY KEY,
    pool TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    magnet TEXT,
    issued_ms INTEGER,
    expires_ms INTEGER,
    redeemed_ms INTEGER
);
CREATE INDEX coupons_free ON coupons (pool, customer_id);
CREATE INDEX coupons_by_customer ON coupons (customer_id, magnet);
