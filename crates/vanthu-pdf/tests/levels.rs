//! PAdES levels with a loopback timestamp authority; pyHanko's B-T/B-LT/B-LTA files in vanthu.

mod common;

use common::*;
use vanthu_pdf::sign::{sign_bytes, sign_pades, Level, SignOptions};
use vanthu_pdf::verify::verify_bytes;

#[test]
fn b_t_signature_with_loopback_tsa() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let out = sign_bytes(
        sample_pdf(1, "Quyet dinh"),
        &p12("leader"),
        &SignOptions {
            tsa_url: Some(tsa.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let f = dir.path().join("bt.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(s.level, "B-T");
    assert_eq!(s.time_source, "timestamp");
    let ts = s.timestamp.as_ref().unwrap();
    assert!(ts.intact && ts.trusted, "{ts:#?}");
    assert_eq!(ts.tsa, "vanthu Test TSA");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    let (ok, txt) = qpdf_check(&f);
    assert!(ok, "{txt}");
}

#[test]
fn pyhanko_b_lta_is_understood_by_vanthu() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Bao cao")).unwrap();
    let k = pki();
    for (name, extra) in [
        ("bt", vec![]),
        ("blta", vec!["--use-pades-lta", "--with-validation-info"]),
    ] {
        let out_f = dir.path().join(format!("{name}.pdf"));
        let mut c = pyhanko();
        c.args([
            "--verbose",
            "sign",
            "addsig",
            "--field",
            "LanhDao1",
            "--use-pades",
            "--timestamp-url",
            &tsa,
        ]);
        c.args(&extra);
        if !extra.is_empty() {
            c.arg("--trust")
                .arg(k.join("root.pem"))
                .arg("--trust-replace");
        }
        let o = c
            .args(["pemder", "--no-pass"])
            .arg("--key")
            .arg(k.join("leader.key.pem"))
            .arg("--cert")
            .arg(k.join("leader.pem"))
            .arg("--chain")
            .arg(k.join("chain.pem"))
            .arg(&src)
            .arg(&out_f)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rep = verify_bytes(std::fs::read(&out_f).unwrap(), &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        let s = &rep.signatures[0];
        assert_eq!(s.time_source, "timestamp", "{name}");
        let want = if name == "bt" { "B-T" } else { "B-LTA" };
        assert_eq!(s.level, want, "{name}");
    }
}

#[test]
fn vanthu_b_lt_and_b_lta_validate_in_pyhanko_and_vanthu() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    for (level, want, revs) in [(Level::BLT, "B-LT", 3), (Level::BLTA, "B-LTA", 4)] {
        let out = sign_pades(
            sample_pdf(1, "Luu tru"),
            &p12("leader"),
            &SignOptions {
                level,
                tsa_url: Some(tsa.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let f = dir.path().join(format!("{want}.pdf"));
        std::fs::write(&f, &out).unwrap();
        let rep = verify_bytes(out, &opts()).unwrap();
        assert!(rep.all_valid, "{want}: {rep:#?}");
        assert_eq!(rep.revisions, revs);
        let s = &rep.signatures[0];
        assert_eq!(s.level, want, "{rep:#?}");
        // The VRI key is the uppercase SHA-1 of the first signature's decoded /Contents.
        let doc = vanthu_pdf::doc::Doc::parse(std::fs::read(&f).unwrap()).unwrap();
        let cat = doc.catalog().unwrap();
        let dss = doc.resolve(cat.get("DSS").unwrap()).unwrap();
        let vri = dss
            .as_dict()
            .unwrap()
            .get("VRI")
            .unwrap()
            .as_dict()
            .unwrap()
            .clone();
        assert!(!vri.0.is_empty());
        assert!(vri.0.iter().all(|(k, _)| k.len() == 40
            && k.iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())));
        assert!(s.revocation.starts_with("tốt"), "{}", s.revocation);
        let (ok, txt) = pyhanko_validate(&f, &[]);
        assert!(ok && !txt.contains("INVALID"), "{want}: pyHanko: {txt}");
        let (ok, txt) = qpdf_check(&f);
        assert!(ok, "{txt}");
    }
}

#[test]
fn revoked_signer_is_invalid_with_dss_crl() {
    let tsa = start_tsa();
    let out = sign_pades(
        sample_pdf(1, "x"),
        &p12("revoked"),
        &SignOptions {
            level: Level::BLT,
            tsa_url: Some(tsa),
            ..Default::default()
        },
    )
    .unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!rep.all_valid);
    assert!(s.revocation.contains("THU HỒI"), "{s:#?}");
}

#[test]
fn missing_revocation_data_fails_closed_on_request() {
    // B-B by a signer whose certificate has no revocation pointers reachable from the file.
    let out = sign_bytes(
        sample_pdf(1, "x"),
        &p12("clerk384"),
        &SignOptions::default(),
    )
    .unwrap();
    let rep = verify_bytes(out.clone(), &opts()).unwrap();
    assert!(rep.all_valid, "soft by default: {rep:#?}");
    let strict = vanthu_pdf::verify::VerifyOptions {
        require_revocation: true,
        ..opts()
    };
    let rep = verify_bytes(out, &strict).unwrap();
    assert!(!rep.all_valid);
    assert_eq!(rep.signatures[0].verdict, vanthu_pdf::verify::UNDETERMINED);
}

#[test]
fn ocsp_in_the_dss_both_directions() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    // vanthu B-LT: the DSS carries the responder's answer for the signer.
    let out = sign_pades(
        sample_pdf(1, "OCSP"),
        &p12("ocspok"),
        &SignOptions {
            level: Level::BLT,
            tsa_url: Some(tsa.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let f = dir.path().join("v.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert!(
        rep.signatures[0].revocation.contains("OCSP"),
        "{}",
        rep.signatures[0].revocation
    );
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    // pyHanko B-LT with validation info fetched from the same responder.
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "OCSP")).unwrap();
    let py = dir.path().join("py.pdf");
    let k = pki();
    let o = pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "--use-pades",
            "--with-validation-info",
        ])
        .args(["--timestamp-url", &tsa, "--trust"])
        .arg(k.join("root.pem"))
        .args(["--trust-replace", "pemder", "--no-pass", "--key"])
        .arg(k.join("ocspok.key.pem"))
        .arg("--cert")
        .arg(k.join("ocspok.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(&src)
        .arg(&py)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rep = verify_bytes(std::fs::read(&py).unwrap(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert!(
        rep.signatures[0].revocation.contains("OCSP"),
        "{}",
        rep.signatures[0].revocation
    );
    assert_eq!(rep.signatures[0].level, "B-LT");
}
