//! edXML ↔ encrypted store: attachments are decoded straight into encrypted blobs while a
//! package is parsed, and encoded straight from them when a package is written. No attachment
//! is ever held whole in memory or written to disk in the clear.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::Path;

use vanthu_core::level::DoKhan;
use vanthu_edxml::{
    AttachmentDigest, AttachmentMeta, AttachmentSink, Message, PackReport, PackRequest, ReadOptions,
};
use vanthu_store::{BlobInfo, BlobStore, BlobWriter, FileRow};

use crate::error::AppError;
use crate::input::IncomingInput;
use crate::register::{App, Registered};

/// An [`AttachmentSink`] that streams every decoded attachment into a new encrypted blob.
pub struct BlobSink<'a> {
    blobs: &'a BlobStore,
    /// Blobs written so far: (attachment index, blob).
    pub stored: Vec<(usize, BlobInfo)>,
}

impl<'a> BlobSink<'a> {
    /// A sink writing into `blobs`.
    pub fn new(blobs: &'a BlobStore) -> Self {
        BlobSink {
            blobs,
            stored: Vec::new(),
        }
    }

    /// Deletes every blob this sink wrote (the package was refused).
    pub fn discard(&mut self) {
        for (_, b) in self.stored.drain(..) {
            let _ = self.blobs.remove(&b.id);
        }
    }
}

impl AttachmentSink for BlobSink<'_> {
    type Writer = BlobWriter;

    fn begin(&mut self, _meta: &AttachmentMeta) -> io::Result<BlobWriter> {
        self.blobs.create().map_err(io::Error::other)
    }

    fn finish(
        &mut self,
        meta: &AttachmentMeta,
        writer: BlobWriter,
        digest: &AttachmentDigest,
    ) -> io::Result<()> {
        let info = writer.finish().map_err(io::Error::other)?;
        if info.sha256 != digest.sha256 || info.size != digest.size {
            let _ = self.blobs.remove(&info.id);
            return Err(io::Error::other(
                "tệp đính kèm ghi vào kho không khớp mã băm (stored attachment hash mismatch)",
            ));
        }
        self.stored.push((meta.index, info));
        Ok(())
    }

    fn abort(&mut self, _meta: &AttachmentMeta, writer: BlobWriter, _reason: &str) {
        drop(writer); // an unfinished blob deletes its temporary file
    }
}

/// `yyyy/MM/dd` (edXML) or ISO dates → `YYYY-MM-DD`.
fn edxml_date(s: &str) -> String {
    let t = s.trim();
    let head: String = t.chars().take(10).collect();
    let b = head.as_bytes();
    if b.len() == 10 && (b[4] == b'/' || b[4] == b'-') && (b[7] == b'/' || b[7] == b'-') {
        head.replace('/', "-")
    } else {
        t.to_string()
    }
}

/// The register input that a received edoc header describes.
pub fn input_from_message(msg: &Message) -> Result<IncomingInput, AppError> {
    let h = msg.edoc().ok_or_else(|| {
        AppError::BadInput(
            "Gói tin là thông báo trạng thái, không phải văn bản; không vào sổ (a status message is not a document)"
                .into(),
        )
    })?;
    match msg.business_doc_type() {
        Some(vanthu_edxml::BusinessDocType::New) | None => {}
        Some(t) => {
            let what = match t {
                vanthu_edxml::BusinessDocType::Revoke => "thu hồi (revoke)",
                vanthu_edxml::BusinessDocType::Update => "cập nhật (update)",
                vanthu_edxml::BusinessDocType::Replace => "thay thế (replace)",
                _ => "không rõ loại (unknown business type)",
            };
            return Err(AppError::BadInput(format!(
                "Gói tin {what} tác động lên văn bản gốc {}; không vào sổ như văn bản mới — xử lý theo mã văn bản khi đồng bộ trục liên thông (acts on an earlier document; not registered as new)",
                msg.business()
                    .and_then(|b| b.document_id.clone())
                    .unwrap_or_else(|| h.document_id.clone())
            )));
        }
    }
    input_from_header(msg)
}

