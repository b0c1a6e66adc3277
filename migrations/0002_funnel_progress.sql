-- Each customer's ordered way through the funnel, kept current as events arrive.
-- chain holds the reach times (ms since the epoch) of the stages after the first, in order.
CREATE TABLE progress (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    started_ms INTEGER NOT NULL,
    chain TEXT NOT NULL,
    source TEXT NOT NULL,
    magnet TEXT NOT NULL,
    platform TEXT NOT NULL,
    returning_customer INTEGER NOT NULL CHECK (returning_customer IN (0, 1))
);
CREATE INDEX progress_by_start ON progress (started_ms);

-- Reports read packed columns, one segment per kind (cohort, calendar) and UTC day.
CREATE TABLE segments (
    kind TEXT NOT NULL CHECK (kind IN ('cohort', 'calendar')),
    day INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kind, day)
) WITHOUT ROWID;

-- Segments whose rows changed since they were packed; reports repack them first.
CREATE TABLE stale_segments (
    kind TEXT NOT NULL,
    day INTEGER NOT NULL,
    PRIMARY KEY (kind, day)
) WITHOUT ROWID;

-- Which stage definitions the stored progress was computed for.
CREATE TABLE progress_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The newest event of each platform, for the admins' health view, without a scan.
CREATE INDEX events_by_platform ON events (platform, id);

-- Customers whose progress is yet to be recomputed, with the highest event id it reflects.
-- Appending only marks them; progress is settled in large batches, and before any report.
CREATE TABLE progress_pending (
    customer_id INTEGER PRIMARY KEY,
    settled_through INTEGER NOT NULL
);
