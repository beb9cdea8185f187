//! A PKI that no one here wrote: certomancer (the PKI tool of pyHanko's own test suite) builds
//! the certificates and PKCS#12 files from a description and runs the CA's services over HTTP
//! (CRLs, an OCSP responder that writes fractional-second times, an RFC 3161 TSA). vanthu signs
//! with its keys at every level and pyHanko judges — including its offline AdES validation,
//! which requires revocation data in the file for every certificate; pyHanko signs with the same
//! keys and vanthu judges. Revoked certificates are refused (signing) and rejected (validating).
//!
//! The description below is written for this test (keys made by `openssl genpkey`); only the
//! tool that turns it into certificates and services is outside.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::*;
use vanthu_pdf::sign::{Level, SignOptions};
use vanthu_pdf::verify::{verify_file, VerifyOptions, INVALID};

const PFX_PASS: &str = "Mật khẩu 1";

/// The running CA: the certomancer animator, stopped when dropped.
struct Ca {
    dir: PathBuf,
    url: String,
    child: Child,
}

impl Drop for Ca {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Ca {
    fn pfx(&self, who: &str) -> vanthu_pdf::keys::SoftKey {
        let der = std::fs::read(self.dir.join(format!("out/interm/{who}.pfx"))).unwrap();
        vanthu_pdf::keys::load_p12(&der, PFX_PASS).unwrap()
    }
    /// Requests for revocation data (CRLs, OCSP) the CA has answered so far.
    fn revocation_requests(&self) -> usize {
        std::fs::read_to_string(self.dir.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("/outside/ocsp/") || l.contains("/outside/crls/"))
            .count()
    }
    fn root(&self) -> PathBuf {
        self.dir.join("out/root/root.cert.pem")
    }
    fn tsa(&self) -> String {
        format!("{}/outside/tsa/tsa", self.url)
    }
    fn verify_opts(&self, online: bool) -> VerifyOptions {
        let pem = std::fs::read(self.root()).unwrap();
        let root = vanthu_pdf::trust::read_certificates(&pem).unwrap()[0]
            .to_der()
            .unwrap();
        VerifyOptions {
            trust: vec![root],
            online,
            ..Default::default()
        }
    }
}

fn certomancer() -> PathBuf {
    let bin = python().parent().unwrap().join("certomancer");
    assert!(
        bin.exists(),
        "certomancer missing from the venv (run scripts/setup.sh)"
    );
    bin
}

fn sh(c: &mut Command) {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Keys, the description, the certificates and PKCS#12 files, and the CA's services.
fn start_ca(dir: &Path) -> Ca {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for k in ["root", "interm", "tsa", "ocsp", "an", "binh"] {
        sh(Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(keys.join(format!("{k}.pem"))));
    }
    sh(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(keys.join("cuc.pem")));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    std::fs::write(dir.join("ca.yml"), description(&url)).unwrap();
    sh(Command::new(certomancer())
        .arg("--config")
        .arg(dir.join("ca.yml"))
        .args(["mass-summon", "--pfx-pass", PFX_PASS, "outside"])
        .arg(dir.join("out")));
    let child = Command::new(certomancer())
        .arg("--config")
        .arg(dir.join("ca.yml"))
        .args(["animate", "--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        // The request log (one line per request), read by the tests.
        .stderr(std::fs::File::create(dir.join("requests.log")).unwrap())
        .spawn()
        .unwrap();
    let ca = Ca {
        dir: dir.to_path_buf(),
        url,
        child,
    };
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return ca;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("certomancer's services did not start at {}", ca.url);
}

/// The CA: a root; an issuing CA (CRL from the root); a TSA under the root; a delegated OCSP
/// responder (ocsp_no_check) for the issuing CA; signers `an` (RSA, CRL and OCSP), `cuc`
/// (ECDSA P-256, OCSP only), `binh` (revoked, key compromise).
fn description(url: &str) -> String {
    format!(
        r#"external-url-prefix: "{url}"
keysets:
  outside:
    path-prefix: keys
    keys:
      root: {{path: root.pem}}
      interm: {{path: interm.pem}}
      tsa: {{path: tsa.pem}}
      ocsp: {{path: ocsp.pem}}
      an: {{path: an.pem}}
      binh: {{path: binh.pem}}
      cuc: {{path: cuc.pem}}
pki-architectures:
  outside:
    keyset: outside
    entity-defaults:
      country-name: VN
      organization-name: "Cục Kiểm thử Độc lập"
    entities:
      root: {{common-name: "Outside Root CA"}}
      interm: {{common-name: "Outside Issuing CA"}}
      tsa: {{common-name: "Outside TSA"}}
      ocsp: {{common-name: "Outside OCSP"}}
      an: {{common-name: "Nguyễn Thị Ánh", organizational-unit-name: "Phòng Tổng hợp"}}
      binh: {{common-name: "Trần Văn Bình"}}
      cuc: {{common-name: "Lê Thị Cúc"}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2050-01-01T00:00:00+0000"}}
        extensions:
          - id: basic_constraints
            critical: true
            value: {{ca: true}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
      interm:
        issuer: root
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2045-01-01T00:00:00+0000"}}
        extensions:
          - id: basic_constraints
            critical: true
            value: {{ca: true, path-len-constraint: 0}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [root]}}}}
      ocsp:
        issuer: interm
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2045-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - id: extended_key_usage
            critical: true
            value: [ocsp_signing]
          - id: ocsp_no_check
      tsa:
        issuer: root
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2045-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - id: extended_key_usage
            critical: true
            value: [time_stamping]
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [root]}}}}
      an:
        issuer: interm
        validity: {{valid-from: "2024-01-01T00:00:00+0000", valid-to: "2040-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, non_repudiation]}}
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [interm]}}}}
          - id: authority_information_access
            smart-value: {{schema: aia-urls, params: {{ocsp-responder-names: [interm]}}}}
      binh:
        template: an
        subject: binh
        revocation: {{revoked-since: "2025-06-01T00:00:00+0000", reason: key_compromise}}
      cuc:
        issuer: interm
        validity: {{valid-from: "2024-01-01T00:00:00+0000", valid-to: "2040-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, non_repudiation]}}
          - id: authority_information_access
            smart-value: {{schema: aia-urls, params: {{ocsp-responder-names: [interm]}}}}
    services:
      ocsp:
        interm: {{for-issuer: interm, responder-cert: ocsp, signing-key: ocsp}}
      crl-repo:
        root: {{for-issuer: root, signing-key: root, simulated-update-schedule: "P90D"}}
        interm: {{for-issuer: interm, signing-key: interm, simulated-update-schedule: "P30D"}}
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"#
    )
}

