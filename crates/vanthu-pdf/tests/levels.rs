//! PAdES levels with a loopback timestamp authority; pyHanko's B-T/B-LT/B-LTA files in vanthu.

mod common;

use common::*;
use vanthu_pdf::sign::{sign_bytes, sign_pades, Level, SignOptions};
use vanthu_pdf::verify::{verify_bytes, VerifyOptions, INVALID, UNDETERMINED, VALID};

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
    // The offline AdES check can fail: a B-T file carries no revocation data.
    let bt = dir.path().join("B-T.pdf");
    let opts_bt = SignOptions {
        level: Level::BT,
        tsa_url: Some(tsa.clone()),
        ..Default::default()
    };
    std::fs::write(
        &bt,
        sign_pades(sample_pdf(1, "Luu tru"), &p12("leader"), &opts_bt).unwrap(),
    )
    .unwrap();
    let (ok, txt) = pyhanko_ades_offline(&bt);
    assert!(!ok && txt.contains("bottom_line=False"), "B-T: {txt}");
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
        // pyHanko's AdES validation, offline, with revocation data required for every
        // certificate (signer, CA, TSA): the file alone must carry it. A B-LT file has no
        // later document timestamp, so its long-term part is indeterminate (NO_POE) while
        // its bottom line holds — the same as for pyHanko's own B-LT files.
        let (ok, txt) = pyhanko_ades_offline(&f);
        assert!(ok, "{want}: pyHanko AdES: {txt}");
        if level == Level::BLTA {
            assert!(txt.contains("AdESPassed.OK"), "{want}: pyHanko AdES: {txt}");
        }
        let (ok, txt) = qpdf_check(&f);
        assert!(ok, "{txt}");
    }
}

/// A B-LT file from another tool, signed with a revoked certificate (vanthu refuses to make
/// one: see `b_lt_and_b_lta_refuse_a_revoked_or_held_certificate`).
#[test]
fn revoked_signer_is_invalid_with_dss_crl() {
    let tsa = start_tsa();
    let bt = sign_pades(
        sample_pdf(1, "x"),
        &p12("revoked"),
        &SignOptions {
            level: Level::BT,
            tsa_url: Some(tsa),
            ..Default::default()
        },
    )
    .unwrap();
    let out = vanthu_pdf::ltv::add_dss(bt, &[root_der()]).unwrap();
    let rep = verify_bytes(out.clone(), &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.level, "B-LT", "{s:#?}");
    assert_eq!(s.verdict, INVALID, "{s:#?}");
    assert!(s.revocation.contains("THU HỒI"), "{s:#?}");
    let rep = verify_bytes(out, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!rep.all_valid);
    assert!(s.revocation.contains("THU HỒI"), "{s:#?}");
}

#[test]
fn missing_revocation_data_is_undetermined_by_default() {
    // B-B: the file carries no revocation data; offline, nothing else can be asked.
    let out = sign_bytes(
        sample_pdf(1, "x"),
        &p12("clerk384"),
        &SignOptions::default(),
    )
    .unwrap();
    let rep = verify_bytes(out.clone(), &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!rep.all_valid, "{rep:#?}");
    assert_eq!(s.verdict, UNDETERMINED, "{s:#?}");
    assert_eq!(rep.verdict, UNDETERMINED);
    assert!(s.intact && s.valid, "integrity is not in question: {s:#?}");
    assert!(
        s.trusted && !s.revocation_ok,
        "the path is trusted, revocation unknown: {s:#?}"
    );
    assert!(
        s.errors
            .iter()
            .any(|e| e.contains("no usable revocation data")),
        "{s:#?}"
    );
    // The explicit opt-out: valid, with a warning.
    let soft = VerifyOptions {
        soft_revocation: true,
        ..offline_opts()
    };
    let rep = verify_bytes(out.clone(), &soft).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(s.verdict, VALID);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("revocation not checked")),
        "{s:#?}"
    );
    // Online, the test PKI's CRLs answer for the signer and for the intermediate CA.
    let rep = verify_bytes(out, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert!(s.revocation.starts_with("tốt"), "{}", s.revocation);
    assert!(
        s.revocation.contains("CA trung gian") && s.revocation.contains("CRL trực tuyến"),
        "{}",
        s.revocation
    );
}

