//! The store: a data folder holding the key file, the SQLCipher database and the blob folder.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::audit::{self, AuditReport};
use crate::blob::{BlobInfo, BlobStore};
use crate::error::StoreError;
use crate::fsutil::random_id;
use crate::keys::{labels, DataKey, KdfParams, KeyFile, KeyProvider, Passphrase};

/// Database file name inside the data folder.
pub const DB_NAME: &str = "vanthu.db";
/// Blob folder name inside the data folder.
pub const BLOB_DIR: &str = "blobs";

const MIGRATIONS: &[&str] = &[
    include_str!("../../../schemas/migrations/0001_init.sql"),
    include_str!("../../../schemas/migrations/0002_search_index.sql"),
    include_str!("../../../schemas/migrations/0003_file_text.sql"),
    include_str!("../../../schemas/migrations/0004_axis.sql"),
    include_str!("../../../schemas/migrations/0005_axis_delivery.sql"),
    include_str!("../../../schemas/migrations/0006_axis_tls.sql"),
    include_str!("../../../schemas/migrations/0007_signatures.sql"),
    include_str!("../../../schemas/migrations/0008_notifications.sql"),
];

/// Vietnam's offset, used for every timestamp the store writes.
pub const VN_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// The agency that owns a store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Agency {
    /// Agency name, e.g. `Ủy ban nhân dân tỉnh Hòa Bình`.
    pub name: String,
    /// Agency code (`OrganId`), e.g. `000.00.00.H29`.
    pub code: String,
}

/// A row of the incoming register as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IncomingRow {
    /// Document id.
    pub id: String,
    /// Register key (`den`, `den-mat`).
    pub register: String,
    /// Register year (numbering year, UTC+07:00).
    pub year: i32,
    /// Số đến.
    pub so_den: u64,
    /// Ngày đến, RFC 3339 with +07:00.
    pub ngay_den: String,
    /// Tác giả (issuing agency).
    pub tac_gia: String,
    /// Issuing agency code.
    pub tac_gia_ma: Option<String>,
    /// Số, ký hiệu (raw).
    pub so_ky_hieu: Option<String>,
    /// Không số flag.
    pub khong_so: bool,
    /// Ngày tháng văn bản (YYYY-MM-DD).
    pub ngay_van_ban: String,
    /// Tên loại (abbreviation or name).
    pub loai: Option<String>,
    /// Trích yếu nội dung.
    pub trich_yeu: String,
    /// Độ mật code.
    pub do_mat: String,
    /// Độ khẩn code.
    pub do_khan: String,
    /// Người ký.
    pub nguoi_ky: Option<String>,
    /// Chức vụ người ký.
    pub chuc_vu: Option<String>,
    /// Số trang.
    pub so_trang: Option<u32>,
    /// Hạn giải quyết (YYYY-MM-DD).
    pub han_giai_quyet: Option<String>,
    /// Ghi chú.
    pub ghi_chu: Option<String>,
    /// Receiving channel code.
    pub kenh: String,
    /// Duplicate-detection key.
    pub dup_key: Option<String>,
    /// Registration time, RFC 3339.
    pub created_at: String,
    /// Who registered it.
    pub created_by: String,
}

/// A file attached to a document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRow {
    /// File id.
    pub id: String,
    /// Owning document.
    pub document_id: String,
    /// Original file name.
    pub name: String,
    /// MIME type when known.
    pub content_type: Option<String>,
    /// Encrypted blob id.
    pub blob_id: String,
    /// Plaintext size.
    pub size: u64,
    /// Plaintext SHA-256.
    pub sha256: String,
    /// When attached.
    pub created_at: String,
}

