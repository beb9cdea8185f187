//! Validation: per signature, structure (ByteRange exactly around this dictionary's Contents,
//! ending a revision), CMS integrity, PAdES profile, trust path, timestamps, and what changed in
//! later revisions.

use std::collections::{BTreeMap, BTreeSet};

use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;

use crate::cms_build::*;
use crate::doc::{Doc, Entry};
use crate::keys::{cert_sha256, openssl_cert, openssl_cert_of};
use crate::object::{decode_text, Dict, Lexer, Obj};
use crate::PdfError;

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trust anchors (DER certificates). Empty = nothing is trusted.
    pub trust: Vec<Vec<u8>>,
    /// Validation time when no trusted timestamp exists (default: now).
    pub at: Option<time::OffsetDateTime>,
    /// Download CRLs from the certificates' distribution points when the file has none.
    pub online: bool,
    /// Intermediate certificates (DER) that help build paths; never anchors.
    pub intermediates: Vec<Vec<u8>>,
    /// Opt-out of the fail-closed revocation rule (§4.1 item 10): a certificate on the path
    /// without usable revocation data (none, stale, or from an unauthorised responder) is only
    /// a warning instead of CHƯA XÁC ĐỊNH. Off by default; for files known to carry no
    /// revocation material. A revoked certificate is never softened.
    pub soft_revocation: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// Được phép.
    Allowed,
    /// Được phép – điền biểu mẫu.
    FormFill,
    /// Cần xem xét.
    Review,
    /// Không được phép.
    Forbidden,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub revision: usize,
    pub object: u32,
    pub class: ChangeClass,
    pub what: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimestampInfo {
    pub time: String,
    pub tsa: String,
    pub intact: bool,
    pub trusted: bool,
    /// Revocation of the TSA's path (checked at the token's time).
    pub revocation: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SigReport {
    pub field: String,
    /// "signature" or "document_timestamp".
    pub kind: String,
    pub subfilter: String,
    pub signer: String,
    pub signer_cert_sha256: String,
    /// `/M` as written (a claim).
    pub claimed_time: Option<String>,
    pub trusted_time: Option<String>,
    /// "timestamp" or "claimed" or "now".
    pub time_source: String,
    pub level: String,
    /// Digest and signature check out over the declared ByteRange.
    pub intact: bool,
    /// Intact, and ByteRange, Contents and PAdES profile are as required.
    pub valid: bool,
    /// The signer's certificate chains to an anchor at the validation time with a usable key
    /// usage (revocation is reported separately).
    pub trusted: bool,
    pub chain: Vec<String>,
    pub revocation: String,
    /// Every certificate on the path has usable revocation data showing it was not revoked
    /// (or revoked only after a trusted time), or the soft check was asked for. HỢP LỆ needs
    /// it: fail closed.
    pub revocation_ok: bool,
    pub timestamp: Option<TimestampInfo>,
    pub certification: Option<i64>,
    /// The signature's FieldMDP lock ("FieldMDP /Exclude [SoKyHieu, …]"), if any.
    pub field_lock: Option<String>,
    /// 1-based revision the signature ends, and the number of revisions.
    pub revision: usize,
    pub revisions: usize,
    pub covers_final_revision: bool,
    pub modifications: Vec<Change>,
    pub modifications_allowed: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// HỢP LỆ, KHÔNG HỢP LỆ or CHƯA XÁC ĐỊNH.
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub revisions: usize,
    pub signatures: Vec<SigReport>,
    pub warnings: Vec<String>,
    /// Every signature intact, valid, trusted and every later change allowed.
    pub all_valid: bool,
    pub verdict: String,
}

pub const VALID: &str = "HỢP LỆ";
pub const INVALID: &str = "KHÔNG HỢP LỆ";
pub const UNDETERMINED: &str = "CHƯA XÁC ĐỊNH";

/// Parses and validates a PDF held in memory.
pub fn verify_bytes(data: Vec<u8>, opts: &VerifyOptions) -> Result<Report, PdfError> {
    let doc = Doc::parse(data)?;
    Ok(verify_doc(&doc, opts))
}

/// Validates a PDF file without reading it into memory: the file is mapped, parsed lazily,
/// and each signature's ranges are hashed by streaming from the file.
pub fn verify_file(path: &std::path::Path, opts: &VerifyOptions) -> Result<Report, PdfError> {
    verify_file_with_password(path, opts, "")
}

/// [`verify_file`] for a file that needs a password to open (its user or owner password).
pub fn verify_file_with_password(
    path: &std::path::Path,
    opts: &VerifyOptions,
    password: &str,
) -> Result<Report, PdfError> {
    let doc = Doc::open_with_password(path, password)?;
    Ok(verify_doc(&doc, opts))
}

/// Signature dictionaries reachable from the AcroForm (fields and their kids): (field name,
/// signature object number).
pub(crate) fn signature_fields(doc: &Doc) -> Vec<(String, u32)> {
    signature_field_objects(doc)
        .into_iter()
        .map(|(name, sig, _)| (name, sig))
        .collect()
}

/// Like [`signature_fields`], with the field's own object number when it is indirect.
fn signature_field_objects(doc: &Doc) -> Vec<(String, u32, Option<u32>)> {
    all_signature_fields(doc)
        .into_iter()
        .filter_map(|(name, v, f)| Some((name, v?, f)))
        .collect()
}

/// Names of the signature fields that nobody has signed yet (a template's empty boxes).
pub fn empty_signature_fields(doc: &Doc) -> Vec<String> {
    all_signature_fields(doc)
        .into_iter()
        .filter(|(_, v, _)| v.is_none())
        .map(|(name, ..)| name)
        .collect()
}

/// Every signature field: (full name, its value's object number if signed, the field's).
fn all_signature_fields(doc: &Doc) -> Vec<(String, Option<u32>, Option<u32>)> {
    let mut out = Vec::new();
    let Ok(cat) = doc.catalog() else { return out };
    let Ok((_, af)) = crate::sign::acroform(doc, &cat) else {
        return out;
    };
    let Ok((_, fields)) = crate::sign::fields_of(doc, &af) else {
        return out;
    };
    let mut stack: Vec<(Obj, String, usize)> = fields
        .into_iter()
        .rev()
        .map(|f| (f, String::new(), 0))
        .collect();
    let mut seen = BTreeSet::new();
    while let Some((f, prefix, depth)) = stack.pop() {
        if depth > 32 {
            continue;
        }
        if let Some((n, _)) = f.as_ref() {
            if !seen.insert(n) {
                continue;
            }
        }
        let Ok(o) = doc.resolve(&f) else { continue };
        let Some(d) = o.as_dict() else { continue };
        let t = d.get("T").and_then(Obj::as_str).map(decode_text);
        let name = match (&t, prefix.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{prefix}.{t}"),
            (None, _) => prefix.clone(),
        };
        if let Some(kids) = d.get("Kids").and_then(Obj::as_arr) {
            for k in kids.iter().rev() {
                stack.push((k.clone(), name.clone(), depth + 1));
            }
        }
        if d.name_is("FT", "Sig") {
            let v = d.get("V").and_then(Obj::as_ref).map(|(v, _)| v);
            if v.is_some() || d.get("Kids").is_none() {
                out.push((name, v, f.as_ref().map(|r| r.0)));
            }
        }
    }
    out
}

/// A FieldMDP lock (ISO 32000 12.8.2.4): which fields the signature forbids to change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldLock {
    /// "All", "Include" or "Exclude".
    action: String,
    fields: Vec<String>,
}

impl FieldLock {
    fn from_dict(doc: &Doc, d: &Dict) -> Option<FieldLock> {
        let action = String::from_utf8_lossy(d.get("Action")?.as_name()?).into_owned();
        let fields = d
            .get("Fields")
            .and_then(|f| doc.resolve(f).ok())
            .and_then(|f| {
                f.as_arr().map(|a| {
                    a.iter()
                        .filter_map(Obj::as_str)
                        .map(decode_text)
                        .collect::<Vec<_>>()
                })
            })
            .unwrap_or_default();
        Some(FieldLock { action, fields })
    }

    /// Whether the field (fully qualified name) is locked; an unknown action locks everything.
    fn locks(&self, name: &str) -> bool {
        // A listed field also covers its descendants ("a" locks "a.b").
        let listed = self
            .fields
            .iter()
            .any(|f| name == f || name.starts_with(&format!("{f}.")));
        match self.action.as_str() {
            "Include" => listed,
            "Exclude" => !listed,
            _ => true,
        }
    }

    fn describe(&self) -> String {
        format!("FieldMDP /{} [{}]", self.action, self.fields.join(", "))
    }
}

/// The FieldMDP lock of signature `sig_num` (dictionary `sd`): its signed `/Reference`, else
/// the `/Lock` of its field as it stood when the signature was made (revision `rev`).
fn field_lock(doc: &Doc, sd: &Dict, sig_num: u32, rev: usize) -> Option<FieldLock> {
    for rf in sd.get("Reference").and_then(Obj::as_arr).unwrap_or(&[]) {
        let Ok(rf) = doc.resolve_in(rf, rev) else {
            continue;
        };
        let Some(rd) = rf.as_dict() else { continue };
        if rd.name_is("TransformMethod", "FieldMDP") {
            if let Some(l) = rd
                .get("TransformParams")
                .and_then(|t| doc.resolve_in(t, rev).ok())
                .and_then(|t| t.as_dict().and_then(|d| FieldLock::from_dict(doc, d)))
            {
                return Some(l);
            }
        }
    }
    let field = signature_field_objects(doc)
        .into_iter()
        .find(|(_, s, _)| *s == sig_num)
        .and_then(|(_, _, f)| f)?;
    let fd = doc.get_in(field, rev).ok()?;
    let lock = doc.resolve_in(fd.as_dict()?.get("Lock")?, rev).ok()?;
    FieldLock::from_dict(doc, lock.as_dict()?)
}

/// Whether a signature already in the file locks the field `name` with FieldMDP (the signer
/// must then not fill it). Returns the locking signature's field name.
pub(crate) fn locked_by(doc: &Doc, name: &str) -> Option<String> {
    let last = doc.sections.len().checked_sub(1)?;
    signature_field_objects(doc)
        .into_iter()
        .find(|(_, sig, _)| {
            let Ok(sd) = doc.get(*sig) else { return false };
            let Some(sd) = sd.as_dict() else { return false };
            // The lock as the signature saw it: its own revision is not known here, the latest
            // view is used (a later change to a lock is itself a forbidden modification).
            field_lock(doc, sd, *sig, last).is_some_and(|l| l.locks(name))
        })
        .map(|(f, _, _)| f)
}

/// DocMDP level of the document's certification as of its latest revision, if certified.
pub(crate) fn current_certification(doc: &Doc) -> Option<i64> {
    certified_level(doc, doc.sections.len().saturating_sub(1))
}

/// DocMDP level of the document's certification signature as of revision `rev` (catalog
/// `/Perms /DocMDP`), if any.
fn certified_level(doc: &Doc, rev: usize) -> Option<i64> {
    let cat = doc.get_in(doc.root_ref().0, rev).ok()?;
    let perms = doc.resolve_in(cat.as_dict()?.get("Perms")?, rev).ok()?;
    let sig = doc.resolve_in(perms.as_dict()?.get("DocMDP")?, rev).ok()?;
    for rf in sig.as_dict()?.get("Reference")?.as_arr()? {
        let Ok(rf) = doc.resolve_in(rf, rev) else {
            continue;
        };
        let Some(rd) = rf.as_dict() else { continue };
        if rd.name_is("TransformMethod", "DocMDP") {
            return Some(
                rd.get("TransformParams")
                    .and_then(|t| doc.resolve_in(t, rev).ok())
                    .and_then(|t| t.as_dict().and_then(|d| d.get("P")).and_then(Obj::as_int))
                    .unwrap_or(2),
            );
        }
    }
    None
}

/// Fully qualified name of a field object as of revision `rev` (partial names joined by ".").
fn field_name_in(doc: &Doc, d: &Dict, rev: usize) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(d.clone());
    let mut depth = 0;
    while let Some(c) = cur.take() {
        if let Some(t) = c.get("T").and_then(Obj::as_str) {
            parts.push(decode_text(t));
        }
        depth += 1;
        if depth > 32 {
            break;
        }
        cur = c
            .get("Parent")
            .and_then(|p| doc.resolve_in(p, rev).ok())
            .and_then(|p| p.as_dict().cloned());
    }
    parts.reverse();
    parts.join(".")
}