#[test]
fn revoked_intermediate_is_invalid() {
    // `underbad` is valid itself, but the root has revoked its issuing CA.
    let out = sign_bytes(
        sample_pdf(1, "x"),
        &p12("underbad"),
        &SignOptions::default(),
    )
    .unwrap();
    let rep = verify_bytes(out.clone(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!rep.all_valid);
    assert_eq!(s.verdict, INVALID, "{s:#?}");
    assert!(s.revocation.starts_with("BỊ THU HỒI"), "{}", s.revocation);
    assert!(
        s.errors
            .iter()
            .any(|e| e.contains("CA certificate in the path revoked")),
        "{s:#?}"
    );
    // Offline, with the root's CRL in the DSS: the same verdict.
    let crl = std::fs::read(pki().join("root.crl")).unwrap();
    let certs = ["badinter.pem", "underbad.pem"]
        .iter()
        .map(|n| pem_der(&pki().join(n)))
        .collect();
    let lt = vanthu_pdf::ltv::append_dss(out, certs, vec![crl], Vec::new()).unwrap();
    let rep = verify_bytes(lt, &offline_opts()).unwrap();
    assert_eq!(rep.signatures[0].verdict, INVALID, "{rep:#?}");
    assert!(rep.signatures[0].revocation.contains("CRL trong tệp"));
}

/// An OCSP response for `ocspok` made by `openssl ocsp`, signed by `signer` (a PKI file stem).
fn ocsp_response(dir: &std::path::Path, signer: &str) -> Vec<u8> {
    ocsp_response_for(dir, signer, "ocspok")
}

/// An OCSP response about `cert` (a PKI file stem), signed by `signer`.
fn ocsp_response_for(dir: &std::path::Path, signer: &str, cert: &str) -> Vec<u8> {
    let k = pki();
    let req = dir.join(format!("{signer}-{cert}.req"));
    let resp = dir.join(format!("{signer}-{cert}.resp"));
    let run = |c: &mut std::process::Command| {
        let o = c.current_dir(k).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(std::process::Command::new("openssl")
        .args([
            "ocsp",
            "-no_nonce",
            "-issuer",
            "inter.pem",
            "-cert",
            &format!("{cert}.pem"),
            "-reqout",
        ])
        .arg(&req));
    run(std::process::Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "ca/index.txt",
            "-CA",
            "inter.pem",
            "-ndays",
            "1",
        ])
        .args(["-rsigner", &format!("{signer}.pem")])
        .args(["-rkey", &format!("{signer}.key.pem"), "-reqin"])
        .arg(&req)
        .arg("-respout")
        .arg(&resp));
    std::fs::read(resp).unwrap()
}

fn pem_der(p: &std::path::Path) -> Vec<u8> {
    openssl::x509::X509::from_pem(&std::fs::read(p).unwrap())
        .unwrap()
        .to_der()
        .unwrap()
}

#[test]
fn ocsp_freshness_and_responder_authority_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let signed = sign_bytes(sample_pdf(1, "x"), &p12("ocspok"), &SignOptions::default()).unwrap();
    let root_crl = std::fs::read(pki().join("root.crl")).unwrap();
    let certs = || {
        vec![
            pem_der(&pki().join("ocspok.pem")),
            pem_der(&pki().join("inter.pem")),
        ]
    };
    // The delegated responder (EKU OCSPSigning, issued by the CA): good, now.
    let good = ocsp_response(dir.path(), "ocsp");
    let lt =
        vanthu_pdf::ltv::append_dss(signed.clone(), certs(), vec![root_crl.clone()], vec![good])
            .unwrap();
    let rep = verify_bytes(lt.clone(), &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert!(s.revocation.contains("OCSP trong tệp"), "{}", s.revocation);
    // Three days later the response (nextUpdate = +1 day) is stale, and without a timestamp
    // nothing proves the signature older: not good, CHƯA XÁC ĐỊNH.
    let later = VerifyOptions {
        at: Some(time::OffsetDateTime::now_utc() + time::Duration::days(3)),
        ..offline_opts()
    };
    let rep = verify_bytes(lt, &later).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, UNDETERMINED, "{s:#?}");
    assert!(s.revocation.contains("stale"), "{}", s.revocation);
    // A response signed by a certificate the CA issued without the OCSPSigning EKU (the
    // leader's): ignored, so no revocation data for the signer.
    let rogue = ocsp_response(dir.path(), "leader");
    let lt = vanthu_pdf::ltv::append_dss(signed, certs(), vec![root_crl], vec![rogue]).unwrap();
    let rep = verify_bytes(lt, &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, UNDETERMINED, "{s:#?}");
    assert!(
        s.revocation.contains("người ký (signer): không có dữ liệu"),
        "{}",
        s.revocation
    );
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