/// Text extracted from one stored file, or why there is none (derived state, kept encrypted in
/// the database so OCR'd text can be shown beside the scan).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileText {
    /// File id.
    pub file_id: String,
    /// How the text was obtained: `office`, `pdf-text`, `ocr`, `pdf-text+ocr`, `legacy`, `none`.
    pub method: String,
    /// `ok`, `failed`, `timeout`, `too-large` or `unsupported`.
    pub status: String,
    /// Why extraction failed (Vietnamese, English in parentheses).
    pub error: Option<String>,
    /// The text (empty when it failed).
    pub text: String,
    /// Pages seen, when the format has pages.
    pub pages: Option<u32>,
    /// Pages that went through OCR.
    pub ocr_pages: Option<u32>,
    /// Time spent extracting, in milliseconds.
    pub elapsed_ms: u64,
    /// When extracted (RFC 3339).
    pub created_at: String,
}

/// An open store.
pub struct Store {
    dir: PathBuf,
    conn: Connection,
    blobs: BlobStore,
    key: DataKey,
    clock: fn() -> OffsetDateTime,
}

fn system_now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(VN_OFFSET)
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("times in range format")
}

/// SQLCipher's libtomcrypt provider tears its random generator down when the last keyed
/// connection of the process closes and rebuilds it when the next one is keyed; a connection
/// keyed on another thread at that moment can fail its `PRAGMA key` (seen when many stores
/// open and close at once, as in parallel tests or a desktop with a background indexer). One
/// keyed in-memory connection held for the life of the process keeps the generator up.
fn keep_cipher_provider_alive() {
    static KEEP: std::sync::OnceLock<std::sync::Mutex<Option<Connection>>> =
        std::sync::OnceLock::new();
    KEEP.get_or_init(|| {
        let conn = Connection::open_in_memory().ok().and_then(|c| {
            let mut k = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
            let keyed = c
                .execute_batch(&format!(
                    "PRAGMA cipher_log_level = NONE; PRAGMA key = \"x'{}'\"; \
                     CREATE TABLE keepalive(x);",
                    hex::encode(k)
                ))
                .is_ok();
            keyed.then_some(c)
        });
        std::sync::Mutex::new(conn)
    });
}

fn open_db(path: &Path, key: Option<&DataKey>, create: bool) -> Result<Connection, StoreError> {
    // A keying failure is retried on a fresh connection: it is never a wrong key (that shows
    // later, when the first page is read) but a transient failure of the cipher provider.
    let mut tries: u64 = 0;
    loop {
        match open_db_once(path, key, create) {
            Err(StoreError::Sql(e))
                if tries < 3 && key.is_some() && e.to_string().contains("PRAGMA key") =>
            {
                tries += 1;
                tracing::warn!("SQLCipher keying failed ({e}); retrying");
                std::thread::sleep(std::time::Duration::from_millis(20 * tries));
            }
            r => return r,
        }
    }
}