pub fn verify_doc(doc: &Doc, opts: &VerifyOptions) -> Report {
    // Each CRL and OCSP answer is fetched once per run, however many signatures need it.
    let _fetched = crate::ltv::FetchCache::start();
    let mut warnings = Vec::new();
    let last = doc.sections.len() - 1;
    let sigs = signature_fields(doc);
    let declared = doc.count(b"/ByteRange");
    if declared > sigs.len() {
        warnings.push(format!(
            "Có {} từ điển chữ ký không gắn với trường nào (orphan signature dictionaries)",
            declared - sigs.len()
        ));
    }
    let empty = empty_signature_fields(doc);
    if !empty.is_empty() {
        warnings.push(format!(
            "Trường chữ ký chưa ký: {} (unsigned signature fields)",
            empty.join(", ")
        ));
    }
    if doc.encrypted() {
        warnings.push(
            "Tệp PDF được mã hóa; đã giải mã để kiểm tra (encrypted PDF, decrypted to validate)"
                .into(),
        );
    }
    // Hybrid-reference files (Word writes them): a reader without PDF 1.5 support sees only the
    // table's objects, so it may show less than the signer saw; pyHanko's strict mode refuses
    // to validate them at all. vanthu reads both, as PDF 1.5 readers do, and says so.
    if doc.hybrid() {
        warnings.push(
            "Tệp dùng bảng tham chiếu chéo lai (/XRefStm): trình đọc cũ chỉ hỗ trợ PDF 1.4 có thể \
             hiển thị khác (hybrid-reference file: PDF 1.4 readers may show less)"
                .into(),
        );
    } else if let Some(why) = doc.strict_objection() {
        // Read as lenient readers do; say why a strict validator may refuse the whole file.
        warnings.push(format!(
            "Trình kiểm tra nghiêm ngặt (như pyHanko) có thể từ chối cả tệp: {why} (strict \
             validators such as pyHanko may refuse the whole file)"
        ));
    }
    // The end of the file's last revision in file order: in a linearized file the last section
    // of the chain (the first-page one) sits near the start.
    let file_end = if doc.sections[last].end == 0 {
        0
    } else {
        doc.sections.iter().map(|s| s.end).max().unwrap_or(0)
    };
    let tail = &doc.data[file_end.min(doc.data.len())..];
    let trailing = file_end == 0 || tail.iter().any(|c| !crate::object::is_ws(*c));
    if trailing {
        warnings.push(
            "Có dữ liệu sau %%EOF cuối cùng, ngoài mọi phiên bản (bytes after the last revision)"
                .into(),
        );
    }
    let mut reports: Vec<SigReport> = sigs
        .iter()
        .map(|(name, num)| verify_one(doc, name, *num, opts))
        .collect();
    reports.sort_by_key(|r| r.revision);
    if trailing {
        for r in &mut reports {
            r.modifications.push(Change {
                revision: doc.sections.len() + 1,
                object: 0,
                class: ChangeClass::Forbidden,
                what: "Dữ liệu thêm vào sau %%EOF cuối, không thuộc phiên bản nào (bytes appended after the last revision)".into(),
            });
            r.modifications_allowed = false;
            r.covers_final_revision = false;
            r.verdict = INVALID.into();
        }
    }
    // Level by structure: DSS and document timestamps in later revisions.
    let dss_revs: Vec<usize> = (0..=last)
        .filter(|&k| {
            doc.get_in(doc.root_ref().0, k)
                .ok()
                .and_then(|c| c.as_dict().map(|d| d.get("DSS").is_some()))
                .unwrap_or(false)
                && (k == 0
                    || doc
                        .get_in(doc.root_ref().0, k - 1)
                        .ok()
                        .and_then(|c| c.as_dict().map(|d| d.get("DSS").cloned()))
                        != doc
                            .get_in(doc.root_ref().0, k)
                            .ok()
                            .and_then(|c| c.as_dict().map(|d| d.get("DSS").cloned())))
        })
        .collect();
    let doc_ts: Vec<usize> = reports
        .iter()
        .filter(|r| r.kind == "document_timestamp" && r.intact && r.trusted)
        .map(|r| r.revision)
        .collect();
    for r in reports.iter_mut().filter(|r| r.kind == "signature") {
        if r.level == "B-T" {
            if let Some(&dr) = dss_revs.iter().find(|&&d| d + 1 > r.revision) {
                r.level = "B-LT".into();
                if doc_ts.iter().any(|&t| t > dr) {
                    r.level = "B-LTA".into();
                }
            }
        }
    }
    let all_valid = !reports.is_empty() && reports.iter().all(|r| r.verdict == VALID);
    let verdict = if reports.is_empty() {
        UNDETERMINED
    } else if reports.iter().any(|r| r.verdict == INVALID) {
        INVALID
    } else if all_valid {
        VALID
    } else {
        UNDETERMINED
    };
    if reports.is_empty() {
        warnings.push("Tệp không có chữ ký số (no signatures)".into());
    }
    Report {
        revisions: doc.sections.len(),
        signatures: reports,
        warnings,
        all_valid,
        verdict: verdict.into(),
    }
}

pub(crate) fn cn(name: &x509_cert::name::Name) -> String {
    // The most specific commonName, decoded whatever its string type: CAs write Vietnamese
    // names as UTF8String, older ones as BMPString (UTF-16), which the RFC 4514 text form
    // shows as hex; and a comma inside a name must not cut it.
    let cn_oid = ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .rev()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == cn_oid)
        .find_map(|atv| directory_string(&atv.value))
        .unwrap_or_else(|| name.to_string())
}

/// A DirectoryString (or IA5String) value as text: UTF8, Printable, IA5, Teletex (read as
/// Latin-1), BMP (UTF-16BE) or Universal (UTF-32BE).
fn directory_string(v: &Any) -> Option<String> {
    let b = v.value();
    match der::Tagged::tag(v).number().value() {
        12 | 19 | 22 => String::from_utf8(b.to_vec()).ok(),
        20 => Some(b.iter().map(|&c| c as char).collect()),
        30 if b.len().is_multiple_of(2) => {
            char::decode_utf16(b.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])))
                .collect::<Result<String, _>>()
                .ok()
        }
        28 if b.len().is_multiple_of(4) => b
            .chunks(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    }
}

struct CmsCheck {
    signer: Option<Certificate>,
    certs: Vec<Certificate>,
    intact: bool,
    errors: Vec<String>,
    warnings: Vec<String>,
    signature_value: Vec<u8>,
    unsigned: Vec<(ObjectIdentifier, Vec<Any>)>,
    /// CRLs and OCSP responses from Adobe's signed revocation archival attribute
    /// (adbe-revocationInfoArchival, 1.2.840.113583.1.1.8), as other tools embed them.
    archival: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    /// A weak digest algorithm the signature relies on (SHA-1): checked, never valid.
    weak: Option<&'static str>,
    /// An algorithm vanthu does not implement: nothing could be checked, which says nothing
    /// about the document.
    unsupported: bool,
    /// A PAdES (ETSI.CAdES.detached) signature without any ESS signing-certificate attribute:
    /// intact, but the signed attributes do not bind the signer's certificate, so it is never
    /// valid (EN 319 102-1: INDETERMINATE, NO_SIGNING_CERTIFICATE_FOUND).
    no_ess: bool,
}

// Signature algorithms read as RSA PKCS#1 v1.5 or ECDSA over the named (or the SignerInfo's)
// digest.
const RSA_PKCS1: &str = "1.2.840.113549.1.1.1";
const SHA1_RSA: &str = "1.2.840.113549.1.1.5";
const SHA256_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_RSA: &str = "1.2.840.113549.1.1.13";
const ECDSA_SHA1: &str = "1.2.840.10045.4.1";
const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";

/// Adobe's revocation archival attribute.
const ID_ADBE_REVOCATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// `c` for a signature algorithm vanthu does not implement: nothing checked (not "tampered").
fn unsupported_algorithm(mut c: CmsCheck, signer: Certificate, oid: &str) -> CmsCheck {
    c.errors.push(format!(
        "Thuật toán ký {oid} chưa hỗ trợ (unsupported algorithm)"
    ));
    c.unsupported = true;
    c.signer = Some(signer);
    c
}

/// The offsets of the cross-reference sections a reader of `doc.data[..end]` alone would read:
/// from the last `startxref` before `end`, along `/Prev`, among the sections of the file.
fn signed_chain(doc: &Doc, end: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let head = &doc.data[..end.min(doc.data.len())];
    let Some(at) = head.windows(9).rposition(|w| w == b"startxref") else {
        return out;
    };
    let mut lx = Lexer::new(head, at + 9);
    let mut next = lx.uint().map(|x| x as usize);
    while let Some(off) = next {
        let Some(s) = doc.sections.iter().find(|s| s.offset == off) else {
            break;
        };
        if !out.insert(off) {
            break;
        }
        next = s
            .trailer
            .get("Prev")
            .and_then(Obj::as_int)
            .and_then(|p| usize::try_from(p).ok());
    }
    out
}

/// The top-level TLVs of DER content: (tag, whole TLV, contents).
fn tlvs(mut b: &[u8]) -> Vec<(u8, &[u8], &[u8])> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let Some(total) = der_total_len(b) else { break };
        if total > b.len() || total < 2 {
            break;
        }
        let hdr = if b[1] & 0x80 == 0 {
            2
        } else {
            2 + (b[1] & 0x7f) as usize
        };
        if hdr > total {
            break;
        }
        out.push((b[0], &b[..total], &b[hdr..total]));
        b = &b[total..];
    }
    out
}

/// RevocationInfoArchival ::= SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CertificateList
/// OPTIONAL, ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] … }.
fn parse_revocation_archival(value: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut crls, mut ocsps) = (Vec::new(), Vec::new());
    let Some(&(0x30, _, body)) = tlvs(value).first() else {
        return (crls, ocsps);
    };
    for (tag, _, inner) in tlvs(body) {
        let Some(&(0x30, _, list)) = tlvs(inner).first() else {
            continue;
        };
        let items = tlvs(list).into_iter().map(|(_, whole, _)| whole.to_vec());
        match tag {
            0xA0 => crls.extend(items),
            0xA1 => ocsps.extend(items),
            _ => {}
        }
    }
    (crls, ocsps)
}

/// Checks one SignerInfo of `sd` against the signed content (given as byte slices).
/// `digest` hashes the signed content with the SignerInfo's algorithm (one streamed pass).
fn check_cms(
    sd: &SignedData,
    digest: &dyn Fn(crate::keys::Hash) -> Vec<u8>,
    pades: bool,
) -> CmsCheck {
    let mut c = CmsCheck {
        signer: None,
        certs: Vec::new(),
        intact: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        signature_value: Vec::new(),
        unsigned: Vec::new(),
        archival: (Vec::new(), Vec::new()),
        weak: None,
        unsupported: false,
        no_ess: false,
    };
    if let Some(cs) = &sd.certificates {
        for ch in cs.0.iter() {
            if let cms::cert::CertificateChoices::Certificate(cert) = ch {
                c.certs.push(cert.clone());
            }
        }
    }
    let sis: Vec<_> = sd.signer_infos.0.iter().collect();
    if sis.len() != 1 {
        c.errors.push(format!(
            "CMS có {} SignerInfo, cần đúng 1 (exactly one SignerInfo expected)",
            sis.len()
        ));
        return c;
    }
    let si = sis[0];
    c.signature_value = si.signature.as_bytes().to_vec();
    let Some(hash) = crate::keys::Hash::from_oid(&si.digest_alg.oid) else {
        c.errors.push(format!(
            "Thuật toán băm {} chưa hỗ trợ (unsupported digest algorithm)",
            si.digest_alg.oid
        ));
        c.unsupported = true;
        return c;
    };
    if hash.is_weak() {
        c.weak = Some(hash.name());
    }
    let signer = c
        .certs
        .iter()
        .find(|cert| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                cert.tbs_certificate.issuer == ias.issuer
                    && cert.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                cert.tbs_certificate.extensions.iter().flatten().any(|e| {
                    e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14")
                        && OctetString::from_der(e.extn_value.as_bytes())
                            .is_ok_and(|o| o.as_bytes() == ski.0.as_bytes())
                })
            }
        })
        .cloned();
    let Some(signer) = signer else {
        c.errors.push(
            "Không tìm thấy chứng thư người ký trong CMS (signer certificate missing)".into(),
        );
        return c;
    };
    let Some(attrs) = &si.signed_attrs else {
        // PAdES requires signed attributes; a plain PKCS#7 signature may sign the content's
        // digest itself (RFC 5652 §5.4; pyHanko validates such signatures too).
        if pades {
            c.errors
                .push("CMS không có thuộc tính ký mà PAdES bắt buộc (no signed attributes)".into());
        } else {
            let content_digest = digest(hash);
            let sig = si.signature.as_bytes();
            c.intact = match si.signature_algorithm.oid.to_string().as_str() {
                RSA_PKCS1 | SHA1_RSA | ECDSA_SHA1 | SHA256_RSA | SHA384_RSA | SHA512_RSA
                | ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512 => {
                    crate::keys::verify_digest_with_cert(&signer, &content_digest, sig, hash)
                }
                o => return unsupported_algorithm(c, signer, o),
            };
            if c.intact {
                c.warnings.push(
                    "CMS không có thuộc tính ký: chữ ký ký thẳng lên giá trị băm của nội dung \
                     (no signed attributes: the content digest is signed directly)"
                        .into(),
                );
            } else {
                c.errors.push(
                    "Chữ ký không khớp nội dung hoặc khóa công khai (signature value invalid)"
                        .into(),
                );
            }
        }
        c.signer = Some(signer);
        return c;
    };
    let mut md_ok = false;
    let mut ct_ok = false;
    // Whether an ESS attribute was seen, and whether all seen matched.
    let mut ess_seen: Option<bool> = None;
    for a in attrs.iter() {
        let v = a.values.iter().next();
        if a.oid == ID_ADBE_REVOCATION {
            if let Some(d) = v.and_then(|v| v.to_der().ok()) {
                c.archival = parse_revocation_archival(&d);
            }
        } else if a.oid == ID_MESSAGE_DIGEST {
            let content_digest = digest(hash);
            md_ok = v
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .is_some_and(|o| o.as_bytes() == content_digest.as_slice());
        } else if a.oid == ID_CONTENT_TYPE {
            ct_ok = v
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
                .is_some();
        } else if a.oid == ID_SIGNING_CERT_V2 || a.oid == ID_SIGNING_CERT_V1 {
            // RFC 5035 v2 (any SHA-2, default SHA-256) or RFC 2634 v1 (SHA-1, older
            // CAdES tools); when both are present, both must match.
            let v2 = a.oid == ID_SIGNING_CERT_V2;
            let ok = v
                .and_then(|v| v.to_der().ok())
                .and_then(|d| ess_cert_hash(&d, v2))
                .is_some_and(|(alg, h)| h == ess_digest(alg, &signer));
            if !ok {
                c.errors.push(format!(
                    "signing-certificate{} không khớp chứng thư người ký (ESS hash mismatch)",
                    if v2 { "-v2" } else { "" }
                ));
            }
            ess_seen = Some(ess_seen.unwrap_or(true) && ok);
            if !v2 && pades {
                c.warnings
                    .push("Có signing-certificate v1 (SHA-1) (ESS v1 present)".into());
            }
        } else if a.oid == ID_SIGNING_TIME && pades {
            c.warnings
                .push("Có signing-time, PAdES dùng /M (signing-time present)".into());
        }
    }
    // Present, each must match (else another certificate may have been substituted); absent,
    // the content is still intact but the certificate is not bound (`no_ess`).
    let ess_ok = ess_seen != Some(false);
    c.no_ess = pades && ess_seen.is_none();
    if !md_ok {
        c.errors.push(
            "Giá trị băm của nội dung không khớp message-digest: nội dung đã bị thay đổi (digest mismatch)"
                .into(),
        );
    }
    if !ct_ok {
        c.errors
            .push("Thiếu content-type (content-type missing)".into());
    }
    if pades && ess_seen.is_some() && !attrs.iter().any(|a| a.oid == ID_SIGNING_CERT_V2) {
        c.warnings.push(
            "Thiếu signing-certificate-v2: không theo PAdES (no signing-certificate-v2)".into(),
        );
    }
    let tbs = attrs.to_der().unwrap_or_default();
    let sig_ok = match si.signature_algorithm.oid.to_string().as_str() {
        // RSA PKCS#1 v1.5 (rsaEncryption, sha1WithRSA or shaNNNWithRSA) and ECDSA (SHA-1
        // or SHA-2).
        RSA_PKCS1 | SHA1_RSA | ECDSA_SHA1 | SHA256_RSA | SHA384_RSA | SHA512_RSA | ECDSA_SHA256
        | ECDSA_SHA384 | ECDSA_SHA512 => {
            crate::keys::verify_with_cert_hash(&signer, &tbs, si.signature.as_bytes(), hash)
        }
        "1.2.840.113549.1.1.10" => {
            crate::keys::verify_pss_with_cert(&signer, &tbs, si.signature.as_bytes(), hash)
        }
        // Ed25519 (RFC 8419): pure EdDSA over the signed attributes.
        "1.3.101.112" => {
            crate::keys::verify_ed25519_with_cert(&signer, &tbs, si.signature.as_bytes())
        }
        o => return unsupported_algorithm(c, signer, o),
    };
    if !sig_ok {
        c.errors
            .push("Chữ ký không khớp khóa công khai (signature value invalid)".into());
    }
    if let Some(ua) = &si.unsigned_attrs {
        for a in ua.iter() {
            c.unsigned.push((a.oid, a.values.iter().cloned().collect()));
        }
    }
    c.intact = md_ok && ct_ok && sig_ok && ess_ok;
    c.signer = Some(signer);
    c
}

