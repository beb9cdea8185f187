//! Errors, Vietnamese first with the English in parentheses.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("Tệp không phải PDF (not a PDF file)")]
    NotPdf,
    /// Signing or extending an encrypted file (its signatures can be validated).
    #[error("Tệp PDF đã mã hóa: vanthu chưa ký được tệp mã hóa (encrypted PDF: signing it is not supported)")]
    Encrypted,
    /// The file needs a password to open (a user password), and none or a wrong one was given.
    #[error("Tệp PDF được bảo vệ bằng mật khẩu mở tệp: cần đúng mật khẩu (password-protected PDF: the right password is needed)")]
    Protected,
    #[error("Cấu trúc tệp bị hỏng: {0} (damaged PDF structure)")]
    Damaged(String),
    #[error("Lỗi cú pháp PDF tại byte {offset}: {what} (PDF syntax error)")]
    Syntax { offset: usize, what: String },
    #[error("Chưa hỗ trợ: {0} (not supported)")]
    Unsupported(String),
    #[error("Không đọc/ghi được tệp {path}: {source} (file error)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Sai mã PIN hoặc mật khẩu của khóa (wrong PIN or key password)")]
    WrongPin,
    #[error("Khóa bị lỗi hoặc không dùng được: {0} (unusable key)")]
    Key(String),
    #[error("Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực: {0} (signer certificate expired or not yet valid)")]
    CertExpired(String),
    /// B-LT/B-LTA signing: the revocation data fetched for the DSS shows the signer's
    /// certificate (or a CA above it) revoked or on hold; nothing is written.
    #[error("Chứng thư số không còn hiệu lực, không ký: {0} (certificate revoked: not signed)")]
    Revoked(String),
    #[error("Tệp chưa có chữ ký số nào (the file holds no signature)")]
    NoSignature,
    #[error("Ký số thất bại: {0} (signing failed)")]
    Sign(String),
    #[error("Dịch vụ cấp dấu thời gian lỗi: {0} (timestamp authority error)")]
    Tsa(String),
    #[error("Trường chữ ký không hợp lệ: {0} (bad signature field)")]
    Field(String),
    /// An option, a resume file or the document's state that rules out what was asked.
    #[error("Không ký được như yêu cầu: {0} (cannot sign as asked)")]
    Request(String),
    #[error("Ảnh không dùng được: {0} (unusable image)")]
    Image(String),
    #[error("Người ký đã từ chối trên điện thoại (the signer rejected the request)")]
    Rejected,
    #[error("Hết thời gian chờ xác nhận ký (approval timed out)")]
    Expired,
    #[error("Đã hủy yêu cầu ký (signing cancelled)")]
    Cancelled,
    #[error("Dịch vụ ký từ xa không sẵn sàng: {0} (remote signing service unavailable)")]
    Unavailable(String),
    /// An unsigned input whose cross-reference is readable but refused by strict readers (see
    /// `Doc::strict_objection`): `sign_file` rebuilds it before signing,
    /// so that strict readers accept the result; not seen by callers unless that fails.
    #[error("Bảng tham chiếu chéo không nhất quán: {0} (inconsistent cross-reference table)")]
    Inconsistent(String),
}

impl PdfError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PdfError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The cause named when a folder is given where a file is meant.
pub(crate) fn is_a_folder() -> std::io::Error {
    std::io::Error::other("là thư mục, không phải tệp (a folder, not a file)")
}
