//! `vanthu pdf sign` and `vanthu pdf verify` end to end, with the private test PKI.

use std::process::Command;

use crate::*;

/// A test PKI whose certificates name no CRL or OCSP service: its signatures carry no
/// revocation data anywhere.
pub(crate) fn pki(dir: &Path) -> std::path::PathBuf {
    make_pki(&dir.join("pki"), None)
}

fn make_pki(p: &Path, crl_url: Option<&str>) -> std::path::PathBuf {
    let mut c = Command::new("bash");
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs/test-pki.sh"))
        .arg(p);
    if let Some(u) = crl_url {
        c.env("CRL_URL", u);
    }
    assert!(c
        .status()
        .expect("bash and openssl are installed")
        .success());
    p.to_path_buf()
}

/// A test PKI whose CRLs are published by a loopback server (which is also its TSA, see
/// [`start_server`]): (PKI folder, TSA URL).
pub(crate) fn served_pki(dir: &Path) -> (std::path::PathBuf, String) {
    let p = dir.join("served-pki");
    std::fs::create_dir_all(&p).unwrap();
    let url = start_server(&p);
    make_pki(&p, Some(url.trim_end_matches('/')));
    (p, url)
}

pub(crate) fn sample_pdf() -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".into(),
        "<< /Length 0 >>\nstream\n\nendstream".into(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    out
}

/// `vanthu pdf verify FILE --trust ROOT --json` (exit 0 asserted): the report.
pub(crate) fn verify_json(dir: &Path, file: &Path, root: &Path) -> serde_json::Value {
    json(
        pdf_cmd(dir)
            .arg("verify")
            .arg(file)
            .arg("--trust")
            .arg(root),
    )
}

/// The text of page 1 (pdftotext).
fn page_one_text(f: &Path) -> String {
    let o = Command::new("pdftotext")
        .args(["-f", "1", "-l", "1"])
        .arg(f)
        .arg("-")
        .output()
        .expect("pdftotext");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn pdf_cmd(dir: &Path) -> Command {
    let mut c = vanthu(&dir.join("no-store"));
    c.env("PIN", "1234").env("BADPIN", "0000").arg("pdf");
    c
}

/// `vanthu pdf sign INPUT OUTPUT --p12 KEY`; the caller adds `--pin-env` and the rest.
pub(crate) fn p12_sign(
    dir: &Path,
    input: impl AsRef<std::ffi::OsStr>,
    output: impl AsRef<std::ffi::OsStr>,
    key: impl AsRef<std::ffi::OsStr>,
) -> Command {
    let mut c = pdf_cmd(dir);
    c.arg("sign").arg(input).arg(output).arg("--p12").arg(key);
    c
}

#[test]
fn pdf_sign_then_verify_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    // The CRLs are reachable on 127.0.0.1: `verify` checks them online by default.
    let (k, _) = served_pki(d.path());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let out = d.path().join("out.pdf");
    ok(
        p12_sign(d.path(), &input, &out, k.join("leader.p12")).args([
            "--pin-env",
            "PIN",
            "--reason",
            "Phê duyệt",
        ]),
    );
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["signer"], "Nguyễn Văn An");
    assert_eq!(v["signatures"][0]["level"], "B-B");
    let rev = v["signatures"][0]["revocation"].as_str().unwrap();
    assert!(
        rev.starts_with("tốt") && rev.contains("CA trung gian"),
        "{rev}"
    );
    // Human report in Vietnamese.
    let text = ok(pdf_cmd(d.path())
        .arg("verify")
        .arg(&out)
        .arg("--trust")
        .arg(k.join("root.pem")));
    assert!(text.contains("Kết luận:     HỢP LỆ"), "{text}");
    // No trust anchor: exit 9.
    let o = run(pdf_cmd(d.path()).arg("verify").arg(&out));
    assert_eq!(o.status.code(), Some(9));
    // A tampered copy: exit 9.
    let mut bad = std::fs::read(&out).unwrap();
    let p = bad.windows(4).position(|w| w == b"page").unwrap_or(200);
    bad[p] ^= 1;
    let tampered = d.path().join("tampered.pdf");
    std::fs::write(&tampered, bad).unwrap();
    let o = run(pdf_cmd(d.path())
        .arg("verify")
        .arg(&tampered)
        .arg("--trust")
        .arg(k.join("root.pem")));
    assert_eq!(o.status.code(), Some(9));
}

