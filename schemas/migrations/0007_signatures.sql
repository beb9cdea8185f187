-- Digital signatures on received PDFs (issues #5 and #7): the agency's own trust anchors beside
-- the shipped Vietnamese roots, and the validation report kept with each incoming file
-- (Decree 30/2020 Art. 21.2.a: the clerk checks the signature on arrival).

CREATE TABLE trust_anchor (
    sha256      TEXT PRIMARY KEY,        -- of the certificate's DER, upper-case hex
    subject     TEXT NOT NULL,
    der         TEXT NOT NULL,           -- the certificate, DER in hex
    added_at    TEXT NOT NULL,
    added_by    TEXT NOT NULL
);

CREATE TABLE signature_check (
    file_id     TEXT PRIMARY KEY REFERENCES files (id),
    checked_at  TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,           -- the bytes that were checked
    verdict     TEXT NOT NULL,           -- HỢP LỆ | KHÔNG HỢP LỆ | CHƯA XÁC ĐỊNH | KHÔNG CÓ CHỮ KÝ | LỖI
    signatures  INTEGER NOT NULL,
    all_valid   INTEGER NOT NULL,
    summary     TEXT NOT NULL,           -- one line per signature, for lists
    report      TEXT NOT NULL            -- the full JSON report (vanthu-pdf), or the error
);
