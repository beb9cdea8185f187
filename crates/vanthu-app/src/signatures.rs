//! Digital signatures on received PDFs: every PDF that arrives (over the axis or registered by
//! hand) is validated with `vanthu-pdf` against the shipped Vietnamese roots plus the agency's
//! own trust anchors, and the report is kept with the file (Decree 30/2020 Art. 21.2.a). The
//! clerk sees the verdict beside the document; nothing is sent back automatically (returning a
//! document with a bad signature, status 02, is the clerk's decision).
//!
//! Signing a stored PDF ([`App::sign_pdf`]) happens in memory: the file is decrypted into a
//! buffer, signed with `vanthu_pdf::sign_document` and stored again as a new encrypted file
//! beside the original, so no plaintext byte of the document reaches disk.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vanthu_store::store::rfc3339;
use vanthu_store::FileRow;

use crate::register::content_type_of;
use crate::{App, AppError};

/// PDFs larger than this are not validated automatically: they are decrypted into memory
/// (never to disk), and a sync must stay within its memory budget. The clerk exports such a
/// file and runs `vanthu pdf verify` on it.
pub const MAX_CHECK_BYTES: u64 = 32 * 1024 * 1024;

/// PDFs larger than this are not signed inside the app (signing holds the document in memory
/// twice at most: the decrypted original, then the signed copy while it is stored). Larger
/// files are exported and signed with `vanthu pdf sign`, which streams.
pub const MAX_SIGN_BYTES: u64 = 256 * 1024 * 1024;

/// A PDF signed inside the app.
#[derive(Debug, Clone)]
pub struct SignedFile {
    /// The file that was signed (kept as it was).
    pub original: FileRow,
    /// The signed file, attached to the same document.
    pub signed: FileRow,
    /// What was repaired before signing, and notes for the signer.
    pub report: vanthu_pdf::Signed,
}

/// The name of the signed copy of `name`: `X.pdf` becomes `X (đã ký).pdf`, then
/// `X (đã ký 2).pdf` and so on, never one of `taken`; a name that already says it was signed
/// counts up from its own mark instead of adding a second one.
pub fn signed_name(name: &str, taken: &[String]) -> String {
    let stem = name
        .strip_suffix(".pdf")
        .or_else(|| name.strip_suffix(".PDF"))
        .unwrap_or(name);
    let stem = match stem.rfind(" (đã ký") {
        Some(i) if stem.ends_with(')') => &stem[..i],
        _ => stem,
    };
    (1..)
        .map(|n| match n {
            1 => format!("{stem} (đã ký).pdf"),
            n => format!("{stem} (đã ký {n}).pdf"),
        })
        .find(|c| !taken.contains(c))
        .expect("an unused name")
}

type TrustMaterial = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Verdict of a file with no signature at all.
pub const NO_SIGNATURE: &str = "KHÔNG CÓ CHỮ KÝ";
/// Verdict of a file that could not be validated (corrupt, needing a password to open, too
/// large).
pub const CHECK_ERROR: &str = "LỖI";

/// One of the agency's own trust anchors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustAnchor {
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
    /// Subject, one line.
    pub subject: String,
    /// When added.
    pub added_at: String,
    /// By whom.
    pub added_by: String,
}

/// The stored validation of one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// File.
    pub file_id: String,
    /// File name (not stored: joined from the file row).
    #[serde(default)]
    pub name: String,
    /// When checked.
    pub checked_at: String,
    /// SHA-256 of the checked bytes.
    pub file_sha256: String,
    /// HỢP LỆ, KHÔNG HỢP LỆ, CHƯA XÁC ĐỊNH, KHÔNG CÓ CHỮ KÝ or LỖI.
    pub verdict: String,
    /// Number of signatures and document timestamps.
    pub signatures: i64,
    /// Every signature intact, valid, trusted, later changes allowed.
    pub all_valid: i64,
    /// One line per signature.
    pub summary: String,
    /// The full report (JSON text).
    pub report: String,
}

fn is_pdf(f: &FileRow) -> bool {
    f.content_type.as_deref() == Some("application/pdf")
        || content_type_of(&f.name) == Some("application/pdf")
}