/// A signature that embeds only the signer's certificate (a PKCS#12 without its CA chain)
/// does not reach the root on its own; `--intermediate` supplies the missing CA for path
/// building without making it an anchor.
#[test]
fn pdf_verify_with_an_intermediate_for_a_leaf_only_signature() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let leaf_only = d.path().join("leaf-only.p12");
    let st = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:1234", "-inkey"])
        .arg(k.join("leader.key.pem"))
        .arg("-in")
        .arg(k.join("leader.pem"))
        .arg("-out")
        .arg(&leaf_only)
        .env("OPENSSL_CONF", "/dev/null")
        .status()
        .unwrap();
    assert!(st.success());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let out = d.path().join("out.pdf");
    ok(p12_sign(d.path(), &input, &out, &leaf_only).args(["--pin-env", "PIN"]));
    let verify = |extra: &[&std::ffi::OsStr]| {
        run(pdf_cmd(d.path())
            .arg("verify")
            .arg(&out)
            .arg("--trust")
            .arg(k.join("root.pem"))
            .args(extra))
    };
    assert_eq!(verify(&[]).status.code(), Some(9));
    let inter = k.join("inter.pem");
    let o = verify(&["--intermediate".as_ref(), inter.as_os_str()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The intermediate alone is not an anchor.
    let o = run(pdf_cmd(d.path())
        .arg("verify")
        .arg(&out)
        .arg("--intermediate")
        .arg(&inter)
        .arg("--trust")
        .arg(k.join("evil-root.pem")));
    assert_eq!(o.status.code(), Some(9));
}

#[test]
fn pdf_sign_bad_input_gives_clear_error_and_no_output() {
    let d = tempfile::tempdir().unwrap();
    let k = pki(d.path());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let corrupt = d.path().join("corrupt.pdf");
    std::fs::write(&corrupt, b"%PDF-1.7\ngarbage without xref\n").unwrap();
    // Needs a password to open; encrypted with an owner password only (read, never signed).
    let (locked, encrypted) = (d.path().join("locked.pdf"), d.path().join("enc.pdf"));
    for (user, f) in [("u", &locked), ("", &encrypted)] {
        let st = Command::new("qpdf")
            .args(["--encrypt", user, "o", "256", "--"])
            .arg(&input)
            .arg(f)
            .status()
            .expect("qpdf is installed (scripts/setup.sh)");
        assert!(st.success());
    }
    let cases: [(&str, &Path, &str, &str, i32, &str); 5] = [
        ("wrong-pin", &input, "leader.p12", "BADPIN", 5, "Sai mã PIN"),
        ("expired", &input, "expired.p12", "PIN", 3, "hết hạn"),
        (
            "corrupt",
            &corrupt,
            "leader.p12",
            "PIN",
            3,
            "Cấu trúc tệp bị hỏng",
        ),
        ("locked", &locked, "leader.p12", "PIN", 3, "mật khẩu mở tệp"),
        ("encrypted", &encrypted, "leader.p12", "PIN", 3, "đã mã hóa"),
    ];
    for (name, inp, key, pin, code, msg) in cases {
        let out = d.path().join(format!("{name}-out.pdf"));
        let o = run(p12_sign(d.path(), inp, &out, k.join(key)).args(["--pin-env", pin]));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{name}: {err}");
        assert!(err.contains(msg), "{name}: {err}");
        assert!(!out.exists(), "{name}: no output file");
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{name}: temporary file left");
    }
    // `verify` reads the encrypted file (it has no signature) and names the locked one.
    let o = run(pdf_cmd(d.path())
        .arg("verify")
        .arg(&encrypted)
        .arg("--json"));
    assert_ne!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signatures"].as_array().map(Vec::len), Some(0), "{v}");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("không có chữ ký")),
        "{v}"
    );
    assert!(v["warnings"].to_string().contains("encrypted PDF"), "{v}");
    let o = run(pdf_cmd(d.path()).arg("verify").arg(&locked).arg("--json"));
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("mật khẩu"),
        "{v}"
    );
    // With its password (from the environment, as --pin-env for keys) it is read.
    let o = run(pdf_cmd(d.path())
        .arg("verify")
        .arg(&locked)
        .args(["--password-env", "PDF_PASSWORD", "--json"])
        .env("PDF_PASSWORD", "u"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signatures"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["revisions"], 1, "{v}");
}

/// A file whose cross-reference no longer matches its bytes (here a line inserted after the
/// header, as some editors do) opens in every viewer. `pdf sign` refuses it as damaged (bad
/// input: clear error, no output) and suggests `--repair`; with it, rebuilds the
/// cross-reference, signs, and says so in Vietnamese (and in the JSON).
#[test]
fn pdf_sign_repairs_a_damaged_unsigned_file_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let k = pki(d.path());
    let good = sample_pdf();
    let cut = good.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut bad = good[..cut].to_vec();
    bad.extend_from_slice(b"%edited\n");
    bad.extend_from_slice(&good[cut..]);
    let input = d.path().join("hong.pdf");
    std::fs::write(&input, &bad).unwrap();
    let sign = |out: &Path| {
        let mut c = p12_sign(d.path(), &input, out, k.join("leader.p12"));
        c.args(["--pin-env", "PIN"]);
        c
    };
    let out = d.path().join("da-ky.pdf");
    let o = run(&mut sign(&out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("Cấu trúc tệp bị hỏng") && err.contains("--repair"),
        "{err}"
    );
    assert!(!out.exists());
    let o = run(sign(&out).arg("--repair"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("Lưu ý: bảng tham chiếu chéo"), "{err}");
    assert!(std::fs::read(&out).unwrap().starts_with(&bad));
    let v = json(
        pdf_cmd(d.path())
            .arg("verify")
            .arg(&out)
            .arg("--trust")
            .arg(k.join("root.pem"))
            .arg("--soft-revocation-check"),
    );
    assert_eq!(v["all_valid"], true, "{v}");
    let out2 = d.path().join("da-ky-2.pdf");
    let v = json(sign(&out2).arg("--repair"));
    assert!(
        v["repaired"]
            .as_str()
            .is_some_and(|r| r.contains("dựng lại")),
        "{v}"
    );
}

#[test]
fn pdf_sign_with_softhsm_token() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let module = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("softhsm2 is installed (scripts/setup.sh)");
    std::fs::create_dir(d.path().join("tokens")).unwrap();
    let conf = d.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            d.path().join("tokens").display()
        ),
    )
    .unwrap();
    let sh = |c: &mut Command| {
        let o = c.env("SOFTHSM2_CONF", &conf).output().unwrap();
        assert!(
            o.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    sh(Command::new("softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        "vanthu-token",
        "--pin",
        "1234",
        "--so-pin",
        "5678",
    ]));
    sh(Command::new("softhsm2-util")
        .arg("--import")
        .arg(k.join("clerk.key.pem"))
        .args([
            "--token",
            "vanthu-token",
            "--label",
            "ToChuc",
            "--id",
            "07",
            "--pin",
            "1234",
        ]));
    for (name, id) in [("clerk", "07"), ("inter", "08")] {
        let der = d.path().join(format!("{name}.der"));
        sh(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(k.join(format!("{name}.pem")))
            .arg("-out")
            .arg(&der));
        sh(Command::new("pkcs11-tool")
            .args([
                "--module",
                module,
                "--token-label",
                "vanthu-token",
                "--login",
                "--pin",
                "1234",
            ])
            .arg("--write-object")
            .arg(&der)
            .args(["--type", "cert", "--id", id]));
    }
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let out = d.path().join("token.pdf");
    ok(pdf_cmd(d.path())
        .env("SOFTHSM2_CONF", &conf)
        .arg("sign")
        .arg(&input)
        .arg(&out)
        .args([
            "--pkcs11-module",
            module,
            "--token",
            "vanthu-token",
            "--key",
            "ToChuc",
        ])
        .args(["--pin-env", "PIN", "--field", "ToChuc"]));
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    let o = run(pdf_cmd(d.path())
        .env("SOFTHSM2_CONF", &conf)
        .arg("sign")
        .arg(&input)
        .arg(d.path().join("never.pdf"))
        .args([
            "--pkcs11-module",
            module,
            "--token",
            "vanthu-token",
            "--key",
            "ToChuc",
        ])
        .args(["--pin-env", "BADPIN"]));
    assert_eq!(o.status.code(), Some(5));
    assert!(!d.path().join("never.pdf").exists());
}

