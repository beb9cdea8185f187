//! Errors of the search crate. Messages are Vietnamese first, English in parentheses.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while opening, writing or querying the search index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The index could not be decrypted: wrong key or damaged file.
    #[error("Không giải mã được chỉ mục tìm kiếm: sai khóa hoặc tệp bị hỏng `{file}` (cannot decrypt search index: wrong key or damaged file)")]
    Decrypt {
        /// File (relative to the index folder) that failed authentication.
        file: PathBuf,
    },
    /// A document to index has an unknown secrecy code.
    #[error("Độ mật không hợp lệ `{0}`; dùng thuong, mat, toi-mat hoặc tuyet-mat (invalid secrecy level)")]
    InvalidSecrecy(String),
    /// A document to index has an empty identifier.
    #[error("Mã văn bản rỗng (empty document id)")]
    EmptyId,
    /// Input/output error on the index folder.
    #[error("Lỗi đọc/ghi thư mục chỉ mục `{path}`: {source} (index folder I/O error)")]
    Io {
        /// Folder or file concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Error reported by the tantivy engine (damaged index, busy lock, …).
    #[error("Lỗi chỉ mục tìm kiếm: {0} (search engine error)")]
    Engine(#[from] tantivy::TantivyError),
}

impl Error {
    /// Walks a tantivy error and returns `Error::Decrypt` when the root cause is an
    /// authentication failure of [`crate::EncryptedDirectory`].
    pub(crate) fn from_engine(e: tantivy::TantivyError) -> Self {
        let text = e.to_string();
        if let Some(pos) = text.find(crate::crypto_dir::DECRYPT_MARK) {
            let rest = &text[pos + crate::crypto_dir::DECRYPT_MARK.len()..];
            let file: String = rest
                .trim_start_matches([' ', ':'])
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ')' && *c != '"')
                .collect();
            return Error::Decrypt {
                file: PathBuf::from(file),
            };
        }
        Error::Engine(e)
    }
}
