-- Document exchange over the national axis (issue #7). Everything here lives inside SQLCipher:
-- the HMAC secret of the axis account included, never in a plain configuration file.

CREATE TABLE axis_config (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    endpoint        TEXT NOT NULL,
    organ_id        TEXT NOT NULL,
    system_id       TEXT NOT NULL,
    secret          TEXT NOT NULL,
    hash_padded     INTEGER NOT NULL DEFAULT 0,
    retry_base_ms   INTEGER NOT NULL DEFAULT 30000,
    retry_cap_ms    INTEGER NOT NULL DEFAULT 1800000,
    send_attempts   INTEGER NOT NULL DEFAULT 10,
    updated_at      TEXT NOT NULL
);

-- Outgoing documents (văn bản đi) prepared for sending.
CREATE TABLE outgoing (
    id              TEXT PRIMARY KEY,
    document_id     TEXT NOT NULL UNIQUE,   -- edXML DocumentId
    code_number     TEXT NOT NULL,
    code_notation   TEXT NOT NULL,
    ngay_van_ban    TEXT NOT NULL,          -- YYYY-MM-DD
    loai            TEXT,
    trich_yeu       TEXT NOT NULL,
    do_mat          TEXT NOT NULL,
    do_khan         TEXT NOT NULL,
    nguoi_ky        TEXT,
    chuc_vu         TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL
);

CREATE TABLE outgoing_files (
    id            TEXT PRIMARY KEY,
    document_id   TEXT NOT NULL REFERENCES outgoing (id),
    name          TEXT NOT NULL,
    content_type  TEXT,
    blob_id       TEXT NOT NULL UNIQUE,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX outgoing_files_document ON outgoing_files (document_id);

-- Durable outbox: the exact package bytes sit in an encrypted blob, so a retry after an
-- uncertain send repeats identical bytes (receivers de-duplicate by DocumentId).
CREATE TABLE axis_outbox (
    id            TEXT PRIMARY KEY,
    message_type  TEXT NOT NULL,            -- edoc | status
    business      TEXT NOT NULL,            -- new | revoke | update (edoc), status
    ref_id        TEXT NOT NULL,            -- outgoing.id (edoc) or incoming.id (status)
    status_code   TEXT,
    recipients    TEXT NOT NULL,            -- JSON array of organ ids
    blob_id       TEXT NOT NULL UNIQUE,
    sha256        TEXT NOT NULL,
    state         TEXT NOT NULL,            -- ready | sent | failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,         -- unix milliseconds
    last_error    TEXT,
    axis_doc_id   TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX axis_outbox_due ON axis_outbox (state, next_at);
CREATE INDEX axis_outbox_ref ON axis_outbox (ref_id);

-- Durable inbox: one row per axis docId ever stored. A row is written in the same
-- transaction as its effect (registration, status, request), and acknowledged only after.
CREATE TABLE axis_inbox (
    axis_doc_id   TEXT PRIMARY KEY,
    message_type  TEXT NOT NULL,
    from_organ    TEXT NOT NULL,
    raw_blob_id   TEXT,
    sha256        TEXT NOT NULL,
    identity      TEXT,
    outcome       TEXT NOT NULL,            -- registered | duplicate | status | request | quarantined | orphan
    incoming_id   TEXT,
    detail        TEXT,
    acked         INTEGER NOT NULL DEFAULT 0,
    received_at   TEXT NOT NULL,
    acked_at      TEXT
);
CREATE INDEX axis_inbox_identity ON axis_inbox (identity);
CREATE INDEX axis_inbox_unacked ON axis_inbox (acked);

-- Where an incoming document came from: answers (statuses) go back to the sender.
-- (sender, document_id) is the identity of a new document: registered exactly once.
CREATE TABLE axis_incoming (
    incoming_id        TEXT PRIMARY KEY REFERENCES incoming (id),
    sender             TEXT NOT NULL,
    document_id        TEXT NOT NULL,
    code               TEXT,
    promulgation_date  TEXT,
    last_status        TEXT,
    revoked_at         TEXT,                -- a revoke was accepted (15): the record is frozen
    updated_at         TEXT,                -- an update was accepted (15): new files attached
    UNIQUE (sender, document_id)
);

-- Statuses received for our outgoing documents, one row per distinct status message.
CREATE TABLE axis_status (
    id            INTEGER PRIMARY KEY,
    outgoing_id   TEXT NOT NULL REFERENCES outgoing (id),
    from_organ    TEXT NOT NULL,
    code          TEXT NOT NULL,
    description   TEXT,
    timestamp     TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    UNIQUE (outgoing_id, from_organ, code, timestamp)
);

-- Revoke, update and replace requests (and status 13) waiting for the clerk (answered 15/16).
CREATE TABLE axis_request (
    id                  TEXT PRIMARY KEY,
    axis_doc_id         TEXT NOT NULL,
    kind                TEXT NOT NULL,      -- revoke | update | replace | take_back
    sender              TEXT NOT NULL,
    target_document_id  TEXT NOT NULL,
    incoming_id         TEXT,
    reason              TEXT,
    state               TEXT NOT NULL,      -- pending | accepted | refused
    created_at          TEXT NOT NULL,
    decided_at          TEXT
);

-- Every blob a row refers to (`vanthu gc` keeps these).
CREATE VIEW blob_refs AS
    SELECT blob_id FROM files
    UNION ALL SELECT blob_id FROM outgoing_files
    UNION ALL SELECT blob_id FROM axis_outbox
    UNION ALL SELECT raw_blob_id AS blob_id FROM axis_inbox WHERE raw_blob_id IS NOT NULL;