/// A loopback server for a PKI folder: GET serves its files (the CRLs), each POST goes
/// through `openssl ts -reply` with the PKI's TSA.
fn start_server(pki: &Path) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let dir = pki.to_path_buf();
    std::thread::spawn(move || {
        for (i, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            if first.starts_with("GET") {
                let name = first.split_whitespace().nth(1).unwrap_or("/");
                let name = name.trim_start_matches('/');
                let file = (!name.contains('/') && !name.contains(".."))
                    .then(|| std::fs::read(dir.join(name)).ok())
                    .flatten();
                let (status, body) = match file {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", Vec::new()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
                continue;
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let (q, a) = (dir.join(format!("q{i}")), dir.join(format!("a{i}")));
            std::fs::write(&q, body).unwrap();
            let o = Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(dir.join("tsa.cnf"))
                .args(["-section", "tsa_config", "-queryfile"])
                .arg(&q)
                .arg("-out")
                .arg(&a)
                .output()
                .unwrap();
            let resp = if o.status.success() {
                std::fs::read(&a).unwrap()
            } else {
                Vec::new()
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\n\r\n",
                resp.len()
            );
            let _ = s.write_all(&resp);
        }
    });
    url
}

#[test]
fn pdf_sign_levels_and_organisation_stamp() {
    let d = tempfile::tempdir().unwrap();
    let (k, tsa) = served_pki(d.path());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let lta = d.path().join("lta.pdf");
    ok(
        p12_sign(d.path(), &input, &lta, k.join("leader.p12")).args([
            "--pin-env",
            "PIN",
            "--level",
            "B-LTA",
            "--tsa",
            &tsa,
        ]),
    );
    let v = verify_json(d.path(), &lta, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["level"], "B-LTA", "{v}");
    assert_eq!(v["signatures"][1]["kind"], "document_timestamp", "{v}");
    assert_eq!(v["revisions"], 4);
    // The organisation stamp on top (an attachment's signature).
    let org = d.path().join("org.pdf");
    ok(p12_sign(d.path(), &lta, &org, k.join("clerk.p12")).args([
        "--pin-env",
        "PIN",
        "--org",
        "--field",
        "ToChuc",
        "--level",
        "B-T",
        "--tsa",
        &tsa,
    ]));
    let v = verify_json(d.path(), &org, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][2]["level"], "B-T", "{v}");
    // B-T without a TSA is a usage error (exit 3), and nothing is written.
    let o = run(pdf_cmd(d.path())
        .arg("sign")
        .arg(&input)
        .arg(d.path().join("never.pdf"))
        .arg("--p12")
        .arg(k.join("leader.p12"))
        .args(["--pin-env", "PIN", "--level", "B-T"]));
    assert_eq!(o.status.code(), Some(3));
    assert!(!d.path().join("never.pdf").exists());
    // `pdf extend`: the B-T organisation signature and the rest brought to B-LTA afterwards.
    let ext = d.path().join("ext.pdf");
    let v = json(
        pdf_cmd(d.path())
            .arg("extend")
            .arg(&org)
            .arg(&ext)
            .args(["--tsa", &tsa, "--trust"])
            .arg(k.join("root.pem")),
    );
    assert_eq!(v["level"], "B-LTA", "{v}");
    // Each signature's level as it now stands, in the JSON.
    let levels = v["signatures"].as_array().expect("levels");
    assert!(!levels.is_empty(), "{v}");
    assert!(levels.iter().all(|l| l["level"] == "B-LTA"), "{v}");
    let v = verify_json(d.path(), &ext, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][2]["level"], "B-LTA", "{v}");
    let o = run(pdf_cmd(d.path())
        .arg("extend")
        .arg(&input)
        .arg(d.path().join("never.pdf"))
        .args(["--tsa", &tsa]));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("chưa có chữ ký"));
    // B-LT with a certificate its CA's CRL lists as revoked: refused, named, nothing written.
    let o = run(p12_sign(
        d.path(),
        &input,
        d.path().join("never.pdf"),
        k.join("revoked.p12"),
    )
    .args(["--pin-env", "PIN", "--level", "B-LT", "--tsa", &tsa]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("\"Revoked Signer\" (signer) bị thu hồi lúc") && err.contains("theo CRL"),
        "{err}"
    );
    assert!(!d.path().join("never.pdf").exists());
}

