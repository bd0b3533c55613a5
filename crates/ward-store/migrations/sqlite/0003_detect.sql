-- Behaviour baselines (W7): one per device, the learned sets as JSON (the detector's own
-- record), with the end of learning beside it for listing devices still learning.
CREATE TABLE baselines (
    device_id      INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    learning_until INTEGER NOT NULL,
    data           TEXT NOT NULL
);

-- Rules that keep alerts from being raised, each with an owner, a reason and an expiry.
CREATE TABLE suppressions (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    device_id INTEGER,
    peer      TEXT,
    indicator TEXT,
    owner     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL
);

CREATE INDEX alerts_state ON alerts (state, ts);
