-- Exchange over the national axis, second part (issue #7): streamed sends, per-recipient
-- delivery as the axis reports it, replacements, and the cached agency directory.
-- (0004 is already on main; it is never edited, only extended here.)

-- Package size, to stream a send straight from its encrypted blob (0 for rows queued before
-- this migration: the sync engine then measures the blob).
ALTER TABLE axis_outbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
-- Every recipient's copy is final on the axis (done or fail).
ALTER TABLE axis_outbox ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;

-- Per-recipient delivery of a sent package, as the axis reports it (getSentEdocList).
CREATE TABLE axis_delivery (
    outbox_id        TEXT NOT NULL REFERENCES axis_outbox (id),
    receiver_doc_id  TEXT NOT NULL,
    organ_id         TEXT NOT NULL,
    receive_status   TEXT NOT NULL,         -- pending | done | fail (as the axis says)
    received_time    TEXT,
    checked_at       TEXT NOT NULL,
    PRIMARY KEY (outbox_id, receiver_doc_id)
);

-- Replace (type 3): the replacing document, registered on arrival.
ALTER TABLE axis_request ADD COLUMN new_incoming_id TEXT;

-- The axis directory (getAgenciesList), cached and refreshed daily by sync.
CREATE TABLE axis_directory (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    old_code      TEXT,
    refreshed_ms  INTEGER NOT NULL
);
