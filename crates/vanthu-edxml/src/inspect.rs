//! CLI helpers: `vanthu edxml inspect` and `vanthu edxml pack`.

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Seek, Write};

use serde::Serialize;

use crate::error::{diag, Diagnostic, EdxmlError, Location, Severity};
use crate::model::*;
use crate::reader::{read_message, ReadOptions};
use crate::sink::{AttachmentDigest, AttachmentMeta, AttachmentSink};
use crate::writer::{write_message, AttachmentSource, WriteError, WriteOptions, WriteReport};
use crate::zipwrap::{unwrap_single_entry_zip, UnwrapOutcome, Unwrapped};

/// One attachment in an [`InspectReport`].
#[derive(Debug, Clone, Serialize)]
pub struct InspectAttachment {
    /// Position in the file.
    pub index: usize,
    /// `ContentId`.
    pub content_id: String,
    /// `AttachmentName` (the name to show).
    pub name: Option<String>,
    /// `ContentType` on the attachment.
    pub content_type: Option<String>,
    /// `ContentType` in the manifest.
    pub manifest_content_type: Option<String>,
    /// Decoded size.
    pub size: u64,
    /// SHA-256 of the decoded bytes (`None` if base64 was bad).
    pub sha256: Option<String>,
    /// Sniffed type of the decoded bytes.
    pub sniffed_type: Option<String>,
    /// Decoding error.
    pub error: Option<String>,
    /// The single ZIP entry, when the attachment was a wrapped file.
    pub unwrapped: Option<Unwrapped>,
}

/// What `vanthu edxml inspect FILE --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// `edoc` or `status`.
    pub kind: MessageKind,
    /// `From/OrganId`.
    pub from: String,
    /// `From/OrganName`.
    pub from_name: String,
    /// `To/OrganId` list (edoc).
    pub to: Vec<String>,
    /// `DocumentId` (edoc) or `ResponseFor/DocumentId` (status).
    pub document_id: Option<String>,
    /// `Code/CodeNumber`.
    pub code_number: Option<String>,
    /// `Code/CodeNotation`.
    pub code_notation: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `PromulgationDate`.
    pub promulgation_date: Option<String>,
    /// Business type name (`new`, `revoke`, `update`, `replace`), edoc only.
    pub business_type: Option<String>,
    /// Raw `BussinessDocType`.
    pub business_doc_type: Option<String>,
    /// Status code (`01` …), status only.
    pub status_code: Option<String>,
    /// Vietnamese label of the status code.
    pub status_label: Option<String>,
    /// Status `Description`.
    pub status_description: Option<String>,
    /// Status `Timestamp`.
    pub timestamp: Option<String>,
    /// Trace headers (organ id, timestamp).
    pub trace_headers: Vec<TraceHeader>,
    /// Signature kind.
    pub signature: SignatureKind,
    /// Attachments.
    pub attachments: Vec<InspectAttachment>,
    /// Everything unusual, as diagnostics.
    pub warnings: Vec<Diagnostic>,
    /// The full parsed message.
    pub message: Message,
}

/// Spools ZIP-looking attachments to a temporary file (in memory up to 8 MiB) so that
/// they can be unwrapped; other attachments are only hashed by the reader.
#[derive(Default)]
struct SpoolSink {
    spooled: HashMap<usize, tempfile::SpooledTempFile>,
}

struct SpoolWriter {
    head: Vec<u8>,
    file: Option<tempfile::SpooledTempFile>,
    discard: bool,
}

