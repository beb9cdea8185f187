//! Use-case errors: Vietnamese first, English in parentheses; each maps to a CLI exit code.

use vanthu_core::ValidationErrors;
use vanthu_store::{DuplicateHit, StoreError};

/// Errors of the use-case layer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// One or more register fields are invalid.
    #[error("Dữ liệu chưa hợp lệ: {0} (invalid register fields)")]
    Invalid(ValidationErrors),
    /// A value could not be read at all.
    #[error("{0}")]
    BadInput(String),
    /// Same number, notation and issuer already registered this year.
    #[error("Văn bản có thể đã được vào sổ: trùng số, ký hiệu và cơ quan ban hành với số đến {} năm {}; nếu vẫn vào sổ, hãy ghi lý do (possible duplicate)", vanthu_core::notation::format_number(.0[0].so_den), .0[0].year)]
    Duplicate(Vec<DuplicateHit>),
    /// A file to attach cannot be read.
    #[error("Không đọc được tệp {path}: {source} (cannot read file)")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A PDF could not be signed (its message says why, Vietnamese first).
    #[error(transparent)]
    Pdf(#[from] vanthu_pdf::PdfError),
    /// An exported file did not match the hash recorded at registration.
    #[error("Tệp {0} giải mã ra không khớp mã băm đã lưu; không xuất (file does not match its recorded hash)")]
    HashMismatch(String),
}

impl AppError {
    /// Process exit code for the CLI: 3 invalid input (a PDF that cannot be signed included),
    /// 4 duplicate, 5 wrong passphrase (or signing PIN), 6 missing or damaged store, 7 disk
    /// full, 130 signing cancelled, 1 anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Invalid(_) | AppError::BadInput(_) | AppError::File { .. } => 3,
            AppError::Duplicate(_) => 4,
            AppError::Store(StoreError::WrongPassphrase) => 5,
            AppError::Store(e) if e.is_disk_full() => 7,
            AppError::Store(
                StoreError::NoStore(_)
                | StoreError::CorruptDatabase(_)
                | StoreError::CorruptKeyFile(_)
                | StoreError::TooNew { .. }
                | StoreError::BlobCorrupt(_)
                | StoreError::BlobMissing(_),
            ) => 6,
            AppError::HashMismatch(_) => 6,
            // As `vanthu pdf sign`: a wrong PIN or key password 5, anything else bad input.
            AppError::Pdf(vanthu_pdf::PdfError::WrongPin) => 5,
            AppError::Pdf(vanthu_pdf::PdfError::Cancelled) => 130,
            AppError::Pdf(_) => 3,
            _ => 1,
        }
    }

    /// A stable ASCII code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Store(StoreError::WrongPassphrase) => "wrong_passphrase",
            AppError::Store(StoreError::NoStore(_)) => "no_store",
            AppError::Store(StoreError::NotFound(_)) => "not_found",
            AppError::Store(e) if e.is_disk_full() => "disk_full",
            AppError::Store(_) => "store",
            AppError::Invalid(_) => "invalid",
            AppError::BadInput(_) => "bad_input",
            AppError::Duplicate(_) => "duplicate",
            AppError::File { .. } => "file",
            AppError::HashMismatch(_) => "hash_mismatch",
            AppError::Pdf(_) => "pdf",
        }
    }
}