/// An `https://127.0.0.1:PORT` front (Python's `ssl`, `certs/test-https-proxy.py`) for the
/// loopback `upstream` server, with a certificate from a private test CA (`ca`: its PEM);
/// stopped when dropped.
pub(crate) struct HttpsFront {
    pub url: String,
    pub ca: std::path::PathBuf,
    child: std::process::Child,
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn https_front(dir: &Path, upstream: &str) -> HttpsFront {
    let tls = dir.join("tls");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(Command::new("bash")
        .arg(repo.join("certs/test-tls.sh"))
        .arg(&tls)
        .status()
        .unwrap()
        .success());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("python3")
        .arg(repo.join("certs/test-https-proxy.py"))
        .arg(port.to_string())
        .arg(tls.join("server.pem"))
        .arg(tls.join("server.key.pem"))
        .arg(upstream.trim_end_matches('/'))
        .spawn()
        .expect("python3");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    HttpsFront {
        url: format!("https://127.0.0.1:{port}"),
        ca: tls.join("ca.pem"),
        child,
    }
}

/// `--tsa https://…`: the TSA's TLS certificate is checked; one from an unknown CA stops the
/// signature with the reason (exit 3, nothing written) until `--tls-ca` names its CA.
#[test]
fn pdf_sign_with_an_https_tsa_and_tls_ca() {
    let d = tempfile::tempdir().unwrap();
    let (k, tsa) = served_pki(d.path());
    let front = https_front(d.path(), &tsa);
    let https = format!("{}/tsa", front.url);
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let out = d.path().join("out.pdf");
    let sign = || {
        let mut c = p12_sign(d.path(), &input, &out, k.join("leader.p12"));
        c.args(["--pin-env", "PIN", "--level", "B-T", "--tsa", &https]);
        c
    };
    let o = run(&mut sign());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("TLS handshake failed"), "{err}");
    assert!(!out.exists());
    ok(sign().arg("--tls-ca").arg(&front.ca));
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["level"], "B-T", "{v}");
}

