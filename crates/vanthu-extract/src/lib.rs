//! Text extraction from office documents for the search index.
//!
//! Supported: DOCX, ODT, XLSX, ODS (ZIP packages, detected by magic bytes and the entries they
//! hold), plain text (UTF-8, UTF-16 with BOM) and e-mail (`.eml`, `message/rfc822`).
//!
//! Everything read from the input is treated as hostile: every ZIP entry is read through
//! `Read::take(max_entry_bytes + 1)`, the XML reader never expands a DTD (a `<!DOCTYPE>` is
//! refused) nor any entity but the five predefined ones, nesting depth is bounded, and the
//! extracted text is capped at `max_text_chars`. No code path indexes or unwraps untrusted data.

mod eml;
mod xml;

use std::io::{Read, Seek, SeekFrom};

use unicode_normalization::UnicodeNormalization;

/// Bounds applied while extracting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum decompressed size of one ZIP entry, or of a whole plain-text / e-mail file.
    pub max_entry_bytes: u64,
    /// Maximum number of characters of extracted text; the rest is cut off (`truncated`).
    pub max_text_chars: usize,
    /// Maximum number of entries in a ZIP package.
    pub max_zip_entries: usize,
    /// Maximum XML element nesting depth.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 64 * 1024 * 1024,
            max_text_chars: 4 * 1024 * 1024,
            max_zip_entries: 10_000,
            max_depth: 256,
        }
    }
}

/// The detected document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Docx,
    Odt,
    Xlsx,
    Ods,
    PlainText,
    Eml,
}

impl Format {
    fn label(self) -> (&'static str, &'static str) {
        match self {
            Format::Docx => ("Word", "DOCX"),
            Format::Odt => ("văn bản ODT", "ODT"),
            Format::Xlsx => ("Excel", "XLSX"),
            Format::Ods => ("bảng tính ODS", "ODS"),
            Format::PlainText => ("văn bản thuần", "plain text"),
            Format::Eml => ("thư điện tử", "e-mail"),
        }
    }
}

/// Extracted text, NFC-normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    pub format: Format,
    /// The text was cut off at `Limits::max_text_chars`.
    pub truncated: bool,
}

/// Why extraction failed. Messages are Vietnamese first, then English.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("Định dạng tệp không được hỗ trợ: {0} (unsupported format)")]
    Unsupported(String),
    #[error("Tệp vượt quá giới hạn cho phép: {what} (too large)")]
    TooLarge { what: String },
    #[error("Tệp {} bị hỏng: {what} (corrupt {})", corrupt_label(.format).0, corrupt_label(.format).1)]
    Corrupt {
        format: Option<Format>,
        what: String,
    },
    #[error("Lỗi đọc tệp: {0} (I/O error)")]
    Io(#[from] std::io::Error),
}

fn corrupt_label(f: &Option<Format>) -> (&'static str, &'static str) {
    match f {
        Some(f) => f.label(),
        None => ("tài liệu", "document"),
    }
}

pub(crate) fn corrupt(format: Option<Format>, what: impl Into<String>) -> ExtractError {
    ExtractError::Corrupt {
        format,
        what: what.into(),
    }
}

pub(crate) fn too_large(what: impl Into<String>) -> ExtractError {
    ExtractError::TooLarge { what: what.into() }
}

/// Whether `name` / `content_type` names a format this crate extracts.
pub fn supports(name: &str, content_type: Option<&str>) -> bool {
    hint(name, content_type).is_some()
}

fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

fn hint(name: &str, content_type: Option<&str>) -> Option<Format> {
    if let Some(ct) = content_type {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let f = match ct.as_str() {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            | "application/vnd.ms-word.document.macroenabled.12" => Some(Format::Docx),
            "application/vnd.oasis.opendocument.text" => Some(Format::Odt),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.ms-excel.sheet.macroenabled.12" => Some(Format::Xlsx),
            "application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Ods),
            "message/rfc822" => Some(Format::Eml),
            "text/html" | "text/xml" => None,
            t if t.starts_with("text/") => Some(Format::PlainText),
            _ => None,
        };
        if f.is_some() {
            return f;
        }
    }
    match extension(name).as_str() {
        "docx" | "docm" | "dotx" => Some(Format::Docx),
        "odt" | "ott" => Some(Format::Odt),
        "xlsx" | "xlsm" | "xltx" => Some(Format::Xlsx),
        "ods" | "ots" => Some(Format::Ods),
        "eml" => Some(Format::Eml),
        "txt" | "text" | "csv" | "tsv" | "md" | "log" => Some(Format::PlainText),
        _ => None,
    }
}

/// Collects text up to `max` characters.
pub(crate) struct Sink {
    pub text: String,
    chars: usize,
    max: usize,
    pub truncated: bool,
}

impl Sink {
    pub fn new(max: usize) -> Self {
        Sink {
            text: String::new(),
            chars: 0,
            max,
            truncated: false,
        }
    }

