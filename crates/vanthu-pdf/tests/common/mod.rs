//! Shared helpers: the test PKI (certs/test-pki.sh), sample PDFs, and the real oracles
//! (pyHanko, qpdf). Missing tools fail the tests loudly: scripts/setup.sh installs them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// One PKI per test process (generation takes ~2 s), with a loopback server for its CRLs
/// (GET /root.crl, /inter.crl) and its TSA (POST /tsa).
pub fn pki() -> &'static Path {
    &pki_and_url().0
}

fn pki_and_url() -> &'static (PathBuf, String, tempfile::TempDir) {
    static PKI: OnceLock<(PathBuf, String, tempfile::TempDir)> = OnceLock::new();
    PKI.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let url = start_server(d.path().to_path_buf());
        let st = Command::new("bash")
            .arg(repo().join("certs/test-pki.sh"))
            .arg(d.path())
            .env("CRL_URL", &url)
            .env("OCSP_URL", format!("{url}/ocsp"))
            .status()
            .expect("bash and openssl are installed");
        assert!(st.success(), "certs/test-pki.sh failed");
        (d.path().to_path_buf(), url, d)
    })
}

/// Base URL of the loopback server of the test PKI (its CRLs at /root.crl and /inter.crl).
pub fn pki_url() -> &'static str {
    &pki_and_url().1
}

/// URL of the loopback TSA.
pub fn start_tsa() -> String {
    format!("{}/tsa", pki_and_url().1)
}

pub fn root_der() -> Vec<u8> {
    std::fs::read(pki().join("root.der")).unwrap()
}

pub fn p12(name: &str) -> vanthu_pdf::keys::SoftKey {
    let der = std::fs::read(pki().join(format!("{name}.p12"))).unwrap();
    vanthu_pdf::keys::load_p12(&der, "1234").unwrap()
}

/// A small one- or two-page PDF with a classic cross-reference table.
pub fn sample_pdf(pages: usize, text: &str) -> Vec<u8> {
    let mut objs: Vec<String> = Vec::new();
    // 1 catalog, 2 pages, 3 font, then (page, content) pairs.
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objs.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objs.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    ));
    objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for i in 0..pages {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let s = format!("BT /F1 14 Tf 72 760 Td ({text} - page {}) Tj ET", i + 1);
        objs.push(format!("<< /Length {} >>\nstream\n{s}\nendstream", s.len()));
    }
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n{x}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A hybrid-reference file laid out as in ISO 32000-1 §7.5.8.4 (and as Word writes them): a
/// main table in which the page tree and page (objects 3, 4, kept in object stream 2) are free
/// entries with generation 65535, then an empty update table whose trailer's /XRefStm points
/// at a cross-reference stream (object 7) that gives them. A PDF 1.4 reader sees no pages.
pub fn hybrid_pdf(text: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut off = [0usize; 8];
    let mut obj = |out: &mut Vec<u8>, n: usize, body: &[u8]| {
        off[n] = out.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    let content = format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET");
    obj(&mut out, 1, b"<< /Type /Catalog /Pages 3 0 R >>");
    let o3 = "<< /Type /Pages /Kids [4 0 R] /Count 1 >>";
    let o4 = "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> >>";
    let hdr = format!("3 0 4 {} ", o3.len() + 1);
    let data = format!("{hdr}{o3} {o4}");
    let stm = format!(
        "<< /Type /ObjStm /N 2 /First {} /Length {} >>\nstream\n{data}\nendstream",
        hdr.len(),
        data.len()
    );
    obj(&mut out, 2, stm.as_bytes());
    let c = format!(
        "<< /Length {} >>\nstream\n{content}\nendstream",
        content.len()
    );
    obj(&mut out, 5, c.as_bytes());
    obj(
        &mut out,
        6,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    );
    let mut xs = b"<< /Type /XRef /Size 8 /Index [3 2] /W [1 2 1] /Length 8 >>\nstream\n".to_vec();
    xs.extend_from_slice(&[2, 0, 2, 0, 2, 0, 2, 1]);
    xs.extend_from_slice(b"\nendstream");
    obj(&mut out, 7, &xs);
    let main = out.len();
    out.extend_from_slice(b"xref\n0 8\n0000000003 65535 f \n");
    out.extend_from_slice(format!("{:010} 00000 n \n{:010} 00000 n \n", off[1], off[2]).as_bytes());
    out.extend_from_slice(b"0000000004 65535 f \n0000000000 65535 f \n");
    for n in [5, 6, 7] {
        out.extend_from_slice(format!("{:010} 00000 n \n", off[n]).as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 8 /Root 1 0 R >>\nstartxref\n{main}\n%%EOF\n").as_bytes(),
    );
    let upd = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 0\ntrailer\n<< /Size 8 /Root 1 0 R /Prev {main} /XRefStm {} >>\nstartxref\n{upd}\n%%EOF\n",
            off[7]
        )
        .as_bytes(),
    );
    out
}

