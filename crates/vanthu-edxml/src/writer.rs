//! Strict canonical writer (§4 "Writer canonical form").

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use crate::model::*;
use crate::reader::{is_canonical_organ_id, is_valid_date, is_valid_timestamp, norm_cid};
use crate::sink::AttachmentDigest;

/// One attachment to write; its bytes are read and base64-encoded in chunks.
pub struct AttachmentSource<'a> {
    /// `ContentId`, written as `cid:<id>` (a leading `cid:` is accepted).
    pub content_id: String,
    /// `AttachmentName`.
    pub attachment_name: String,
    /// `Description` (omitted when `None`).
    pub description: Option<String>,
    /// `ContentType` (same on manifest and attachment).
    pub content_type: String,
    /// The bytes.
    pub data: Box<dyn Read + 'a>,
}

impl std::fmt::Debug for AttachmentSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentSource")
            .field("content_id", &self.content_id)
            .field("attachment_name", &self.attachment_name)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Writer options.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Require `From/OrganId` to be canonical (default true: it is our own id).
    pub require_canonical_from: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            require_canonical_from: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Total bytes written.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the whole output.
    pub sha256: String,
    /// Per attachment: size and SHA-256 of the bytes read.
    pub attachments: Vec<AttachmentDigest>,
}

/// Writer errors. `Display`: Vietnamese, then English, then the element path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The message is not valid for sending.
    #[error("Gói tin không hợp lệ / invalid message: {path}: {reason}")]
    Invalid {
        /// Element path of the offending field.
        path: String,
        /// Why.
        reason: String,
    },
    /// Writing or reading an attachment failed.
    #[error("Lỗi ghi gói tin / write failed: {path}: {source}")]
    Io {
        /// Element path being written.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

const MH: &str = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader";

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> WriteError {
    WriteError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

fn req(path: &str, v: &str) -> Result<(), WriteError> {
    if v.trim().is_empty() {
        Err(invalid(path, "required value is missing"))
    } else {
        Ok(())
    }
}

fn max_len(path: &str, v: Option<&str>, max: usize) -> Result<(), WriteError> {
    if let Some(v) = v {
        let n = v.chars().count();
        if n > max {
            return Err(invalid(path, format!("{n} characters > {max}")));
        }
    }
    Ok(())
}

fn date(path: &str, v: Option<&str>) -> Result<(), WriteError> {
    if let Some(v) = v {
        if !is_valid_date(v) {
            return Err(invalid(path, format!("'{v}' is not a date yyyy/MM/dd")));
        }
    }
    Ok(())
}

fn one_of(path: &str, v: Option<&str>, allowed: &[&str]) -> Result<(), WriteError> {
    if let Some(v) = v {
        if !allowed.contains(&v) {
            return Err(invalid(path, format!("'{v}' not in {}", allowed.join("|"))));
        }
    }
    Ok(())
}

fn validate_org(path: &str, o: &Organization, canonical: bool) -> Result<(), WriteError> {
    req(&format!("{path}/OrganId"), &o.organ_id)?;
    if canonical && !is_canonical_organ_id(&o.organ_id) {
        return Err(invalid(
            format!("{path}/OrganId"),
            format!(
                "'{}' is not a canonical organ id (000.00.00.X00)",
                o.organ_id
            ),
        ));
    }
    req(&format!("{path}/OrganName"), &o.organ_name)?;
    max_len(&format!("{path}/OrganName"), Some(&o.organ_name), 200)?;
    max_len(&format!("{path}/OrganAdd"), o.organ_add.as_deref(), 500)?;
    max_len(&format!("{path}/Telephone"), o.telephone.as_deref(), 20)?;
    max_len(&format!("{path}/Fax"), o.fax.as_deref(), 20)?;
    Ok(())
}

/// Validates a message for writing (required fields, formats, own OrganId, unique `To`,
/// length limits, code lists).
pub fn validate(
    msg: &Message,
    atts: &[AttachmentSource<'_>],
    opts: &WriteOptions,
) -> Result<(), WriteError> {
    match &msg.header {
        Header::Edoc(h) => {
            validate_org(&format!("{MH}/From"), &h.from, opts.require_canonical_from)?;
            if h.to.is_empty() {
                return Err(invalid(format!("{MH}/To"), "at least one To is required"));
            }
            for (i, t) in h.to.iter().enumerate() {
                let p = format!("{MH}/To[{}]", i + 1);
                validate_org(&p, t, false)?;
                if h.to[..i].iter().any(|x| x.organ_id == t.organ_id) {
                    return Err(invalid(
                        format!("{p}/OrganId"),
                        format!("duplicate To '{}'", t.organ_id),
                    ));
                }
            }
            req(&format!("{MH}/DocumentId"), &h.document_id)?;
            req(&format!("{MH}/Code/CodeNumber"), &h.code.code_number)?;
            max_len(
                &format!("{MH}/Code/CodeNumber"),
                Some(&h.code.code_number),
                11,
            )?;
            req(&format!("{MH}/Code/CodeNotation"), &h.code.code_notation)?;
            max_len(
                &format!("{MH}/Code/CodeNotation"),
                Some(&h.code.code_notation),
                30,
            )?;
            let pd = format!("{MH}/PromulgationInfo/PromulgationDate");
            req(&pd, &h.promulgation_info.promulgation_date)?;
            date(&pd, Some(&h.promulgation_info.promulgation_date))?;
            req(&format!("{MH}/Subject"), &h.subject)?;
            max_len(&format!("{MH}/Subject"), Some(&h.subject), 500)?;
            max_len(&format!("{MH}/Content"), h.content.as_deref(), 500)?;
            date(&format!("{MH}/DueDate"), h.due_date.as_deref())?;
            if let Some(t) = &h.document_type {
                one_of(
                    &format!("{MH}/DocumentType/Type"),
                    t.doc_type.as_deref(),
                    &["1", "2"],
                )?;
            }
            if let Some(o) = &h.other_info {
                let p = format!("{MH}/OtherInfo");
                one_of(
                    &format!("{p}/Priority"),
                    o.priority.as_deref(),
                    &["0", "1", "2", "3"],
                )?;
                max_len(
                    &format!("{p}/TyperNotation"),
                    o.typer_notation.as_deref(),
                    10,
                )?;
                for (n, v) in [
                    ("PromulgationAmount", &o.promulgation_amount),
                    ("PageAmount", &o.page_amount),
                ] {
                    if let Some(v) = v {
                        if v.parse::<u64>().is_err() {
                            return Err(invalid(
                                format!("{p}/{n}"),
                                format!("'{v}' is not a number"),
                            ));
                        }
                    }
                }
                one_of(
                    &format!("{p}/Direction"),
                    o.direction.as_deref(),
                    &["true", "false"],
                )?;
            }
            for (i, r) in h.response_for.iter().enumerate() {
                date(
                    &format!("{MH}/ResponseFor[{}]/PromulgationDate", i + 1),
                    r.promulgation_date.as_deref(),
                )?;
            }
            one_of(
                &format!("{MH}/SteeringType"),
                h.steering_type.as_deref(),
                &["0", "1", "2", "3"],
            )?;
            let tp = "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList";
            let Some(trace) = &msg.trace else {
                return Err(invalid(tp, "TraceHeaderList is required"));
            };
            if trace.trace_headers.is_empty() {
                return Err(invalid(
                    format!("{tp}/TraceHeader"),
                    "one TraceHeader is required",
                ));
            }
            for (i, t) in trace.trace_headers.iter().enumerate() {
                let p = format!("{tp}/TraceHeader[{}]", i + 1);
                req(&format!("{p}/OrganId"), &t.organ_id)?;
                if !is_valid_timestamp(&t.timestamp) {
                    return Err(invalid(
                        format!("{p}/Timestamp"),
                        format!("'{}' is not yyyy/MM/dd HH:mm:ss", t.timestamp),
                    ));
                }
            }
            if let Some(b) = &trace.business {
                let bp = format!("{tp}/Bussiness");
                if let BusinessDocType::Unknown(v) = &b.doc_type {
                    return Err(invalid(
                        format!("{bp}/BussinessDocType"),
                        format!("'{v}' not in 0|1|2|3"),
                    ));
                }
                one_of(&format!("{bp}/Paper"), b.paper.as_deref(), &["0", "1"])?;
            }
            let mut seen: Vec<&str> = Vec::new();
            for (i, a) in atts.iter().enumerate() {
                let p = format!("/edXML/AttachmentEncoded/Attachment[{}]", i + 1);
                req(&format!("{p}/ContentId"), norm_cid(&a.content_id))?;
                if seen.contains(&norm_cid(&a.content_id)) {
                    return Err(invalid(format!("{p}/ContentId"), "duplicate ContentId"));
                }
                seen.push(norm_cid(&a.content_id));
                req(&format!("{p}/AttachmentName"), &a.attachment_name)?;
                max_len(
                    &format!("{p}/AttachmentName"),
                    Some(&a.attachment_name),
                    500,
                )?;
                req(&format!("{p}/ContentType"), &a.content_type)?;
            }
        }
        Header::Status(h) => {
            validate_org(&format!("{MH}/From"), &h.from, opts.require_canonical_from)?;
            let r = &h.response_for;
            let rp = format!("{MH}/ResponseFor");
            req(
                &format!("{rp}/OrganId"),
                r.organ_id.as_deref().unwrap_or(""),
            )?;
            req(&format!("{rp}/Code"), r.code.as_deref().unwrap_or(""))?;
            req(
                &format!("{rp}/DocumentId"),
                r.document_id.as_deref().unwrap_or(""),
            )?;
            req(
                &format!("{rp}/PromulgationDate"),
                r.promulgation_date.as_deref().unwrap_or(""),
            )?;
            date(
                &format!("{rp}/PromulgationDate"),
                r.promulgation_date.as_deref(),
            )?;
            if let StatusCode::Unknown(c) = &h.status_code {
                return Err(invalid(
                    format!("{MH}/StatusCode"),
                    format!("unknown status code '{c}' is never sent"),
                ));
            }
            if matches!(
                h.status_code,
                StatusCode::Refused | StatusCode::TakeBackRequested | StatusCode::ChangeRefused
            ) {
                req(
                    &format!("{MH}/Description"),
                    h.description.as_deref().unwrap_or(""),
                )?;
            }
            if !is_valid_timestamp(&h.timestamp) {
                return Err(invalid(
                    format!("{MH}/Timestamp"),
                    format!("'{}' is not yyyy/MM/dd HH:mm:ss", h.timestamp),
                ));
            }
            if !atts.is_empty() {
                return Err(invalid(
                    "/edXML/AttachmentEncoded",
                    "a status message has no attachments",
                ));
            }
        }
    }
    Ok(())
}

struct Out<W: Write> {
    w: W,
    n: u64,
    h: Sha256,
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.w.write(buf)?;
        self.h.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.trim().chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\r' => o.push_str("&#13;"),
            c => o.push(c),
        }
    }
    o
}

struct X<'w, W: Write> {
    o: &'w mut Out<W>,
    path: Vec<&'static str>,
}