#[test]
fn timestamp_authority_revocation_is_checked_too() {
    // B-T by `ocspok`; the file then carries the responder's answer for the signer and the
    // root's CRL for the intermediate, but nothing for the TSA (its CRL is inter.crl).
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let bt = sign_bytes(
        sample_pdf(1, "x"),
        &p12("ocspok"),
        &SignOptions {
            tsa_url: Some(tsa),
            ..Default::default()
        },
    )
    .unwrap();
    let root_crl = std::fs::read(pki().join("root.crl")).unwrap();
    let inter_crl = std::fs::read(pki().join("inter.crl")).unwrap();
    let certs = || {
        vec![
            pem_der(&pki().join("ocspok.pem")),
            pem_der(&pki().join("inter.pem")),
        ]
    };
    let ocsp = ocsp_response(dir.path(), "ocsp");
    let partial = vanthu_pdf::ltv::append_dss(
        bt.clone(),
        certs(),
        vec![root_crl.clone()],
        vec![ocsp.clone()],
    )
    .unwrap();
    // Offline: the timestamp cannot be trusted (fail closed), so the signature has no trusted
    // time: it is judged now, at B-B, and says why.
    let rep = verify_bytes(partial.clone(), &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    let ts = s.timestamp.as_ref().unwrap();
    assert!(ts.intact && !ts.trusted, "{ts:#?}");
    assert!(
        ts.errors
            .iter()
            .any(|e| e.contains("no usable revocation data")),
        "{ts:#?}"
    );
    assert!(
        ts.revocation.contains("TSA: không có dữ liệu"),
        "{}",
        ts.revocation
    );
    assert_eq!(s.time_source, "now");
    assert_eq!(s.level, "B-B");
    // Said as it is: not trusted (not used as the signing time), not "invalid" (forged).
    assert!(
        s.warnings
            .iter()
            .any(|w| w.starts_with("Dấu thời gian chưa được tin cậy, không dùng làm thời điểm ký")),
        "{s:#?}"
    );
    assert!(
        !s.warnings.iter().any(|w| w.contains("không hợp lệ")),
        "{s:#?}"
    );
    // With the soft check the timestamp counts, with a warning.
    let soft = VerifyOptions {
        soft_revocation: true,
        ..offline_opts()
    };
    let rep = verify_bytes(partial, &soft).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.time_source, "timestamp", "{s:#?}");
    assert!(s.warnings.iter().any(|w| w.contains("TSA")), "{s:#?}");
    // With the TSA's CRL in the DSS too: B-T with a trusted time, HỢP LỆ.
    let full =
        vanthu_pdf::ltv::append_dss(bt, certs(), vec![root_crl, inter_crl], vec![ocsp]).unwrap();
    let rep = verify_bytes(full, &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(s.time_source, "timestamp");
    assert!(
        s.timestamp.as_ref().unwrap().revocation.starts_with("tốt"),
        "{s:#?}"
    );
}

#[test]
fn sign_file_streams_b_lt_and_b_lta() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let input = sample_pdf(1, "Luu tru dai han");
    let i = dir.path().join("in.pdf");
    std::fs::write(&i, &input).unwrap();
    for (level, want, revs) in [(Level::BLT, "B-LT", 3), (Level::BLTA, "B-LTA", 4)] {
        let o = dir.path().join(format!("{want}.pdf"));
        vanthu_pdf::sign_file(
            &i,
            &o,
            &p12("leader"),
            &SignOptions {
                level,
                tsa_url: Some(tsa.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let out = std::fs::read(&o).unwrap();
        assert_eq!(
            &out[..input.len()],
            &input[..],
            "{want}: original bytes kept"
        );
        // Offline: the DSS alone must carry every chain's revocation data.
        let rep = vanthu_pdf::verify::verify_file(&o, &offline_opts()).unwrap();
        assert!(rep.all_valid, "{want}: {rep:#?}");
        assert_eq!(rep.revisions, revs);
        assert_eq!(rep.signatures[0].level, want, "{rep:#?}");
        let (ok, txt) = pyhanko_validate(&o, &[]);
        assert!(ok && !txt.contains("INVALID"), "{want}: pyHanko: {txt}");
        let (ok, txt) = pyhanko_ades_offline(&o);
        assert!(ok, "{want}: pyHanko AdES: {txt}");
        let (ok, txt) = qpdf_check(&o);
        assert!(ok, "{txt}");
    }
}

/// Files from other tools (adbe.pkcs7.detached) carry revocation data in Adobe's signed
/// revocation archival attribute rather than a DSS: offline, it is the source after the DSS.
#[test]
fn adobe_revocation_archival_attribute_is_an_offline_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Cong van")).unwrap();
    let out = dir.path().join("adbe.pdf");
    let k = pki();
    let o = pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "--with-validation-info",
            "--trust",
        ])
        .arg(k.join("root.pem"))
        .args(["--trust-replace", "pemder", "--no-pass", "--key"])
        .arg(k.join("leader.key.pem"))
        .arg("--cert")
        .arg(k.join("leader.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(&src)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data = std::fs::read(&out).unwrap();
    let rep = verify_bytes(data, &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.subfilter, "adbe.pkcs7.detached");
    assert!(rep.all_valid, "{rep:#?}");
    assert!(
        s.revocation.contains("adbe-revocationInfoArchival"),
        "{}",
        s.revocation
    );
}

/// Long-term validation outlives the OCSP responder's certificate: a B-LT file whose DSS holds
/// a response from `ocspshort` (certificate valid one day) still validates five days later,
/// because the responder is checked at the response's producedAt. The later validation runs
/// in a child process under libfaketime (`faketime -f +5d`), so every clock the verifier and
/// OpenSSL read is five days ahead.
#[test]
fn b_lt_outlives_a_short_lived_ocsp_responder_certificate() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let bt = sign_bytes(
        sample_pdf(1, "Lưu trữ lâu dài"),
        &p12("ocspok"),
        &SignOptions {
            tsa_url: Some(tsa),
            ..Default::default()
        },
    )
    .unwrap();
    let ocsp = ocsp_response(dir.path(), "ocspshort");
    let lt = vanthu_pdf::ltv::append_dss(
        bt,
        vec![
            pem_der(&pki().join("ocspok.pem")),
            pem_der(&pki().join("inter.pem")),
        ],
        vec![
            std::fs::read(pki().join("root.crl")).unwrap(),
            std::fs::read(pki().join("inter.crl")).unwrap(),
        ],
        vec![ocsp],
    )
    .unwrap();
    let rep = verify_bytes(lt.clone(), &offline_opts()).unwrap();
    assert!(rep.all_valid, "today: {rep:#?}");
    let f = dir.path().join("lt.pdf");
    std::fs::write(&f, &lt).unwrap();
    let o = std::process::Command::new("faketime")
        .args(["-f", "+5d"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "later_verify_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VANTHU_LATER_FILE", &f)
        .env("VANTHU_LATER_ROOT", pki().join("root.der"))
        .env(
            "VANTHU_LATER_REAL_NOW",
            time::OffsetDateTime::now_utc().unix_timestamp().to_string(),
        )
        .output()
        .expect("faketime (Debian package faketime, installed by scripts/setup.sh)");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("VALID FIVE DAYS LATER"),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The second half of the test above; does nothing unless that test starts it.
#[test]
#[ignore = "started by b_lt_outlives_a_short_lived_ocsp_responder_certificate under faketime"]
fn later_verify_child() {
    let Ok(f) = std::env::var("VANTHU_LATER_FILE") else {
        return;
    };
    let real_now: i64 = std::env::var("VANTHU_LATER_REAL_NOW")
        .unwrap()
        .parse()
        .unwrap();
    // The clock really is ahead (else the test would prove nothing).
    assert!(
        time::OffsetDateTime::now_utc().unix_timestamp() > real_now + 4 * 86_400,
        "faketime did not move the clock"
    );
    let opts = VerifyOptions {
        trust: vec![std::fs::read(std::env::var("VANTHU_LATER_ROOT").unwrap()).unwrap()],
        at: None,
        online: false,
        intermediates: Vec::new(),
        soft_revocation: false,
    };
    let rep = verify_bytes(std::fs::read(f).unwrap(), &opts).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(s.time_source, "timestamp", "{s:#?}");
    assert!(s.revocation.contains("OCSP trong tệp"), "{}", s.revocation);
    println!("VALID FIVE DAYS LATER");
}

/// A suspended certificate (tạm dừng; CRL or OCSP reason certificateHold) is not final: the
/// signature is CHƯA XÁC ĐỊNH with the reason, never HỢP LỆ and not KHÔNG HỢP LỆ — and the soft
/// revocation check, meant for missing data, does not soften it. A revoked one stays invalid.
#[test]
fn a_suspended_signer_is_undetermined_by_crl_and_by_ocsp() {
    let dir = tempfile::tempdir().unwrap();
    let signed = sign_bytes(
        sample_pdf(1, "Tạm dừng"),
        &p12("held"),
        &SignOptions::default(),
    )
    .unwrap();
    let certs = || {
        vec![
            pem_der(&pki().join("held.pem")),
            pem_der(&pki().join("inter.pem")),
        ]
    };
    let root_crl = std::fs::read(pki().join("root.crl")).unwrap();
    let inter_crl = std::fs::read(pki().join("inter.crl")).unwrap();
    let by_crl = vanthu_pdf::ltv::append_dss(
        signed.clone(),
        certs(),
        vec![root_crl.clone(), inter_crl],
        Vec::new(),
    )
    .unwrap();
    let by_ocsp = vanthu_pdf::ltv::append_dss(
        signed,
        certs(),
        vec![root_crl],
        vec![ocsp_response_for(dir.path(), "ocsp", "held")],
    )
    .unwrap();
    for (file, source) in [(by_crl, "CRL trong tệp"), (by_ocsp, "OCSP trong tệp")] {
        for soft in [false, true] {
            let o = VerifyOptions {
                soft_revocation: soft,
                ..offline_opts()
            };
            let rep = verify_bytes(file.clone(), &o).unwrap();
            let s = &rep.signatures[0];
            assert_eq!(s.verdict, UNDETERMINED, "{source} soft={soft}: {s:#?}");
            assert!(
                s.revocation.starts_with("BỊ TẠM DỪNG") && s.revocation.contains(source),
                "{}",
                s.revocation
            );
            assert!(s.intact && !rep.all_valid);
        }
    }
}

/// A CRL published in PEM (some CA test setups serve `openssl ca -gencrl` output as is) is
/// fetched and kept as DER, the form the DSS and every validator need.
#[test]
fn a_pem_crl_at_the_distribution_point_is_taken_as_der() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_tsa().trim_end_matches("/tsa").to_string();
    let k = pki();
    let run = |c: &mut std::process::Command| {
        let o = c.current_dir(dir.path()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    std::fs::write(
        dir.path().join("ext.cnf"),
        format!("[e]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\ncrlDistributionPoints = URI:{base}/inter.crl.pem\n"),
    )
    .unwrap();
    run(std::process::Command::new("openssl").args([
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "r.csr",
        "-subj",
        "/CN=PEM CRL Signer",
    ]));
    run(std::process::Command::new("openssl")
        .args(["x509", "-req", "-in", "r.csr", "-CA"])
        .arg(k.join("inter.pem"))
        .arg("-CAkey")
        .arg(k.join("inter.key.pem"))
        .args([
            "-set_serial",
            "4242",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "e",
        ])
        .args(["-out", "c.pem"]));
    let cert = {
        use der::Decode;
        x509_cert::Certificate::from_der(&pem_der(&dir.path().join("c.pem"))).unwrap()
    };
    let crls = vanthu_pdf::ltv::fetch_crls(&[cert]);
    assert_eq!(crls, vec![std::fs::read(k.join("inter.crl")).unwrap()]);
}

/// B-LT and B-LTA fetch the revocation data of the chain anyway: when it shows the signer's
/// certificate or a CA above it revoked or on hold, the signature is not made (every
/// validator would reject it) — the error names whom and since when, and nothing is written.
/// B-B and B-T do not ask the CA's servers (they must work offline) and sign as before.
#[test]
fn b_lt_and_b_lta_refuse_a_revoked_or_held_certificate() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let input = sample_pdf(1, "Thu hồi");
    let i = dir.path().join("in.pdf");
    std::fs::write(&i, &input).unwrap();
    for (key, want) in [
        (
            "revoked",
            "người ký \"Revoked Signer\" (signer) bị thu hồi lúc",
        ),
        ("held", "bị tạm dừng từ"),
        (
            "underbad",
            "CA trung gian \"vanthu Revoked Intermediate CA\" (intermediate CA) bị thu hồi",
        ),
    ] {
        for level in [Level::BLT, Level::BLTA] {
            let o = dir.path().join("out.pdf");
            let opts = SignOptions {
                level,
                tsa_url: Some(tsa.clone()),
                ..Default::default()
            };
            let err = vanthu_pdf::sign_file(&i, &o, &p12(key), &opts).unwrap_err();
            assert!(
                matches!(err, vanthu_pdf::PdfError::Revoked(_)) && err.to_string().contains(want),
                "{key} {level:?}: {err}"
            );
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left, ["in.pdf"], "{key} {level:?}: nothing written");
            let err = sign_pades(input.clone(), &p12(key), &opts).unwrap_err();
            assert!(
                matches!(err, vanthu_pdf::PdfError::Revoked(_)),
                "{key} {level:?} in memory: {err}"
            );
        }
        // Offline levels sign as asked; the verifier then says what it finds.
        let bt = sign_pades(
            input.clone(),
            &p12(key),
            &SignOptions {
                level: Level::BT,
                tsa_url: Some(tsa.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let rep = verify_bytes(bt, &opts()).unwrap();
        assert!(!rep.all_valid, "{key}: {rep:#?}");
    }
}

/// OCSP responders that write their times with fractional seconds (`20261204223606.975064Z`,
/// as pyHanko's test responder certomancer does, and some CAs): thisUpdate and nextUpdate are
/// read (the answer counted as fresh), not refused as "no thisUpdate". The response is built
/// with asn1crypto and signed with the test PKI's delegated responder key.
#[test]
fn ocsp_times_with_fractional_seconds_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, datetime
from asn1crypto import ocsp, x509, pem, core
from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.asymmetric import padding
def cert(p):
    b = open(p, 'rb').read()
    if pem.detect(b):
        _, _, b = pem.unarmor(b)
    return x509.Certificate.load(b)
k = sys.argv[1]
leaf, issuer, responder = cert(k + '/ocspok.pem'), cert(k + '/inter.pem'), cert(k + '/ocsp.pem')
key = serialization.load_pem_private_key(open(k + '/ocsp.key.pem', 'rb').read(), None)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=975064)
cid = ocsp.CertId({
    'hash_algorithm': {'algorithm': 'sha1'},
    'issuer_name_hash': issuer.subject.sha1,
    'issuer_key_hash': issuer.public_key.sha1,
    'serial_number': leaf.serial_number,
})
single = ocsp.SingleResponse({
    'cert_id': cid,
    'cert_status': ocsp.CertStatus(name='good', value=core.Null()),
    'this_update': now - datetime.timedelta(minutes=1),
    'next_update': now + datetime.timedelta(hours=1),
})
data = ocsp.ResponseData({
    'responder_id': ocsp.ResponderId(name='by_key', value=responder.public_key.sha1),
    'produced_at': now,
    'responses': [single],
})
sig = key.sign(data.dump(), padding.PKCS1v15(), hashes.SHA256())
basic = ocsp.BasicOCSPResponse({
    'tbs_response_data': data,
    'signature_algorithm': {'algorithm': 'sha256_rsa'},
    'signature': sig,
    'certs': [responder],
})
resp = ocsp.OCSPResponse({
    'response_status': 'successful',
    'response_bytes': {'response_type': 'basic_ocsp_response', 'response': basic},
})
open(sys.argv[2], 'wb').write(resp.dump())
"#;
    let resp = dir.path().join("frac.ocsp");
    let o = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(pki())
        .arg(&resp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The sample is what it claims: OpenSSL shows the fraction.
    let shown = std::process::Command::new("openssl")
        .args(["ocsp", "-resp_text", "-noverify", "-respin"])
        .arg(&resp)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.contains(".975064 "), "{shown}");
    let signed = sign_bytes(
        sample_pdf(1, "OCSP"),
        &p12("ocspok"),
        &SignOptions::default(),
    )
    .unwrap();
    let certs = ["ocspok.pem", "inter.pem"]
        .iter()
        .map(|n| pem_der(&pki().join(n)))
        .collect();
    let root_crl = std::fs::read(pki().join("root.crl")).unwrap();
    let lt = vanthu_pdf::ltv::append_dss(
        signed,
        certs,
        vec![root_crl],
        vec![std::fs::read(&resp).unwrap()],
    )
    .unwrap();
    let rep = verify_bytes(lt, &offline_opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(rep.all_valid, "{s:#?}");
    assert!(
        s.revocation
            .contains("người ký (signer): tốt, chưa bị thu hồi (OCSP trong tệp (DSS))"),
        "{}",
        s.revocation
    );
}

/// A timestamp authority behind `https://` (as public and agency TSAs, and remote signing
/// services, usually are): TLS through the OS's library, the server's certificate checked. An
/// untrusted certificate stops B-T with the TLS failure named; once its CA is trusted
/// (`trust_tls_roots`, e.g. an agency's own CA) the timestamp is obtained. The HTTPS side is
/// Python's `ssl` in front of the loopback TSA (`certs/test-https-proxy.py`).
#[test]
fn an_https_timestamp_authority() {
    let (port, ca, _server) = https_front();
    let bt = SignOptions {
        level: Level::BT,
        tsa_url: Some(format!("https://127.0.0.1:{port}/tsa")),
        ..Default::default()
    };
    let e = sign_pades(sample_pdf(1, "https"), &p12("leader"), &bt).unwrap_err();
    assert!(
        matches!(e, vanthu_pdf::PdfError::Tsa(_)) && e.to_string().contains("TLS handshake failed"),
        "{e}"
    );
    let n = vanthu_pdf::tsa::trust_tls_roots(&ca).unwrap();
    assert_eq!(n, 1);
    let out = sign_pades(sample_pdf(1, "https"), &p12("leader"), &bt).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(rep.signatures[0].level, "B-T");
}

/// `extend_file` (`vanthu pdf extend`): a B-T file signed away from the network is brought to
/// B-LTA later — its bytes kept, a DSS and a document timestamp appended — and validates
/// offline in vanthu and in pyHanko's AdES validation; extending again renews the archive
/// timestamp (a second document timestamp). A file without signatures, or B-LTA without a
/// TSA, is refused and nothing is written.
#[test]
fn extend_brings_a_b_t_file_to_b_lta_and_renews_it() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let bt = sign_pades(
        sample_pdf(1, "Mo rong"),
        &p12("leader"),
        &SignOptions {
            level: Level::BT,
            tsa_url: Some(tsa.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("bt.pdf"), &bt).unwrap();
    let root = vec![root_der()];
    let extend = |from: &str, to: &str, level, tsa: Option<&str>| {
        vanthu_pdf::sign::extend_file(&p(from), &p(to), level, tsa, &root)
    };
    extend("bt.pdf", "lta.pdf", Level::BLTA, Some(&tsa)).unwrap();
    let lta = std::fs::read(p("lta.pdf")).unwrap();
    assert_eq!(&lta[..bt.len()], &bt[..], "earlier bytes kept");
    let rep = verify_bytes(lta, &offline_opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(rep.revisions, 4);
    assert_eq!(rep.signatures[0].level, "B-LTA", "{rep:#?}");
    let (ok, txt) = pyhanko_ades_offline(&p("lta.pdf"));
    assert!(ok && txt.contains("AdESPassed.OK"), "pyHanko AdES: {txt}");
    // Renewal.
    extend("lta.pdf", "lta2.pdf", Level::BLTA, Some(&tsa)).unwrap();
    let rep = verify_bytes(std::fs::read(p("lta2.pdf")).unwrap(), &offline_opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let stamps = rep
        .signatures
        .iter()
        .filter(|s| s.kind == "document_timestamp")
        .count();
    assert_eq!(stamps, 2, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&p("lta2.pdf"), &[]);
    assert!(ok && !txt.contains("INVALID"), "pyHanko: {txt}");
    let (ok, txt) = qpdf_check(&p("lta2.pdf"));
    assert!(ok, "{txt}");
    // Refusals.
    std::fs::write(p("unsigned.pdf"), sample_pdf(1, "x")).unwrap();
    let e = extend("unsigned.pdf", "never.pdf", Level::BLTA, Some(&tsa)).unwrap_err();
    assert!(matches!(e, vanthu_pdf::PdfError::NoSignature), "{e}");
    let e = extend("bt.pdf", "never.pdf", Level::BLTA, None).unwrap_err();
    assert!(e.to_string().contains("B-LTA"), "{e}");
    assert!(!p("never.pdf").exists());
}

/// A timestamp service reached through `user:password@` (HTTP Basic authentication, the
/// user information percent-decoded) and a redirect to where it really answers: the B-T
/// signature is made; the credentials go to the address they were written for, not to the
/// one redirected to. A redirect loop and a refused login end with their own message.
#[test]
fn timestamp_service_with_login_and_redirect() {
    let tsa = start_tsa();
    let to = tsa.clone();
    let (url, seen) = loopback_http(1, move |_| {
        http_reply_with(
            "307 Temporary Redirect",
            &format!("Location: {to}\r\n"),
            b"",
        )
    });
    let with_login = url.replace("http://", "http://van%20thu:m%E1%BA%ADt@") + "/tsa";
    let opts_t = |u: &str| SignOptions {
        tsa_url: Some(u.to_string()),
        ..Default::default()
    };
    let out = sign_bytes(
        sample_pdf(1, "Dau thoi gian"),
        &p12("leader"),
        &opts_t(&with_login),
    )
    .unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(rep.signatures[0].level, "B-T");
    let heads = seen.join().unwrap();
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("van thu:mật");
    assert!(
        heads[0].starts_with("POST /tsa HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains(&format!("\r\nAuthorization: Basic {basic}\r\n")),
        "{}",
        heads[0]
    );
    assert!(
        !heads[0].contains("van%20thu"),
        "no user information in the Host line"
    );
    // A loop: six hops, then the error.
    let (url, seen) = loopback_http(6, |_| {
        http_reply_with("302 Found", "Location: /lai\r\n", b"")
    });
    let e = sign_bytes(sample_pdf(1, "x"), &p12("leader"), &opts_t(&url)).unwrap_err();
    assert!(e.to_string().contains("too many redirects"), "{e}");
    assert!(seen
        .join()
        .unwrap()
        .iter()
        .all(|h| h.starts_with("POST /lai ") || h.starts_with("POST / ")));
    // A refused login.
    let (url, seen) = loopback_http(1, |_| http_reply("401 Unauthorized", b""));
    let e = sign_bytes(sample_pdf(1, "x"), &p12("leader"), &opts_t(&url)).unwrap_err();
    assert!(e.to_string().contains("wants credentials"), "{e}");
    seen.join().unwrap();
}
