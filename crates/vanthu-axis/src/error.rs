//! Axis errors: Vietnamese first, English in parentheses.

/// What went wrong talking to an axis.
#[derive(Debug, thiserror::Error)]
pub enum AxisError {
    /// No answer, a broken connection or a timeout: the request may or may not have been
    /// applied (retry; for a send, with identical bytes).
    #[error("Không kết nối được trục liên thông: {0} (transport error, will retry)")]
    Transport(String),
    /// HTTP 5xx/429 or an answer that is not the protocol's JSON (retryable).
    #[error("Trục liên thông trả lời không hợp lệ: {0} (bad or unavailable answer, will retry)")]
    BadAnswer(String),
    /// The axis answered `status: FAIL` (final, except for acknowledgements).
    #[error("Trục liên thông từ chối: {desc} (mã {code}) (axis refused)")]
    Fail {
        /// `ErrorCode` as sent (opaque).
        code: String,
        /// `ErrorDesc` as sent.
        desc: String,
    },
    /// Local configuration is missing or wrong.
    #[error("Cấu hình trục liên thông chưa đúng: {0} (axis configuration)")]
    Config(String),
    /// Local I/O (server storage, spooling).
    #[error("Lỗi đọc/ghi: {0} (I/O error)")]
    Io(#[from] std::io::Error),
}

impl AxisError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AxisError::Transport(_) | AxisError::BadAnswer(_))
    }
}