/// The same document rewritten by qpdf with object and cross-reference streams.
pub fn xref_stream_pdf(dir: &Path, pages: usize, text: &str) -> Vec<u8> {
    let a = dir.join("classic.pdf");
    let b = dir.join("objstm.pdf");
    std::fs::write(&a, sample_pdf(pages, text)).unwrap();
    let st = Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&a)
        .arg(&b)
        .status()
        .expect("qpdf is installed (scripts/setup.sh)");
    assert!(st.success());
    let v = std::fs::read(&b).unwrap();
    assert!(v.windows(5).any(|w| w == b"/XRef"));
    v
}

pub fn python() -> PathBuf {
    let p = std::env::var("VANTHU_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/vanthu/venv/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    let p = PathBuf::from(p);
    assert!(
        p.exists(),
        "Python venv with pyHanko missing at {} (run scripts/setup.sh)",
        p.display()
    );
    p
}

pub fn pyhanko() -> Command {
    let py = python();
    let bin = py.parent().unwrap().join("pyhanko");
    assert!(bin.exists(), "pyhanko CLI missing (run scripts/setup.sh)");
    Command::new(bin)
}

/// `pyhanko sign validate` against the test root: (exit ok, output).
pub fn pyhanko_validate(file: &Path, extra: &[&str]) -> (bool, String) {
    let out = pyhanko()
        .args([
            "sign",
            "validate",
            "--executive-summary",
            "--no-revocation-check",
        ])
        .arg("--trust")
        .arg(pki().join("root.pem"))
        .arg("--trust-replace")
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// pyHanko's AdES validation (ETSI EN 319 102-1, as `pyhanko sign adesverify` does) of every
/// signature, **offline** (no fetching: the file must carry all the revocation data) and with
/// revocation information required for every certificate, against the test root. Returns
/// whether every signature's bottom line is good, and one line per signature:
/// `FIELD AdES-indication bottom_line=…`.
pub fn pyhanko_ades_offline(file: &Path) -> (bool, String) {
    pyhanko_ades_offline_with(file, &pki().join("root.pem"))
}

/// [`pyhanko_ades_offline`] against the trust anchor `root` (PEM or DER).
pub fn pyhanko_ades_offline_with(file: &Path, root: &Path) -> (bool, String) {
    let script = r#"
import asyncio, sys
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.keys import load_cert_from_pemder
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec, SignatureValidationSpec, RevocationInfoGatheringSpec,
    RevinfoOnlineFetchingRule)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy, REQUIRE_REVINFO, FreshnessReqType)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
root = load_cert_from_pemder(sys.argv[1])
spec = PdfSignatureValidationSpec(SignatureValidationSpec(
    cert_validation_policy=CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[root]),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness=None,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION)),
    revinfo_gathering_policy=RevocationInfoGatheringSpec(
        online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))
ok = True
with open(sys.argv[2], 'rb') as f:
    sigs = PdfFileReader(f).embedded_regular_signatures
    ok = bool(sigs)
    for s in sigs:
        res = asyncio.run(ades_lta_validation(s, spec, timing_info=ValidationTimingInfo.now()))
        good = res.api_status is not None and res.api_status.bottom_line
        print(s.field_name, res.ades_subindic, 'bottom_line=%s' % good)
        ok = ok and good
