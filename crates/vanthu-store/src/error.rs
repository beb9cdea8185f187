//! Store errors. Every message is Vietnamese first, English in parentheses.

use std::path::{Path, PathBuf};

/// Errors of the encrypted store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No store in the folder.
    #[error("Chưa có kho dữ liệu tại {0} — hãy chạy `vanthu init` (no store in this folder)")]
    NoStore(PathBuf),
    /// `init` on a folder that already has a store.
    #[error("Thư mục {0} đã có kho dữ liệu; không ghi đè (a store already exists here)")]
    AlreadyExists(PathBuf),
    /// The passphrase does not unwrap the data key.
    #[error("Sai mật khẩu kho dữ liệu (wrong passphrase)")]
    WrongPassphrase,
    /// Key file unreadable.
    #[error("Tệp khóa vanthu.keys bị hỏng: {0} (key file is corrupt)")]
    CorruptKeyFile(String),
    /// The database does not open with the unwrapped key or fails its integrity check.
    #[error("Cơ sở dữ liệu bị hỏng hoặc không khớp khóa: {0} (database corrupt or not matching the key)")]
    CorruptDatabase(String),
    /// The database was written by a newer vanthu.
    #[error("Kho dữ liệu thuộc phiên bản mới hơn ({found} > {supported}); hãy cập nhật vanthu (store is from a newer version)")]
    TooNew {
        /// Schema version in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A referenced blob file is missing.
    #[error("Thiếu tệp mã hóa {0} trong kho (encrypted file missing)")]
    BlobMissing(String),
    /// A blob failed authentication.
    #[error("Tệp mã hóa bị hỏng hoặc bị sửa đổi: {0} (encrypted file damaged or tampered)")]
    BlobCorrupt(String),
    /// Record not found.
    #[error("Không tìm thấy văn bản {0} (document not found)")]
    NotFound(String),
    /// I/O error with the path involved.
    #[error("Lỗi đọc/ghi {path}: {source} (I/O error)")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite error.
    #[error("Lỗi cơ sở dữ liệu: {0} (database error)")]
    Sql(#[from] rusqlite::Error),
    /// Cryptographic failure.
    #[error("Lỗi mã hóa: {0} (cryptographic error)")]
    Crypto(String),
}

impl StoreError {
    /// An I/O error on `path`. A full disk gets its own wording.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the error says the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
                    || source.raw_os_error() == Some(28)
            }
            StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }
}
