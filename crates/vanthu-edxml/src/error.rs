//! Error and diagnostic types.
//!
//! Fatal problems are returned as [`EdxmlError`]; everything the reader tolerates is
//! recorded as a [`Diagnostic`] on the parsed [`crate::Message`].

use serde::Serialize;
use std::fmt;

/// Where in the input a problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column (in bytes), 0 when unknown.
    pub column: u32,
    /// Byte offset from the start of the input (including skipped leading bytes).
    pub offset: u64,
    /// Element path such as `/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId`.
    pub path: String,
}

impl Location {
    /// A location that only carries an element path.
    pub fn path(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            ..Default::default()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        if self.line > 0 {
            write!(
                f,
                "{path} (dòng/line {}, cột/col {})",
                self.line, self.column
            )
        } else {
            write!(f, "{path}")
        }
    }
}

/// Stable codes of fatal reader errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    /// `EDXML_NOT_WELL_FORMED`: the XML is not well-formed (or is truncated).
    #[serde(rename = "EDXML_NOT_WELL_FORMED")]
    NotWellFormed,
    /// `EDXML_DTD_FORBIDDEN`: a `<!DOCTYPE` was found.
    #[serde(rename = "EDXML_DTD_FORBIDDEN")]
    DtdForbidden,
    /// `EDXML_ENCODING`: not UTF-8.
    #[serde(rename = "EDXML_ENCODING")]
    Encoding,
    /// `EDXML_NOT_EDXML`: wrong root element or namespace.
    #[serde(rename = "EDXML_NOT_EDXML")]
    NotEdxml,
    /// `EDXML_STRUCTURE`: no envelope, header or `MessageHeader`.
    #[serde(rename = "EDXML_STRUCTURE")]
    Structure,
    /// `EDXML_UNKNOWN_KIND`: neither an edoc nor a status message.
    #[serde(rename = "EDXML_UNKNOWN_KIND")]
    UnknownKind,
    /// `EDXML_LIMIT`: a configured limit was exceeded.
    #[serde(rename = "EDXML_LIMIT")]
    Limit,
    /// `EDXML_IO`: reading the input failed.
    #[serde(rename = "EDXML_IO")]
    Io,
    /// `EDXML_SINK`: the attachment sink failed.
    #[serde(rename = "EDXML_SINK")]
    Sink,
}

impl ErrorCode {
    /// The stable string code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotWellFormed => "EDXML_NOT_WELL_FORMED",
            ErrorCode::DtdForbidden => "EDXML_DTD_FORBIDDEN",
            ErrorCode::Encoding => "EDXML_ENCODING",
            ErrorCode::NotEdxml => "EDXML_NOT_EDXML",
            ErrorCode::Structure => "EDXML_STRUCTURE",
            ErrorCode::UnknownKind => "EDXML_UNKNOWN_KIND",
            ErrorCode::Limit => "EDXML_LIMIT",
            ErrorCode::Io => "EDXML_IO",
            ErrorCode::Sink => "EDXML_SINK",
        }
    }

    /// Vietnamese message for the văn thư.
    pub fn message_vi(self) -> &'static str {
        match self {
            ErrorCode::NotWellFormed => "Gói tin XML bị lỗi cú pháp hoặc không đầy đủ",
            ErrorCode::DtdForbidden => "Gói tin chứa khai báo DOCTYPE (không được phép)",
            ErrorCode::Encoding => "Gói tin không dùng bảng mã UTF-8",
            ErrorCode::NotEdxml => {
                "Tệp không phải gói tin edXML (sai phần tử gốc hoặc không gian tên)"
            }
            ErrorCode::Structure => "Gói tin edXML thiếu phần bắt buộc",
            ErrorCode::UnknownKind => "Không xác định được loại gói tin (văn bản hay trạng thái)",
            ErrorCode::Limit => "Gói tin vượt quá giới hạn cho phép",
            ErrorCode::Io => "Lỗi đọc dữ liệu",
            ErrorCode::Sink => "Lỗi lưu tệp đính kèm",
        }
    }

    /// English message for logs.
    pub fn message_en(self) -> &'static str {
        match self {
            ErrorCode::NotWellFormed => "XML is not well-formed or is truncated",
            ErrorCode::DtdForbidden => "DOCTYPE declarations are forbidden",
            ErrorCode::Encoding => "package is not UTF-8",
            ErrorCode::NotEdxml => "not an edXML package (root element or namespace)",
            ErrorCode::Structure => "edXML structure incomplete",
            ErrorCode::UnknownKind => "message kind unknown (neither edoc nor status)",
            ErrorCode::Limit => "limit exceeded",
            ErrorCode::Io => "I/O error while reading",
            ErrorCode::Sink => "attachment sink failed",
        }
    }
}

