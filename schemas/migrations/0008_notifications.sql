-- Notifications for the clerk (issue #7: "notifications for new arrivals"): written in the
-- same transaction as what they announce, so a document is announced exactly once; the
-- desktop shows the unread ones, the CLI lists them (`vanthu notifications`).
CREATE TABLE notification (
    id           TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL,
    kind         TEXT NOT NULL,          -- arrival | status | request
    document_id  TEXT,                   -- incoming or outgoing id it is about
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    read_at      TEXT
);
CREATE INDEX notification_unread ON notification (read_at, created_at);
