-- Vulnerability assessment (W6). Advisories and catalogues are kept as the documents
-- themselves, one row per (kind, id): a later revision replaces the row, an earlier one is
-- refused by the importer. Matching reads them back; the document's own bytes are the
-- truth, so a better reader in a later Ward re-reads what was imported without a new
-- migration.

CREATE TABLE vuln_documents (
    -- 'csaf', 'nvd', 'kev', 'epss'.
    kind        TEXT NOT NULL,
    -- ICSMA-20-317-01, CVE-2020-25165, 'kev', 'epss'.
    id          TEXT NOT NULL,
    -- The document's revision (tracking.version, lastModified, catalogVersion).
    version     TEXT NOT NULL,
    -- Its release time as it says it (RFC 3339 text), or ''.
    released    TEXT NOT NULL,
    -- SHA-256 of body, hex.
    sha256      TEXT NOT NULL,
    -- Where it was read from (a file or a URL).
    source      TEXT NOT NULL,
    body        BLOB NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- One row per assessment (`ward vuln report`), with what it found in numbers.
CREATE TABLE vuln_assessments (
    id          INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    -- A digest of the documents' hashes: which advisories the assessment matched against.
    catalog     TEXT NOT NULL,
    devices     INTEGER NOT NULL,
    findings    INTEGER NOT NULL,
    -- The changes from the previous assessment, as JSON.
    changes     TEXT NOT NULL
);

-- The latest assessment's findings, to tell what changed at the next one.
CREATE TABLE vuln_state (
    device_id INTEGER NOT NULL,
    cve       TEXT NOT NULL,
    standing  TEXT NOT NULL,
    firmware  TEXT,
    PRIMARY KEY (device_id, cve)
) WITHOUT ROWID;