impl<W: Write> X<'_, W> {
    fn io(&self, e: io::Error) -> WriteError {
        WriteError::Io {
            path: format!("/{}", self.path.join("/")),
            source: e,
        }
    }
    fn raw(&mut self, s: &str) -> Result<(), WriteError> {
        self.o.write_all(s.as_bytes()).map_err(|e| self.io(e))
    }
    fn indent(&self) -> String {
        "  ".repeat(self.path.len())
    }
    fn open(&mut self, name: &'static str, attrs: &str) -> Result<(), WriteError> {
        let s = format!("{}<{}{}>\r\n", self.indent(), qn(name), attrs);
        self.path.push(name);
        self.raw(&s)
    }
    fn close(&mut self) -> Result<(), WriteError> {
        let name = self.path.pop().expect("open element");
        let s = format!("{}</{}>\r\n", self.indent(), qn(name));
        self.raw(&s)
    }
    fn leaf(&mut self, name: &'static str, v: &str) -> Result<(), WriteError> {
        let q = qn(name);
        let s = format!("{}<{q}>{}</{q}>\r\n", self.indent(), esc(v));
        self.raw(&s)
    }
    fn opt(&mut self, name: &'static str, v: &Option<String>) -> Result<(), WriteError> {
        match v.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => self.leaf(name, v),
            _ => Ok(()),
        }
    }
}

