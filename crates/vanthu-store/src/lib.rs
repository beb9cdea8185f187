//! vanthu's encrypted store.
//!
//! A data folder holds:
//!
//! | file | content |
//! |---|---|
//! | `vanthu.keys` | the data key, wrapped under an Argon2id key of the passphrase (no document data) |
//! | `vanthu.db` (+ `-wal`, `-shm`) | SQLCipher database: registers, series, file records, audit trail |
//! | `blobs/xx/<id>.vtb` | document files, XChaCha20-Poly1305 in 64 KiB chunks |
//! | `blobs/tmp/` | blobs being written (ciphertext too), renamed into place when complete |
//!
//! Invariants: no plaintext byte of a document, its metadata or its index reaches disk; every
//! write is atomic (one SQLite transaction, blobs synced and renamed before the row that points
//! at them commits); every change is audited in the same transaction.

pub mod audit;
pub mod blob;
pub mod error;
pub mod fsutil;
pub mod keys;
pub mod query;
pub mod store;

pub use audit::AuditReport;
pub use blob::{BlobInfo, BlobReader, BlobStore, BlobWriter};
pub use error::StoreError;
pub use keys::{DataKey, KdfParams, KeyFile, KeyProvider, Passphrase};
pub use store::{Agency, DuplicateHit, FileRow, FileText, IncomingRow, Store, Tx, VN_OFFSET};
