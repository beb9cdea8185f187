-- vanthu store schema, version 1. Applied inside SQLCipher: every page is encrypted.
-- Dates are ISO 8601 text; times carry their offset (+07:00).

CREATE TABLE agency (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    code        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- One row per numbering series and year (Decree 30, Art. 15; Appendix VI).
CREATE TABLE series (
    register     TEXT NOT NULL,
    year         INTEGER NOT NULL,
    last_number  INTEGER NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (register, year)
) WITHOUT ROWID;

-- Sổ đăng ký văn bản đến (Appendix IV).
CREATE TABLE incoming (
    id              TEXT PRIMARY KEY,
    register        TEXT NOT NULL,
    year            INTEGER NOT NULL,
    so_den          INTEGER NOT NULL CHECK (so_den > 0),
    ngay_den        TEXT NOT NULL,
    tac_gia         TEXT NOT NULL,
    tac_gia_ma      TEXT,
    so_ky_hieu      TEXT,
    khong_so        INTEGER NOT NULL DEFAULT 0,
    ngay_van_ban    TEXT NOT NULL,
    loai            TEXT,
    trich_yeu       TEXT NOT NULL,
    do_mat          TEXT NOT NULL,
    do_khan         TEXT NOT NULL,
    nguoi_ky        TEXT,
    chuc_vu         TEXT,
    so_trang        INTEGER,
    han_giai_quyet  TEXT,
    ghi_chu         TEXT,
    kenh            TEXT NOT NULL,
    dup_key         TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    row_hash        TEXT NOT NULL,
    UNIQUE (register, year, so_den)
);
CREATE INDEX incoming_year ON incoming (year, register, so_den);
CREATE INDEX incoming_dup ON incoming (dup_key);

-- Files of a document: the bytes live in encrypted blob files, referenced by id.
CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    document_id   TEXT NOT NULL REFERENCES incoming (id),
    name          TEXT NOT NULL,
    content_type  TEXT,
    blob_id       TEXT NOT NULL UNIQUE,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX files_document ON files (document_id);

-- Tamper-evident audit trail: hash = SHA-256 over the previous hash and this entry.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    data       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
