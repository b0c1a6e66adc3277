-- Delivery-status messages: what each parcel's customer (and the admins) were told, once each.
-- kind 'status' is a status message, 'alert' an admins' alert about the parcel.
CREATE TABLE parcel_notices (
    shipment_id INTEGER NOT NULL REFERENCES shipments (id),
    kind TEXT NOT NULL CHECK (kind IN ('status', 'alert')),
    status TEXT NOT NULL,
    outbox_id INTEGER REFERENCES outbox (id),
    noticed_ms INTEGER NOT NULL,
    PRIMARY KEY (shipment_id, kind, status)
);

-- When the carrier's API was last asked about a parcel whose status stood still.
ALTER TABLE shipments ADD COLUMN polled_ms INTEGER;
CREATE INDEX shipments_by_status ON shipments (status, status_ms);

-- A parcel message goes only while the parcel is still in the status it tells of.
ALTER TABLE outbox ADD COLUMN shipment_id INTEGER REFERENCES shipments (id);
ALTER TABLE outbox ADD COLUMN shipment_status TEXT;