/// Qualified name in the SDK prefix layout: `edXML:` inside the envelope, none for the
/// root and the attachment part.
fn qn(name: &'static str) -> String {
    match name {
        "edXML" | "AttachmentEncoded" | "Attachment" | "ContentId@att" | "AttachmentName@att"
        | "Description@att" | "ContentType@att" => name.trim_end_matches("@att").to_string(),
        _ => format!("edXML:{name}"),
    }
}

fn any(v: &[&Option<String>]) -> bool {
    v.iter()
        .any(|o| o.as_deref().is_some_and(|s| !s.trim().is_empty()))
}

fn org<W: Write>(x: &mut X<'_, W>, tag: &'static str, o: &Organization) -> Result<(), WriteError> {
    x.open(tag, "")?;
    x.leaf("OrganId", &o.organ_id)?;
    x.opt("OrganizationInCharge", &o.organization_in_charge)?;
    x.leaf("OrganName", &o.organ_name)?;
    x.opt("OrganAdd", &o.organ_add)?;
    x.opt("Email", &o.email)?;
    x.opt("Telephone", &o.telephone)?;
    x.opt("Fax", &o.fax)?;
    x.opt("Website", &o.website)?;
    x.close()
}

fn staff<W: Write>(x: &mut X<'_, W>, s: &StaffInfo) -> Result<(), WriteError> {
    if !any(&[&s.department, &s.staff, &s.email, &s.mobile]) {
        return Ok(());
    }
    x.open("StaffInfo", "")?;
    x.opt("Department", &s.department)?;
    x.opt("Staff", &s.staff)?;
    x.opt("Email", &s.email)?;
    x.opt("Mobile", &s.mobile)?;
    x.close()
}