/// A PKCS#12 file exported without a password (some CA tools do) signs without a prompt.
/// This one holds only the signer's certificate: `sign` warns that the CA's is missing (the
/// signature then does not reach the root) and `--chain` supplies it.
#[test]
fn pdf_sign_with_a_passwordless_leaf_only_pkcs12_and_chain() {
    let d = tempfile::tempdir().unwrap();
    let k = pki(d.path());
    let open = d.path().join("open.p12");
    let st = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:", "-inkey"])
        .arg(k.join("leader.key.pem"))
        .arg("-in")
        .arg(k.join("leader.pem"))
        .arg("-out")
        .arg(&open)
        .status()
        .unwrap();
    assert!(st.success());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let verify = |f: &Path| -> serde_json::Value {
        let o = run(pdf_cmd(d.path())
            .arg("verify")
            .arg(f)
            .arg("--trust")
            .arg(k.join("root.pem"))
            .args(["--soft-revocation-check", "--json"]));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let bare = d.path().join("bare.pdf");
    let o = run(&mut p12_sign(d.path(), &input, &bare, &open));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("thiếu chứng thư của CA \"vanthu Test Intermediate CA\"")
            && err.contains("--chain"),
        "{err}"
    );
    assert_eq!(verify(&bare)["all_valid"], false);
    let out = d.path().join("out.pdf");
    let o = run(p12_sign(d.path(), &input, &out, &open)
        .arg("--chain")
        .arg(k.join("chain.pem")));
    assert!(o.status.success() && o.stderr.is_empty(), "{o:?}");
    let v = verify(&out);
    assert_eq!(v["all_valid"], true, "{v}");
}