/// The register's fields from a package's header, whatever its business type (an update's
/// header is the new version of the original's description).
pub(crate) fn input_from_header(msg: &Message) -> Result<IncomingInput, AppError> {
    let h = msg.edoc().ok_or_else(|| {
        AppError::BadInput(
            "Gói tin là thông báo trạng thái, không phải văn bản (a status message is not a document)"
                .into(),
        )
    })?;
    let number = h.code.code_number.trim();
    let notation = h.code.code_notation.trim();
    let so_ky_hieu = match (number.is_empty(), notation.is_empty()) {
        (true, true) => None,
        (true, false) => Some(notation.to_string()),
        (false, true) => Some(number.to_string()),
        (false, false) => Some(format!("{number}/{notation}")),
    };
    let other = h.other_info.as_ref();
    let do_khan = other
        .and_then(|o| o.priority.as_deref())
        .and_then(|p| p.trim().parse::<u8>().ok())
        .and_then(DoKhan::from_edxml_priority)
        .unwrap_or(DoKhan::Thuong);
    let signer = h.signer_info.as_ref();
    Ok(IncomingInput {
        khong_so: so_ky_hieu.is_none(),
        so_ky_hieu,
        tac_gia: Some(if h.from.organ_name.trim().is_empty() {
            h.from.organ_id.clone()
        } else {
            h.from.organ_name.clone()
        }),
        tac_gia_ma: Some(h.from.organ_id.clone()).filter(|s| !s.trim().is_empty()),
        ngay_van_ban: Some(edxml_date(&h.promulgation_info.promulgation_date)),
        loai: h
            .document_type
            .as_ref()
            .and_then(|t| t.type_name.clone())
            .filter(|s| !s.trim().is_empty()),
        trich_yeu: Some(h.subject.clone()),
        do_khan: Some(do_khan.code().to_string()),
        nguoi_ky: signer.and_then(|s| s.full_name.clone()),
        chuc_vu: signer.and_then(|s| s.position.clone()),
        so_trang: other
            .and_then(|o| o.page_amount.as_deref())
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(|&p| p > 0 && p <= 999),
        // The sender's DueDate is information for the leader who sets the handling deadline
        // (bút phê); old packages carry dates long past, so it goes into the note.
        ghi_chu: h
            .due_date
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| format!("Hạn xử lý theo nơi gửi: {}", edxml_date(d))),
        kenh: Some("truc-lien-thong".into()),
        ..Default::default()
    })
}

/// What receiving a package produced.
#[derive(Debug, serde::Serialize)]
pub struct Received {
    /// The register entry.
    pub registered: Registered,
    /// `DocumentId` of the package.
    pub document_id: Option<String>,
    /// Warnings of the reader (unusual but accepted things).
    pub warnings: Vec<String>,
}

impl App {
    /// Reads an edXML package, streaming its attachments into encrypted blobs, and registers
    /// the document it carries with a *số đến*. A package that does not parse, or whose
    /// registration fails, leaves nothing behind.
    pub fn receive_edxml(&mut self, path: &Path) -> Result<Received, AppError> {
        let f = File::open(path).map_err(|e| AppError::File {
            path: path.to_path_buf(),
            source: e,
        })?;
        let blobs = self.store().blobs().clone();
        let mut sink = BlobSink::new(&blobs);
        let msg = match vanthu_edxml::read_message(
            BufReader::with_capacity(256 * 1024, f),
            &mut sink,
            &ReadOptions::default(),
        ) {
            Ok(m) => m,
            Err(e) => {
                sink.discard();
                return Err(AppError::BadInput(format!("Gói edXML không hợp lệ: {e}")));
            }
        };
        let input = match input_from_message(&msg) {
            Ok(i) => i,
            Err(e) => {
                sink.discard();
                return Err(e);
            }
        };
        let mut files = Vec::new();
        for (index, info) in &sink.stored {
            let a = msg.attachments.iter().find(|a| a.index == *index);
            let name = a
                .and_then(|a| a.attachment_name.clone())
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| format!("dinh-kem-{}", index + 1));
            let ct = a.and_then(|a| a.content_type.clone());
            files.push((name, ct, info.clone()));
        }
        let res = self.register_prepared(&input, files);
        if res.is_err() {
            sink.discard();
        }
        let registered = res?;
        let warnings = msg.diagnostics.iter().map(|d| d.to_string()).collect();
        Ok(Received {
            registered,
            document_id: msg.edoc().map(|h| h.document_id.clone()),
            warnings,
        })
    }

    /// Writes an edXML package whose attachments are the given stored files, encoded straight
    /// from their encrypted blobs (decrypted chunk by chunk, never whole).
    pub fn write_edxml(
        &self,
        req: &PackRequest,
        files: &[FileRow],
        out: impl Write,
    ) -> Result<PackReport, AppError> {
        let mut atts = Vec::new();
        for f in files {
            let r = self.store().blobs().open_blob(&f.blob_id)?;
            let ct = f
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            atts.push((f.name.clone(), ct, r));
        }
        vanthu_edxml::pack(req, atts, out)
            .map_err(|e| AppError::BadInput(format!("Không đóng gói được edXML: {e}")))
    }
}
