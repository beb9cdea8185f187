-- Text extracted from each stored file (text layer, office formats, OCR), kept inside the
-- encrypted database so that OCR'd text can be shown beside the scan and a failed or hostile
-- file is recorded on its document instead of being retried on every indexing run.
-- Derived state: `vanthu reindex` empties it and extracts again.
CREATE TABLE file_text (
    file_id     TEXT PRIMARY KEY REFERENCES files (id),
    -- 'office' (in-process: DOCX, ODT, XLSX, ODS, text, e-mail), 'pdf-text' (PDF text layer),
    -- 'ocr' (Tesseract), 'pdf-text+ocr' (text layer plus OCR of pages without one), 'legacy'
    -- (.doc/.xls), or 'none' (format not extracted)
    method      TEXT NOT NULL,
    -- 'ok', 'failed' (malformed, encrypted, tool error), 'timeout', 'too-large', 'unsupported'
    status      TEXT NOT NULL,
    -- why it failed, in Vietnamese with English in parentheses
    error       TEXT,
    text        TEXT NOT NULL DEFAULT '',
    pages       INTEGER,
    ocr_pages   INTEGER,
    elapsed_ms  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