/// A fatal reader error: the package cannot be read at all.
///
/// `Display` gives the Vietnamese message first, then the English one, then the
/// location (element path, line, column) and a short detail.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[error("{} / {}: {} — {}", code.message_vi(), code.message_en(), location, detail)]
pub struct EdxmlError {
    /// Stable error code.
    pub code: ErrorCode,
    /// Where the problem was found.
    pub location: Location,
    /// Short English detail (≤ 200 chars, never attachment data).
    pub detail: String,
}

impl EdxmlError {
    /// Builds an error.
    pub fn new(code: ErrorCode, location: Location, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        truncate(&mut detail, 200);
        EdxmlError {
            code,
            location,
            detail,
        }
    }
}

/// Severity of a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Unusual but harmless.
    Warning,
    /// A field or attachment is unusable; the rest of the package is fine.
    Error,
}

/// A non-fatal finding of the tolerant reader (unusual input, bad field, bad attachment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code such as `UNKNOWN_ELEMENT`, `FIELD_FORMAT`, `ATTACHMENT_BAD_BASE64`.
    pub code: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Vietnamese message.
    pub message_vi: String,
    /// English message.
    pub message_en: String,
    /// Where.
    pub location: Location,
    /// Short detail (≤ 80 chars, never attachment data).
    pub detail: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} / {}: {}",
            self.code, self.message_vi, self.message_en, self.location
        )?;
        if !self.detail.is_empty() {
            write!(f, " — {}", self.detail)?;
        }
        Ok(())
    }
}

pub(crate) fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
}

/// Catalogue of diagnostic codes with their messages.
pub(crate) fn diag(
    code: &'static str,
    severity: Severity,
    location: Location,
    detail: impl Into<String>,
) -> Diagnostic {
    let (vi, en) = match code {
        "LEADING_BYTES_SKIPPED" => (
            "Đã bỏ qua các byte thừa trước khai báo XML",
            "stray bytes before the XML declaration were skipped",
        ),
        "UNKNOWN_ELEMENT" => ("Phần tử không xác định (bỏ qua)", "unknown element ignored"),
        "FIELD_MISSING" => ("Thiếu trường bắt buộc", "required field missing"),
        "FIELD_FORMAT" => ("Trường sai định dạng", "field has a bad format"),
        "FIELD_DATE_ISO" => (
            "Ngày theo định dạng ISO-8601 (được chấp nhận)",
            "ISO-8601 date accepted",
        ),
        "ORGAN_ID_NONCANONICAL" => (
            "Mã định danh đơn vị không theo chuẩn QĐ 20/2020",
            "organ id is not in canonical form",
        ),
        "DOCUMENT_ID_DERIVED" => (
            "Thiếu mã văn bản (DocumentId), đã tự suy ra",
            "DocumentId missing, derived",
        ),
        "PRIORITY_DEPRECATED" => (
            "Độ khẩn 4 (Hỏa tốc hẹn giờ) đã bãi bỏ, hiển thị là Hỏa tốc",
            "priority 4 is deprecated, shown as 3",
        ),
        "DUPLICATE_TO" => ("Đơn vị nhận bị lặp", "duplicate To"),
        "ATTACHMENT_MISSING" => (
            "Tệp đính kèm khai báo trong danh mục nhưng không có dữ liệu",
            "manifest reference without attachment",
        ),
        "ATTACHMENT_ORPHAN" => (
            "Tệp đính kèm không có trong danh mục",
            "attachment not listed in the manifest",
        ),
        "ATTACHMENT_BAD_BASE64" => (
            "Dữ liệu tệp đính kèm không phải base64 hợp lệ",
            "attachment is not valid base64",
        ),
        "ATTACHMENT_TYPE_MISMATCH" => (
            "Tệp nén bên trong có phần mở rộng khác tên tệp đính kèm",
            "wrapped entry extension differs from the attachment name",
        ),
        "ATTACHMENT_ZIP_WRAPPED" => (
            "Tệp đính kèm được nén ZIP một tệp, đã giải nén",
            "single-entry ZIP attachment unwrapped",
        ),
        "ATTACHMENT_ZIP_ERROR" => (
            "Không giải nén được tệp đính kèm ZIP",
            "could not unwrap ZIP attachment",
        ),
        "CONTENT_TYPE_MISMATCH" => (
            "Kiểu nội dung trong danh mục khác với tệp đính kèm",
            "manifest and attachment content types differ",
        ),
        "SIGNATURE_PLACEHOLDER" => (
            "Chữ ký số trong gói tin không được kiểm tra",
            "package signature not verified",
        ),
        _ => ("Cảnh báo", "warning"),
    };
    let mut detail = detail.into();
    truncate(&mut detail, 80);
    Diagnostic {
        code,
        severity,
        message_vi: vi.to_string(),
        message_en: en.to_string(),
        location,
        detail,
    }
}
