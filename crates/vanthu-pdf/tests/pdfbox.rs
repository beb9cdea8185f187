//! Interop with Apache PDFBox and BouncyCastle (Debian's libpdfbox2-java, libbcpkix-java), the
//! pair that Java signing services are built on: a small Java program (`tests/pdfbox/`),
//! compiled here, signs as PDFBox's own examples do and checks each CMS with BouncyCastle.
//! PDFBox and BouncyCastle are the oracle; pyHanko and qpdf look on as well.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions, Visible};
use vanthu_pdf::verify::{verify_bytes, INVALID, UNDETERMINED, VALID};

const JARS: [&str; 6] = [
    "pdfbox2.jar",
    "fontbox2.jar",
    "commons-logging.jar",
    "bcprov.jar",
    "bcpkix.jar",
    "bcutil.jar",
];

/// The class path: the compiled program, then Debian's jars.
fn classpath() -> &'static str {
    static CP: OnceLock<(String, tempfile::TempDir)> = OnceLock::new();
    &CP.get_or_init(|| {
        let jars: Vec<PathBuf> = JARS
            .iter()
            .map(|j| Path::new("/usr/share/java").join(j))
            .collect();
        for j in &jars {
            assert!(
                j.exists(),
                "{} missing: scripts/setup.sh installs PDFBox and BouncyCastle",
                j.display()
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let mut cp = dir.path().display().to_string();
        for j in &jars {
            cp.push(':');
            cp.push_str(&j.display().to_string());
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdfbox/PdfBoxOracle.java");
        let o = Command::new("javac")
            .arg("-d")
            .arg(dir.path())
            .args(["-cp", &cp])
            .arg(&src)
            .output()
            .expect("javac is installed (scripts/setup.sh: default-jdk-headless)");
        assert!(
            o.status.success(),
            "javac: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        (cp, dir)
    })
    .0
}

fn java(args: &[&str]) -> String {
    let o = Command::new("java")
        .args(["-cp", classpath(), "PdfBoxOracle"])
        .args(args)
        .output()
        .expect("java is installed (scripts/setup.sh)");
    assert!(
        o.status.success(),
        "PdfBoxOracle {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// PDFBox signs `src` into `out` as `key` (a test PKI stem), in field `field`; `mode`: adbe,
/// etsi (no ESS attribute) or etsi-ess.
fn pdfbox_sign(src: &Path, out: &Path, key: &str, field: &str, mode: &str) {
    pdfbox_sign_with(src, out, key, field, mode, &[]);
}

/// [`pdfbox_sign`] with the program's further arguments (`["2"]`: certify with DocMDP P=2).
fn pdfbox_sign_with(src: &Path, out: &Path, key: &str, field: &str, mode: &str, more: &[&str]) {
    let p12 = pki().join(format!("{key}.p12"));
    let (src, out, p12) = (
        src.display().to_string(),
        out.display().to_string(),
        p12.display().to_string(),
    );
    let mut args = vec!["sign", &src, &out, &p12, "1234", field, mode];
    args.extend_from_slice(more);
    java(&args);
}

/// BouncyCastle's word on each signature PDFBox finds: (field, "OK:whole" | "OK:partial" |
/// "BAD:why").
fn pdfbox_verify(file: &Path) -> Vec<(String, String)> {
    java(&["verify", &file.display().to_string()])
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect()
}

fn write(dir: &Path, name: &str, data: Vec<u8>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// vanthu's signatures — RSA with a visible appearance, then ECDSA P-256 as the organisation
/// stamp, on a classic and on an object-stream file — are each verified by BouncyCastle over
/// the bytes PDFBox finds under their ByteRange, the last one covering the whole file. PDFBox
/// then signs on top (PAdES, with the ESS attribute): vanthu finds all three valid, and so do
/// pyHanko and BouncyCastle.
#[test]
fn vanthu_signatures_verify_in_bouncycastle_and_pdfbox_signs_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        ("classic", sample_pdf(2, "PDFBox")),
        ("objstm", xref_stream_pdf(dir.path(), 2, "PDFBox")),
    ];
    for (name, input) in inputs {
        let leader = SignOptions {
            visible: Some(Visible {
                page: 1,
                rect: [300.0, 100.0, 200.0, 60.0],
                image_png: None,
                text: vec!["Nguyễn Văn An".into()],
                font: None,
            }),
            ..Default::default()
        };
        let one = sign_bytes(input, &p12("leader"), &leader).unwrap();
        let two = sign_bytes(one, &p12("clerk"), &SignOptions::default()).unwrap();
        let f = write(dir.path(), &format!("{name}-vanthu.pdf"), two);
        let seen = pdfbox_verify(&f);
        assert_eq!(seen.len(), 2, "{name}: {seen:?}");
        assert_eq!(seen[0].1, "OK:partial", "{name}: {seen:?}");
        assert_eq!(seen[1].1, "OK:whole", "{name}: {seen:?}");
        let out = dir.path().join(format!("{name}-pdfbox.pdf"));
        pdfbox_sign(&f, &out, "leader", "PdfBox", "etsi-ess");
        let data = std::fs::read(&out).unwrap();
        assert!(data.starts_with(&std::fs::read(&f).unwrap()), "{name}");
        let rep = verify_bytes(data, &opts()).unwrap();
        assert_eq!(rep.signatures.len(), 3, "{name}: {rep:#?}");
        assert!(rep.all_valid, "{name}: {rep:#?}");
        let last = &rep.signatures[2];
        assert_eq!(
            (last.field.as_str(), last.level.as_str()),
            ("PdfBox", "B-B")
        );
        let (ok, text) = pyhanko_validate(&out, &[]);
        assert!(ok && text.matches(":VALID").count() == 3, "{name}: {text}");
        let seen = pdfbox_verify(&out);
        assert!(
            seen.iter().all(|(_, v)| v.starts_with("OK:")) && seen.len() == 3,
            "{name}: {seen:?}"
        );
        // qpdf accepts vanthu's file as it is; PDFBox's own update of an object-stream file
        // declares a /Size above its objects (it does so on any such input), which qpdf notes.
        let (ok, text) = qpdf_check(&f);
        assert!(ok, "{name}: qpdf: {text}");
        let (ok, text) = qpdf_check(&out);
        let size_note = text.contains("reported number of objects") && !text.contains("ERROR");
        assert!(
            ok || (name == "objstm" && size_note),
            "{name}: qpdf: {text}"
        );
    }
}

/// PDFBox signs first, as Java services do by default: adbe.pkcs7.detached, ETSI.CAdES.detached
/// with the ESS attribute, and ETSI.CAdES.detached without it (PAdES requires it: vanthu says
/// intact but CHƯA XÁC ĐỊNH, never HỢP LỆ). vanthu validates each and countersigns it (the
/// organisation stamp); BouncyCastle and pyHanko find both signatures intact. A byte changed
/// under PDFBox's signature: vanthu says KHÔNG HỢP LỆ, and BouncyCastle agrees.
#[test]
fn pdfbox_signs_vanthu_validates_and_countersigns() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "in.pdf", sample_pdf(1, "Cong van PDFBox"));
    for (mode, verdict) in [("etsi-ess", VALID), ("adbe", VALID), ("etsi", UNDETERMINED)] {
        let signed = dir.path().join(format!("{mode}.pdf"));
        pdfbox_sign(&src, &signed, "leader", "LanhDao", mode);
        let data = std::fs::read(&signed).unwrap();
        let rep = verify_bytes(data.clone(), &opts()).unwrap();
        let s = &rep.signatures[0];
        assert!(s.intact && s.verdict == verdict, "{mode}: {s:#?}");
        let out = dir.path().join(format!("{mode}-stamp.pdf"));
        let o = SignOptions {
            org_stamp: true,
            ..Default::default()
        };
        vanthu_pdf::sign_file(&signed, &out, &p12("clerk"), &o).unwrap();
        let rep = verify_bytes(std::fs::read(&out).unwrap(), &opts()).unwrap();
        assert_eq!(rep.signatures.len(), 2, "{mode}: {rep:#?}");
        assert!(rep.signatures.iter().all(|s| s.intact), "{mode}: {rep:#?}");
        assert_eq!(rep.signatures[0].verdict, verdict, "{mode}: {rep:#?}");
        assert_eq!(rep.signatures[1].verdict, VALID, "{mode}: {rep:#?}");
        assert_eq!(
            pdfbox_verify(&out),
            [
                ("LanhDao".to_string(), "OK:partial".to_string()),
                ("ToChuc".to_string(), "OK:whole".to_string())
            ],
            "{mode}"
        );
        let (ok, text) = pyhanko_validate(&out, &[]);
        assert!(ok && text.matches(":VALID").count() == 2, "{mode}: {text}");
        // Tampered under PDFBox's signature.
        let at = data.windows(11).position(|w| w == b"Cong van PD").unwrap();
        let mut bad = data;
        bad[at] = b'K';
        let rep = verify_bytes(bad.clone(), &opts()).unwrap();
        assert!(
            !rep.signatures[0].intact && rep.signatures[0].verdict == INVALID,
            "{mode}: {rep:#?}"
        );
        let f = write(dir.path(), &format!("{mode}-bad.pdf"), bad);
        let seen = pdfbox_verify(&f);
        assert!(seen[0].1.starts_with("BAD:"), "{mode}: {seen:?}");
    }
}

/// A document certified by PDFBox (DocMDP as its examples write it): at P=2 and P=3 vanthu reads
/// the certification, adds its signature, and vanthu, pyHanko and BouncyCastle find both good;
/// at P=1 vanthu refuses to sign (another signature would void the certification) and writes
/// nothing.
#[test]
fn a_pdfbox_certification_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "in.pdf", sample_pdf(1, "Chung nhan PDFBox"));
    for p in [2i64, 3, 1] {
        let certified = dir.path().join(format!("p{p}.pdf"));
        let ps = p.to_string();
        pdfbox_sign_with(&src, &certified, "leader", "LanhDao", "etsi-ess", &[&ps]);
        let rep = verify_bytes(std::fs::read(&certified).unwrap(), &opts()).unwrap();
        assert_eq!(rep.signatures[0].certification, Some(p), "P={p}: {rep:#?}");
        assert!(rep.all_valid, "P={p}: {rep:#?}");
        let out = dir.path().join(format!("p{p}-signed.pdf"));
        let done = vanthu_pdf::sign_file(&certified, &out, &p12("clerk"), &SignOptions::default());
        if p == 1 {
            let e = done.unwrap_err();
            assert!(e.to_string().contains("DocMDP P=1"), "{e}");
            assert!(!out.exists());
            continue;
        }
        done.unwrap();
        let rep = verify_bytes(std::fs::read(&out).unwrap(), &opts()).unwrap();
        assert_eq!(rep.signatures.len(), 2, "P={p}: {rep:#?}");
        assert!(rep.all_valid, "P={p}: {rep:#?}");
        let (ok, text) = pyhanko_validate(&out, &[]);
        assert!(ok && text.matches(":VALID").count() == 2, "P={p}: {text}");
        let seen = pdfbox_verify(&out);
        assert!(
            seen.len() == 2 && seen.iter().all(|(_, v)| v.starts_with("OK:")),
            "P={p}: {seen:?}"
        );
    }
}