fn open_db_once(
    path: &Path,
    key: Option<&DataKey>,
    create: bool,
) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        if !create {
            StoreError::CorruptDatabase(format!("{}: {e}", path.display()))
        } else {
            StoreError::Sql(e)
        }
    })?;
    if let Some(key) = key {
        keep_cipher_provider_alive();
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        let k = key.derive(labels::SQLCIPHER);
        // Raw-key form: no second KDF inside SQLCipher (the data key is already random).
        let mut stmt = String::with_capacity(80);
        stmt.push_str("PRAGMA key = \"x'");
        stmt.push_str(&hex::encode(k.as_ref()));
        stmt.push_str("'\";");
        let keyed = conn.execute_batch(&stmt);
        zeroize::Zeroize::zeroize(&mut stmt);
        keyed?;
        let v: String = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .unwrap_or_default();
        if v.is_empty() {
            return Err(StoreError::Crypto(
                "SQLCipher is not linked; refusing to store plaintext".into(),
            ));
        }
    }
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| StoreError::CorruptDatabase(e.to_string()))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;",
    )
    .map_err(|e| StoreError::CorruptDatabase(e.to_string()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.len() as i64;
    if v > latest {
        return Err(StoreError::TooNew {
            found: v,
            supported: latest,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl Store {
    /// Creates a new store in `dir` (created if missing), protected by `pass`.
    pub fn init(
        dir: &Path,
        pass: &Passphrase,
        agency: &Agency,
        params: KdfParams,
    ) -> Result<Store, StoreError> {
        Self::init_inner(dir, Some(pass), agency, params)
    }

    fn init_inner(
        dir: &Path,
        pass: Option<&Passphrase>,
        agency: &Agency,
        params: KdfParams,
    ) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        if dir.join(KeyFile::NAME).exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        // A database without a key file is the remnant of an interrupted init: its key was
        // never saved, so it can never be opened. Remove it and start again.
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let p = dir.join(format!("{DB_NAME}{suffix}"));
            if p.exists() {
                fs::remove_file(&p).map_err(|e| StoreError::io(&p, e))?;
            }
        }
        let key = DataKey::generate();
        let store_id = random_id();
        let mut conn = open_db(&dir.join(DB_NAME), pass.map(|_| &key), true)?;
        migrate(&mut conn)?;
        let blobs = BlobStore::open(&dir.join(BLOB_DIR), key.derive(labels::BLOB))?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            conn,
            blobs,
            key,
            clock: system_now,
        };
        store.write("system", |tx| {
            tx.tx.execute(
                "INSERT INTO agency (id, name, code, created_at) VALUES (1, ?1, ?2, ?3)",
                params![agency.name, agency.code, rfc3339(tx.now)],
            )?;
            tx.audit(
                "init",
                "agency",
                serde_json::json!({ "store_id": store_id, "agency_code": agency.code }),
            )
        })?;
        if let Some(pass) = pass {
            KeyFile::wrap(&store_id, &store.key, pass, params)?.save(dir)?;
        }
        Ok(store)
    }

    /// Opens an existing store; the provider unwraps the data key.
    pub fn open(dir: &Path, provider: &dyn KeyProvider) -> Result<Store, StoreError> {
        let kf = KeyFile::load(dir)?;
        let key = provider.unlock(&kf)?;
        let db = dir.join(DB_NAME);
        if !db.exists() {
            return Err(StoreError::CorruptDatabase(format!(
                "{} không tồn tại (missing)",
                db.display()
            )));
        }
        let mut conn = open_db(&db, Some(&key), false)?;
        migrate(&mut conn)?;
        let blobs = BlobStore::open(&dir.join(BLOB_DIR), key.derive(labels::BLOB))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            conn,
            blobs,
            key,
            clock: system_now,
        })
    }

    /// Benchmark baseline only: the same schema and code path on a plain, unencrypted SQLite
    /// file. Never used by the product.
    #[doc(hidden)]
    pub fn init_unencrypted_baseline(dir: &Path, agency: &Agency) -> Result<Store, StoreError> {
        Self::init_inner(dir, None, agency, KdfParams::default())
    }

    /// Changes the passphrase: only the wrapped data key is rewritten (atomically).
    pub fn change_passphrase(
        dir: &Path,
        old: &Passphrase,
        new: &Passphrase,
        params: KdfParams,
    ) -> Result<(), StoreError> {
        let kf = KeyFile::load(dir)?;
        let key = old.unlock(&kf)?;
        KeyFile::wrap(&kf.store_id, &key, new, params)?.save(dir)
    }

    /// Replaces the clock (tests of year ends and arrival times).
    pub fn set_clock(&mut self, clock: fn() -> OffsetDateTime) {
        self.clock = clock;
    }

    /// Current time as the store sees it (+07:00).
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)().to_offset(VN_OFFSET)
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The encrypted blob folder.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// A derived sub-key (for the search index and other encrypted companions).
    pub fn derive_key(&self, label: &str) -> zeroize::Zeroizing<[u8; 32]> {
        self.key.derive(label)
    }

    /// The owning agency.
    pub fn agency(&self) -> Result<Agency, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT name, code FROM agency WHERE id = 1", [], |r| {
                Ok(Agency {
                    name: r.get(0)?,
                    code: r.get(1)?,
                })
            })?)
    }

    /// Runs `f` in one serialisable (IMMEDIATE) transaction: all of it commits, or none.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        actor: &str,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut t = Tx {
            tx,
            actor: actor.to_string(),
            now,
            head: None,
        };
        let out = f(&mut t)?;
        t.tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Rows of the incoming registers, by register then số đến.
    pub fn list_incoming(&self, year: Option<i32>) -> Result<Vec<IncomingRow>, StoreError> {
        let mut sql = format!("SELECT {INCOMING_COLS} FROM incoming");
        if year.is_some() {
            sql.push_str(" WHERE year = ?1");
        }
        sql.push_str(" ORDER BY year, register, so_den");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = match year {
            Some(y) => stmt.query_map([y], incoming_from_row)?,
            None => stmt.query_map([], incoming_from_row)?,
        };
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One incoming row by id.
    pub fn get_incoming(&self, id: &str) -> Result<IncomingRow, StoreError> {
        get_incoming_conn(&self.conn, id)
    }

    /// Register rows not yet in the search index, oldest first (at most `limit`).
    pub fn unindexed(&self, limit: usize) -> Result<Vec<IncomingRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {INCOMING_COLS} FROM incoming i
             WHERE NOT EXISTS (SELECT 1 FROM search_indexed s WHERE s.id = i.id)
             ORDER BY created_at, id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], incoming_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many register rows are not yet in the search index.
    pub fn unindexed_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM incoming i
             WHERE NOT EXISTS (SELECT 1 FROM search_indexed s WHERE s.id = i.id)",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Records that these rows are now in the search index (derived state, not audited).
    pub fn mark_indexed(&mut self, ids: &[String]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st =
                tx.prepare_cached("INSERT OR IGNORE INTO search_indexed (id) VALUES (?1)")?;
            for id in ids {
                st.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets what was indexed (before a rebuild of the index).
    pub fn clear_indexed(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM search_indexed", [])?;
        Ok(())
    }

    /// Stores (or replaces) the extracted text of a file.
    pub fn put_file_text(&mut self, t: &FileText) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO file_text
               (file_id, method, status, error, text, pages, ocr_pages, elapsed_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                t.file_id,
                t.method,
                t.status,
                t.error,
                t.text,
                t.pages,
                t.ocr_pages,
                t.elapsed_ms as i64,
                t.created_at,
            ],
        )?;
        Ok(())
    }

    /// The extracted text of a file, if extraction has run for it.
    pub fn file_text(&self, file_id: &str) -> Result<Option<FileText>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT file_id, method, status, error, text, pages, ocr_pages, elapsed_ms, created_at
             FROM file_text WHERE file_id = ?1",
        )?;
        let mut rows = stmt.query_map([file_id], |r| {
            Ok(FileText {
                file_id: r.get(0)?,
                method: r.get(1)?,
                status: r.get(2)?,
                error: r.get(3)?,
                text: r.get(4)?,
                pages: r.get(5)?,
                ocr_pages: r.get(6)?,
                elapsed_ms: r.get::<_, i64>(7)? as u64,
                created_at: r.get(8)?,
            })
        })?;
        Ok(rows.next().transpose()?)
    }

    /// Forgets every extracted text (before `reindex` extracts again).
    pub fn clear_file_texts(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM file_text", [])?;
        Ok(())
    }

    /// Files attached to a document, in the order they were attached (files attached in one
    /// transaction share a time: the insertion order decides, so `--file N` means the N-th
    /// file as the user gave them).
    pub fn files_of(&self, document_id: &str) -> Result<Vec<FileRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, document_id, name, content_type, blob_id, size, sha256, created_at
             FROM files WHERE document_id = ?1 ORDER BY created_at, rowid",
        )?;
        let rows = stmt.query_map([document_id], |r| {
            Ok(FileRow {
                id: r.get(0)?,
                document_id: r.get(1)?,
                name: r.get(2)?,
                content_type: r.get(3)?,
                blob_id: r.get(4)?,
                size: r.get::<_, i64>(5)? as u64,
                sha256: r.get(6)?,
                created_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Checks the audit hash chain and that every register row matches its audited hash.
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        audit::verify(&self.conn)
    }

    /// Deletes blob files that no committed row references (left by a crash between the blob
    /// write and the metadata commit) and stale temporary files, if older than `min_age` (so a
    /// write in progress in another process is never touched). Returns how many went.
    pub fn collect_garbage(&self, min_age: std::time::Duration) -> Result<usize, StoreError> {
        let mut n = self.blobs.clean_tmp(min_age);
        let mut stmt = self
            .conn
            .prepare("SELECT 1 FROM blob_refs WHERE blob_id = ?1")?;
        for id in self.blobs.list()? {
            if self.blobs.age(&id)? >= min_age && !stmt.exists([&id])? {
                self.blobs.remove(&id)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Checks SQLCipher's own page HMACs over the whole file; returns the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Raw connection, for tests that play the attacker and for benchmarks.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
    }
}

pub(crate) fn get_incoming_conn(conn: &Connection, id: &str) -> Result<IncomingRow, StoreError> {
    conn.query_row(
        &format!("SELECT {INCOMING_COLS} FROM incoming WHERE id = ?1"),
        [id],
        incoming_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(id.to_string()))
}

const INCOMING_COLS: &str = "id, register, year, so_den, ngay_den, tac_gia, tac_gia_ma, \
    so_ky_hieu, khong_so, ngay_van_ban, loai, trich_yeu, do_mat, do_khan, nguoi_ky, chuc_vu, \
    so_trang, han_giai_quyet, ghi_chu, kenh, dup_key, created_at, created_by";

fn incoming_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncomingRow> {
    Ok(IncomingRow {
        id: r.get(0)?,
        register: r.get(1)?,
        year: r.get(2)?,
        so_den: r.get::<_, i64>(3)? as u64,
        ngay_den: r.get(4)?,
        tac_gia: r.get(5)?,
        tac_gia_ma: r.get(6)?,
        so_ky_hieu: r.get(7)?,
        khong_so: r.get(8)?,
        ngay_van_ban: r.get(9)?,
        loai: r.get(10)?,
        trich_yeu: r.get(11)?,
        do_mat: r.get(12)?,
        do_khan: r.get(13)?,
        nguoi_ky: r.get(14)?,
        chuc_vu: r.get(15)?,
        so_trang: r.get(16)?,
        han_giai_quyet: r.get(17)?,
        ghi_chu: r.get(18)?,
        kenh: r.get(19)?,
        dup_key: r.get(20)?,
        created_at: r.get(21)?,
        created_by: r.get(22)?,
    })
}

/// A write transaction. Every change made through it is audited in the same transaction.
pub struct Tx<'c> {
    pub(crate) tx: rusqlite::Transaction<'c>,
    actor: String,
    /// The transaction's clock reading (+07:00).
    pub now: OffsetDateTime,
    head: Option<(i64, String)>,
}

/// A possible duplicate found in the register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DuplicateHit {
    /// Existing document id.
    pub id: String,
    /// Its số đến.
    pub so_den: u64,
    /// Its register year.
    pub year: i32,
}

impl Tx<'_> {
    /// Who is acting.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Runs `f` inside a savepoint: if it fails, only its own changes are rolled back and the
    /// surrounding transaction goes on (one bad record of a bulk import).
    pub fn scoped<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        self.tx
            .execute_batch("SAVEPOINT vanthu_item")
            .map_err(StoreError::from)?;
        let head = self.head.clone();
        match f(self) {
            Ok(v) => {
                self.tx
                    .execute_batch("RELEASE vanthu_item")
                    .map_err(StoreError::from)?;
                Ok(v)
            }
            Err(e) => {
                self.tx
                    .execute_batch("ROLLBACK TO vanthu_item; RELEASE vanthu_item")
                    .map_err(StoreError::from)?;
                self.head = head;
                Err(e)
            }
        }
    }

    /// Allocates the next number of `register` in `year` (never reused, no gaps: the
    /// allocation commits or rolls back with the row that uses it).
    pub fn allocate(&mut self, register: &str, year: i32) -> Result<u64, StoreError> {
        let n: i64 = self.tx.query_row(
            "INSERT INTO series (register, year, last_number) VALUES (?1, ?2, 1)
             ON CONFLICT (register, year) DO UPDATE SET last_number = last_number + 1
             RETURNING last_number",
            params![register, year],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Registered documents with the same duplicate key (the caller puts whatever scopes a
    /// duplicate — issuer, number, notation, issue year — into the key).
    pub fn find_duplicates(&self, dup_key: &str) -> Result<Vec<DuplicateHit>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, so_den, year FROM incoming WHERE dup_key = ?1 ORDER BY year, so_den",
        )?;
        let rows = stmt.query_map(params![dup_key], |r| {
            Ok(DuplicateHit {
                id: r.get(0)?,
                so_den: r.get::<_, i64>(1)? as u64,
                year: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Amends a registered row's descriptive fields (an accepted update from the sender): the
    /// number in the register, its date, register and channel never change. The row hash is
    /// recomputed and audited with every changed field's old and new value, so the audit
    /// trail keeps each version; the search index is told to re-read the row. Returns the
    /// changes as (field, old, new); nothing is written when there are none.
    pub fn amend_incoming(
        &mut self,
        id: &str,
        reason: &str,
        change: impl FnOnce(&mut IncomingRow),
    ) -> Result<Vec<(String, serde_json::Value, serde_json::Value)>, StoreError> {
        let old = get_incoming_conn(&self.tx, id)?;
        let mut new = old.clone();
        change(&mut new);
        // what identifies the entry in the register is not the sender's to change
        new.id = old.id.clone();
        new.register = old.register.clone();
        new.year = old.year;
        new.so_den = old.so_den;
        new.ngay_den = old.ngay_den.clone();
        new.do_mat = old.do_mat.clone();
        new.kenh = old.kenh.clone();
        new.created_at = old.created_at.clone();
        new.created_by = old.created_by.clone();
        let (a, b) = (
            serde_json::to_value(&old).map_err(|e| StoreError::CorruptDatabase(e.to_string()))?,
            serde_json::to_value(&new).map_err(|e| StoreError::CorruptDatabase(e.to_string()))?,
        );
        let mut changes = Vec::new();
        if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
            for (k, v) in b {
                let before = a.get(k).cloned().unwrap_or(serde_json::Value::Null);
                if before != *v {
                    changes.push((k.clone(), before, v.clone()));
                }
            }
        }
        if changes.is_empty() {
            return Ok(changes);
        }
        let hash = audit::row_hash(&new);
        self.tx
            .prepare_cached(
                "UPDATE incoming SET tac_gia = ?2, tac_gia_ma = ?3, so_ky_hieu = ?4,
                 khong_so = ?5, ngay_van_ban = ?6, loai = ?7, trich_yeu = ?8, do_khan = ?9,
                 nguoi_ky = ?10, chuc_vu = ?11, so_trang = ?12, han_giai_quyet = ?13,
                 ghi_chu = ?14, dup_key = ?15, row_hash = ?16 WHERE id = ?1",
            )?
            .execute(params![
                new.id,
                new.tac_gia,
                new.tac_gia_ma,
                new.so_ky_hieu,
                new.khong_so,
                new.ngay_van_ban,
                new.loai,
                new.trich_yeu,
                new.do_khan,
                new.nguoi_ky,
                new.chuc_vu,
                new.so_trang,
                new.han_giai_quyet,
                new.ghi_chu,
                new.dup_key,
                hash,
            ])?;
        self.tx
            .prepare_cached("DELETE FROM search_indexed WHERE id = ?1")?
            .execute([id])?;
        let changed: serde_json::Map<String, serde_json::Value> = changes
            .iter()
            .map(|(k, a, b)| (k.clone(), serde_json::json!({"old": a, "new": b})))
            .collect();
        self.audit(
            "incoming.amend",
            id,
            serde_json::json!({"row_hash": hash, "reason": reason, "changes": changed}),
        )?;
        Ok(changes)
    }

    /// Inserts a register row and audits it with the row's hash.
    pub fn insert_incoming(&mut self, row: &IncomingRow) -> Result<(), StoreError> {
        let hash = audit::row_hash(row);
        self.tx
            .prepare_cached(
                "INSERT INTO incoming (id, register, year, so_den, ngay_den, tac_gia, tac_gia_ma,
                 so_ky_hieu, khong_so, ngay_van_ban, loai, trich_yeu, do_mat, do_khan, nguoi_ky,
                 chuc_vu, so_trang, han_giai_quyet, ghi_chu, kenh, dup_key, created_at,
                 created_by, row_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
            )?
            .execute(params![
                row.id,
                row.register,
                row.year,
                row.so_den as i64,
                row.ngay_den,
                row.tac_gia,
                row.tac_gia_ma,
                row.so_ky_hieu,
                row.khong_so,
                row.ngay_van_ban,
                row.loai,
                row.trich_yeu,
                row.do_mat,
                row.do_khan,
                row.nguoi_ky,
                row.chuc_vu,
                row.so_trang,
                row.han_giai_quyet,
                row.ghi_chu,
                row.kenh,
                row.dup_key,
                row.created_at,
                row.created_by,
                hash,
            ])?;
        self.audit(
            "incoming.register",
            &row.id,
            serde_json::json!({
                "register": row.register,
                "year": row.year,
                "so_den": row.so_den,
                "row_hash": hash,
            }),
        )
    }

    /// Records a file (already written as an encrypted blob) against a document.
    pub fn attach_file(
        &mut self,
        document_id: &str,
        name: &str,
        content_type: Option<&str>,
        blob: &BlobInfo,
    ) -> Result<FileRow, StoreError> {
        let row = FileRow {
            id: random_id(),
            document_id: document_id.to_string(),
            name: name.to_string(),
            content_type: content_type.map(str::to_string),
            blob_id: blob.id.clone(),
            size: blob.size,
            sha256: blob.sha256.clone(),
            created_at: rfc3339(self.now),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO files (id, document_id, name, content_type, blob_id, size, sha256,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.id,
                row.document_id,
                row.name,
                row.content_type,
                row.blob_id,
                row.size as i64,
                row.sha256,
                row.created_at
            ])?;
        self.audit(
            "file.attach",
            document_id,
            serde_json::json!({
                "file_id": row.id,
                "blob_id": row.blob_id,
                "size": row.size,
                "sha256": row.sha256,
            }),
        )?;
        Ok(row)
    }

    /// Appends an audit entry chained to the previous one.
    pub fn audit(
        &mut self,
        action: &str,
        entity: &str,
        data: serde_json::Value,
    ) -> Result<(), StoreError> {
        let (seq, prev) = match self.head.take() {
            Some(h) => h,
            None => self
                .tx
                .query_row(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
                .unwrap_or((0, audit::GENESIS.to_string())),
        };
        let entry = audit::Entry {
            seq: seq + 1,
            at: rfc3339(self.now),
            actor: self.actor.clone(),
            action: action.to_string(),
            entity: entity.to_string(),
            data: data.to_string(),
            prev_hash: prev,
        };
        let hash = entry.hash();
        self.tx
            .prepare_cached(
                "INSERT INTO audit (seq, at, actor, action, entity, data, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                entry.seq,
                entry.at,
                entry.actor,
                entry.action,
                entry.entity,
                entry.data,
                entry.prev_hash,
                hash
            ])?;
        self.head = Some((entry.seq, hash));
        Ok(())
    }
}
