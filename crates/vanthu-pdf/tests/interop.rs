//! vanthu signs, pyHanko and qpdf judge; pyHanko signs, vanthu judges.

mod common;

use common::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::verify::{verify_bytes, VALID};

#[test]
fn vanthu_signs_classic_pdf_pyhanko_and_qpdf_accept() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_pdf(2, "Quyet dinh so 12");
    let signed = sign_bytes(
        input.clone(),
        &p12("leader"),
        &SignOptions {
            reason: Some("Phê duyệt văn bản".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(&signed[..input.len()], &input[..], "original bytes kept");
    let f = dir.path().join("signed.pdf");
    std::fs::write(&f, &signed).unwrap();
    let rep = verify_bytes(signed, &opts()).unwrap();
    assert_eq!(rep.signatures.len(), 1, "{rep:#?}");
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, VALID, "{rep:#?}");
    assert_eq!(s.level, "B-B");
    assert_eq!(s.signer, "Nguyễn Văn An");
    assert!(s.covers_final_revision);
    let (ok, out) = pyhanko_validate(&f, &[]);
    assert!(ok, "pyHanko: {out}");
    assert!(out.contains(":VALID") && !out.contains("INVALID"), "{out}");
    eprintln!("pyHanko: {out}");
    let (ok, out) = qpdf_check(&f);
    assert!(ok, "qpdf: {out}");
}