impl Write for SpoolWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.discard {
            return Ok(buf.len());
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(buf)?;
            return Ok(buf.len());
        }
        let need = 4 - self.head.len();
        let k = need.min(buf.len());
        self.head.extend_from_slice(&buf[..k]);
        if self.head.len() == 4 {
            if self.head == b"PK\x03\x04" {
                let mut f = tempfile::SpooledTempFile::new(8 << 20);
                f.write_all(&self.head)?;
                f.write_all(&buf[k..])?;
                self.file = Some(f);
            } else {
                self.discard = true;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AttachmentSink for SpoolSink {
    type Writer = SpoolWriter;
    fn begin(&mut self, _meta: &AttachmentMeta) -> io::Result<SpoolWriter> {
        Ok(SpoolWriter {
            head: Vec::new(),
            file: None,
            discard: false,
        })
    }
    fn finish(
        &mut self,
        meta: &AttachmentMeta,
        w: SpoolWriter,
        _d: &AttachmentDigest,
    ) -> io::Result<()> {
        if let Some(f) = w.file {
            self.spooled.insert(meta.index, f);
        }
        Ok(())
    }
    fn abort(&mut self, _meta: &AttachmentMeta, _w: SpoolWriter, _reason: &str) {}
}

/// Inspects a package with default limits; see [`inspect_with`].
pub fn inspect(reader: impl BufRead) -> Result<InspectReport, EdxmlError> {
    inspect_with(reader, &ReadOptions::default())
}

/// Diagnostics for an unwrap outcome of attachment `a` (used by [`inspect`]; the
/// encrypted store can reuse it after unwrapping a stored blob).
pub fn unwrap_diagnostics(a: &Attachment, outcome: &io::Result<UnwrapOutcome>) -> Vec<Diagnostic> {
    let loc = Location::path(format!(
        "/edXML/AttachmentEncoded/Attachment[{}]",
        a.index + 1
    ));
    let name = a.attachment_name.clone().unwrap_or_default();
    match outcome {
        Ok(UnwrapOutcome::Unwrapped(u)) => {
            let mut v = vec![diag(
                "ATTACHMENT_ZIP_WRAPPED",
                Severity::Info,
                loc.clone(),
                format!("{name}: entry of {} bytes", u.size),
            )];
            if u.type_mismatch {
                v.push(diag(
                    "ATTACHMENT_TYPE_MISMATCH",
                    Severity::Warning,
                    loc,
                    format!(
                        "{name} wraps .{} ({})",
                        u.entry_name.rsplit('.').next().unwrap_or(""),
                        u.sniffed_type.as_deref().unwrap_or("unknown type")
                    ),
                ));
            }
            v
        }
        Ok(_) => Vec::new(),
        Err(e) => vec![diag(
            "ATTACHMENT_ZIP_ERROR",
            Severity::Error,
            loc,
            e.to_string(),
        )],
    }
}

/// Parses a package (attachments are hashed, never stored; ZIP-wrapped ones are spooled
/// to a temporary file and unwrapped) and summarises it.
pub fn inspect_with(
    reader: impl BufRead,
    options: &ReadOptions,
) -> Result<InspectReport, EdxmlError> {
    let mut sink = SpoolSink::default();
    let mut msg = read_message(reader, &mut sink, options)?;
    let mut atts = Vec::new();
    for a in &msg.attachments {
        let mut unwrapped = None;
        if let Some(mut f) = sink.spooled.remove(&a.index) {
            let name = a.attachment_name.clone().unwrap_or_default();
            let outcome = f
                .rewind()
                .and_then(|_| unwrap_single_entry_zip(&mut f, &name, &options.limits, None));
            msg.diagnostics.extend(unwrap_diagnostics(a, &outcome));
            if let Ok(UnwrapOutcome::Unwrapped(u)) = outcome {
                unwrapped = Some(u);
            }
        }
        atts.push(InspectAttachment {
            index: a.index,
            content_id: a.content_id.clone(),
            name: a.attachment_name.clone(),
            content_type: a.content_type.clone(),
            manifest_content_type: a.manifest_content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            sniffed_type: a.sniffed_type.clone(),
            error: a.error.clone(),
            unwrapped,
        });
    }
    let trace_headers = msg
        .trace
        .as_ref()
        .map(|t| t.trace_headers.clone())
        .unwrap_or_default();
    let mut r = InspectReport {
        kind: msg.kind(),
        from: String::new(),
        from_name: String::new(),
        to: Vec::new(),
        document_id: None,
        code_number: None,
        code_notation: None,
        subject: None,
        promulgation_date: None,
        business_type: None,
        business_doc_type: None,
        status_code: None,
        status_label: None,
        status_description: None,
        timestamp: None,
        trace_headers,
        signature: msg.signature,
        attachments: atts,
        warnings: msg.diagnostics.clone(),
        message: msg.clone(),
    };
    match &msg.header {
        Header::Edoc(h) => {
            r.from = h.from.organ_id.clone();
            r.from_name = h.from.organ_name.clone();
            r.to = h.to.iter().map(|t| t.organ_id.clone()).collect();
            r.document_id = Some(h.document_id.clone());
            r.code_number = Some(h.code.code_number.clone());
            r.code_notation = Some(h.code.code_notation.clone());
            r.subject = Some(h.subject.clone());
            r.promulgation_date = Some(h.promulgation_info.promulgation_date.clone());
            let t = msg.business_doc_type().unwrap_or(BusinessDocType::New);
            r.business_type = Some(t.name().to_string());
            r.business_doc_type = Some(t.as_str().to_string());
        }
        Header::Status(h) => {
            r.from = h.from.organ_id.clone();
            r.from_name = h.from.organ_name.clone();
            r.to = h.response_for.organ_id.iter().cloned().collect();
            r.document_id = h.response_for.document_id.clone();
            r.promulgation_date = h.response_for.promulgation_date.clone();
            r.status_code = Some(h.status_code.as_str().to_string());
            r.status_label = Some(h.status_code.label_vi().to_string());
            r.status_description = h.description.clone();
            r.timestamp = Some(h.timestamp.clone());
        }
    }
    Ok(r)
}

/// Input of [`pack`] (`vanthu edxml pack`).
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    /// Our organisation (`--from`); the id must be canonical.
    pub from: Organization,
    /// Recipients (`--to`, comma-separated ids), unique.
    pub to: Vec<Organization>,
    /// Số (`--notation 12/UBND-VP` is split by the CLI into number and notation).
    pub code_number: String,
    /// Ký hiệu.
    pub code_notation: String,
    /// Trích yếu (`--subject`).
    pub subject: String,
    /// Ngày ban hành `yyyy/MM/dd` (`--date`).
    pub date: String,
    /// Địa danh.
    pub place: Option<String>,
    /// `Content`.
    pub content: Option<String>,
    /// `DocumentType/Type` (default `2`, văn bản hành chính).
    pub doc_type: Option<String>,
    /// `DocumentType/TypeName` (default `Công văn`).
    pub type_name: Option<String>,
    /// Signer.
    pub signer_info: Option<SignerInfo>,
    /// `DueDate`.
    pub due_date: Option<String>,
    /// `Priority` 0–3 (default 0).
    pub priority: Option<String>,
    /// `SteeringType` (default 1).
    pub steering_type: Option<String>,
    /// `ToPlaces/Place`.
    pub to_places: Vec<String>,
    /// `DocumentId` (default `{From},{date},{number}/{notation}`).
    pub document_id: Option<String>,
    /// Business info (default: type 0, "Văn bản điện tử mới").
    pub business: Option<Business>,
    /// Sending văn thư.
    pub staff_info: Option<StaffInfo>,
    /// Trace timestamp `yyyy/MM/dd HH:mm:ss` (default: now, UTC+7).
    pub timestamp: Option<String>,
}

/// Result of [`pack`].
#[derive(Debug, Clone)]
pub struct PackReport {
    /// Writer report (bytes, SHA-256 of the package, per-attachment digests).
    pub write: WriteReport,
    /// The `DocumentId` written.
    pub document_id: String,
    /// The generated content ids (without `cid:`), in attachment order.
    pub content_ids: Vec<String>,
}

/// Builds the [`Message`] that [`pack`] writes.
pub fn pack_message(req: &PackRequest) -> Message {
    let document_id = req.document_id.clone().unwrap_or_else(|| {
        format!(
            "{},{},{}/{}",
            req.from.organ_id, req.date, req.code_number, req.code_notation
        )
    });
    let business = req.business.clone().unwrap_or(Business {
        reason: Some("Văn bản điện tử mới".into()),
        paper: Some("0".into()),
        staff_info: req.staff_info.clone(),
        ..Business::default()
    });
    Message {
        header: Header::Edoc(Box::new(EdocHeader {
            from: req.from.clone(),
            to: req.to.clone(),
            document_id,
            code: Code {
                code_number: req.code_number.clone(),
                code_notation: req.code_notation.clone(),
            },
            promulgation_info: PromulgationInfo {
                place: req.place.clone(),
                promulgation_date: req.date.clone(),
            },
            document_type: Some(DocumentType {
                doc_type: Some(req.doc_type.clone().unwrap_or_else(|| "2".into())),
                type_detail: None,
                type_name: Some(req.type_name.clone().unwrap_or_else(|| "Công văn".into())),
            }),
            subject: req.subject.clone(),
            content: req.content.clone(),
            signer_info: req.signer_info.clone(),
            due_date: req.due_date.clone(),
            other_info: Some(OtherInfo {
                priority: Some(req.priority.clone().unwrap_or_else(|| "0".into())),
                ..OtherInfo::default()
            }),
            response_for: Vec::new(),
            steering_type: Some(req.steering_type.clone().unwrap_or_else(|| "1".into())),
            to_places: req.to_places.clone(),
        })),
        trace: Some(TraceHeaderList {
            trace_headers: vec![TraceHeader {
                organ_id: req.from.organ_id.clone(),
                timestamp: req.timestamp.clone().unwrap_or_else(now_vn_timestamp),
            }],
            business: Some(business),
        }),
        signature: SignatureKind::Absent,
        manifest: Vec::new(),
        attachments: Vec::new(),
        diagnostics: Vec::new(),
    }
}

/// Packs files into a new edoc (`vanthu edxml pack`). `attachments` are
/// `(AttachmentName, ContentType, data)`; each gets a fresh `cid:<uuid-v4>`. The data is
/// encoded in chunks while writing.
pub fn pack<R: Read, W: Write>(
    req: &PackRequest,
    attachments: Vec<(String, String, R)>,
    out: W,
) -> Result<PackReport, WriteError> {
    let msg = pack_message(req);
    let mut content_ids = Vec::new();
    let sources: Vec<AttachmentSource<'_>> = attachments
        .into_iter()
        .map(|(name, ct, data)| {
            let id = uuid_v4();
            content_ids.push(id.clone());
            AttachmentSource {
                content_id: id,
                attachment_name: name,
                description: None,
                content_type: ct,
                data: Box::new(data),
            }
        })
        .collect();
    let write = write_message(&msg, sources, out, &WriteOptions::default())?;
    Ok(PackReport {
        write,
        document_id: msg
            .edoc()
            .map(|h| h.document_id.clone())
            .unwrap_or_default(),
        content_ids,
    })
}

/// A random UUID v4 (from the OS-seeded keys of `RandomState`).
pub fn uuid_v4() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut b = [0u8; 16];
    for half in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(N.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        b[half * 8..half * 8 + 8].copy_from_slice(&h.finish().to_le_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Formats seconds since the Unix epoch as `yyyy/MM/dd HH:mm:ss` in Vietnam time
/// (UTC+7), whatever the OS time zone.
pub fn format_vn_timestamp(unix_secs: i64) -> String {
    let t = unix_secs + 7 * 3600;
    let days = t.div_euclid(86_400);
    let sod = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Now, as a Vietnam-time timestamp.
pub fn now_vn_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format_vn_timestamp(secs)
}