fn subject_line(c: &openssl::x509::X509Ref) -> String {
    c.subject_name()
        .entries()
        .filter_map(|e| {
            let k = e.object().nid().short_name().ok()?;
            let v = String::from_utf8_lossy(e.data().as_slice()).into_owned();
            Some(format!("{k}={v}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    /// Adds trust anchors from PEM (one or several certificates) or DER. Returns those added
    /// (already known ones are skipped).
    pub fn trust_add(&mut self, bytes: &[u8]) -> Result<Vec<TrustAnchor>, AppError> {
        let certs = vanthu_pdf::trust::read_certificates(bytes).ok_or_else(|| {
            AppError::BadInput(
                "Không đọc được chứng thư (cần tệp PEM hoặc DER) (no certificate in the file)"
                    .into(),
            )
        })?;
        let known: Vec<String> = self.trust_list()?.into_iter().map(|a| a.sha256).collect();
        let mut added = Vec::new();
        let actor = self.actor().to_string();
        self.store_mut().write(&actor, |tx| {
            for c in &certs {
                let der = c
                    .to_der()
                    .map_err(|e| AppError::BadInput(format!("chứng thư hỏng: {e}")))?;
                let fp = hex::encode_upper(Sha256::digest(&der));
                if known.contains(&fp) || added.iter().any(|a: &TrustAnchor| a.sha256 == fp) {
                    continue;
                }
                let a = TrustAnchor {
                    sha256: fp,
                    subject: subject_line(c),
                    added_at: rfc3339(tx.now),
                    added_by: actor.clone(),
                };
                tx.execute_json(
                    "INSERT INTO trust_anchor (sha256, subject, der, added_at, added_by)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    &[
                        json!(a.sha256),
                        json!(a.subject),
                        json!(hex::encode(&der)),
                        json!(a.added_at),
                        json!(a.added_by),
                    ],
                )?;
                tx.audit("trust.add", &a.sha256, json!({"subject": a.subject}))?;
                added.push(a);
            }
            Ok::<_, AppError>(())
        })?;
        Ok(added)
    }

    /// The agency's own trust anchors.
    pub fn trust_list(&self) -> Result<Vec<TrustAnchor>, AppError> {
        Ok(self.store().query_rows(
            "SELECT sha256, subject, added_at, added_by FROM trust_anchor ORDER BY added_at",
            &[],
        )?)
    }

    /// Anchors and intermediates for validation: the agency's own plus the shipped
    /// Vietnamese roots (see `certs/README.md`).
    fn trust_material(&self) -> Result<TrustMaterial, AppError> {
        let (mut anchors, inter) = vanthu_pdf::trust::vietnam();
        let rows: Vec<Value> = self
            .store()
            .query_rows("SELECT der FROM trust_anchor", &[])?;
        for r in rows {
            if let Some(d) = r["der"].as_str().and_then(|h| hex::decode(h).ok()) {
                anchors.push(d);
            }
        }
        Ok((anchors, inter))
    }

    /// Validates every PDF of a document now and stores the reports (replacing earlier ones).
    pub fn check_signatures(&mut self, document_id: &str) -> Result<Vec<SignatureCheck>, AppError> {
        let files = self.store().files_of(document_id)?;
        let (trust, intermediates) = self.trust_material()?;
        let mut out = Vec::new();
        for f in files.iter().filter(|f| is_pdf(f)) {
            let check = self.check_file(f, &trust, &intermediates)?;
            let actor = self.actor().to_string();
            self.store_mut().write(&actor, |tx| {
                tx.execute_json(
                    "INSERT INTO signature_check (file_id, checked_at, file_sha256, verdict,
                     signatures, all_valid, summary, report)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (file_id) DO UPDATE SET checked_at = ?2, file_sha256 = ?3,
                     verdict = ?4, signatures = ?5, all_valid = ?6, summary = ?7, report = ?8",
                    &[
                        json!(check.file_id),
                        json!(check.checked_at),
                        json!(check.file_sha256),
                        json!(check.verdict),
                        json!(check.signatures),
                        json!(check.all_valid),
                        json!(check.summary),
                        json!(check.report),
                    ],
                )?;
                tx.audit(
                    "signature.check",
                    &check.file_id,
                    json!({"document": document_id, "verdict": check.verdict,
                           "signatures": check.signatures, "sha256": check.file_sha256}),
                )?;
                Ok::<_, AppError>(())
            })?;
            out.push(check);
        }
        Ok(out)
    }

    fn check_file(
        &self,
        f: &FileRow,
        trust: &[Vec<u8>],
        intermediates: &[Vec<u8>],
    ) -> Result<SignatureCheck, AppError> {
        let now = rfc3339(self.store().now());
        let base =
            |verdict: &str, n: i64, ok: bool, summary: String, report: String| SignatureCheck {
                file_id: f.id.clone(),
                name: f.name.clone(),
                checked_at: now.clone(),
                file_sha256: f.sha256.clone(),
                verdict: verdict.into(),
                signatures: n,
                all_valid: ok as i64,
                summary,
                report,
            };
        let error = |msg: String| {
            let report = json!({ "error": msg }).to_string();
            base(CHECK_ERROR, 0, false, msg, report)
        };
        if f.size > MAX_CHECK_BYTES {
            return Ok(error(format!(
                "Tệp quá lớn để kiểm tra tự động ({} MiB, tối đa {} MiB); xuất tệp rồi kiểm tra bằng vanthu pdf verify (file too large for the automatic check)",
                f.size >> 20,
                MAX_CHECK_BYTES >> 20
            )));
        }
        let data = self.read_file_bounded(f, MAX_CHECK_BYTES)?;
        let opts = vanthu_pdf::verify::VerifyOptions {
            trust: trust.to_vec(),
            intermediates: intermediates.to_vec(),
            online: true,
            ..Default::default()
        };
        Ok(match vanthu_pdf::verify_bytes(data, &opts) {
            Err(e) => error(e.to_string()),
            Ok(rep) if rep.signatures.is_empty() => base(
                NO_SIGNATURE,
                0,
                false,
                "Tệp không có chữ ký số (no digital signature)".into(),
                serde_json::to_string(&rep).unwrap_or_default(),
            ),
            Ok(rep) => {
                let summary = rep
                    .signatures
                    .iter()
                    .map(|s| {
                        let who = if s.signer.is_empty() {
                            &s.field
                        } else {
                            &s.signer
                        };
                        format!("{who}: {} ({})", s.verdict, s.level)
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                base(
                    &rep.verdict,
                    rep.signatures.len() as i64,
                    rep.all_valid,
                    summary,
                    serde_json::to_string(&rep).unwrap_or_default(),
                )
            }
        })
    }

    /// Signs one PDF of a document (`which`: position from 1 or name, default the first) with
    /// `signer` at `opts` and attaches the signed file beside the original, which is kept. The
    /// document is decrypted into memory and signed there ([`vanthu_pdf::sign_document`]: the
    /// same refusals and self-check as `vanthu pdf sign`); the result is stored encrypted.
    /// Nothing is attached when any step fails. Validation of the result is
    /// [`App::check_signatures`]'s (it may go online for revocation data).
    pub fn sign_pdf(
        &mut self,
        document_id: &str,
        which: Option<&str>,
        signer: &dyn vanthu_pdf::Signer,
        opts: &vanthu_pdf::SignOptions,
    ) -> Result<SignedFile, AppError> {
        let original = self.pick_file(document_id, which)?;
        if !is_pdf(&original) {
            return Err(AppError::BadInput(format!(
                "Tệp {} không phải PDF, không ký được (only PDF files are signed)",
                original.name
            )));
        }
        if original.size > MAX_SIGN_BYTES {
            return Err(AppError::BadInput(format!(
                "Tệp quá lớn để ký trong ứng dụng ({} MiB, tối đa {} MiB); xuất tệp rồi ký bằng \
                 vanthu pdf sign (file too large to sign in the app)",
                original.size >> 20,
                MAX_SIGN_BYTES >> 20
            )));
        }
        // Room for the signature revision: the signed document is this buffer, extended.
        let data = self.read_file_with_room(
            &original,
            MAX_SIGN_BYTES,
            vanthu_pdf::sign::SIGNATURE_HEADROOM,
        )?;
        if hex::encode(Sha256::digest(&data)) != original.sha256 {
            return Err(AppError::HashMismatch(original.name.clone()));
        }
        let (signed, report) = vanthu_pdf::sign_document(data, signer, opts)?;
        let taken: Vec<String> = self
            .store()
            .files_of(document_id)?
            .into_iter()
            .map(|f| f.name)
            .collect();
        let name = signed_name(&original.name, &taken);
        let info = self.store().blobs().put(&mut signed.as_slice())?;
        let signer_subject = signer
            .chain()
            .first()
            .map(|c| c.tbs_certificate.subject.to_string())
            .unwrap_or_default();
        let actor = self.actor().to_string();
        let res = self.store_mut().write(&actor, |tx| {
            let row = tx.attach_file(document_id, &name, Some("application/pdf"), &info)?;
            tx.audit(
                "signature.sign",
                document_id,
                json!({
                    "file_id": original.id,
                    "signed_file_id": row.id,
                    "sha256": original.sha256,
                    "signed_sha256": row.sha256,
                    "signer": signer_subject,
                    "level": opts.level.as_str(),
                    "repaired": report.repaired.is_some(),
                }),
            )?;
            Ok::<_, AppError>(row)
        });
        let signed = match res {
            Ok(row) => row,
            Err(e) => {
                let _ = self.store().blobs().remove(&info.id);
                return Err(e);
            }
        };
        Ok(SignedFile {
            original,
            signed,
            report,
        })
    }

    /// The stored reports of a document's files.
    pub fn signature_checks(&self, document_id: &str) -> Result<Vec<SignatureCheck>, AppError> {
        Ok(self.store().query_rows(
            "SELECT c.file_id, f.name, c.checked_at, c.file_sha256, c.verdict, c.signatures,
                    c.all_valid, c.summary, c.report
             FROM signature_check c JOIN files f ON f.id = c.file_id
             WHERE f.document_id = ?1 ORDER BY f.created_at, f.rowid",
            &[json!(document_id)],
        )?)
    }

    /// Documents with PDFs that have never been checked (newest first, at most `limit`).
    pub fn unchecked_signature_documents(&self, limit: usize) -> Result<Vec<String>, AppError> {
        let rows: Vec<Value> = self.store().query_rows(
            "SELECT DISTINCT f.document_id AS id FROM files f
             LEFT JOIN signature_check c ON c.file_id = f.id
             WHERE c.file_id IS NULL
               AND (f.content_type = 'application/pdf' OR lower(f.name) LIKE '%.pdf')
             ORDER BY f.created_at DESC LIMIT ?1",
            &[json!(limit as i64)],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect())
    }
}
