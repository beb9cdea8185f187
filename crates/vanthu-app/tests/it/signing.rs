//! Signing a stored PDF inside the app: decrypted into memory, signed there, stored encrypted
//! beside the original; refusals attach nothing.

use std::path::{Path, PathBuf};

use vanthu_app::{AppError, IncomingInput};
use vanthu_pdf::SignOptions;

use crate::*;

/// Bytes that appear in the PDF's content stream as they are: found on disk only if a
/// plaintext copy was written.
const MARKER: &str = "VANTHU-PLAINTEXT-MARKER-5e1c";

fn pki(dir: &Path) -> PathBuf {
    let pki = dir.join("pki");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs/test-pki.sh");
    let st = std::process::Command::new("bash")
        .arg(script)
        .arg(&pki)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    pki
}

fn key(pki: &Path, name: &str) -> vanthu_pdf::keys::SoftKey {
    let der = std::fs::read(pki.join(format!("{name}.p12"))).unwrap();
    vanthu_pdf::keys::load_p12(&der, "1234").unwrap()
}

/// A one-page PDF (classic cross-reference table) whose content stream shows `MARKER`.
fn one_page_pdf() -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 760 Td ({MARKER}) Tj ET");
    let bodies = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{b}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offs.len() + 1).as_bytes());
    for o in &offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n",
            offs.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn register_with(app: &mut vanthu_app::App, files: &[(&str, &[u8])]) -> String {
    // A new number each time (the same number twice would be a possible duplicate).
    let n = app.list_incoming(None).unwrap().len() + 15;
    let doc = app
        .register_incoming(
            &IncomingInput {
                so_ky_hieu: Some(format!("{n}/QĐ-UBND")),
                tac_gia: Some("Ủy ban nhân dân tỉnh Hòa Bình".into()),
                ngay_van_ban: Some("2026-12-01".into()),
                trich_yeu: Some("Quyết định bổ nhiệm".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    for (name, bytes) in files {
        app.attach_reader(&doc.id, name, &mut &bytes[..]).unwrap();
    }
    doc.id
}

fn read_stored(app: &vanthu_app::App, f: &vanthu_store::FileRow) -> Vec<u8> {
    let mut v = Vec::new();
    std::io::Read::read_to_end(
        &mut app.store().blobs().open_blob(&f.blob_id).unwrap(),
        &mut v,
    )
    .unwrap();
    v
}

fn valid(bytes: Vec<u8>, pki: &Path, n: usize) {
    let rep = vanthu_pdf::verify_bytes(
        bytes,
        &vanthu_pdf::verify::VerifyOptions {
            trust: vec![std::fs::read(pki.join("root.der")).unwrap()],
            soft_revocation: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(rep.signatures.len(), n, "{rep:#?}");
    assert!(rep.all_valid, "{rep:#?}");
}

/// Every file under `dir` (the store: database, blobs, keys, temporary files).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A leader signs a stored PDF, then the clerk countersigns the signed copy: each signature
/// is added in memory and stored encrypted as a new file beside the one it signed (kept
/// byte for byte), both validate, the audit trail records each signing and holds, and no
/// byte of the document's plaintext is anywhere in the store's folder.
#[test]
fn a_stored_pdf_is_signed_in_memory_and_kept_encrypted() {
    let d = tempfile::tempdir().unwrap();
    let pki = pki(d.path());
    let store = d.path().join("store");
    let mut app = new_app(&store);
    let original = one_page_pdf();
    let id = register_with(&mut app, &[("quyet-dinh.pdf", &original)]);
    let done = app
        .sign_pdf(&id, None, &key(&pki, "leader"), &SignOptions::default())
        .unwrap();
    assert_eq!(done.original.name, "quyet-dinh.pdf");
    assert_eq!(done.signed.name, "quyet-dinh (đã ký).pdf");
    assert_eq!(done.signed.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(done.report.repaired, None);
    let signed = read_stored(&app, &done.signed);
    assert!(signed.starts_with(&original), "an incremental update");
    assert_eq!(read_stored(&app, &done.original), original);
    valid(signed.clone(), &pki, 1);
    // The clerk countersigns the signed copy, picked by name.
    let again = app
        .sign_pdf(
            &id,
            Some("quyet-dinh (đã ký).pdf"),
            &key(&pki, "clerk"),
            &SignOptions::default(),
        )
        .unwrap();
    assert_eq!(again.signed.name, "quyet-dinh (đã ký 2).pdf");
    let twice = read_stored(&app, &again.signed);
    assert!(twice.starts_with(&signed));
    valid(twice, &pki, 2);
    let names: Vec<String> = app
        .store()
        .files_of(&id)
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(
        names,
        [
            "quyet-dinh.pdf",
            "quyet-dinh (đã ký).pdf",
            "quyet-dinh (đã ký 2).pdf"
        ]
    );
    let audit: Vec<serde_json::Value> = app
        .store()
        .query_rows(
            "SELECT data FROM audit WHERE action = 'signature.sign' ORDER BY seq",
            &[],
        )
        .unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    let first: serde_json::Value =
        serde_json::from_str(audit[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(first["signed_file_id"], done.signed.id.as_str());
    assert_eq!(first["level"], "B-B");
    assert!(first["signer"].as_str().unwrap().contains("CN="), "{first}");
    let audit = app.verify_audit().unwrap();
    assert!(
        audit.first_broken.is_none() && audit.row_problems.is_empty(),
        "audit chain holds: {audit:?}"
    );
    drop(app);
    for f in files_under(&store) {
        let bytes = std::fs::read(&f).unwrap();
        for needle in [MARKER.as_bytes(), b"%PDF-".as_slice(), b"/ByteRange"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "plaintext {:?} in {}",
                String::from_utf8_lossy(needle),
                f.display()
            );
        }
    }
}

/// What cannot be signed says why and attaches nothing (no file row, no stored blob): a file
/// that is not a PDF, a PDF whose earlier signature was broken after signing, a key that does
/// not match its certificate, a document without files.
#[test]
fn refused_signing_attaches_nothing() {
    let d = tempfile::tempdir().unwrap();
    let pki = pki(d.path());
    let mut app = new_app(&d.path().join("store"));
    let good = vanthu_pdf::sign_bytes(
        one_page_pdf(),
        &key(&pki, "leader"),
        &SignOptions::default(),
    )
    .unwrap();
    let mut broken = good.clone();
    let at = broken
        .windows(MARKER.len())
        .position(|w| w == MARKER.as_bytes())
        .unwrap();
    broken[at] = b'X';
    let id = register_with(
        &mut app,
        &[
            ("ghi-chu.txt", b"khong phai PDF".as_slice()),
            ("bi-sua.pdf", &broken),
        ],
    );
    let before = (
        app.store().files_of(&id).unwrap().len(),
        app.store().blobs().list().unwrap().len(),
    );
    let so = SignOptions::default();
    let e = app
        .sign_pdf(&id, Some("ghi-chu.txt"), &key(&pki, "clerk"), &so)
        .unwrap_err();
    assert!(matches!(e, AppError::BadInput(_)), "{e}");
    assert!(e.to_string().contains("only PDF files are signed"), "{e}");
    let e = app
        .sign_pdf(&id, Some("bi-sua.pdf"), &key(&pki, "clerk"), &so)
        .unwrap_err();
    assert!(matches!(e, AppError::Pdf(_)), "{e}");
    assert!(
        e.to_string().contains("existing signature is broken"),
        "{e}"
    );
    assert_eq!(e.code(), "pdf");
    // The right certificate with another signer's key.
    struct WrongKey(vanthu_pdf::keys::SoftKey, vanthu_pdf::keys::SoftKey);
    impl vanthu_pdf::Signer for WrongKey {
        fn chain(&self) -> &[vanthu_pdf::x509_cert::Certificate] {
            self.0.chain()
        }
        fn algorithm(&self) -> vanthu_pdf::KeyAlg {
            self.1.algorithm()
        }
        fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, vanthu_pdf::PdfError> {
            self.1.sign(tbs)
        }
    }
    let good_id = register_with(&mut app, &[("tot.pdf", &one_page_pdf())]);
    let e = app
        .sign_pdf(
            &good_id,
            None,
            &WrongKey(key(&pki, "leader"), key(&pki, "ocspok")),
            &so,
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("signature does not match the certificate key"),
        "{e}"
    );
    assert_eq!(
        (
            app.store().files_of(&id).unwrap().len(),
            app.store().blobs().list().unwrap().len()
        ),
        (before.0, before.1 + 1),
        "only tot.pdf was added"
    );
    let empty = register_with(&mut app, &[]);
    let e = app
        .sign_pdf(&empty, None, &key(&pki, "leader"), &so)
        .unwrap_err();
    assert!(e.to_string().contains("document has no file"), "{e}");
    let none: Vec<serde_json::Value> = app
        .store()
        .query_rows("SELECT seq FROM audit WHERE action = 'signature.sign'", &[])
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn signed_copies_are_named_after_the_original() {
    use vanthu_app::signatures::signed_name;
    let none: Vec<String> = Vec::new();
    assert_eq!(signed_name("QĐ 15.pdf", &none), "QĐ 15 (đã ký).pdf");
    assert_eq!(signed_name("SCAN.PDF", &none), "SCAN (đã ký).pdf");
    assert_eq!(signed_name("ke-hoach", &none), "ke-hoach (đã ký).pdf");
    let taken = vec!["a (đã ký).pdf".to_string(), "a (đã ký 2).pdf".to_string()];
    assert_eq!(signed_name("a.pdf", &taken), "a (đã ký 3).pdf");
    assert_eq!(signed_name("a (đã ký).pdf", &taken), "a (đã ký 3).pdf");
    assert_eq!(signed_name("a (đã ký 2).pdf", &taken), "a (đã ký 3).pdf");
    // Parentheses that are not the mark stay.
    assert_eq!(
        signed_name("b (bản sao).pdf", &none),
        "b (bản sao) (đã ký).pdf"
    );
}