    /// Appends `s`; returns `false` once the limit is reached.
    pub fn push_str(&mut self, s: &str) -> bool {
        if self.truncated {
            return false;
        }
        for c in s.chars() {
            if self.chars >= self.max {
                self.truncated = true;
                return false;
            }
            self.text.push(c);
            self.chars += 1;
        }
        true
    }

    pub fn push(&mut self, c: char) -> bool {
        let mut b = [0u8; 4];
        self.push_str(c.encode_utf8(&mut b))
    }

    pub fn full(&self) -> bool {
        self.truncated
    }

    /// Removes trailing characters in `set` while the text is longer than `floor` bytes.
    pub fn trim_back(&mut self, floor: usize, set: &[char]) {
        while self.text.len() > floor {
            match self.text.chars().next_back() {
                Some(c) if set.contains(&c) => {
                    self.text.pop();
                    self.chars = self.chars.saturating_sub(1);
                }
                _ => break,
            }
        }
    }

    pub fn ends_with(&self, c: char) -> bool {
        self.text.ends_with(c)
    }
}

/// Extracts the text of a document.
pub fn extract_text(
    name: &str,
    content_type: Option<&str>,
    data: &mut (impl Read + Seek),
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let hinted = hint(name, content_type);
    data.seek(SeekFrom::Start(0))?;
    let mut magic = [0u8; 4];
    let n = read_up_to(data, &mut magic)?;
    data.seek(SeekFrom::Start(0))?;
    let head = magic.get(..n).unwrap_or(&[]);

    let mut sink = Sink::new(limits.max_text_chars);
    let format = if head == b"PK\x03\x04" {
        extract_zip(hinted, data, limits, &mut sink)?
    } else {
        match hinted {
            Some(f @ (Format::Docx | Format::Odt | Format::Xlsx | Format::Ods)) => {
                return Err(corrupt(Some(f), "không phải gói ZIP (not a ZIP package)"));
            }
            Some(Format::Eml) => {
                let bytes = read_all(data, limits.max_entry_bytes, "thư điện tử (e-mail)")?;
                eml::extract(&bytes, &mut sink);
                Format::Eml
            }
            Some(Format::PlainText) => {
                let bytes = read_all(data, limits.max_entry_bytes, "tệp văn bản (text file)")?;
                sink.push_str(&decode_text(&bytes));
                Format::PlainText
            }
            None if head.starts_with(&[0xEF, 0xBB, 0xBF])
                || head.starts_with(&[0xFF, 0xFE])
                || head.starts_with(&[0xFE, 0xFF]) =>
            {
                let bytes = read_all(data, limits.max_entry_bytes, "tệp văn bản (text file)")?;
                sink.push_str(&decode_text(&bytes));
                Format::PlainText
            }
            None => return Err(ExtractError::Unsupported(name.to_string())),
        }
    };
    Ok(finish(sink, format, limits))
}