fn response_for<W: Write>(x: &mut X<'_, W>, r: &ResponseFor) -> Result<(), WriteError> {
    x.open("ResponseFor", "")?;
    x.opt("OrganId", &r.organ_id)?;
    x.opt("Code", &r.code)?;
    x.opt("DocumentId", &r.document_id)?;
    x.opt("PromulgationDate", &r.promulgation_date)?;
    x.close()
}

/// Writes `msg` in canonical form: UTF-8 without BOM, CRLF, two-space indent, the SDK
/// prefix layout and the element order of §1–§3. The manifest is generated from
/// `attachments` (so `msg.manifest` and `msg.attachments` are ignored); each attachment is
/// read in chunks and written as one padded base64 line.
///
/// The message is validated first ([`validate`]); nothing is written if it is invalid.
pub fn write_message<W: Write>(
    msg: &Message,
    attachments: Vec<AttachmentSource<'_>>,
    out: W,
    opts: &WriteOptions,
) -> Result<WriteReport, WriteError> {
    validate(msg, &attachments, opts)?;
    let mut o = Out {
        w: out,
        n: 0,
        h: Sha256::new(),
    };
    let mut x = X {
        o: &mut o,
        path: Vec::new(),
    };
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n")?;
    x.open("edXML", &format!(" xmlns=\"{NS}\""))?;
    x.open("edXMLEnvelope", &format!(" xmlns:edXML=\"{NS}\""))?;
    x.open("edXMLHeader", "")?;
    x.open("MessageHeader", "")?;
    match &msg.header {
        Header::Edoc(h) => {
            org(&mut x, "From", &h.from)?;
            for t in &h.to {
                org(&mut x, "To", t)?;
            }
            x.leaf("DocumentId", &h.document_id)?;
            x.open("Code", "")?;
            x.leaf("CodeNumber", &h.code.code_number)?;
            x.leaf("CodeNotation", &h.code.code_notation)?;
            x.close()?;
            x.open("PromulgationInfo", "")?;
            x.opt("Place", &h.promulgation_info.place)?;
            x.leaf("PromulgationDate", &h.promulgation_info.promulgation_date)?;
            x.close()?;
            if let Some(t) = &h.document_type {
                if any(&[&t.doc_type, &t.type_name]) {
                    x.open("DocumentType", "")?;
                    x.opt("Type", &t.doc_type)?;
                    x.opt("TypeName", &t.type_name)?;
                    x.close()?;
                }
            }
            x.leaf("Subject", &h.subject)?;
            x.opt("Content", &h.content)?;
            if let Some(s) = &h.signer_info {
                if any(&[&s.competence, &s.position, &s.full_name]) {
                    x.open("SignerInfo", "")?;
                    x.opt("Competence", &s.competence)?;
                    x.opt("Position", &s.position)?;
                    x.opt("FullName", &s.full_name)?;
                    x.close()?;
                }
            }
            x.opt("DueDate", &h.due_date)?;
            if let Some(oi) = &h.other_info {
                let has = any(&[
                    &oi.priority,
                    &oi.sphere_of_promulgation,
                    &oi.typer_notation,
                    &oi.promulgation_amount,
                    &oi.page_amount,
                    &oi.direction,
                ]) || !oi.appendixes.is_empty();
                if has {
                    x.open("OtherInfo", "")?;
                    x.opt("Priority", &oi.priority)?;
                    x.opt("SphereOfPromulgation", &oi.sphere_of_promulgation)?;
                    x.opt("TyperNotation", &oi.typer_notation)?;
                    x.opt("PromulgationAmount", &oi.promulgation_amount)?;
                    x.opt("PageAmount", &oi.page_amount)?;
                    x.opt("Direction", &oi.direction)?;
                    if !oi.appendixes.is_empty() {
                        x.open("Appendixes", "")?;
                        for a in &oi.appendixes {
                            x.leaf("Appendix", a)?;
                        }
                        x.close()?;
                    }
                    x.close()?;
                }
            }
            for r in h.response_for.iter().filter(|r| !r.is_empty()) {
                response_for(&mut x, r)?;
            }
            x.opt("SteeringType", &h.steering_type)?;
            if !h.to_places.is_empty() {
                x.open("ToPlaces", "")?;
                for p in &h.to_places {
                    x.leaf("Place", p)?;
                }
                x.close()?;
            }
            x.close()?; // MessageHeader
            let trace = msg.trace.as_ref().expect("validated");
            x.open("TraceHeaderList", "")?;
            for t in &trace.trace_headers {
                x.open("TraceHeader", "")?;
                x.leaf("OrganId", &t.organ_id)?;
                x.leaf("Timestamp", &t.timestamp)?;
                x.close()?;
            }
            let default_b = Business::default();
            let b = trace.business.as_ref().unwrap_or(&default_b);
            x.open("Bussiness", "")?;
            if matches!(
                b.doc_type,
                BusinessDocType::Revoke | BusinessDocType::Update
            ) {
                x.opt("DocumentId", &b.document_id)?;
            }
            x.leaf("BussinessDocType", b.doc_type.as_str())?;
            x.opt("BussinessDocReason", &b.reason)?;
            x.leaf("Paper", b.paper.as_deref().unwrap_or("0"))?;
            if b.doc_type == BusinessDocType::Update {
                if let Some(d) = &b.document_info {
                    x.open("BussinessDocumentInfo", "")?;
                    x.opt("DocumentInfo", &d.document_info)?;
                    x.opt("DocumentReceiver", &d.document_receiver)?;
                    if !d.receivers.is_empty() {
                        x.open("ReceiverList", "")?;
                        for r in &d.receivers {
                            x.open("Receiver", "")?;
                            x.leaf("OrganId", &r.organ_id)?;
                            x.leaf("ReceiverType", &r.receiver_type)?;
                            x.close()?;
                        }
                        x.close()?;
                    }
                    x.close()?;
                }
            }
            if b.doc_type == BusinessDocType::Replace && !b.replacements.is_empty() {
                x.open("ReplacementInfoList", "")?;
                for r in &b.replacements {
                    x.open("ReplacementInfo", "")?;
                    x.leaf("DocumentId", &r.document_id)?;
                    x.open("OrganIdList", "")?;
                    for id in &r.organ_ids {
                        x.leaf("OrganId", id)?;
                    }
                    x.close()?;
                    x.close()?;
                }
                x.close()?;
            }
            if let Some(s) = &b.staff_info {
                staff(&mut x, s)?;
            }
            x.close()?; // Bussiness
            x.close()?; // TraceHeaderList
            x.close()?; // edXMLHeader
            x.open("edXMLBody", "")?;
            x.open("edXMLManifest", " version=\"1.0\"")?;
            for a in &attachments {
                x.open("Reference", "")?;
                x.leaf("ContentId", &format!("cid:{}", norm_cid(&a.content_id)))?;
                x.leaf("ContentType", &a.content_type)?;
                x.opt("Description", &a.description)?;
                x.leaf("AttachmentName", &a.attachment_name)?;
                x.close()?;
            }
            x.close()?;
            x.close()?;
            x.close()?; // envelope
        }
        Header::Status(h) => {
            org(&mut x, "From", &h.from)?;
            response_for(&mut x, &h.response_for)?;
            if let Some(s) = &h.staff_info {
                staff(&mut x, s)?;
            }
            x.leaf("StatusCode", h.status_code.as_str())?;
            x.opt("Description", &h.description)?;
            x.leaf("Timestamp", &h.timestamp)?;
            x.close()?; // MessageHeader
            x.close()?; // edXMLHeader
            x.close()?; // envelope
        }
    }
    let mut digests = Vec::new();
    if !attachments.is_empty() {
        x.open("AttachmentEncoded", "")?;
        for mut a in attachments {
            x.open("Attachment", "")?;
            x.leaf("ContentId@att", &format!("cid:{}", norm_cid(&a.content_id)))?;
            x.leaf("AttachmentName@att", &a.attachment_name)?;
            x.opt("Description@att", &a.description)?;
            x.leaf("ContentType@att", &a.content_type)?;
            let ind = x.indent();
            x.raw(&format!(
                "{ind}<edXML:ContentTransferEncoded xmlns:edXML=\"{NS}\">"
            ))?;
            x.path.push("ContentTransferEncoded");
            let mut h = Sha256::new();
            let size = crate::b64::encode_stream(&mut a.data, x.o, &mut h).map_err(|e| x.io(e))?;
            x.path.pop();
            x.raw("</edXML:ContentTransferEncoded>\r\n")?;
            digests.push(AttachmentDigest {
                size,
                sha256: hex::encode(h.finalize()),
            });
            x.close()?;
        }
        x.close()?;
    }
    x.close()?; // edXML
    o.flush().map_err(|e| WriteError::Io {
        path: "/".into(),
        source: e,
    })?;
    Ok(WriteReport {
        bytes: o.n,
        sha256: hex::encode(o.h.finalize()),
        attachments: digests,
    })
}