/// A document from LibreOffice (Vietnamese text; another producer than the tests' own PDFs).
fn input_pdf(dir: &Path) -> PathBuf {
    let html = dir.join("quyet-dinh.html");
    std::fs::write(
        &html,
        "<html><head><meta charset=\"utf-8\"></head><body><h1>QUYẾT ĐỊNH</h1>\
         <p>Về việc phê duyệt kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0.</p>\
         </body></html>",
    )
    .unwrap();
    let out = dir.join("quyet-dinh.pdf");
    let o = Command::new("soffice")
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(&html)
        .env("HOME", dir)
        .output()
        .expect("LibreOffice is installed (scripts/setup.sh)");
    assert!(
        out.exists(),
        "soffice made no PDF: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let head = std::fs::read(&out).unwrap();
    // /Producer (LibreOffice …), written in UTF-16 hex.
    let producer = b"004C0069006200720065004F0066006600690063006500";
    assert!(
        head.windows(producer.len()).any(|w| w == producer),
        "producer"
    );
    out
}

fn pyhanko_validate_with(file: &Path, root: &Path) -> (bool, String) {
    let o = pyhanko()
        .args(["sign", "validate", "--executive-summary", "--trust"])
        .arg(root)
        .arg("--trust-replace")
        .arg(file)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn an_outside_pki_both_ways_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let ca = start_ca(dir.path());
    let input = input_pdf(dir.path());
    let levels = [
        (Level::BB, "B-B"),
        (Level::BT, "B-T"),
        (Level::BLT, "B-LT"),
        (Level::BLTA, "B-LTA"),
    ];
    // vanthu signs; vanthu (online and, from B-LT, offline) and pyHanko judge.
    for who in ["an", "cuc"] {
        let key = ca.pfx(who);
        for (level, name) in levels {
            let out = dir.path().join(format!("{who}-{name}.pdf"));
            vanthu_pdf::sign_file(
                &input,
                &out,
                &key,
                &SignOptions {
                    level,
                    tsa_url: (level > Level::BB).then(|| ca.tsa()),
                    reason: Some("Phê duyệt".into()),
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("{who} {name}: {e}"));
            let rep = verify_file(&out, &ca.verify_opts(true)).unwrap();
            assert!(rep.all_valid, "{who} {name}: {rep:#?}");
            assert_eq!(rep.signatures[0].level, name, "{who}: {rep:#?}");
            if level >= Level::BLT {
                let rep = verify_file(&out, &ca.verify_opts(false)).unwrap();
                assert!(rep.all_valid, "{who} {name} offline: {rep:#?}");
                let (ok, txt) = pyhanko_ades_offline_with(&out, &ca.root());
                assert!(ok, "{who} {name}: pyHanko AdES offline: {txt}");
            }
            let (ok, txt) = pyhanko_validate_with(&out, &ca.root());
            assert!(ok && txt.contains(":VALID"), "{who} {name}: pyHanko: {txt}");
        }
    }
    // pyHanko signs (B-B, B-T, B-LT, B-LTA with its own revocation data); vanthu judges, then
    // countersigns at B-LT, and pyHanko judges both signatures.
    std::fs::write(dir.path().join("pass.txt"), PFX_PASS).unwrap();
    let pfx = dir.path().join("out/interm/an.pfx");
    for (flags, name) in [
        (vec![], "B-B"),
        (vec!["--timestamp-url", &ca.tsa()], "B-T"),
        (
            vec!["--timestamp-url", &ca.tsa(), "--with-validation-info"],
            "B-LT",
        ),
        (
            vec![
                "--timestamp-url",
                &ca.tsa(),
                "--with-validation-info",
                "--use-pades-lta",
            ],
            "B-LTA",
        ),
    ] {
        let out = dir.path().join(format!("pyhanko-{name}.pdf"));
        let o = pyhanko()
            .args(["sign", "addsig", "--field", "Sig1", "--use-pades"])
            .args(&flags)
            .arg("--trust")
            .arg(ca.root())
            .arg("--trust-replace")
            .args(["pkcs12", "--passfile"])
            .arg(dir.path().join("pass.txt"))
            .arg(&input)
            .arg(&out)
            .arg(&pfx)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pyHanko {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rep = verify_file(&out, &ca.verify_opts(true)).unwrap();
        assert!(rep.all_valid, "pyHanko {name}: {rep:#?}");
        assert_eq!(rep.signatures[0].level, name, "{rep:#?}");
        let both = dir.path().join(format!("pyhanko-{name}-vanthu.pdf"));
        vanthu_pdf::sign_file(
            &out,
            &both,
            &ca.pfx("cuc"),
            &SignOptions {
                level: Level::BLT,
                tsa_url: Some(ca.tsa()),
                field_name: Some("LanhDao2".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let rep = verify_file(&both, &ca.verify_opts(false)).unwrap();
        assert!(rep.all_valid, "pyHanko {name} + vanthu, offline: {rep:#?}");
        let (ok, txt) = pyhanko_ades_offline_with(&both, &ca.root());
        assert!(ok, "pyHanko {name} + vanthu: pyHanko AdES offline: {txt}");
    }
    // Three signatures by the same person: one validation asks the CA once for each answer
    // it needs (the signer's OCSP, the root's CRL), not once per signature.
    let mut doc = input.clone();
    for i in 1..=3 {
        let next = dir.path().join(format!("three-{i}.pdf"));
        vanthu_pdf::sign_file(
            &doc,
            &next,
            &ca.pfx("an"),
            &SignOptions {
                field_name: Some(format!("Ky{i}")),
                ..Default::default()
            },
        )
        .unwrap();
        doc = next;
    }
    let before = ca.revocation_requests();
    let rep = verify_file(&doc, &ca.verify_opts(true)).unwrap();
    assert!(rep.all_valid && rep.signatures.len() == 3, "{rep:#?}");
    let asked = ca.revocation_requests() - before;
    assert!(
        (1..=3).contains(&asked),
        "{asked} requests for 3 signatures"
    );
    // The revoked signer: vanthu refuses B-LT (nothing written); pyHanko's B-B signature with
    // that key is KHÔNG HỢP LỆ in vanthu.
    let never = dir.path().join("never.pdf");
    let e = vanthu_pdf::sign_file(
        &input,
        &never,
        &ca.pfx("binh"),
        &SignOptions {
            level: Level::BLT,
            tsa_url: Some(ca.tsa()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, vanthu_pdf::PdfError::Revoked(_)) && e.to_string().contains("Trần Văn Bình"),
        "{e}"
    );
    assert!(!never.exists());
    let revoked = dir.path().join("pyhanko-revoked.pdf");
    let o = pyhanko()
        .args(["sign", "addsig", "--field", "Sig1", "--use-pades"])
        .args(["pkcs12", "--passfile"])
        .arg(dir.path().join("pass.txt"))
        .arg(&input)
        .arg(&revoked)
        .arg(dir.path().join("out/interm/binh.pfx"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rep = verify_file(&revoked, &ca.verify_opts(true)).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, INVALID, "{s:#?}");
    assert!(s.revocation.starts_with("BỊ THU HỒI"), "{}", s.revocation);
}