/// The elements inside a DER constructed value's contents (a SEQUENCE's fields), read
/// generically; None if any is malformed.
fn der_items(b: &[u8]) -> Option<Vec<der::asn1::AnyRef<'_>>> {
    use der::{Reader, SliceReader};
    let mut r = SliceReader::new(b).ok()?;
    let mut v = Vec::new();
    while !r.is_finished() {
        v.push(r.decode::<der::asn1::AnyRef<'_>>().ok()?);
    }
    Some(v)
}

/// Hash algorithms of ESS certificate identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EssAlg {
    Sha1,
    Sha2(crate::keys::Hash),
}

fn ess_digest(alg: EssAlg, cert: &Certificate) -> Vec<u8> {
    let der = cert.to_der().unwrap_or_default();
    match alg {
        EssAlg::Sha1 => openssl::sha::sha1(&der).to_vec(),
        EssAlg::Sha2(h) => h.digest(&[&der]),
    }
}

/// The first certificate identifier of a SigningCertificateV2 (`v2`: ESSCertIDv2, hash
/// algorithm DEFAULT SHA-256 but often written out, SHA-384/512 by some tools) or
/// SigningCertificate (ESSCertID, SHA-1): the algorithm and the hash.
fn ess_cert_hash(der_bytes: &[u8], v2: bool) -> Option<(EssAlg, Vec<u8>)> {
    use der::asn1::AnyRef;
    use der::{Tag, Tagged};
    let top = AnyRef::from_der(der_bytes).ok()?;
    let certs = der_items(top.value())?.into_iter().next()?;
    let first = der_items(certs.value())?.into_iter().next()?;
    let parts = der_items(first.value())?;
    let mut it = parts.into_iter();
    let mut next = it.next()?;
    let mut alg = if v2 {
        EssAlg::Sha2(crate::keys::Hash::S256)
    } else {
        EssAlg::Sha1
    };
    if v2 && next.tag() == Tag::Sequence {
        let oid = der_items(next.value())?.into_iter().next()?;
        let oid = ObjectIdentifier::try_from(oid).ok()?;
        alg = match crate::keys::Hash::from_oid(&oid) {
            Some(h) => EssAlg::Sha2(h),
            None if oid.to_string() == "1.3.14.3.2.26" => EssAlg::Sha1,
            None => return None,
        };
        next = it.next()?;
    }
    (next.tag() == Tag::OctetString).then(|| (alg, next.value().to_vec()))
}

/// The outcome of path building: the path from the leaf to the anchor (subject names and
/// certificates) and OpenSSL's error, if any.
struct ChainCheck {
    ok: bool,
    names: Vec<String>,
    certs: Vec<Certificate>,
    error: Option<String>,
}

/// An OpenSSL store of the trust anchors, verifying at `at` (unix seconds). Any configured
/// certificate is an anchor (an agency may trust an intermediate CA); anchors are matched as
/// whole certificates by OpenSSL, never by name alone.
fn anchor_store(
    trust: &[Vec<u8>],
    at: i64,
) -> Result<openssl::x509::store::X509Store, openssl::error::ErrorStack> {
    let mut b = openssl::x509::store::X509StoreBuilder::new()?;
    for t in trust {
        if let Some(x) = openssl_cert(t) {
            b.add_cert(x)?;
        }
    }
    let mut p = openssl::x509::verify::X509VerifyParam::new()?;
    p.set_time(at as _);
    p.set_flags(openssl::x509::verify::X509VerifyFlags::PARTIAL_CHAIN)?;
    b.set_param(&p)?;
    Ok(b.build())
}

/// Untrusted certificates that help OpenSSL build paths.
fn cert_stack(
    certs: &[Certificate],
) -> Result<openssl::stack::Stack<openssl::x509::X509>, openssl::error::ErrorStack> {
    let mut st = openssl::stack::Stack::new()?;
    for c in certs {
        if let Some(x) = openssl_cert_of(c) {
            st.push(x)?;
        }
    }
    Ok(st)
}

/// Verifies a certificate path with OpenSSL at `at` (unix seconds).
fn check_chain(
    leaf: &Certificate,
    others: &[Certificate],
    trust: &[Vec<u8>],
    at: i64,
) -> ChainCheck {
    use openssl::x509::X509StoreContext;
    let run = || -> Result<ChainCheck, openssl::error::ErrorStack> {
        let store = anchor_store(trust, at)?;
        let Some(leaf) = openssl_cert_of(leaf) else {
            return Ok(ChainCheck {
                ok: false,
                names: Vec::new(),
                certs: Vec::new(),
                error: Some("chứng thư hỏng (malformed certificate)".into()),
            });
        };
        let chain = cert_stack(others)?;
        let mut ctx = X509StoreContext::new()?;
        ctx.init(&store, &leaf, &chain, |c| {
            let ok = c.verify_cert()?;
            let path = c
                .chain()
                .map(|s| {
                    s.iter()
                        .map(|x| {
                            x.subject_name()
                                .entries()
                                .filter_map(|e| e.data().to_string().ok())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .collect()
                })
                .unwrap_or_default();
            let certs = c
                .chain()
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x.to_der().ok())
                        .filter_map(|d| Certificate::from_der(&d).ok())
                        .collect()
                })
                .unwrap_or_default();
            let error = (!ok).then(|| c.error().error_string().to_string());
            Ok(ChainCheck {
                ok,
                names: path,
                certs,
                error,
            })
        })
    };
    run().unwrap_or_else(|e| ChainCheck {
        ok: false,
        names: Vec::new(),
        certs: Vec::new(),
        error: Some(e.to_string()),
    })
}

/// The certificate's keyUsage, if it has the extension (`Err` when it does not parse).
fn key_usage(cert: &Certificate) -> Option<Result<x509_cert::ext::pkix::KeyUsage, der::Error>> {
    let ku = ObjectIdentifier::new_unwrap("2.5.29.15");
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ku)
        .map(|e| x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes()))
}

/// A signing certificate's key usage: absent, or with digitalSignature or nonRepudiation.
pub(crate) fn key_usage_ok(cert: &Certificate) -> bool {
    use x509_cert::ext::pkix::KeyUsages;
    match key_usage(cert) {
        None => true,
        Some(k) => k.is_ok_and(|k| {
            k.0.contains(KeyUsages::DigitalSignature) || k.0.contains(KeyUsages::NonRepudiation)
        }),
    }
}

/// A keyUsage extension that allows signing without nonRepudiation (contentCommitment).
pub(crate) fn key_usage_lacks_non_repudiation(cert: &Certificate) -> bool {
    use x509_cert::ext::pkix::KeyUsages;
    matches!(key_usage(cert), Some(Ok(k)) if !k.0.contains(KeyUsages::NonRepudiation))
        && key_usage_ok(cert)
}

/// The TSA certificate's timeStamping extended key usage: `None` without it, else whether
/// the extension is critical (RFC 3161 §2.3 says it must be; pyHanko and Acrobat accept it
/// either way, so a non-critical one is a warning, not a refusal).
/// Said when a signer's extendedKeyUsage names none of the purposes document signing goes by.
pub(crate) const EKU_NOTE: &str = "chứng thư có extendedKeyUsage nhưng không có mục đích ký văn \
     bản (emailProtection, documentSigning, Adobe, Microsoft, anyExtendedKeyUsage): Adobe Acrobat \
     có thể không công nhận chữ ký (the certificate's extended key usage names no document-signing \
     purpose: Acrobat may not accept the signature)";

/// Whether the signer's extendedKeyUsage, if it has one, names a purpose that Acrobat accepts
/// for signing documents: emailProtection, documentSigning (RFC 9336), Adobe Authentic
/// Documents, Microsoft Document Signing, or anyExtendedKeyUsage. PAdES itself requires none,
/// so a miss is a warning, never a refusal.
pub(crate) fn eku_allows_documents(cert: &Certificate) -> bool {
    let eku = ObjectIdentifier::new_unwrap("2.5.29.37");
    let ok = [
        "1.3.6.1.5.5.7.3.4",       // emailProtection
        "1.3.6.1.5.5.7.3.36",      // documentSigning
        "1.2.840.113583.1.1.5",    // Adobe Authentic Documents Trust
        "1.3.6.1.4.1.311.10.3.12", // Microsoft Document Signing
        "2.5.29.37.0",             // anyExtendedKeyUsage
    ]
    .map(ObjectIdentifier::new_unwrap);
    match cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == eku)
    {
        None => true,
        Some(e) => x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
            .is_ok_and(|k| k.0.iter().any(|p| ok.contains(p))),
    }
}

fn timestamping_eku(cert: &Certificate) -> Option<bool> {
    let eku = ObjectIdentifier::new_unwrap("2.5.29.37");
    let ts = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == eku)
        .filter(|e| {
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                .is_ok_and(|k| k.0.contains(&ts))
        })
        .map(|e| e.critical)
}