#[test]
fn pdf_verify_without_revocation_data_is_undetermined_unless_soft() {
    let d = tempfile::tempdir().unwrap();
    // Certificates without CRL or OCSP pointers: no revocation data, online or in the file.
    let k = pki(d.path());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let out = d.path().join("out.pdf");
    ok(p12_sign(d.path(), &input, &out, k.join("leader.p12")).args(["--pin-env", "PIN"]));
    let verify = || {
        let mut c = pdf_cmd(d.path());
        c.arg("verify")
            .arg(&out)
            .arg("--trust")
            .arg(k.join("root.pem"));
        c
    };
    // Fail closed by default: CHƯA XÁC ĐỊNH, exit 9.
    let o = run(verify().arg("--json"));
    assert_eq!(
        o.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["all_valid"], false, "{v}");
    assert_eq!(v["verdict"], "CHƯA XÁC ĐỊNH", "{v}");
    assert_eq!(v["signatures"][0]["intact"], true, "{v}");
    assert_eq!(v["signatures"][0]["trusted"], true, "{v}");
    assert_eq!(v["signatures"][0]["revocation_ok"], false, "{v}");
    let o = run(&mut verify());
    assert_eq!(o.status.code(), Some(9));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Kết luận:     CHƯA XÁC ĐỊNH"), "{text}");
    // Certification P=3 and a FieldMDP lock are written and reported.
    let locked = d.path().join("locked.pdf");
    ok(p12_sign(d.path(), &input, &locked, k.join("leader.p12"))
        .args(["--pin-env", "PIN", "--certify", "--docmdp", "3"])
        .args(["--lock-except", "SoKyHieu", "--lock-except", "NgayBanHanh"]));
    let v = json(
        pdf_cmd(d.path())
            .arg("verify")
            .arg(&locked)
            .arg("--trust")
            .arg(k.join("root.pem"))
            .arg("--soft-revocation-check"),
    );
    assert_eq!(v["signatures"][0]["certification"], 3, "{v}");
    assert_eq!(
        v["signatures"][0]["field_lock"], "FieldMDP /Exclude [SoKyHieu, NgayBanHanh]",
        "{v}"
    );
    // The explicit opt-out: valid, with a warning; the old flag is still accepted.
    let v = json(verify().arg("--soft-revocation-check"));
    assert_eq!(v["all_valid"], true, "{v}");
    let w = v["signatures"][0]["warnings"].to_string();
    assert!(w.contains("revocation not checked"), "{v}");
    let o = run(verify().arg("--require-revocation"));
    assert_eq!(o.status.code(), Some(9));
}

