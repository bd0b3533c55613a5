-- Alerts as threat intelligence and anomaly detection raise them (W7): alike alerts fold
-- into one by their key (count and last sighting grow), and each carries the conversation
-- that showed it, the feed or detector, the indicator and its confidence.
ALTER TABLE alerts ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN flow TEXT;
ALTER TABLE alerts ADD COLUMN source TEXT;
ALTER TABLE alerts ADD COLUMN indicator TEXT;
ALTER TABLE alerts ADD COLUMN confidence INTEGER;
ALTER TABLE alerts ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE alerts SET last_seen = ts;
CREATE INDEX alerts_key ON alerts (key, last_seen);