/// Verifies an RFC 3161 token whose message imprint must be `imprint(alg)`, the digest of the
/// time-stamped data with the token's own imprint algorithm. Returns its info and genTime
/// (unix). A token that relies on SHA-1 (imprint or signature) is checked, but not trusted.
/// With `revocation` (the file, the options and the wall clock), the TSA's path is also checked
/// for revocation at the token's time, fail closed like a signer's (§4.1 item 11).
pub(crate) fn check_timestamp(
    token: &[u8],
    imprint: &dyn Fn(crate::keys::Hash) -> Vec<u8>,
    trust: &[Vec<u8>],
    extra: &[Certificate],
    revocation: Option<(&Doc, &VerifyOptions, i64)>,
) -> (TimestampInfo, Option<i64>) {
    let mut info = TimestampInfo {
        time: String::new(),
        tsa: String::new(),
        intact: false,
        trusted: false,
        revocation: "chưa kiểm tra (not checked)".into(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let sd = match parse_signed_data(token) {
        Ok(sd) => sd,
        Err(e) => {
            info.errors
                .push(format!("Dấu thời gian hỏng: {e} (bad token)"));
            return (info, None);
        }
    };
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        info.errors
            .push("Không phải TSTInfo (not a TSTInfo)".into());
        return (info, None);
    }
    let Some(ec) = &sd.encap_content_info.econtent else {
        info.errors
            .push("Dấu thời gian không có nội dung (no TSTInfo)".into());
        return (info, None);
    };
    let Ok(tst) = ec.decode_as::<OctetString>() else {
        info.errors.push("TSTInfo hỏng (bad TSTInfo)".into());
        return (info, None);
    };
    let c = check_cms(&sd, &|h| h.digest(&[tst.as_bytes()]), false);
    info.errors.extend(c.errors);
    // TSTInfo: version, policy, messageImprint, serialNumber, genTime, …
    let Ok(parts) = Vec::<Any>::from_der(tst.as_bytes()) else {
        info.errors.push("TSTInfo hỏng (bad TSTInfo)".into());
        return (info, None);
    };
    // messageImprint: SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
    let mi = parts
        .get(2)
        .and_then(|mi| Vec::<Any>::from_der(&mi.to_der().ok()?).ok())
        .filter(|mi| mi.len() == 2);
    let mi_alg = mi.as_ref().and_then(|mi| {
        let alg = spki::AlgorithmIdentifierOwned::from_der(&mi[0].to_der().ok()?).ok()?;
        crate::keys::Hash::from_oid(&alg.oid)
    });
    let mi_ok = match (&mi, mi_alg) {
        (Some(mi), Some(alg)) => mi[1]
            .decode_as::<OctetString>()
            .is_ok_and(|o| o.as_bytes() == imprint(alg).as_slice()),
        _ => false,
    };
    if !mi_ok {
        info.errors
            .push("Dấu thời gian không khớp chữ ký (message imprint mismatch)".into());
    }
    let weak = c.weak.or(mi_alg.filter(|h| h.is_weak()).map(|h| h.name()));
    if let Some(alg) = weak {
        info.warnings.push(format!(
            "Dấu thời gian dùng thuật toán băm {alg} không còn an toàn: không dùng làm bằng chứng \
             thời điểm (weak hash algorithm in the timestamp: not trusted)"
        ));
    }
    let gen = parts
        .get(4)
        .filter(|g| der::Tagged::tag(*g) == der::Tag::GeneralizedTime)
        .and_then(|g| generalized_time(g.value()));
    match gen {
        Some(g) => info.time = fmt_time(g),
        None => info
            .errors
            .push("Không đọc được thời điểm genTime (unreadable genTime)".into()),
    }
    info.intact = c.intact && mi_ok && gen.is_some();
    if let (Some(tsa), Some(g)) = (&c.signer, gen) {
        info.tsa = cn(&tsa.tbs_certificate.subject);
        let mut others = c.certs.clone();
        others.extend_from_slice(extra);
        let chk = check_chain(tsa, &others, trust, g);
        let (ok, err) = (chk.ok, chk.error.clone());
        let mut revocation_ok = true;
        if let (Some((doc, opts, now)), true) = (revocation, ok) {
            let none = (Vec::new(), Vec::new());
            let pr = path_revocation(doc, &none, tsa, "TSA", &chk, &others, opts, g, now, true);
            info.revocation = pr.summary;
            info.warnings.extend(pr.warnings);
            revocation_ok = pr.errors.is_empty() && pr.unknown.is_none();
            info.errors.extend(pr.errors);
            info.errors.extend(pr.unknown);
        }
        let eku = timestamping_eku(tsa);
        match eku {
            None => info.errors.push(
                "Chứng thư TSA thiếu EKU timeStamping (TSA certificate lacks the timeStamping EKU)"
                    .into(),
            ),
            Some(false) => info.warnings.push(
                "EKU timeStamping của chứng thư TSA không đánh dấu critical như RFC 3161 yêu cầu \
                 (TSA timeStamping EKU not critical)"
                    .into(),
            ),
            Some(true) => {}
        }
        info.trusted = ok && eku.is_some() && revocation_ok && weak.is_none();
        if let Some(e) = err {
            info.errors
                .push(format!("TSA không tin cậy: {e} (TSA not trusted)"));
        }
    }
    (info, gen)
}

fn fmt_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            let t = t.to_offset(crate::sign::vn_offset());
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+07:00",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

fn collect_certs(sd: &SignedData, out: &mut Vec<Certificate>) {
    if let Some(cs) = &sd.certificates {
        for ch in cs.0.iter() {
            if let cms::cert::CertificateChoices::Certificate(c) = ch {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
    }
}

/// Certificates carried by every signature and timestamp token in the file.
pub(crate) fn embedded_certs(doc: &Doc) -> Vec<Certificate> {
    let mut out = Vec::new();
    for (_, num) in signature_fields(doc) {
        let Ok(o) = doc.get(num) else { continue };
        let Some(c) = o
            .as_dict()
            .and_then(|d| d.get("Contents"))
            .and_then(Obj::as_str)
        else {
            continue;
        };
        let Some((cms, _)) = contents_cms(c) else {
            continue;
        };
        let Ok(sd) = parse_signed_data(&cms) else {
            continue;
        };
        collect_certs(&sd, &mut out);
        for si in sd.signer_infos.0.iter() {
            for a in si.unsigned_attrs.iter().flat_map(|u| u.iter()) {
                if a.oid != ID_TIMESTAMP_TOKEN {
                    continue;
                }
                for v in a.values.iter() {
                    if let Ok(t) = v
                        .to_der()
                        .map_err(|e| e.to_string())
                        .and_then(|d| parse_signed_data(&d))
                    {
                        collect_certs(&t, &mut out);
                    }
                }
            }
        }
    }
    out
}

/// Streams listed under `/DSS /key` in the latest revision.
fn dss_streams(doc: &Doc, key: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(cat) = doc.catalog() else { return out };
    let Some(dss) = cat.get("DSS").and_then(|d| doc.resolve(d).ok()) else {
        return out;
    };
    let Some(arr) = dss
        .as_dict()
        .and_then(|d| d.get(key))
        .and_then(|c| doc.resolve(c).ok())
    else {
        return out;
    };
    for c in arr.as_arr().unwrap_or(&[]) {
        if let Ok(s) = doc.resolve(c) {
            if let Ok(d) = doc.stream_data(&s) {
                out.push(d);
            }
        }
    }
    out
}

enum Revocation {
    Good,
    Revoked(i64),
    /// On hold (reason certificateHold; tạm dừng) since then: not final, a later CRL may lift
    /// it, so only fresh data says so and it makes the result CHƯA XÁC ĐỊNH, not invalid.
    Suspended(i64),
    NoData,
    /// Data was found but cannot be relied on at the validation time (why).
    Stale(String),
}

/// Clock skew tolerated around thisUpdate/nextUpdate (seconds).
const FRESHNESS_TOLERANCE: i64 = 300;

/// "Dec  4 15:05:56 2026 GMT" (OpenSSL's ASN.1 time display) → unix seconds. A
/// GeneralizedTime with fractional seconds ("15:05:56.975064", as some OCSP responders write
/// thisUpdate) is read with the fraction dropped.
fn asn1_text_unix(t: &str) -> Option<i64> {
    let f = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let whole;
    let t = match t.find('.') {
        Some(dot) => {
            let digits = t[dot + 1..].find(' ')?;
            if digits == 0
                || !t[dot + 1..dot + 1 + digits]
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            whole = format!("{}{}", &t[..dot], &t[dot + 1 + digits..]);
            whole.as_str()
        }
        None => t,
    };
    time::PrimitiveDateTime::parse(t, &f)
        .ok()
        .map(|p| p.assume_utc().unix_timestamp())
}

/// Whether revocation data valid from `this` until `next` speaks for the validation time `at`
/// (`now` is the wall clock): not issued in the future, and `at` not past nextUpdate (a
/// response issued after `at` still proves the certificate was not revoked at `at`). Without
/// nextUpdate the data must not predate `at`.
fn freshness(this: Option<i64>, next: Option<i64>, at: i64, now: i64) -> Result<(), String> {
    let Some(this) = this else {
        return Err("thiếu thisUpdate (no thisUpdate)".into());
    };
    if this > now.max(at) + FRESHNESS_TOLERANCE {
        return Err(format!(
            "phát hành trong tương lai {} (issued in the future)",
            fmt_time(this)
        ));
    }
    match next {
        Some(n) if n + FRESHNESS_TOLERANCE < at => Err(format!(
            "đã cũ, hết hạn lúc {} (stale: nextUpdate before the validation time)",
            fmt_time(n)
        )),
        None if this + FRESHNESS_TOLERANCE < at => Err(format!(
            "đã cũ, phát hành lúc {} không có nextUpdate (stale)",
            fmt_time(this)
        )),
        _ => Ok(()),
    }
}

/// Whether a CRL entry's reason is certificateHold (RFC 5280 §5.3.1, value 6).
fn on_hold(r: &openssl::x509::X509RevokedRef) -> bool {
    r.extension::<openssl::x509::ReasonCode>()
        .ok()
        .flatten()
        .and_then(|(_, code)| code.get_i64().ok())
        == Some(6)
}

/// Looks `cert` up in the CRLs issued and signed by `issuer`, fresh at `at`.
fn crl_status(
    cert: &Certificate,
    issuer: &Certificate,
    crls: &[Vec<u8>],
    at: i64,
    now: i64,
) -> Revocation {
    use openssl::x509::{CrlStatus, X509Crl};
    if crls.is_empty() {
        return Revocation::NoData;
    }
    let (Some(leaf), Some(iss)) = (openssl_cert_of(cert), openssl_cert_of(issuer)) else {
        return Revocation::NoData;
    };
    let Ok(key) = iss.public_key() else {
        return Revocation::NoData;
    };
    let unix = |t: &openssl::asn1::Asn1TimeRef| asn1_text_unix(&t.to_string());
    let want = cert.tbs_certificate.issuer.to_der().unwrap_or_default();
    let mut out = Revocation::NoData;
    for d in crls {
        let Ok(crl) = X509Crl::from_der(d) else {
            continue;
        };
        if crl.issuer_name().to_der().ok().as_deref() != Some(&want[..]) {
            continue;
        }
        if !crl.verify(&key).unwrap_or(false) {
            continue;
        }
        let status = crl.get_by_cert(&leaf);
        let since = |r: &openssl::x509::X509RevokedRef| unix(r.revocation_date()).unwrap_or(0);
        // A revocation is final: a stale CRL still proves it.
        if let CrlStatus::Revoked(r) = status {
            if !on_hold(r) {
                return Revocation::Revoked(since(r));
            }
        }
        // Not listed, or on hold (not final): only while the CRL is fresh.
        match freshness(
            unix(crl.last_update()),
            crl.next_update().and_then(unix),
            at,
            now,
        ) {
            Ok(()) => {
                return match status {
                    CrlStatus::Revoked(r) => Revocation::Suspended(since(r)),
                    _ => Revocation::Good,
                }
            }
            Err(e) => out = Revocation::Stale(format!("CRL {e}")),
        }
    }
    out
}

/// Looks `cert` up in OCSP responses signed by its CA or by a responder the CA delegated with
/// the id-kp-OCSPSigning EKU (OpenSSL's `OCSP_basic_verify` checks both, and the responder's
/// path to `trust`), fresh at `at`.
fn ocsp_status(
    cert: &Certificate,
    issuer: &Certificate,
    pool: &[Certificate],
    trust: &[Vec<u8>],
    responses: &[Vec<u8>],
    at: i64,
    now: i64,
) -> Revocation {
    use openssl::ocsp::{OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspRevokedStatus};
    let run = || -> Result<Revocation, openssl::error::ErrorStack> {
        if responses.is_empty() {
            return Ok(Revocation::NoData);
        }
        let (Some(leaf), Some(iss)) = (openssl_cert_of(cert), openssl_cert_of(issuer)) else {
            return Ok(Revocation::NoData);
        };
        let others = cert_stack(pool)?;
        let mut out = Revocation::NoData;
        for d in responses {
            let Ok(r) = OcspResponse::from_der(d) else {
                continue;
            };
            let Ok(basic) = r.basic() else { continue };
            // A response produced in the future (beyond the clock tolerance) proves nothing.
            let Some(produced) = ocsp_produced_at(d).filter(|&t| t <= now + FRESHNESS_TOLERANCE)
            else {
                continue;
            };
            // The responder's certificate is checked at the time the response says it was
            // produced (its proof of existence), not today: responder certificates are
            // short-lived, and a long-term (B-LT) file must outlive the responder's certificate.
            let store = anchor_store(trust, produced)?;
            if basic.verify(&others, &store, OcspFlag::empty()).is_err() {
                continue;
            }
            for md in [
                openssl::hash::MessageDigest::sha1(),
                openssl::hash::MessageDigest::sha256(),
            ] {
                let id = OcspCertId::from_cert(md, &leaf, &iss)?;
                let Some(st) = basic.find_status(&id) else {
                    continue;
                };
                let unix =
                    |t: &openssl::asn1::Asn1GeneralizedTimeRef| asn1_text_unix(&t.to_string());
                // Unknown revocation time → the epoch (before any signing time: the safe
                // reading).
                let since = st.revocation_time.and_then(unix).unwrap_or(0);
                let held = st.status == OcspCertStatus::REVOKED
                    && st.reason == OcspRevokedStatus::STATUS_CERTIFICATE_HOLD;
                match st.status {
                    // A revocation is final: a stale answer still proves it.
                    OcspCertStatus::REVOKED if !held => return Ok(Revocation::Revoked(since)),
                    // Good, or on hold (not final): only while the answer is fresh.
                    OcspCertStatus::REVOKED | OcspCertStatus::GOOD => match freshness(
                        unix(st.this_update),
                        st.next_update().and_then(unix),
                        at,
                        now,
                    ) {
                        Ok(()) if held => return Ok(Revocation::Suspended(since)),
                        Ok(()) => return Ok(Revocation::Good),
                        Err(e) => out = Revocation::Stale(format!("OCSP {e}")),
                    },
                    _ => {}
                }
                break;
            }
        }
        Ok(out)
    };
    run().unwrap_or(Revocation::NoData)
}

/// `producedAt` of a DER OCSPResponse (unix seconds): OCSPResponse → responseBytes [0] →
/// BasicOCSPResponse (in an OCTET STRING) → tbsResponseData → producedAt, the one
/// GeneralizedTime directly inside ResponseData (RFC 6960 §4.2.1).
pub(crate) fn ocsp_produced_at(resp: &[u8]) -> Option<i64> {
    use der::asn1::AnyRef;
    use der::{Tag, Tagged};
    let top = AnyRef::from_der(resp).ok()?;
    let bytes = der_items(top.value())?
        .into_iter()
        .find(|a| a.tag().is_context_specific())?;
    let rb = der_items(AnyRef::from_der(bytes.value()).ok()?.value())?;
    let basic = rb.iter().find(|a| a.tag() == Tag::OctetString)?;
    let basic = AnyRef::from_der(basic.value()).ok()?;
    let tbs = der_items(basic.value())?.into_iter().next()?;
    let produced = der_items(tbs.value())?
        .into_iter()
        .find(|a| a.tag() == Tag::GeneralizedTime)?;
    generalized_time(produced.value())
}

/// A GeneralizedTime's value `YYYYMMDDhhmmss[.f…]Z` as unix seconds (the fraction dropped).
/// RFC 3161 allows fractional seconds in a token's genTime (many TSAs write them), which the
/// `der` crate's strict DER type refuses.
pub(crate) fn generalized_time(v: &[u8]) -> Option<i64> {
    let (body, z) = v.split_at(v.len().checked_sub(1)?);
    if z != b"Z" || body.len() < 14 {
        return None;
    }
    let (whole, frac) = body.split_at(14);
    let frac_ok = frac.is_empty()
        || (frac.len() >= 2 && frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit));
    if !frac_ok || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |a: usize, b: usize| -> Option<u32> {
        std::str::from_utf8(&whole[a..b]).ok()?.parse().ok()
    };
    let date = time::Date::from_calendar_date(
        n(0, 4)? as i32,
        time::Month::try_from(n(4, 6)? as u8).ok()?,
        n(6, 8)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

const OCSP_DSS: &str = "OCSP trong tệp (DSS)";
const CRL_DSS: &str = "CRL trong tệp (DSS)";
const OCSP_ARCHIVE: &str = "OCSP trong chữ ký (adbe-revocationInfoArchival)";
const CRL_ARCHIVE: &str = "CRL trong chữ ký (adbe-revocationInfoArchival)";
const OCSP_ONLINE: &str = "OCSP trực tuyến (online)";
const CRL_ONLINE: &str = "CRL trực tuyến (online)";

/// Where revocation data comes from for one validation.
struct RevocationSources<'a> {
    pool: &'a [Certificate],
    trust: &'a [Vec<u8>],
    dss_ocsps: Vec<Vec<u8>>,
    dss_crls: Vec<Vec<u8>>,
    /// From the signature's adbe-revocationInfoArchival attribute: (CRLs, OCSP responses).
    archival: &'a (Vec<Vec<u8>>, Vec<Vec<u8>>),
    online: bool,
    at: i64,
    now: i64,
}

impl RevocationSources<'_> {
    /// Status of `cert` issued by `issuer`: the DSS's OCSP then CRLs, then (online) the
    /// certificate's OCSP responder and CRL distribution points. Returns the status and its
    /// source.
    fn status(&self, cert: &Certificate, issuer: &Certificate) -> (Revocation, &'static str) {
        let mut stale = None;
        let steps: &[&'static str] = if self.online {
            &[
                OCSP_DSS,
                CRL_DSS,
                OCSP_ARCHIVE,
                CRL_ARCHIVE,
                OCSP_ONLINE,
                CRL_ONLINE,
            ]
        } else {
            &[OCSP_DSS, CRL_DSS, OCSP_ARCHIVE, CRL_ARCHIVE]
        };
        let ocsp = |responses: &[Vec<u8>]| {
            ocsp_status(
                cert, issuer, self.pool, self.trust, responses, self.at, self.now,
            )
        };
        for &source in steps {
            let found = match source {
                OCSP_DSS => ocsp(&self.dss_ocsps),
                CRL_DSS => crl_status(cert, issuer, &self.dss_crls, self.at, self.now),
                OCSP_ARCHIVE => ocsp(&self.archival.1),
                CRL_ARCHIVE => crl_status(cert, issuer, &self.archival.0, self.at, self.now),
                OCSP_ONLINE => match crate::ltv::fetch_ocsp(cert, issuer) {
                    Some(r) => ocsp(&[r]),
                    None => Revocation::NoData,
                },
                _ => {
                    let crls = crate::ltv::fetch_crls(std::slice::from_ref(cert));
                    crl_status(cert, issuer, &crls, self.at, self.now)
                }
            };
            match found {
                Revocation::NoData => {}
                Revocation::Stale(e) => {
                    stale.get_or_insert((e, source));
                }
                found => return (found, source),
            }
        }
        match stale {
            Some((e, source)) => (Revocation::Stale(e), source),
            None => (Revocation::NoData, ""),
        }
    }
}

/// Certificates stored in the DSS of the latest revision.
fn dss_certs(doc: &Doc) -> Vec<Certificate> {
    let mut out = Vec::new();
    let Ok(cat) = doc.catalog() else { return out };
    let Some(dss) = cat.get("DSS").and_then(|d| doc.resolve(d).ok()) else {
        return out;
    };
    let Some(certs) = dss
        .as_dict()
        .and_then(|d| d.get("Certs"))
        .and_then(|c| doc.resolve(c).ok())
    else {
        return out;
    };
    for c in certs.as_arr().unwrap_or(&[]) {
        if let Ok(s) = doc.resolve(c) {
            if let Ok(d) = doc.stream_data(&s) {
                if let Ok(c) = Certificate::from_der(&d) {
                    out.push(c);
                }
            }
        }
    }
    out
}

fn verify_one(doc: &Doc, field: &str, num: u32, opts: &VerifyOptions) -> SigReport {
    // A weak digest algorithm (SHA-1) under the signature, or a PAdES signature that does not
    // bind its certificate: never HỢP LỆ.
    let mut weak = false;
    let last = doc.sections.len() - 1;
    let mut r = SigReport {
        field: field.to_string(),
        kind: "signature".into(),
        subfilter: String::new(),
        signer: String::new(),
        signer_cert_sha256: String::new(),
        claimed_time: None,
        trusted_time: None,
        time_source: "now".into(),
        level: "—".into(),
        intact: false,
        valid: false,
        trusted: false,
        chain: Vec::new(),
        revocation: "chưa kiểm tra (not checked)".into(),
        revocation_ok: false,
        timestamp: None,
        certification: None,
        field_lock: None,
        revision: 0,
        revisions: doc.sections.len(),
        covers_final_revision: false,
        modifications: Vec::new(),
        modifications_allowed: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        verdict: INVALID.into(),
    };
    let fail = |mut r: SigReport, e: String| {
        r.errors.push(e);
        r.verdict = INVALID.into();
        r
    };
    // 1. The dictionary, located through the cross-reference of the latest revision.
    let (off, gen) = match doc.entry_in(num, last) {
        Some(Entry::Offset(o, g)) => (o, g),
        _ => {
            return fail(
                r,
                "Từ điển chữ ký không nằm trực tiếp trong tệp (signature dictionary not at a file offset)"
                    .into(),
            )
        }
    };
    let sigobj = match doc.parse_indirect_at(off, None) {
        Ok((_, o, _)) => doc.decrypted(num, gen, o),
        Err(e) => return fail(r, format!("{e}")),
    };
    let Some(sd) = sigobj.as_dict().cloned() else {
        return fail(
            r,
            "Giá trị chữ ký không phải từ điển (/V is not a dictionary)".into(),
        );
    };
    let is_ts = sd.name_is("Type", "DocTimeStamp");
    if is_ts {
        r.kind = "document_timestamp".into();
    }
    r.subfilter = sd
        .get("SubFilter")
        .and_then(Obj::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let subfilter = r.subfilter.clone();
    match (is_ts, subfilter.as_str()) {
        (false, "ETSI.CAdES.detached") | (true, "ETSI.RFC3161") => {}
        (false, "adbe.pkcs7.detached") => r
            .warnings
            .push("CMS, không theo PAdES (adbe.pkcs7.detached)".into()),
        // Deprecated forms (SHA-1 inside the CMS, or a bare PKCS#1 signature): vanthu cannot
        // check them, which says nothing about the document: CHƯA XÁC ĐỊNH, not invalid.
        (false, s @ ("adbe.pkcs7.sha1" | "adbe.x509.rsa_sha1")) => {
            r.errors.push(format!(
                "SubFilter {s} là dạng cũ (SHA-1) vanthu không kiểm tra được; hãy kiểm tra bằng \
                 công cụ khác (legacy signature format not supported)"
            ));
            r.verdict = UNDETERMINED.into();
            return r;
        }
        (_, s) => {
            return fail(
                r,
                format!("SubFilter {s:?} không được hỗ trợ (unsupported)"),
            )
        }
    }
    r.claimed_time = sd.get("M").and_then(Obj::as_str).map(decode_text);
    // 2. Spans of /Contents and /ByteRange inside this dictionary.
    let mut lx = Lexer::new(&doc.data, off);
    lx.uint();
    lx.uint();
    lx.word();
    let spans = match lx.dict_spans() {
        Ok(s) => s,
        Err(e) => return fail(r, e.to_string()),
    };
    let Some(&(_, cs, ce)) = spans.iter().find(|(k, _, _)| k == b"Contents") else {
        return fail(r, "Thiếu /Contents (no /Contents)".into());
    };
    if doc.data.get(cs) != Some(&b'<') || doc.data.get(ce - 1) != Some(&b'>') {
        return fail(
            r,
            "/Contents không phải chuỗi hex (/Contents is not a hex string)".into(),
        );
    }
    let br: Vec<i64> = match sd.get("ByteRange").and_then(Obj::as_arr) {
        Some(a) if a.len() == 4 && a.iter().all(|x| matches!(x, Obj::Int(_))) => {
            a.iter().filter_map(Obj::as_int).collect()
        }
        _ => {
            return fail(
                r,
                "/ByteRange phải gồm 4 số nguyên (/ByteRange must be 4 integers)".into(),
            )
        }
    };
    let len = doc.data.len() as i64;
    let (a, b, c, d) = (br[0], br[1], br[2], br[3]);
    if a != 0 || b <= 0 || c <= b || d < 0 || c.checked_add(d).is_none_or(|e| e > len) {
        return fail(
            r,
            format!("/ByteRange {br:?} không hợp lệ (invalid ByteRange)"),
        );
    }
    if b as usize != cs || c as usize != ce {
        return fail(
            r,
            format!(
                "/ByteRange {br:?} không bao đúng /Contents của chữ ký này [{cs}, {ce}) (ByteRange does not exclude exactly this signature's Contents: signature wrapping?)"
            ),
        );
    }
    if off >= cs {
        return fail(
            r,
            "Từ điển chữ ký nằm ngoài vùng được ký (dictionary not signed)".into(),
        );
    }
    // 3. The revision the signature ends.
    let end = (c + d) as usize;
    let rev = doc.sections.iter().position(|s| {
        s.end > 0
            && end >= s.end
            && end <= s.end + 2
            && doc.data[s.end..end]
                .iter()
                .all(|&x| x == b'\r' || x == b'\n')
    });
    let Some(mut rev) = rev else {
        return fail(
            r,
            "Vùng ký không kết thúc ở cuối một phiên bản (ByteRange does not end a revision)"
                .into(),
        );
    };
    // A linearized original has two sections: the main one at the end of the file comes first
    // in the chain, the first-page one near the start after it. A reader of the signed bytes
    // alone reads both — its chain starts at the signed bytes' own `startxref` — so the
    // signature covers both. Only sections of *that* chain count: a section planted in the
    // signed bytes but outside the signer's chain, and hooked in by a later update, is a later
    // change like any other (a shadow attack otherwise).
    let signed_chain = signed_chain(doc, end);
    while doc
        .sections
        .get(rev + 1)
        .is_some_and(|s| signed_chain.contains(&s.offset))
    {
        rev += 1;
    }
    r.revision = rev + 1;
    // 4. Contents: DER then only zero padding.
    let hexed = match Lexer::new(&doc.data, cs).object() {
        Ok(Obj::Str(s)) => s,
        _ => return fail(r, "/Contents hỏng (bad /Contents)".into()),
    };
    let Some((der_bytes, der_len)) = contents_cms(&hexed) else {
        return fail(
            r,
            "/Contents không chứa DER hợp lệ (no DER in /Contents)".into(),
        );
    };
    if hexed[der_len..].iter().any(|&x| x != 0) {
        return fail(
            r,
            "Có dữ liệu lạ sau chữ ký trong /Contents (non-zero bytes after the DER)".into(),
        );
    }
    let der_bytes = &der_bytes[..];
    // 5. The signed ranges, hashed once (streamed from the file when it is mapped).
    let ranges = [(0, b as usize), (c as usize, end)];
    let dss = dss_certs(doc);
    let now = opts
        .at
        .unwrap_or_else(time::OffsetDateTime::now_utc)
        .unix_timestamp();
    if is_ts {
        let (info, gen) = check_timestamp(
            der_bytes,
            &|h| doc.digest_ranges(h, &ranges),
            &opts.trust,
            &dss,
            Some((doc, opts, now)),
        );
        r.intact = info.intact;
        // The token's trust already includes its TSA path's revocation.
        r.trusted = info.trusted;
        r.revocation_ok = info.trusted;
        r.signer = info.tsa.clone();
        r.errors.extend(info.errors.iter().cloned());
        r.level = "DocTimeStamp".into();
        r.revocation = info.revocation.clone();
        r.warnings.extend(info.warnings.iter().cloned());
        if let Some(g) = gen {
            r.trusted_time = Some(fmt_time(g));
            r.time_source = "timestamp".into();
        }
        r.timestamp = Some(info);
    } else {
        let sdata = match parse_signed_data(der_bytes) {
            Ok(s) => s,
            Err(e) => return fail(r, format!("CMS hỏng: {e} (bad CMS)")),
        };
        if sdata.encap_content_info.econtent.is_some() {
            r.errors
                .push("CMS không tách rời (eContent present: not detached)".into());
        }
        if sdata.encap_content_info.econtent_type != ID_DATA {
            r.errors.push("eContentType khác id-data".into());
        }
        let pades = r.subfilter == "ETSI.CAdES.detached";
        let ck = check_cms(&sdata, &|h| doc.digest_ranges(h, &ranges), pades);
        if ck.unsupported {
            // Like a legacy SubFilter: not checkable here, which is not a sign of tampering.
            r.errors.extend(ck.errors.iter().cloned());
            r.errors.push(
                "vanthu không kiểm tra được chữ ký này; hãy kiểm tra bằng công cụ khác (cannot be \
                 checked by vanthu)"
                    .into(),
            );
            r.signer = ck
                .signer
                .as_ref()
                .map(|c| cn(&c.tbs_certificate.subject))
                .unwrap_or_default();
            r.verdict = UNDETERMINED.into();
            return r;
        }
        if let Some(alg) = ck.weak {
            weak = true;
            r.warnings.push(format!(
                "Chữ ký dùng thuật toán băm {alg} không còn an toàn (ETSI TS 119 312): tài liệu \
                 được kiểm tra toàn vẹn nhưng chữ ký không thể được coi là hợp lệ (weak hash \
                 algorithm: integrity checked, validity undetermined)"
            ));
        }
        if ck.no_ess {
            weak = true;
            r.warnings.push(
                "Thiếu thuộc tính signing-certificate-v2 mà PAdES bắt buộc: chữ ký không ràng \
                 buộc chứng thư của người ký, nên không thể được coi là hợp lệ dù nội dung \
                 không bị thay đổi (no ESS signing certificate, which PAdES requires: the \
                 signer's certificate is not bound; integrity checked, validity undetermined)"
                    .into(),
            );
        }
        r.errors.extend(ck.errors.iter().cloned());
        r.warnings.extend(ck.warnings.iter().cloned());
        r.intact = ck.intact && sdata.encap_content_info.econtent.is_none();
        r.level = if pades && ck.warnings.is_empty() {
            "B-B".into()
        } else {
            "CMS".into()
        };
        if sd.get("M").is_none() && pades {
            r.warnings.push("Thiếu /M (no /M)".into());
            r.level = "CMS".into();
        }
        if sd.get("Cert").is_some() {
            r.warnings
                .push("Có /Cert (a /Cert entry is present)".into());
        }
        let mut at = now;
        for (oid, vals) in &ck.unsigned {
            if *oid == ID_TIMESTAMP_TOKEN {
                if let Some(tok) = vals.first().and_then(|v| v.to_der().ok()) {
                    let mut extra = dss.clone();
                    extra.extend(ck.certs.iter().cloned());
                    let (info, gen) = check_timestamp(
                        &tok,
                        &|h| h.digest(&[&ck.signature_value]),
                        &opts.trust,
                        &extra,
                        Some((doc, opts, now)),
                    );
                    if info.intact && info.trusted {
                        r.warnings.extend(info.warnings.iter().cloned());
                        if let Some(g) = gen {
                            at = g;
                            r.trusted_time = Some(fmt_time(g));
                            r.time_source = "timestamp".into();
                            if r.level == "B-B" {
                                r.level = "B-T".into();
                            }
                        }
                    } else if info.intact {
                        // Intact but its authority not trusted (no path to an anchor, or its
                        // revocation not established): not a forgery, only not a proof of time.
                        r.warnings.push(format!(
                            "Dấu thời gian chưa được tin cậy, không dùng làm thời điểm ký: {} \
                             (signature timestamp not trusted: not used as the signing time)",
                            info.errors.join("; ")
                        ));
                    } else {
                        r.warnings.push(format!(
                            "Dấu thời gian không hợp lệ: {} (invalid signature timestamp)",
                            info.errors.join("; ")
                        ));
                    }
                    r.timestamp = Some(info);
                }
            } else {
                r.warnings.push(format!(
                    "Thuộc tính không ký lạ: {oid} (unexpected unsigned attribute)"
                ));
            }
        }
        if let Some(signer) = &ck.signer {
            r.signer = cn(&signer.tbs_certificate.subject);
            r.signer_cert_sha256 = hex::encode(cert_sha256(signer));
            let mut others = ck.certs.clone();
            others.extend(dss.iter().cloned());
            others.extend(
                opts.intermediates
                    .iter()
                    .filter_map(|d| Certificate::from_der(d).ok()),
            );
            // The file does not carry the signer's CA (a token that held only the signer's
            // certificate): online, it is fetched from the certificate's "CA Issuers" address.
            let issuer = &signer.tbs_certificate.issuer;
            if opts.online
                && *issuer != signer.tbs_certificate.subject
                && !others.iter().any(|c| c.tbs_certificate.subject == *issuer)
                && !opts.trust.iter().any(|d| {
                    Certificate::from_der(d).is_ok_and(|c| c.tbs_certificate.subject == *issuer)
                })
            {
                for (der, url) in crate::keys::fetch_issuers(signer) {
                    if let Ok(c) = Certificate::from_der(&der) {
                        r.warnings.push(format!(
                            "Tệp không kèm chứng thư CA \"{}\"; đã tải từ {url}, địa chỉ ghi trong \
                             chứng thư (the CA certificate was fetched from the CA Issuers address)",
                            cn(&c.tbs_certificate.subject)
                        ));
                        others.push(c);
                    }
                }
            }
            let chk = check_chain(signer, &others, &opts.trust, at);
            r.chain = chk.names.clone();
            if let Some(e) = &chk.error {
                r.errors.push(format!(
                    "Chứng thư không tin cậy tại thời điểm kiểm tra: {e} (certificate not trusted)"
                ));
            }
            let ku = key_usage_ok(signer);
            if !ku {
                r.errors.push(
                    "Chứng thư không cho phép ký số: keyUsage thiếu digitalSignature/nonRepudiation (certificate not trusted)"
                        .into(),
                );
            }
            if !eku_allows_documents(signer) {
                r.warnings.push(EKU_NOTE.into());
            }
            r.trusted = chk.ok && ku;
            check_revocation(
                &mut r,
                doc,
                &ck.archival,
                signer,
                &chk,
                &others,
                opts,
                at,
                now,
            );
        }
        // DocMDP.
        if let Some(refs) = sd.get("Reference").and_then(Obj::as_arr) {
            for rf in refs {
                let Ok(rf) = doc.resolve(rf) else { continue };
                let Some(rd) = rf.as_dict() else { continue };
                if rd.name_is("TransformMethod", "DocMDP") {
                    r.certification = Some(
                        rd.get("TransformParams")
                            .and_then(|t| doc.resolve(t).ok())
                            .and_then(|t| {
                                t.as_dict().and_then(|d| d.get("P")).and_then(Obj::as_int)
                            })
                            .unwrap_or(2),
                    );
                }
            }
        }
    }
    // 6. Changes after this signature: DocMDP (its own certification, or the document's as
    // it stood when it was signed) and its FieldMDP lock.
    let lock = if is_ts {
        None
    } else {
        field_lock(doc, &sd, num, rev)
    };
    r.field_lock = lock.as_ref().map(FieldLock::describe);
    let docmdp = r.certification.or_else(|| certified_level(doc, rev));
    r.covers_final_revision = rev == last;
    r.modifications = diff_after(doc, rev, docmdp, lock.as_ref());
    r.modifications_allowed = r
        .modifications
        .iter()
        .all(|m| m.class <= ChangeClass::FormFill);
    let forbidden = r
        .modifications
        .iter()
        .any(|m| m.class == ChangeClass::Forbidden);
    if forbidden {
        r.errors.push(
            "Có thay đổi không được phép sau khi ký (forbidden changes after signing)".into(),
        );
    }
    let trust_only = |e: &String| e.ends_with("(certificate not trusted)");
    r.valid = r.intact && r.errors.iter().all(trust_only);
    r.verdict = if !r.valid || forbidden {
        INVALID.into()
    } else if r.trusted && r.revocation_ok && r.modifications_allowed && !weak {
        VALID.into()
    } else {
        UNDETERMINED.into()
    };
    r
}

/// How a report names an intermediate CA on a path.
fn ca_role(c: &Certificate) -> String {
    format!(
        "CA trung gian \"{}\" (intermediate CA)",
        cn(&c.tbs_certificate.subject)
    )
}

/// Signing side: what `crls` and `ocsps` (just fetched) say about `chain` (the signer's
/// certificate first, then its CAs) at `now` — the first certificate found revoked or on hold,
/// described; `None` when nothing says so (good, or no data: the verifier reports that).
pub(crate) fn revoked_now(
    chain: &[Certificate],
    roots: &[Certificate],
    crls: &[Vec<u8>],
    ocsps: &[Vec<u8>],
    now: i64,
) -> Option<String> {
    let mut pool = chain.to_vec();
    pool.extend(roots.iter().cloned());
    // The signer's own CAs vouch for their OCSP answers here (the root may not have come with
    // the key): an answer signed by one of them or by a responder it delegated is believed.
    let trust: Vec<Vec<u8>> = pool
        .iter()
        .skip(1)
        .filter_map(|c| c.to_der().ok())
        .collect();
    let none = (Vec::new(), Vec::new());
    let src = RevocationSources {
        pool: &pool,
        trust: &trust,
        dss_ocsps: ocsps.to_vec(),
        dss_crls: crls.to_vec(),
        archival: &none,
        online: false,
        at: now,
        now,
    };
    for (k, cert) in chain.iter().enumerate() {
        if cert.tbs_certificate.issuer == cert.tbs_certificate.subject {
            break;
        }
        let Some(issuer) = pool
            .iter()
            .find(|p| p.tbs_certificate.subject == cert.tbs_certificate.issuer)
        else {
            break;
        };
        let role = if k == 0 {
            format!(
                "người ký \"{}\" (signer)",
                cn(&cert.tbs_certificate.subject)
            )
        } else {
            ca_role(cert)
        };
        let (st, source) = src.status(cert, issuer);
        // "OCSP" or "CRL": the data was just fetched, not read from a file.
        let by = source.split(' ').next().unwrap_or("");
        match st {
            Revocation::Revoked(t) => {
                return Some(format!("{role} bị thu hồi lúc {}, theo {by}", fmt_time(t)));
            }
            Revocation::Suspended(t) => {
                return Some(format!(
                    "{role} bị tạm dừng từ {} (on hold), theo {by}",
                    fmt_time(t)
                ));
            }
            _ => {}
        }
    }
    None
}

/// Applies [`path_revocation`] of the signer's path to its report.
#[allow(clippy::too_many_arguments)]
fn check_revocation(
    r: &mut SigReport,
    doc: &Doc,
    archival: &(Vec<Vec<u8>>, Vec<Vec<u8>>),
    signer: &Certificate,
    chk: &ChainCheck,
    others: &[Certificate],
    opts: &VerifyOptions,
    at: i64,
    now: i64,
) {
    let timed = r.time_source == "timestamp";
    let pr = path_revocation(
        doc,
        archival,
        signer,
        "người ký (signer)",
        chk,
        others,
        opts,
        at,
        now,
        timed,
    );
    r.revocation = pr.summary;
    r.revocation_ok = pr.errors.is_empty() && pr.unknown.is_none();
    r.errors.extend(pr.errors);
    r.warnings.extend(pr.warnings);
    // Fail closed: with no usable data the verdict is CHƯA XÁC ĐỊNH (the error marks it as a
    // trust question, not a broken signature).
    r.errors.extend(pr.unknown);
}

/// What the revocation check of one certificate path found.
struct PathRevocation {
    summary: String,
    /// A certificate revoked before the trusted time (or with none): not valid.
    errors: Vec<String>,
    warnings: Vec<String>,
    /// No usable data for some certificate (fail closed): the path is not trusted.
    unknown: Option<String>,
}

/// Revocation of every certificate on `leaf`'s path below the trust anchor (§4.1 items 10
/// and 11): revoked before the trusted time `at` (or with no trusted time, `timed` false) →
/// an error (KHÔNG HỢP LỆ); revoked after a trusted time → a note; no usable data (none, stale,
/// unauthorised responder) → `unknown` (CHƯA XÁC ĐỊNH) unless
/// [`VerifyOptions::soft_revocation`] makes it a warning.
#[allow(clippy::too_many_arguments)]
fn path_revocation(
    doc: &Doc,
    archival: &(Vec<Vec<u8>>, Vec<Vec<u8>>),
    leaf: &Certificate,
    leaf_role: &str,
    chk: &ChainCheck,
    others: &[Certificate],
    opts: &VerifyOptions,
    at: i64,
    now: i64,
    timed: bool,
) -> PathRevocation {
    let mut out = PathRevocation {
        summary: String::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        unknown: None,
    };
    let anchors: Vec<Certificate> = opts
        .trust
        .iter()
        .filter_map(|t| Certificate::from_der(t).ok())
        .collect();
    let mut pool = others.to_vec();
    pool.extend(anchors.iter().cloned());
    let path = if chk.certs.is_empty() {
        vec![leaf.clone()]
    } else {
        chk.certs.clone()
    };
    // (certificate, its issuer, role) for each certificate below the anchor.
    let mut targets = Vec::new();
    for (i, c) in path.iter().enumerate() {
        if anchors.contains(c) || c.tbs_certificate.issuer == c.tbs_certificate.subject {
            break;
        }
        let issuer = path.get(i + 1).cloned().or_else(|| {
            pool.iter()
                .find(|p| p.tbs_certificate.subject == c.tbs_certificate.issuer)
                .cloned()
        });
        let role = if i == 0 {
            leaf_role.to_string()
        } else {
            ca_role(c)
        };
        targets.push((c.clone(), issuer, role));
    }
    if targets.is_empty() {
        out.summary =
            "chứng thư là điểm tin cậy, không cần kiểm tra (the certificate is an anchor)".into();
        return out;
    }
    let src = RevocationSources {
        pool: &pool,
        trust: &opts.trust,
        dss_ocsps: dss_streams(doc, "OCSPs"),
        dss_crls: dss_streams(doc, "CRLs"),
        archival,
        // Never fetch URLs named by certificates that do not chain to an anchor.
        online: opts.online && chk.ok,
        at,
        now,
    };
    let (mut parts, mut missing, mut revoked) = (Vec::new(), Vec::new(), false);
    let mut suspended = Vec::new();
    for (k, (cert, issuer, role)) in targets.iter().enumerate() {
        let (st, source) = match issuer {
            Some(i) => src.status(cert, i),
            None => (Revocation::NoData, ""),
        };
        match st {
            Revocation::Good => parts.push(format!("{role}: tốt, chưa bị thu hồi ({source})")),
            Revocation::Revoked(t) => {
                revoked = true;
                parts.push(format!("{role}: BỊ THU HỒI lúc {} ({source})", fmt_time(t)));
                if timed && t > at {
                    out.warnings.push(format!(
                        "Chứng thư {role} bị thu hồi sau thời điểm ký có dấu thời gian (revoked after the trusted signing time)"
                    ));
                } else if k == 0 {
                    out.errors.push(format!(
                        "Chứng thư của {role} đã bị thu hồi (certificate revoked)"
                    ));
                } else {
                    out.errors.push(format!(
                        "Chứng thư {role} đã bị thu hồi (CA certificate in the path revoked)"
                    ));
                }
            }
            Revocation::Suspended(t) => {
                parts.push(format!(
                    "{role}: BỊ TẠM DỪNG từ {} (on hold) ({source})",
                    fmt_time(t)
                ));
                if timed && t > at {
                    out.warnings.push(format!(
                        "Chứng thư {role} bị tạm dừng sau thời điểm ký có dấu thời gian (suspended after the trusted signing time)"
                    ));
                } else {
                    suspended.push(role.clone());
                }
            }
            Revocation::NoData => {
                parts.push(format!(
                    "{role}: không có dữ liệu thu hồi (no revocation data)"
                ));
                missing.push(role.clone());
            }
            Revocation::Stale(e) => {
                parts.push(format!(
                    "{role}: dữ liệu thu hồi không dùng được, {e} ({source})"
                ));
                missing.push(role.clone());
            }
        }
    }
    let head = if revoked {
        "BỊ THU HỒI"
    } else if !suspended.is_empty() {
        "BỊ TẠM DỪNG"
    } else if missing.is_empty() {
        "tốt, chưa bị thu hồi"
    } else {
        "chưa xác định"
    };
    out.summary = format!("{head}: {}", parts.join("; "));
    if !suspended.is_empty() {
        // Data, not a lack of it: the soft check does not soften a suspension.
        out.unknown = Some(format!(
            "Chứng thư của {} đang bị tạm dừng, chưa xác định cho đến khi được khôi phục hoặc thu hồi hẳn; on hold (certificate not trusted)",
            suspended.join(", ")
        ));
    } else if !missing.is_empty() {
        if opts.soft_revocation {
            out.warnings.push(format!(
                "Chưa kiểm tra được tình trạng thu hồi của {} (revocation not checked: soft revocation check requested)",
                missing.join(", ")
            ));
        } else {
            // Fail closed: CHƯA XÁC ĐỊNH, never HỢP LỆ.
            out.unknown = Some(format!(
                "Không có dữ liệu thu hồi dùng được cho {}, no usable revocation data (certificate not trusted)",
                missing.join(", ")
            ));
        }
    }
    out
}

/// The signing self-check without a second hash pass: the signature dictionary reached from
/// the new file's AcroForm has exactly `br` as its ByteRange, around a `<…>` token holding
/// `der` then zero padding, and the CMS verifies (message-digest and signature value) against
/// `digest`, the SHA-256 of the bytes written; for a document timestamp (`is_ts`), the token's
/// imprint is `digest` and its signature verifies.
pub(crate) fn self_check(
    doc: &Doc,
    br: [usize; 4],
    der: &[u8],
    digest: &[u8],
    is_ts: bool,
) -> bool {
    signed_range_contents(doc, br).is_some_and(|contents| {
        contents.starts_with(der)
            && contents[der.len()..].iter().all(|&x| x == 0)
            && cms_matches(der, digest, is_ts)
    })
}

/// The first half of [`self_check`]: the /Contents of the signature dictionary whose
/// /ByteRange is `br`, when the range covers the whole file but the hex string between its
/// delimiters.
pub(crate) fn signed_range_contents(doc: &Doc, br: [usize; 4]) -> Option<Vec<u8>> {
    let want: Vec<i64> = br.iter().map(|&x| x as i64).collect();
    let sd = signature_fields(doc)
        .into_iter()
        .filter_map(|(_, n)| doc.get(n).ok())
        .filter_map(|o| o.as_dict().cloned())
        .find(|d| {
            d.get("ByteRange")
                .and_then(Obj::as_arr)
                .map(|a| a.iter().filter_map(Obj::as_int).collect::<Vec<_>>())
                == Some(want.clone())
        })?;
    let (b, c) = (br[1], br[2]);
    if doc.data.get(b) != Some(&b'<') || c == 0 || doc.data.get(c - 1) != Some(&b'>') {
        return None;
    }
    if br[2] + br[3] != doc.data.len() {
        return None;
    }
    sd.get("Contents").and_then(Obj::as_str).map(<[u8]>::to_vec)
}

/// The second half of [`self_check`]: the CMS `der` verifies (message-digest and signature
/// value) against `digest`; for a document timestamp (`is_ts`), the token's imprint is
/// `digest` and its signature verifies.
pub(crate) fn cms_matches(der: &[u8], digest: &[u8], is_ts: bool) -> bool {
    if is_ts {
        // vanthu asks its TSA for SHA-256 imprints.
        let imprint = |h| match h {
            crate::keys::Hash::S256 => digest.to_vec(),
            _ => Vec::new(),
        };
        return check_timestamp(der, &imprint, &[], &[], None).0.intact;
    }
    let Ok(sdata) = parse_signed_data(der) else {
        return false;
    };
    let digest_of = |h: crate::keys::Hash| match h {
        crate::keys::Hash::S256 => digest.to_vec(),
        _ => Vec::new(),
    };
    check_cms(&sdata, &digest_of, true).intact
}

/// The CMS at the start of a signature's `/Contents` (zero padding follows) and the bytes it
/// takes there: DER as it is, or BER with indefinite lengths, as NSS-based signers (poppler's
/// `pdfsig`, LibreOffice) write it, rewritten as DER ([`crate::ber`]; the signed attributes
/// stay byte for byte).
fn contents_cms(c: &[u8]) -> Option<(std::borrow::Cow<'_, [u8]>, usize)> {
    match der_total_len(c) {
        Some(l) if l <= c.len() => Some((std::borrow::Cow::Borrowed(&c[..l]), l)),
        _ => crate::ber::to_der(c).map(|(d, used)| (std::borrow::Cow::Owned(d), used)),
    }
}

/// Length of the DER TLV at the start of `b`.
fn der_total_len(b: &[u8]) -> Option<usize> {
    if b.len() < 2 {
        return None;
    }
    let l0 = b[1] as usize;
    if l0 < 0x80 {
        return Some(2 + l0);
    }
    let n = l0 & 0x7f;
    if n == 0 || n > 4 || b.len() < 2 + n {
        return None;
    }
    let len = b[2..2 + n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
    Some(2 + n + len)
}

fn type_of(o: &Obj) -> String {
    let Some(d) = o.as_dict() else {
        return match o {
            Obj::Arr(_) => "array".into(),
            _ => "object".into(),
        };
    };
    for k in ["Type", "FT", "Subtype"] {
        if let Some(n) = d.get(k).and_then(Obj::as_name) {
            return String::from_utf8_lossy(n).into_owned();
        }
    }
    if matches!(o, Obj::Stream(..)) {
        "stream".into()
    } else {
        "dictionary".into()
    }
}

/// Keys whose values differ between two dictionaries.
fn changed_keys(a: &Dict, b: &Dict) -> Vec<String> {
    let mut ks: BTreeSet<&[u8]> = a.0.iter().map(|(k, _)| k.as_slice()).collect();
    ks.extend(b.0.iter().map(|(k, _)| k.as_slice()));
    ks.into_iter()
        .filter(|k| {
            let k = String::from_utf8_lossy(k);
            a.get(&k) != b.get(&k)
        })
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect()
}

/// Whether `new` keeps every element of `old` (in order) and only adds.
fn extends(old: &[Obj], new: &[Obj]) -> bool {
    new.len() >= old.len() && new[..old.len()] == *old
}

/// Classifies every object changed by the revisions after `rev` (§4.2 of the spec).
fn diff_after(doc: &Doc, rev: usize, docmdp: Option<i64>, lock: Option<&FieldLock>) -> Vec<Change> {
    let last = doc.sections.len() - 1;
    let mut out = Vec::new();
    if rev >= last {
        return out;
    }
    let root = doc.root_ref().0;
    let old_root = doc.sections[..=rev]
        .iter()
        .rev()
        .find_map(|s| s.trailer.get("Root").and_then(Obj::as_ref));
    if old_root.map(|r| r.0) != Some(root) {
        out.push(Change {
            revision: rev + 2,
            object: root,
            class: ChangeClass::Forbidden,
            what: "Thay catalog của tài liệu (document catalog replaced)".into(),
        });
    }
    let mut nums = BTreeSet::new();
    for (k, s) in doc.sections.iter().enumerate().skip(rev + 1) {
        for n in s.entries.keys() {
            nums.insert((*n, k));
        }
    }
    // The encryption of the file (the key every reader decrypts the signed objects with):
    // its trailer entry and, when indirect, its object stay as they were signed.
    // (Each trailer names it; a reader takes the last one's, so dropping it counts too.)
    let encrypt_at = |k: usize| doc.sections[k].trailer.get("Encrypt").cloned();
    let old_encrypt = encrypt_at(rev);
    let encrypt_obj = old_encrypt.as_ref().and_then(Obj::as_ref).map(|r| r.0);
    let rewritten = nums
        .iter()
        .find(|(n, _)| Some(*n) == encrypt_obj)
        .map(|(_, k)| *k);
    if old_encrypt != encrypt_at(last) || rewritten.is_some() {
        out.push(Change {
            revision: rewritten.unwrap_or(last) + 1,
            object: encrypt_obj.unwrap_or(0),
            class: ChangeClass::Forbidden,
            what: "Thay đổi mã hóa của tệp sau khi ký (encryption dictionary changed)".into(),
        });
    }
    // First revision that touches each object.
    let mut first: std::collections::BTreeMap<u32, usize> = Default::default();
    for (n, k) in nums {
        first.entry(n).or_insert(k);
    }
    // Old state helpers.
    let old_cat = doc.get_in(root, rev).ok();
    let old_af_num = old_cat
        .as_ref()
        .and_then(|c| c.as_dict())
        .and_then(|c| c.get("AcroForm"))
        .and_then(Obj::as_ref)
        .map(|r| r.0);
    let old_fields_num = old_af_num
        .and_then(|n| doc.get_in(n, rev).ok())
        .or_else(|| {
            old_cat
                .as_ref()
                .and_then(|c| c.as_dict())
                .and_then(|c| c.get("AcroForm"))
                .cloned()
        })
        .and_then(|af| {
            af.as_dict()
                .and_then(|d| d.get("Fields"))
                .and_then(Obj::as_ref)
        })
        .map(|r| r.0);
    let old_pages: BTreeSet<u32> = old_page_refs(doc, rev);
    // A page as the reader sees it: its number in the final document, and its object.
    let page_list = doc.pages().unwrap_or_default();
    let page_no = |n: u32| page_list.iter().position(|p| p.0 == n).map(|i| i + 1);
    let page_name = |n: u32| match page_no(n) {
        Some(i) => format!("trang {i} (đối tượng {n})"),
        None => format!("đối tượng {n}"),
    };
    // Only the catalog's own XMP stream may change as "metadata".
    let old_meta = old_cat
        .as_ref()
        .and_then(|c| c.as_dict())
        .and_then(|c| c.get("Metadata"))
        .and_then(Obj::as_ref)
        .map(|r| r.0);
    // The DSS and the arrays/dictionaries it references (PAdES lets later revisions grow them).
    let mut old_dss: BTreeSet<u32> = BTreeSet::new();
    if let Some(dss) = old_cat
        .as_ref()
        .and_then(|c| c.as_dict())
        .and_then(|c| c.get("DSS"))
        .cloned()
    {
        if let Some((n, _)) = dss.as_ref() {
            old_dss.insert(n);
        }
        if let Ok(d) = doc.resolve_in(&dss, rev) {
            for k in ["Certs", "CRLs", "OCSPs", "VRI"] {
                if let Some((n, _)) = d.as_dict().and_then(|d| d.get(k)).and_then(Obj::as_ref) {
                    old_dss.insert(n);
                }
            }
            if let Some(vri) = d.as_dict().and_then(|d| d.get("VRI")) {
                if let Ok(v) = doc.resolve_in(vri, rev) {
                    for (_, e) in v.as_dict().map(|d| d.0.clone()).unwrap_or_default() {
                        if let Some((n, _)) = e.as_ref() {
                            old_dss.insert(n);
                        }
                    }
                }
            }
        }
    }
    let old_info = doc.sections[..=rev]
        .iter()
        .rev()
        .find_map(|s| s.trailer.get("Info").and_then(Obj::as_ref))
        .map(|r| r.0);
    // Pages' /Annots arrays held in objects of their own: array object → its page.
    let old_annots_arrays: BTreeMap<u32, u32> = old_pages
        .iter()
        .filter_map(|&p| {
            let a = doc.get_in(p, rev).ok()?;
            let r = a.as_dict()?.get("Annots").and_then(Obj::as_ref)?;
            Some((r.0, p))
        })
        .collect();
    // DocMDP P=1 forbids every change except, per PAdES, DSS updates and document timestamps:
    // the only signature fields that may appear are document-timestamp ones.
    let p1 = docmdp == Some(1);
    let is_doc_ts = |field: &Dict| -> bool {
        field
            .get("V")
            .and_then(|v| doc.resolve(v).ok())
            .is_some_and(|v| {
                v.as_dict()
                    .is_some_and(|d| d.name_is("Type", "DocTimeStamp"))
            })
    };
    // Widgets listed as /Kids of a signature field in the final form, by object number: some
    // writers leave out the widget's /Parent. Read only when such a widget turns up.
    let sig_kids = std::cell::OnceCell::new();
    let sig_kids = || -> &BTreeMap<u32, Dict> {
        sig_kids.get_or_init(|| {
            let mut out = BTreeMap::new();
            let final_fields = doc
                .catalog()
                .ok()
                .and_then(|c| c.get("AcroForm").and_then(|a| doc.resolve(a).ok()))
                .and_then(|a| a.as_dict().and_then(|d| d.get("Fields").cloned()))
                .and_then(|f| doc.resolve(&f).ok())
                .and_then(|f| f.as_arr().map(<[Obj]>::to_vec))
                .unwrap_or_default();
            for f in final_fields.iter().take(10_000) {
                let Some(fd) = doc.resolve(f).ok().and_then(|f| f.as_dict().cloned()) else {
                    continue;
                };
                if !fd.name_is("FT", "Sig") {
                    continue;
                }
                let kids = fd
                    .get("Kids")
                    .and_then(|k| doc.resolve(k).ok())
                    .and_then(|k| k.as_arr().map(<[Obj]>::to_vec))
                    .unwrap_or_default();
                for k in kids {
                    if let Some((n, _)) = k.as_ref() {
                        out.insert(n, fd.clone());
                    }
                }
            }
            out
        })
    };
    let is_sig_widget = |o: &Obj| -> bool {
        let Some(d) = doc.resolve(o).ok().and_then(|w| w.as_dict().cloned()) else {
            return false;
        };
        let field = if d.name_is("FT", "Sig") {
            Some(d)
        } else {
            d.get("Parent")
                .and_then(|p| doc.resolve(p).ok())
                .and_then(|p| p.as_dict().cloned())
                .filter(|p| p.name_is("FT", "Sig"))
                .or_else(|| {
                    o.as_ref()
                        .filter(|_| d.name_is("Subtype", "Widget") && d.get("Parent").is_none())
                        .and_then(|(n, _)| sig_kids().get(&n).cloned())
                })
        };
        field.is_some_and(|f| !p1 || is_doc_ts(&f))
    };
    // An annotation that is not a widget (no form field behind it).
    let is_markup = |o: &Obj| -> bool {
        doc.resolve(o)
            .ok()
            .and_then(|a| a.as_dict().cloned())
            .is_some_and(|d| is_markup_dict(&d))
    };
    let annots_added = |old: &[Obj], new: &[Obj]| -> ChangeClass {
        if !extends(old, new) {
            return ChangeClass::Forbidden;
        }
        // A new *visible* signature field after certification can paint over certified
        // content (pyHanko refuses it too): signers must fill pre-created fields.
        let visible = |o: &Obj| {
            doc.resolve(o)
                .ok()
                .and_then(|w| {
                    w.as_dict()
                        .and_then(|d| d.get("Rect"))
                        .and_then(Obj::as_arr)
                        .map(|r| r.iter().filter_map(Obj::as_num).collect::<Vec<_>>())
                })
                .is_some_and(|r| {
                    r.len() == 4 && (r[2] - r[0]).abs() > 0.0 && (r[3] - r[1]).abs() > 0.0
                })
        };
        let added = &new[old.len()..];
        if added.iter().all(is_sig_widget) {
            if docmdp.is_some() && added.iter().any(visible) {
                ChangeClass::Forbidden
            } else {
                ChangeClass::Allowed
            }
        } else if docmdp == Some(3) && added.iter().all(|o| is_sig_widget(o) || is_markup(o)) {
            // P=3: the certifier allowed annotations (not new form fields).
            ChangeClass::Allowed
        } else if docmdp.is_some() {
            ChangeClass::Forbidden
        } else {
            ChangeClass::Review
        }
    };
    for (n, k) in first {
        let revision = k + 1;
        let old = doc.get_in(n, rev);
        let new = doc.get_in(n, last);
        let (old, new) = match (old, new) {
            (Ok(o), Ok(nw)) => (o, nw),
            (_, Err(e)) | (Err(e), _) => {
                out.push(Change {
                    revision,
                    object: n,
                    class: ChangeClass::Forbidden,
                    what: format!("Đối tượng {n} không đọc được: {e} (unreadable object)"),
                });
                continue;
            }
        };
        if old == new {
            continue;
        }
        if let Some(d) = new.as_dict() {
            if d.name_is("Type", "XRef") || d.name_is("Type", "ObjStm") && old == Obj::Null {
                continue;
            }
        }
        if old == Obj::Null {
            // A new object: harmless unless something old points to it, which shows up as a
            // change of that old object.
            continue;
        }
        let mut push = |class: ChangeClass, what: String| {
            // Under P=1 nothing short of "allowed" (DSS, document timestamps, metadata) is.
            let (class, what) = if p1 && class != ChangeClass::Allowed {
                (
                    ChangeClass::Forbidden,
                    format!("{what} — tài liệu khóa P=1 (change under DocMDP P=1)"),
                )
            } else {
                (class, what)
            };
            out.push(Change {
                revision,
                object: n,
                class,
                what,
            })
        };
        if new == Obj::Null {
            push(
                ChangeClass::Forbidden,
                format!("Đối tượng {n} ({}) bị xóa (object freed)", type_of(&old)),
            );
            continue;
        }
        let (Some(od), Some(nd)) = (old.as_dict(), new.as_dict()) else {
            // Arrays: field list or annotation array.
            let (Some(oa), Some(na)) = (old.as_arr(), new.as_arr()) else {
                push(
                    ChangeClass::Forbidden,
                    format!("Đối tượng {n} ({}) bị sửa (object modified)", type_of(&old)),
                );
                continue;
            };
            if Some(n) == old_fields_num {
                let c = if extends(oa, na) && na[oa.len()..].iter().all(is_sig_widget) {
                    ChangeClass::Allowed
                } else {
                    ChangeClass::Forbidden
                };
                push(c, "Danh sách trường biểu mẫu (form field list)".into());
            } else if let Some(&page) = old_annots_arrays.get(&n) {
                let c = annots_added(oa, na);
                push(
                    c,
                    format!("Chú thích trang (page annotations), {}", page_name(page)),
                );
            } else {
                push(
                    ChangeClass::Forbidden,
                    format!("Mảng {n} bị sửa (array modified)"),
                );
            }
            continue;
        };
        let ck = changed_keys(od, nd);
        let only = |allowed: &[&str]| ck.iter().all(|k| allowed.contains(&k.as_str()));
        if n == root {
            let mut class = ChangeClass::Allowed;
            for key in &ck {
                let c = match key.as_str() {
                    "DSS" | "Extensions" | "Version" => ChangeClass::Allowed,
                    "AcroForm" => match (od.get("AcroForm"), nd.get("AcroForm")) {
                        (Some(Obj::Dict(a)), Some(Obj::Dict(b))) => {
                            acroform_change(a, b, &is_sig_widget)
                        }
                        (None, Some(_)) => ChangeClass::Allowed,
                        _ => ChangeClass::Forbidden,
                    },
                    // XMP metadata is not rendered; pyHanko and Adobe update it on signing.
                    "Metadata" => match nd.get("Metadata").map(|m| doc.resolve(m)) {
                        Some(Ok(m))
                            if m.as_dict().is_some_and(|d| {
                                d.name_is("Type", "Metadata") && d.name_is("Subtype", "XML")
                            }) =>
                        {
                            ChangeClass::Allowed
                        }
                        _ => ChangeClass::Review,
                    },
                    _ => ChangeClass::Forbidden,
                };
                class = class.max(c);
            }
            push(
                class,
                format!("Catalog: {} (document catalog)", ck.join(", ")),
            );
        } else if old_dss.contains(&n) && !matches!(new, Obj::Stream(..)) {
            push(
                ChangeClass::Allowed,
                format!("Cập nhật DSS {n}: {} (DSS update)", ck.join(", ")),
            );
        } else if (Some(n) == old_info
            && !matches!(old, Obj::Stream(..))
            && !matches!(new, Obj::Stream(..)))
            || (Some(n) == old_meta
                && od.name_is("Type", "Metadata")
                && nd.name_is("Type", "Metadata")
                && nd.name_is("Subtype", "XML"))
        {
            push(
                ChangeClass::Allowed,
                format!(
                    "Thông tin tài liệu/XMP {n}: {} (document information)",
                    ck.join(", ")
                ),
            );
        } else if Some(n) == old_af_num {
            push(
                acroform_change(od, nd, &is_sig_widget),
                format!("AcroForm: {}", ck.join(", ")),
            );
        } else if old_pages.contains(&n) {
            if only(&["Annots"]) {
                // The arrays as of each revision, whether the page holds them directly or by
                // reference (Acrobat keeps them in their own object, and a later signer may
                // write a direct array in their place).
                let annots = |d: &Dict, view: usize| -> Option<Vec<Obj>> {
                    match d.get("Annots") {
                        None => Some(Vec::new()),
                        Some(Obj::Arr(a)) => Some(a.clone()),
                        Some(Obj::Ref(r, _)) => doc
                            .get_in(*r, view)
                            .ok()
                            .and_then(|o| o.as_arr().map(<[Obj]>::to_vec)),
                        Some(_) => None,
                    }
                };
                let c = match (annots(od, rev), annots(nd, last)) {
                    (Some(oa), Some(na)) => annots_added(&oa, &na),
                    _ => ChangeClass::Forbidden,
                };
                push(
                    c,
                    format!("Chú thích trang (page annotations), {}", page_name(n)),
                );
            } else {
                push(
                    ChangeClass::Forbidden,
                    format!(
                        "Trang {}bị sửa (đối tượng {n}): {} (page modified)",
                        page_no(n).map(|i| format!("{i} ")).unwrap_or_default(),
                        ck.join(", ")
                    ),
                );
            }
        } else if docmdp == Some(3)
            && is_markup(&Obj::Ref(n, 0))
            && is_markup_dict(od)
            && !ck.iter().any(|k| k == "Subtype" || k == "P")
        {
            push(
                ChangeClass::Allowed,
                format!(
                    "Sửa chú thích {n} ({}): {} — DocMDP P=3 cho phép (annotation changed under P=3)",
                    type_of(&old),
                    ck.join(", ")
                ),
            );
        } else if od.name_is("FT", "Sig") && od.get("V").is_none() {
            let name = field_name_in(doc, od, rev);
            let (c, why) = match lock {
                Some(l) if l.locks(&name) => (
                    ChangeClass::Forbidden,
                    format!(
                        ": trường bị khóa bởi chữ ký ({}) (locked by FieldMDP)",
                        l.describe()
                    ),
                ),
                _ if p1 && !is_doc_ts(nd) => (
                    ChangeClass::Forbidden,
                    ": chỉ dấu thời gian tài liệu (only a document timestamp)".into(),
                ),
                _ if only(&["V", "AP", "Lock", "MK", "SV", "F"]) => {
                    (ChangeClass::Allowed, String::new())
                }
                _ => (ChangeClass::Forbidden, String::new()),
            };
            push(
                c,
                format!(
                    "Điền trường chữ ký \"{name}\" (đối tượng {n}){why} (signature field filled)"
                ),
            );
        } else if (od.get("FT").is_some()
            || od.name_is("Subtype", "Widget") && od.get("Parent").is_some())
            && !od.name_is("FT", "Sig")
            && only(&["V", "AP", "AS"])
        {
            // A fill is allowed only when FieldMDP leaves the field open or DocMDP P≥2 allows
            // form filling; otherwise it is "another field" (§4.2), and a fill whose appearance
            // paints over signed content is the shadow "replace" attack.
            let name = field_name_in(doc, od, rev);
            let (c, why) = match (lock, docmdp) {
                (Some(l), _) if l.locks(&name) => (
                    ChangeClass::Forbidden,
                    format!(
                        "trường bị khóa bởi chữ ký ({}) (locked by FieldMDP)",
                        l.describe()
                    ),
                ),
                (Some(l), _) => (
                    ChangeClass::FormFill,
                    format!("được {} cho phép (allowed by FieldMDP)", l.describe()),
                ),
                (None, Some(p)) if p >= 2 => (
                    ChangeClass::FormFill,
                    format!("được DocMDP P={p} cho phép (allowed by DocMDP)"),
                ),
                _ => (
                    ChangeClass::Forbidden,
                    "không được FieldMDP hay DocMDP cho phép (not allowed by FieldMDP or DocMDP)"
                        .into(),
                ),
            };
            push(
                c,
                format!(
                    "Điền trường biểu mẫu \"{name}\" (đối tượng {n}): {why} (form field filled)"
                ),
            );
        } else {
            push(
                ChangeClass::Forbidden,
                format!(
                    "Đối tượng {n} ({}) bị sửa: {} (object modified)",
                    type_of(&old),
                    ck.join(", ")
                ),
            );
        }
    }
    out
}

/// A markup annotation dictionary: an annotation other than a widget.
fn is_markup_dict(d: &Dict) -> bool {
    d.get("Subtype").is_some()
        && !d.name_is("Subtype", "Widget")
        && d.get("FT").is_none()
        && d.get("Parent").is_none()
}

fn acroform_change(a: &Dict, b: &Dict, is_sig_widget: &dyn Fn(&Obj) -> bool) -> ChangeClass {
    let mut class = ChangeClass::Allowed;
    for k in changed_keys(a, b) {
        let c = match k.as_str() {
            "SigFlags" | "DR" | "DA" => ChangeClass::Allowed,
            "Fields" => match (a.get("Fields"), b.get("Fields")) {
                (Some(Obj::Arr(x)), Some(Obj::Arr(y))) => {
                    if extends(x, y) && y[x.len()..].iter().all(is_sig_widget) {
                        ChangeClass::Allowed
                    } else {
                        ChangeClass::Forbidden
                    }
                }
                (None, Some(Obj::Arr(y))) if y.iter().all(is_sig_widget) => ChangeClass::Allowed,
                _ => ChangeClass::Forbidden,
            },
            _ => ChangeClass::Forbidden,
        };
        class = class.max(c);
    }
    class
}

fn old_page_refs(doc: &Doc, rev: usize) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    let Ok(cat) = doc.get_in(doc.root_ref().0, rev) else {
        return out;
    };
    let Some(root) = cat
        .as_dict()
        .and_then(|d| d.get("Pages"))
        .and_then(Obj::as_ref)
    else {
        return out;
    };
    let mut stack = vec![(root.0, 0)];
    while let Some((n, depth)) = stack.pop() {
        if depth > 64 || !out.insert(n) {
            continue;
        }
        if let Ok(o) = doc.get_in(n, rev) {
            if let Some(kids) = o
                .as_dict()
                .and_then(|d| d.get("Kids"))
                .and_then(Obj::as_arr)
            {
                for k in kids {
                    if let Some((kn, _)) = k.as_ref() {
                        stack.push((kn, depth + 1));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{asn1_text_unix, cn, generalized_time};
    use der::Decode;

    /// The signer's name from its certificate: BMPString (older Vietnamese CAs) decoded, a
    /// comma inside the name kept, the most specific CN taken.
    #[test]
    fn common_names_in_any_string_type() {
        let utf16: Vec<u8> = "Nguyễn".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, utf16.len() as u8];
        atv.extend_from_slice(&utf16);
        let mut seq = vec![0x30, atv.len() as u8];
        seq.extend_from_slice(&atv);
        let mut set = vec![0x31, seq.len() as u8];
        set.extend_from_slice(&seq);
        let mut name = vec![0x30, set.len() as u8];
        name.extend_from_slice(&set);
        let n = x509_cert::name::Name::from_der(&name).unwrap();
        assert_eq!(cn(&n), "Nguyễn");
        let n: x509_cert::name::Name = "CN=Sở Nội vụ\\, tỉnh Hòa Bình,O=UBND,CN=Trần Thị B"
            .parse()
            .unwrap();
        // RFC 4514 text is most specific first: "Sở Nội vụ, tỉnh Hòa Bình" is the leaf CN.
        assert_eq!(cn(&n), "Sở Nội vụ, tỉnh Hòa Bình");
    }

    /// OpenSSL's display of an ASN.1 time, with and without fractional seconds (an OCSP
    /// thisUpdate as certomancer and some CAs write it).
    #[test]
    fn openssl_time_text_reads_fractions() {
        let whole = asn1_text_unix("Dec  4 22:36:06 2026 GMT").unwrap();
        assert_eq!(
            asn1_text_unix("Dec  4 22:36:06.975064 2026 GMT"),
            Some(whole)
        );
        assert_eq!(
            asn1_text_unix("Dec 14 22:36:06.5 2026 GMT"),
            Some(whole + 10 * 86400)
        );
        assert_eq!(asn1_text_unix("Dec  4 22:36:06. 2026 GMT"), None);
        assert_eq!(asn1_text_unix("Dec  4 22:36:06.9x 2026 GMT"), None);
        // As OpenSSL shows an OCSP thisUpdate with fractional seconds.
        let t = openssl::asn1::Asn1GeneralizedTime::from_str("20261204223606.975064Z").unwrap();
        assert_eq!(t.to_string(), "Dec  4 22:36:06.975064 2026 GMT");
        assert_eq!(asn1_text_unix(&t.to_string()), Some(whole));
    }

    /// genTime with and without fractional seconds (RFC 3161 allows them; pyHanko and many
    /// TSAs write microseconds); anything else is unreadable, not a guess.
    #[test]
    fn generalized_time_reads_fractions_and_refuses_the_rest() {
        assert_eq!(generalized_time(b"20261204210944Z"), Some(1_796_418_584));
        assert_eq!(
            generalized_time(b"20261204210944.123456Z"),
            Some(1_796_418_584)
        );
        assert_eq!(generalized_time(b"20261204210944.5Z"), Some(1_796_418_584));
        for bad in [
            &b"20261204210944"[..],
            b"20261204210944.Z",
            b"20261304210944Z",
            b"2026120421094Z",
            b"20261204210944+0700",
            b"",
        ] {
            assert_eq!(
                generalized_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