fn finish(sink: Sink, format: Format, limits: &Limits) -> Extracted {
    let mut truncated = sink.truncated;
    let mut text: String = sink.text.trim_end().nfc().collect();
    if let Some((i, _)) = text.char_indices().nth(limits.max_text_chars) {
        text.truncate(i);
        truncated = true;
    }
    Extracted {
        text,
        format,
        truncated,
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_all(r: &mut impl Read, max: u64, what: &str) -> Result<Vec<u8>, ExtractError> {
    let mut v = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut v)?;
    if v.len() as u64 > max {
        return Err(too_large(format!("{what} > {max} byte")));
    }
    Ok(v)
}

/// UTF-8 (lossy, BOM stripped) or UTF-16 with a BOM.
fn decode_text(b: &[u8]) -> String {
    let utf16 = |rest: &[u8], le: bool| -> String {
        let units = rest.chunks_exact(2).map(|c| match c {
            [a, b] if le => u16::from_le_bytes([*a, *b]),
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => 0xFFFD,
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, true)
    } else if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, false)
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// ZIP packages

/// Counts bytes read through `take(max + 1)` and fails once more than `max` came out.
pub(crate) struct Bounded<R> {
    inner: std::io::Take<R>,
    read: u64,
    max: u64,
    pub exceeded: bool,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, max: u64) -> Self {
        Bounded {
            inner: inner.take(max.saturating_add(1)),
            read: 0,
            max,
            exceeded: false,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.exceeded {
            return Err(std::io::Error::other("entry too large"));
        }
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.max {
            self.exceeded = true;
            return Err(std::io::Error::other("entry too large"));
        }
        Ok(n)
    }
}

fn zip_err(f: Option<Format>, e: zip::result::ZipError) -> ExtractError {
    corrupt(f, format!("gói ZIP không đọc được (bad ZIP): {e}"))
}

fn extract_zip<R: Read + Seek>(
    hinted: Option<Format>,
    data: &mut R,
    limits: &Limits,
    sink: &mut Sink,
) -> Result<Format, ExtractError> {
    let zip_hint =
        hinted.filter(|f| matches!(f, Format::Docx | Format::Odt | Format::Xlsx | Format::Ods));
    let mut zip = zip::ZipArchive::new(data).map_err(|e| zip_err(zip_hint, e))?;
    if zip.len() > limits.max_zip_entries {
        return Err(too_large(format!(
            "gói ZIP có {} mục > {} (ZIP has too many entries)",
            zip.len(),
            limits.max_zip_entries
        )));
    }
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    let format = if has("word/document.xml") {
        Format::Docx
    } else if has("xl/workbook.xml") {
        Format::Xlsx
    } else if has("content.xml") {
        let mime = if has("mimetype") {
            let bytes = read_entry(&mut zip, "mimetype", 1024, None)?;
            String::from_utf8_lossy(&bytes).trim().to_ascii_lowercase()
        } else {
            String::new()
        };
        if mime.starts_with("application/vnd.oasis.opendocument.text") {
            Format::Odt
        } else if mime.starts_with("application/vnd.oasis.opendocument.spreadsheet") {
            Format::Ods
        } else {
            match zip_hint {
                Some(f @ (Format::Odt | Format::Ods)) => f,
                _ => {
                    return Err(ExtractError::Unsupported(format!(
                        "gói OpenDocument loại '{mime}' (OpenDocument type '{mime}')"
                    )))
                }
            }
        }
    } else {
        return Err(match zip_hint {
            Some(f) => corrupt(Some(f), "thiếu phần nội dung chính (main part missing)"),
            None => ExtractError::Unsupported(
                "gói ZIP không phải tài liệu văn phòng (ZIP is not an office document)".into(),
            ),
        });
    };

    match format {
        Format::Docx => {
            with_entry(&mut zip, "word/document.xml", limits, format, |r| {
                xml::docx(r, limits, sink, format)
            })?;
            let mut extra: Vec<&String> = names
                .iter()
                .filter(|n| {
                    part_number(n, "word/header", ".xml").is_some()
                        || part_number(n, "word/footer", ".xml").is_some()
                })
                .collect();
            extra.sort();
            extra.dedup();
            for n in extra {
                if sink.full() {
                    break;
                }
                sink.push('\n');
                with_entry(&mut zip, n, limits, format, |r| {
                    xml::docx(r, limits, sink, format)
                })?;
            }
        }
        Format::Odt | Format::Ods => {
            with_entry(&mut zip, "content.xml", limits, format, |r| {
                xml::odf(r, limits, sink, format)
            })?;
        }
        Format::Xlsx => {
            let mut shared = Vec::new();
            if has("xl/sharedStrings.xml") {
                with_entry(&mut zip, "xl/sharedStrings.xml", limits, format, |r| {
                    xml::xlsx_shared(r, limits, &mut shared, format)
                })?;
            }
            let mut sheets: Vec<(u64, &String)> = names
                .iter()
                .filter_map(|n| part_number(n, "xl/worksheets/sheet", ".xml").map(|k| (k, n)))
                .collect();
            sheets.sort();
            sheets.dedup();
            for (_, n) in sheets {
                if sink.full() {
                    break;
                }
                with_entry(&mut zip, n, limits, format, |r| {
                    xml::xlsx_sheet(r, limits, &shared, sink, format)
                })?;
                sink.push('\n');
            }
        }
        Format::PlainText | Format::Eml => {}
    }
    Ok(format)
}

/// `prefix` + digits (possibly none) + `suffix` → the number (0 when absent).
fn part_number(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let mid = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if mid.is_empty() {
        return Some(0);
    }
    if mid.len() > 9 || !mid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    mid.parse().ok()
}

fn check_declared<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
    f: Option<Format>,
) -> Result<(), ExtractError> {
    let size = zip.by_name(name).map_err(|e| zip_err(f, e))?.size();
    if size > max {
        return Err(too_large(format!(
            "mục '{name}' giải nén {size} byte > {max} (entry '{name}' decompresses to more than the limit)"
        )));
    }
    Ok(())
}

fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
    f: Option<Format>,
) -> Result<Vec<u8>, ExtractError> {
    check_declared(zip, name, max, f)?;
    let entry = zip.by_name(name).map_err(|e| zip_err(f, e))?;
    let mut b = Bounded::new(entry, max);
    let mut v = Vec::new();
    match b.read_to_end(&mut v) {
        Ok(_) => Ok(v),
        Err(_) if b.exceeded => Err(too_large(format!(
            "mục '{name}' > {max} byte (entry too large)"
        ))),
        Err(e) => Err(corrupt(f, format!("mục '{name}' (entry '{name}'): {e}"))),
    }
}

fn with_entry<R: Read + Seek, T>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limits: &Limits,
    format: Format,
    run: impl FnOnce(&mut Bounded<zip::read::ZipFile<'_, R>>) -> Result<T, ExtractError>,
) -> Result<T, ExtractError> {
    let max = limits.max_entry_bytes;
    check_declared(zip, name, max, Some(format))?;
    let entry = zip.by_name(name).map_err(|e| zip_err(Some(format), e))?;
    let mut b = Bounded::new(entry, max);
    let out = run(&mut b);
    if b.exceeded {
        return Err(too_large(format!(
            "mục '{name}' giải nén > {max} byte (entry '{name}' decompresses to more than the limit)"
        )));
    }
    out
}