/// A transparent `w`×`h` PNG with one colour where `ink` says so.
fn test_png(path: &Path, w: u32, h: u32, rgb: [u8; 3], ink: impl Fn(u32, u32) -> bool) {
    let mut px = vec![0u8; (w * h * 4) as usize];
    for y in 0..h {
        for x in 0..w {
            if ink(x, y) {
                let i = ((y * w + x) * 4) as usize;
                px[i..i + 3].copy_from_slice(&rgb);
                px[i + 3] = 255;
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().unwrap().write_image_data(&px).unwrap();
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn pdf_sign_leader_image_then_seal_and_attachment_stamp() {
    let d = tempfile::tempdir().unwrap();
    let k = pki(d.path());
    let input = d.path().join("in.pdf");
    std::fs::write(&input, sample_pdf()).unwrap();
    let blue = d.path().join("chu-ky.png");
    test_png(&blue, 200, 100, [20, 40, 200], |x, y| (x + y) % 17 < 4);
    let seal = d.path().join("dau.png");
    test_png(&seal, 200, 200, [220, 0, 0], |x, y| {
        let (dx, dy) = (x as f64 - 99.5, y as f64 - 99.5);
        (80.0..99.0).contains(&(dx * dx + dy * dy).sqrt())
    });
    let led = d.path().join("led.pdf");
    ok(p12_sign(d.path(), &input, &led, k.join("leader.p12"))
        .args(["--pin-env", "PIN", "--field", "LanhDao1"])
        .args(["--visible", "1,330,150,180,90", "--image"])
        .arg(&blue));
    let sealed = d.path().join("sealed.pdf");
    ok(p12_sign(d.path(), &led, &sealed, k.join("clerk.p12"))
        .args(["--pin-env", "PIN", "--field", "ToChuc", "--seal"])
        .arg(&seal)
        .args(["--seal-mm", "36", "--next-to", "LanhDao1"]));
    let v = json(
        pdf_cmd(d.path())
            .arg("verify")
            .arg(&sealed)
            .arg("--trust")
            .arg(k.join("root.pem"))
            .arg("--soft-revocation-check"),
    );
    assert_eq!(v["signatures"].as_array().map(Vec::len), Some(2), "{v}");
    for s in v["signatures"].as_array().unwrap() {
        assert_eq!(s["intact"], true, "{v}");
    }
    let raw = String::from_utf8_lossy(&std::fs::read(&sealed).unwrap()).into_owned();
    assert!(raw.contains("/T (ToChuc)"), "seal field written");
    // A seal next to a field that does not exist is a usage error, nothing written.
    let o = run(pdf_cmd(d.path())
        .arg("sign")
        .arg(&led)
        .arg(d.path().join("never.pdf"))
        .arg("--p12")
        .arg(k.join("clerk.p12"))
        .args(["--pin-env", "PIN", "--seal"])
        .arg(&seal)
        .args(["--seal-mm", "36", "--next-to", "Khong"]));
    assert_eq!(o.status.code(), Some(3));
    assert!(!d.path().join("never.pdf").exists());
    // The attachment stamp with its document number.
    let att = d.path().join("att.pdf");
    ok(p12_sign(d.path(), &input, &att, k.join("clerk.p12")).args([
        "--pin-env",
        "PIN",
        "--org",
        "--stamp-number",
        "12/QĐ-UBND",
    ]));
    let text = page_one_text(&att);
    assert!(text.contains("Số: 12/QĐ-UBND;"), "{text}");
    // The same stamp with the ISO 8601 time form.
    let iso = d.path().join("att-iso.pdf");
    ok(p12_sign(d.path(), &input, &iso, k.join("clerk.p12"))
        .args(["--pin-env", "PIN", "--org", "--stamp-number", "12/QĐ-UBND"])
        .args(["--stamp-time", "iso"]));
    let text = page_one_text(&iso);
    let line = text
        .lines()
        .find(|l| l.contains("Số: 12/QĐ-UBND; "))
        .unwrap_or_else(|| panic!("{text}"));
    let when = line.rsplit("; ").next().unwrap().trim();
    // 2026-03-05T14:22:10+07:00
    let b = when.as_bytes();
    assert!(
        when.len() == 25
            && b[4] == b'-'
            && b[10] == b'T'
            && when.ends_with("+07:00")
            && time::OffsetDateTime::parse(when, &time::format_description::well_known::Rfc3339)
                .is_ok(),
        "{line}"
    );
    // The e-copy stamp.
    let copy = d.path().join("copy.pdf");
    ok(p12_sign(d.path(), &input, &copy, k.join("clerk.p12"))
        .args(["--pin-env", "PIN", "--org", "--copy", "SAO LỤC"])
        .args(["--agency", "Sở Nội vụ"]));
    let text = page_one_text(&copy);
    assert!(text.contains("SAO LỤC; Sở Nội vụ; "), "{text}");
    // A copy stamp without --org is a usage error.
    let o = run(pdf_cmd(d.path())
        .arg("sign")
        .arg(&input)
        .arg(d.path().join("never.pdf"))
        .arg("--p12")
        .arg(k.join("clerk.p12"))
        .args(["--pin-env", "PIN", "--copy", "SAO Y"]));
    assert_ne!(o.status.code(), Some(0));
    assert!(!d.path().join("never.pdf").exists());
}

/// `vanthu sign ID`: the clerk registers a PDF, the leader signs it in the store (the same
/// key options as `vanthu pdf sign`), the signed copy sits beside the original in `show`,
/// exports and validates; a wrong password exits 5 and a non-PDF 3, with nothing added; no
/// plaintext reaches the store folder.
#[test]
fn sign_a_stored_document() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let data = d.path().join("kho");
    init(&data);
    let pdf = d.path().join("quyết định 15.pdf");
    std::fs::write(&pdf, sample_pdf()).unwrap();
    let note = d.path().join("ghi chú.txt");
    std::fs::write(&note, "không phải PDF").unwrap();
    let doc = json(
        vanthu(&data)
            .args(["incoming", "add"])
            .arg(&pdf)
            .arg(&note)
            .args([
                "--from",
                "Ủy ban nhân dân tỉnh Hòa Bình",
                "--notation",
                "15/QĐ-UBND",
                "--date",
                "2026-12-01",
                "--subject",
                "Quyết định bổ nhiệm",
            ]),
    );
    let id = doc["id"].as_str().unwrap().to_string();
    let sign = |extra: &[&str], key: &str| {
        let mut c = vanthu(&data);
        c.env("PIN", "1234")
            .env("BADPIN", "0000")
            .args(["sign", &id, "--p12"])
            .arg(k.join(key))
            .args(extra);
        c
    };
    // A wrong password: exit 5, nothing added.
    let o = run(&mut sign(&["--pin-env", "BADPIN"], "leader.p12"));
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    // Not a PDF: exit 3.
    let o = run(&mut sign(
        &["--pin-env", "PIN", "--file", "2"],
        "leader.p12",
    ));
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only PDF files are signed"),
        "{o:?}"
    );
    let shown = json(vanthu(&data).args(["show", &id]));
    assert_eq!(shown["files"].as_array().unwrap().len(), 2, "{shown}");
    // Signed by the leader, then countersigned by the clerk's key.
    let done = json(&mut sign(
        &["--pin-env", "PIN", "--reason", "Phê duyệt"],
        "leader.p12",
    ));
    assert_eq!(
        done["signed"]["name"], "quyết định 15 (đã ký).pdf",
        "{done}"
    );
    let text = ok(&mut sign(
        &["--pin-env", "PIN", "--file", "quyết định 15 (đã ký).pdf"],
        "clerk.p12",
    ));
    assert!(text.contains("quyết định 15 (đã ký 2).pdf"), "{text}");
    let shown = json(vanthu(&data).args(["show", &id]));
    let names: Vec<&str> = shown["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "quyết định 15.pdf",
            "ghi chú.txt",
            "quyết định 15 (đã ký).pdf",
            "quyết định 15 (đã ký 2).pdf"
        ]
    );
    let out = d.path().join("ra.pdf");
    ok(vanthu(&data)
        .args(["export", &id])
        .arg(&out)
        .args(["--file", "4"]));
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["signatures"][0]["signer"], "Nguyễn Văn An");
    assert!(std::fs::read(&out).unwrap().starts_with(&sample_pdf()));
    // The audit chain, with both signings in it, still holds (exit 0).
    ok(vanthu(&data).args(["audit", "verify"]));
    for (f, bytes) in all_files(&data) {
        assert!(
            !contains(&bytes, b"%PDF-") && !contains(&bytes, b"/ByteRange"),
            "plaintext PDF bytes in {}",
            f.display()
        );
    }
}
