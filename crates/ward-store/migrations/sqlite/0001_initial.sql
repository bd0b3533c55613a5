-- Ward's inventory, first schema. Times are INTEGER nanoseconds since the epoch (UTC);
-- counters are INTEGER; lists that belong to one row (keys, MACs, current addresses) are
-- space-separated text, VLANs a JSON array. Applied in one transaction by the migrator.

CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
);

-- Small named values: the highest device id ever given (ids are never reused).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('max_device_id', 0);

CREATE TABLE devices (
    id                     INTEGER PRIMARY KEY,
    keys                   TEXT NOT NULL,
    macs                   TEXT NOT NULL,
    ips                    TEXT NOT NULL,
    -- The first current address as 16 bytes (IPv4 mapped), so that `sort=ip` is numeric.
    ip_key                 BLOB,
    vlans                  TEXT NOT NULL,
    randomized_mac         INTEGER NOT NULL,
    router                 INTEGER NOT NULL,
    first_seen             INTEGER NOT NULL,
    last_seen              INTEGER NOT NULL,
    class                  TEXT,
    class_source           TEXT,
    class_confidence       INTEGER,
    vendor                 TEXT,
    vendor_source          TEXT,
    vendor_confidence      INTEGER,
    model                  TEXT,
    model_source           TEXT,
    model_confidence       INTEGER,
    firmware               TEXT,
    firmware_source        TEXT,
    firmware_confidence    INTEGER,
    os                     TEXT,
    os_source              TEXT,
    os_confidence          INTEGER,
    criticality            TEXT,
    criticality_source     TEXT,
    criticality_confidence INTEGER,
    description            TEXT,
    state                  TEXT NOT NULL
);
-- Indexes for the exact-match filters (with the most common sort) and the default
-- "recently seen" order. Every index costs each flush a b-tree insert per device, so sorts
-- by vendor, model or firmware and the contains-filters scan instead: 100,000 rows scan
-- and sort in a few tens of milliseconds.
CREATE INDEX devices_class ON devices (class, last_seen);
CREATE INDEX devices_criticality ON devices (criticality, last_seen);
CREATE INDEX devices_state ON devices (state, last_seen);
CREATE INDEX devices_last_seen ON devices (last_seen);

-- Which device each observation key ('mac:..', 'ip:..') names.
CREATE TABLE device_keys (
    key       TEXT PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX device_keys_device ON device_keys (device_id);

CREATE TABLE facts (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    source     TEXT NOT NULL,
    confidence INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    -- What a protocol said and what a rule derived from it may agree on a value: two facts.
    PRIMARY KEY (device_id, key, value, source)
) WITHOUT ROWID;

-- A device's address history and services are written whole with the device; `seq` keeps
-- the engine's order and makes the key (no rowid, no second index to maintain per row).
CREATE TABLE ip_ranges (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    ip         TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX ip_ranges_ip ON ip_ranges (ip, last_seen);

CREATE TABLE services (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    proto      INTEGER NOT NULL,
    port       INTEGER NOT NULL,
    app        TEXT,
    flows      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- The communication map, one row per (pair, service, hour).
CREATE TABLE comm (
    initiator INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    responder INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    proto     INTEGER NOT NULL,
    port      INTEGER NOT NULL,
    app       TEXT NOT NULL,
    hour      INTEGER NOT NULL,
    flows     INTEGER NOT NULL,
    packets   INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (initiator, responder, proto, port, app, hour)
) WITHOUT ROWID;
CREATE INDEX comm_responder ON comm (responder);

-- A log, not tied to the devices table by a foreign key: a merged-away device's events are
-- moved to the device it merged into, and a log line never blocks a write.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    device_id INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    old       TEXT,
    new       TEXT,
    evidence  TEXT NOT NULL
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_device ON events (device_id, ts);

CREATE TABLE overrides (
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    set_by    TEXT NOT NULL,
    set_at    INTEGER NOT NULL,
    PRIMARY KEY (device_id, key)
) WITHOUT ROWID;

CREATE TABLE imports (
    fingerprint  TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    first_packet INTEGER,
    last_packet  INTEGER,
    packets      INTEGER NOT NULL,
    written_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    severity  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    device_id INTEGER,
    peer      TEXT,
    evidence  TEXT NOT NULL,
    message   TEXT NOT NULL,
    state     TEXT NOT NULL
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE INDEX alerts_device ON alerts (device_id);

CREATE TABLE findings (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    severity   TEXT NOT NULL,
    detail     TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (device_id, kind, reference)
) WITHOUT ROWID;
