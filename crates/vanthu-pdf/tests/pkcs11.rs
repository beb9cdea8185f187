//! Signing with keys on a PKCS#11 token (SoftHSM2), RSA and ECDSA P-256; pyHanko judges.

mod common;

use std::process::Command;

use common::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::verify::verify_bytes;
use vanthu_pdf::{PdfError, Signer};

fn module() -> String {
    for p in [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ] {
        if std::path::Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("libsofthsm2.so missing: install softhsm2 (scripts/setup.sh)");
}

fn run(c: &mut Command) {
    let o = c
        .output()
        .expect("softhsm2-util, pkcs11-tool and openssl are installed");
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `softhsm2-util --init-token` with user PIN 1234.
fn init_token(label: &str) {
    run(Command::new("softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        label,
        "--pin",
        "1234",
        "--so-pin",
        "5678",
    ]));
}

/// `softhsm2-util --import` of a PEM private key as `label` / `id` (hex).
fn import_key(token: &str, key: &std::path::Path, label: &str, id: &str) {
    run(Command::new("softhsm2-util")
        .arg("--import")
        .arg(key)
        .args([
            "--token", token, "--label", label, "--id", id, "--pin", "1234",
        ]));
}

/// `pkcs11-tool --write-object` of a DER certificate as `label` / `id` (hex).
fn write_cert(module: &str, token: &str, der: &std::path::Path, id: &str, label: &str) {
    run(Command::new("pkcs11-tool")
        .args([
            "--module",
            module,
            "--token-label",
            token,
            "--login",
            "--pin",
            "1234",
        ])
        .arg("--write-object")
        .arg(der)
        .args(["--type", "cert", "--id", id, "--label", label]));
}

#[test]
fn token_keys_sign_and_pyhanko_validates() {
    let tok = tempfile::tempdir().unwrap();
    let conf = tok.path().join("softhsm2.conf");
    std::fs::create_dir(tok.path().join("tokens")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            tok.path().join("tokens").display()
        ),
    )
    .unwrap();
    // The only test in this binary: the variable is read by C_Initialize in this process.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let k = pki();
    let m = module();
    init_token("test-token");
    for (name, id) in [("leader", "01"), ("clerk", "02"), ("inter", "10")] {
        if name != "inter" {
            import_key("test-token", &k.join(format!("{name}.key.pem")), name, id);
        }
        let der = tok.path().join(format!("{name}.der"));
        run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(k.join(format!("{name}.pem")))
            .arg("-out")
            .arg(&der));
        write_cert(&m, "test-token", &der, id, name);
    }
    let dir = tempfile::tempdir().unwrap();
    for key in ["leader", "clerk"] {
        let signer =
            vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "test-token", key, "1234").unwrap();
        // The token also holds the other person's certificate: only this key's path is used.
        let names: Vec<String> = signer
            .chain()
            .iter()
            .map(|c| c.tbs_certificate.subject.to_string())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "{key}: the signer's and the CA's: {names:?}"
        );
        assert!(names[1].contains("Intermediate"), "{names:?}");
        let out = sign_bytes(sample_pdf(1, "Token"), &signer, &SignOptions::default()).unwrap();
        drop(signer);
        let f = dir.path().join(format!("{key}.pdf"));
        std::fs::write(&f, &out).unwrap();
        let rep = verify_bytes(out, &opts()).unwrap();
        assert!(rep.all_valid, "{key}: {rep:#?}");
        assert_eq!(
            rep.signatures[0].chain.len(),
            3,
            "intermediate from the token"
        );
        let (ok, txt) = pyhanko_validate(&f, &[]);
        assert!(ok & txt.contains(":VALID"), "{key}: pyHanko: {txt}");
    }
    // A token that holds only the signer's key and certificate (the CA's comes from a file,
    // `vanthu pdf sign --chain`): without it the signature cannot reach the root, and the gap
    // is named; with it, the path is complete and every validator accepts the signature.
    init_token("bare-token");
    import_key("bare-token", &k.join("leader.key.pem"), "leader", "01");
    write_cert(
        &m,
        "bare-token",
        &tok.path().join("leader.der"),
        "01",
        "leader",
    );
    let bare =
        vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "bare-token", "leader", "1234").unwrap();
    assert_eq!(bare.chain().len(), 1);
    assert_eq!(
        vanthu_pdf::keys::missing_issuer(bare.chain(), &bare.roots()).as_deref(),
        Some("vanthu Test Intermediate CA")
    );
    let out = sign_bytes(sample_pdf(1, "Token"), &bare, &SignOptions::default()).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(!rep.all_valid & !rep.signatures[0].trusted, "{rep:#?}");
    let inter = std::fs::read(tok.path().join("inter.der")).unwrap();
    let with = vanthu_pdf::keys::WithChain::new(Box::new(bare), &[inter]).unwrap();
    assert_eq!(with.chain().len(), 2);
    assert_eq!(
        vanthu_pdf::keys::missing_issuer(with.chain(), &with.roots()),
        None
    );
    let out = sign_bytes(sample_pdf(1, "Token"), &with, &SignOptions::default()).unwrap();
    drop(with);
    let f = dir.path().join("bare-with-chain.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok & txt.contains(":VALID"), "pyHanko: {txt}");
    // A token written by a tool that gave the certificate neither the key's CKA_ID nor its
    // label (with another person's certificate beside it): the key's own certificate is
    // found by a signature the key makes and the certificate's public key verifies.
    init_token("loose-token");
    import_key("loose-token", &k.join("clerk.key.pem"), "khoa-ky", "0a");
    for (name, id) in [("leader", "0b"), ("clerk", "0c"), ("inter", "0d")] {
        write_cert(
            &m,
            "loose-token",
            &tok.path().join(format!("{name}.der")),
            id,
            &format!("cert-{name}"),
        );
    }
    // The token's only key: found with no label, or by its CKA_ID in hex.
    for key in ["", "0a"] {
        let k =
            vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "loose-token", key, "1234").unwrap();
        assert!(k.chain()[0]
            .tbs_certificate
            .subject
            .to_string()
            .contains("Văn thư"));
    }
    let e = vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "test-token", "", "1234")
        .err()
        .expect("several keys: one must be named");
    assert!(e.to_string().contains("--key"), "{e}");
    let loose =
        vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "loose-token", "khoa-ky", "1234")
            .unwrap();
    assert!(
        loose.chain()[0]
            .tbs_certificate
            .subject
            .to_string()
            .contains("Văn thư"),
        "{}",
        loose.chain()[0].tbs_certificate.subject
    );
    assert_eq!(loose.chain().len(), 2);
    let out = sign_bytes(sample_pdf(1, "Token"), &loose, &SignOptions::default()).unwrap();
    drop(loose);
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let e = vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "test-token", "leader", "9999")
        .err()
        .expect("wrong PIN refused");
    assert!(matches!(e, PdfError::WrongPin), "{e}");
    let e = vanthu_pdf::pkcs11::open(std::path::Path::new(&m), "no-such-token", "leader", "1234")
        .err()
        .expect("unknown token refused");
    assert!(e.to_string().contains("token not found"), "{e}");
}