sys.exit(0 if ok else 1)
"#;
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(root)
        .arg(file)
        .output()
        .expect("pyHanko's Python is installed (scripts/setup.sh)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `qpdf --check`: exit 0 only.
pub fn qpdf_check(file: &Path) -> (bool, String) {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(file)
        .output()
        .expect("qpdf is installed (scripts/setup.sh)");
    (
        out.status.code() == Some(0),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Validation as the application does it: against the test root, fail-closed revocation,
/// online (the test PKI's CRLs and OCSP responder answer on 127.0.0.1).
pub fn opts() -> vanthu_pdf::verify::VerifyOptions {
    vanthu_pdf::verify::VerifyOptions {
        trust: vec![root_der()],
        at: None,
        online: true,
        intermediates: Vec::new(),
        soft_revocation: false,
    }
}

/// Offline validation: only what the file carries (DSS) counts for revocation.
pub fn offline_opts() -> vanthu_pdf::verify::VerifyOptions {
    vanthu_pdf::verify::VerifyOptions {
        online: false,
        ..opts()
    }
}

/// Appends an incremental update with the given (number, body) objects, as an attacker would:
/// `xref` = "table", "stream" or "none" (objects appended without any cross-reference).
pub fn append_revision(data: &[u8], objs: &[(u32, String)], xref: &str) -> Vec<u8> {
    append_revision_with(data, objs, xref, "")
}

/// [`append_revision`] whose trailer (or cross-reference stream dictionary) also holds
/// `extra` (e.g. `/Encrypt 9 0 R /ID […]`).
pub fn append_revision_with(
    data: &[u8],
    objs: &[(u32, String)],
    xref: &str,
    extra: &str,
) -> Vec<u8> {
    let doc = vanthu_pdf::doc::Doc::parse(data.to_vec()).unwrap();
    let prev = doc.sections.last().unwrap().offset;
    let size = doc.size();
    let mut out = data.to_vec();
    let mut offs = Vec::new();
    for (n, body) in objs {
        offs.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let root = doc.root_ref().0;
    match xref {
        "table" => {
            let x = out.len();
            out.extend_from_slice(b"xref\n");
            for (n, o) in &offs {
                out.extend_from_slice(format!("{n} 1\n{o:010} 00000 n\r\n").as_bytes());
            }
            out.extend_from_slice(
                format!("trailer\n<< /Size {size} /Root {root} 0 R /Prev {prev} {extra} >>\nstartxref\n{x}\n%%EOF\n")
                    .as_bytes(),
            );
        }
        "stream" => {
            let xs = size;
            let x = out.len();
            offs.push((xs, x));
            let mut rows = Vec::new();
            let mut index = String::new();
            for (n, o) in &offs {
                index.push_str(&format!("{n} 1 "));
                rows.push(1u8);
                rows.extend_from_slice(&(*o as u32).to_be_bytes());
                rows.extend_from_slice(&[0, 0]);
            }
            out.extend_from_slice(
                format!(
                    "{xs} 0 obj\n<< /Type /XRef /Size {} /Root {root} 0 R /Prev {prev} {extra} /W [1 4 2] /Index [{index}] /Length {} >>\nstream\n",
                    xs + 1,
                    rows.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&rows);
            out.extend_from_slice(
                format!("\nendstream\nendobj\nstartxref\n{x}\n%%EOF\n").as_bytes(),
            );
        }
        _ => {}
    }
    out
}

/// Replaces `from` by `to` padded with spaces to the same length (offsets stay valid).
pub fn patch_same_len(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert!(to.len() <= from.len());
    let p = data
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = data.to_vec();
    let mut rep = to.to_vec();
    rep.resize(from.len(), b' ');
    out[p..p + from.len()].copy_from_slice(&rep);
    out
}

/// Loopback HTTP server: GET serves files of `dir` (CRLs), POST goes through `openssl ts -reply`
/// with the test PKI's TSA.
fn start_server(dir: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for (i, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            let mut first = String::new();
            if r.read_line(&mut first).unwrap_or(0) == 0 {
                continue;
            }
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" || line == "\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            if r.read_exact(&mut body).is_err() {
                continue;
            }
            let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut ctype = "application/pkix-crl";
            let (status, resp) = if first.starts_with("GET") {
                let name = path.trim_start_matches('/');
                match std::fs::read(dir.join(name)) {
                    Ok(b) if !name.contains("..") && !name.contains('/') => ("200 OK", b),
                    _ => ("404 Not Found", Vec::new()),
                }
            } else if path == "/ocsp" {
                ctype = "application/ocsp-response";
                let q = dir.join(format!("o{i}.req"));
                let a = dir.join(format!("o{i}.resp"));
                std::fs::write(&q, &body).unwrap();
                let o = Command::new("openssl")
                    .current_dir(&dir)
                    .args(["ocsp", "-index", "ca/index.txt", "-rsigner", "ocsp.pem"])
                    .args([
                        "-rkey",
                        "ocsp.key.pem",
                        "-CA",
                        "inter.pem",
                        "-ndays",
                        "1",
                        "-reqin",
                    ])
                    .arg(&q)
                    .arg("-respout")
                    .arg(&a)
                    .output()
                    .unwrap();
                if o.status.success() {
                    ("200 OK", std::fs::read(&a).unwrap())
                } else {
                    eprintln!("openssl ocsp: {}", String::from_utf8_lossy(&o.stderr));
                    ("500 Error", Vec::new())
                }
            } else {
                let q = dir.join(format!("q{i}.tsq"));
                let a = dir.join(format!("a{i}.tsr"));
                std::fs::write(&q, &body).unwrap();
                let st = Command::new("openssl")
                    .args(["ts", "-reply", "-config"])
                    .arg(dir.join("tsa.cnf"))
                    .args(["-section", "tsa_config", "-queryfile"])
                    .arg(&q)
                    .arg("-out")
                    .arg(&a)
                    .output()
                    .unwrap();
                ctype = "application/timestamp-reply";
                if st.status.success() {
                    ("200 OK", std::fs::read(&a).unwrap())
                } else {
                    eprintln!("openssl ts: {}", String::from_utf8_lossy(&st.stderr));
                    ("500 Error", Vec::new())
                }
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                resp.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&resp);
        }
    });
    url
}

/// `qpdf --encrypt USER OWNER ARGS… -- EXTRA… src out` (weak ciphers allowed: RC4 files exist).
pub fn qpdf_encrypt(src: &Path, out: &Path, user: &str, args: &[&str], extra: &[&str]) {
    let st = std::process::Command::new("qpdf")
        .arg("--allow-weak-crypto")
        .args(["--encrypt", user, "proprietaire"])
        .args(args)
        .arg("--")
        .args(extra)
        .arg(src)
        .arg(out)
        .status()
        .expect("qpdf is installed (scripts/setup.sh)");
    assert!(st.success(), "qpdf {args:?}");
}

/// pyHanko signs the encrypted `src` (its password prompt answered with the empty password).
pub fn pyhanko_sign_encrypted(src: &Path, out: &Path) {
    pyhanko_sign_locked(src, out, "")
}

/// pyHanko signs the encrypted `src`, its password prompt answered with `password`.
pub fn pyhanko_sign_locked(src: &Path, out: &Path, password: &str) {
    pyhanko_sign_locked_with(src, out, password, &[])
}

/// [`pyhanko_sign_locked`] with more `addsig` options (`extra`, before `pemder`).
pub fn pyhanko_sign_locked_with(src: &Path, out: &Path, password: &str, extra: &[&str]) {
    use std::io::Write;
    let k = pki();
    let mut child = pyhanko()
        .args(["sign", "addsig", "--field", "Sig1", "--use-pades"])
        .args(extra)
        .args(["pemder", "--no-pass", "--key"])
        .arg(k.join("leader.key.pem"))
        .arg("--cert")
        .arg(k.join("leader.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(src)
        .arg(out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `pyhanko sign addsig --field FIELD --use-pades EXTRA… pemder` as `key` (a PKI file stem,
/// with the test chain), `src` into `out`; asserts that pyHanko succeeded.
pub fn pyhanko_addsig(
    key: &str,
    field: &str,
    src: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) {
    let k = pki();
    let o = pyhanko()
        .args(["sign", "addsig", "--field", field, "--use-pades"])
        .args(extra)
        .args(["pemder", "--no-pass", "--key"])
        .arg(k.join(format!("{key}.key.pem")))
        .arg("--cert")
        .arg(k.join(format!("{key}.pem")))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(src)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs `openssl` with `args` split on spaces, `{d}` standing for `dir` and `{k}` for the test
/// PKI's folder (neither may hold a space); asserts that it succeeded.
pub fn openssl(dir: &Path, args: &str) {
    let line = args
        .replace("{d}", &dir.display().to_string())
        .replace("{k}", &pki().display().to_string());
    let o = Command::new("openssl")
        .args(line.split_whitespace())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A loopback HTTP server for `n` requests: each gets `reply(request head)` (the request's
/// body, per Content-Length, is read and dropped). Returns its URL and, when joined, the heads.
pub fn loopback_http(
    n: usize,
    reply: impl Fn(&str) -> Vec<u8> + Send + 'static,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..n {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let k = c.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..k]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
                assert!(k > 0, "request cut short");
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < head_end + len {
                let k = c.read(&mut chunk).unwrap();
                assert!(k > 0, "body cut short");
                buf.extend_from_slice(&chunk[..k]);
            }
            c.write_all(&reply(&head)).unwrap();
            seen.push(head);
        }
        seen
    });
    (url, h)
}

/// An HTTP/1.1 response with `status` (e.g. "200 OK") and `body`; `extra` header lines first.
pub fn http_reply_with(status: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// [`http_reply_with`] without extra headers.
pub fn http_reply(status: &str, body: &[u8]) -> Vec<u8> {
    http_reply_with(status, "", body)
}

/// An `https://127.0.0.1:PORT` front (Python's `ssl`, `certs/test-https-proxy.py`) for the
/// loopback TSA's server, with a certificate from a fresh test TLS CA (`certs/test-tls.sh`):
/// (port, the CA's PEM, a guard that stops the front when dropped).
pub fn https_front() -> (u16, Vec<u8>, impl Drop) {
    let tls = tempfile::tempdir().unwrap();
    let st = Command::new("bash")
        .arg(repo().join("certs/test-tls.sh"))
        .arg(tls.path())
        .status()
        .unwrap();
    assert!(st.success());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let upstream = start_tsa().trim_end_matches("/tsa").to_string();
    struct Kill(std::process::Child, tempfile::TempDir);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Command::new(python())
        .arg(repo().join("certs/test-https-proxy.py"))
        .arg(port.to_string())
        .arg(tls.path().join("server.pem"))
        .arg(tls.path().join("server.key.pem"))
        .arg(&upstream)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let ca = std::fs::read(tls.path().join("ca.pem")).unwrap();
    (port, ca, Kill(child, tls))
}
