//! vanthu signs, pyHanko and qpdf judge; pyHanko signs, vanthu judges.

mod common;

use common::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::verify::{verify_bytes, ChangeClass, INVALID, UNDETERMINED, VALID};

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

fn sign_to(
    dir: &std::path::Path,
    name: &str,
    input: Vec<u8>,
    key: &str,
    o: SignOptions,
) -> std::path::PathBuf {
    let out = sign_bytes(input, &p12(key), &o).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, out).unwrap();
    f
}

fn assert_pyhanko_valid(f: &std::path::Path, n: usize) {
    let (ok, out) = pyhanko_validate(f, &[]);
    assert!(ok, "pyHanko: {out}");
    assert_eq!(out.matches(":VALID").count(), n, "pyHanko: {out}");
    let (ok, out) = qpdf_check(f);
    assert!(ok, "qpdf: {out}");
}

fn assert_vanthu_valid(f: &std::path::Path, n: usize) -> vanthu_pdf::Report {
    let rep = verify_bytes(std::fs::read(f).unwrap(), &opts()).unwrap();
    assert_eq!(rep.signatures.len(), n, "{rep:#?}");
    assert!(rep.all_valid, "{rep:#?}");
    rep
}

/// Signs `src` into `out` with pyHanko's Python API as `key` (a PKI file stem):
/// `PdfSignatureMetadata(<meta>)`, after the Python lines `prelude` (patches, imports).
/// pyHanko's Python API signs `src` with the test PKI's `key`; `meta` are the arguments of its
/// PdfSignatureMetadata; `prelude` runs first (a `ts` it defines is used as the timestamper).
fn pyhanko_api_sign(
    key: &str,
    src: &std::path::Path,
    out: &std::path::Path,
    meta: &str,
    prelude: &str,
) {
    let k = pki();
    let script = format!(
        r#"
{prelude}
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter, MDPPerm
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
s = signers.SimpleSigner.load({key:?}, {cert:?}, ca_chain_files=({chain:?},))
with open({src:?}, 'rb') as i, open({out:?}, 'wb') as o:
    w = IncrementalPdfFileWriter(i)
    signers.sign_pdf(w, signers.PdfSignatureMetadata({meta}), signer=s, output=o,
                     timestamper=globals().get('ts'))
"#,
        key = k.join(format!("{key}.key.pem")).display().to_string(),
        cert = k.join(format!("{key}.pem")).display().to_string(),
        chain = k.join("chain.pem").display().to_string(),
        src = src.display().to_string(),
        out = out.display().to_string(),
    );
    let o = std::process::Command::new(python())
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{meta}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn ecdsa_signature_on_xref_stream_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = xref_stream_pdf(dir.path(), 1, "Cong van");
    let f = sign_to(dir.path(), "ec.pdf", input, "clerk", SignOptions::default());
    let rep = assert_vanthu_valid(&f, 1);
    assert_eq!(rep.signatures[0].signer, "Văn thư Sở Nội vụ");
    assert_pyhanko_valid(&f, 1);
}

#[test]
fn certified_leader_then_clerk_both_valid() {
    let dir = tempfile::tempdir().unwrap();
    for (tag, input) in [
        ("classic", sample_pdf(1, "To trinh")),
        ("xrefstm", xref_stream_pdf(dir.path(), 1, "To trinh")),
    ] {
        let f1 = sign_to(
            dir.path(),
            &format!("{tag}-1.pdf"),
            input,
            "leader",
            SignOptions {
                certify: true,
                field_name: Some("LanhDao1".into()),
                ..Default::default()
            },
        );
        let f2 = sign_to(
            dir.path(),
            &format!("{tag}-2.pdf"),
            std::fs::read(&f1).unwrap(),
            "clerk",
            SignOptions {
                field_name: Some("ToChuc".into()),
                ..Default::default()
            },
        );
        let rep = assert_vanthu_valid(&f2, 2);
        assert_eq!(rep.signatures[0].certification, Some(2));
        assert!(!rep.signatures[0].covers_final_revision);
        assert!(rep.signatures[1].covers_final_revision);
        assert_pyhanko_valid(&f2, 2);
    }
}

#[test]
fn pyhanko_signs_vanthu_validates_and_countersigns() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Bao cao")).unwrap();
    let fields = dir.path().join("fields.pdf");
    let st = pyhanko()
        .args([
            "sign",
            "addfields",
            "--field",
            "1/60,60,260,120/LanhDao1",
            "--field",
            "1/320,60,520,120/ToChuc",
        ])
        .arg(&src)
        .arg(&fields)
        .status()
        .unwrap();
    assert!(st.success());
    let by_py = dir.path().join("py.pdf");
    pyhanko_addsig("leader", "LanhDao1", &fields, &by_py, &[]);
    let rep = assert_vanthu_valid(&by_py, 1);
    assert_eq!(rep.signatures[0].field, "LanhDao1");
    // vanthu fills the pre-created ToChuc field after pyHanko's signature.
    let f = sign_to(
        dir.path(),
        "both.pdf",
        std::fs::read(&by_py).unwrap(),
        "clerk",
        SignOptions {
            field_name: Some("ToChuc".into()),
            ..Default::default()
        },
    );
    assert_vanthu_valid(&f, 2);
    assert_pyhanko_valid(&f, 2);
    // …and pyHanko signs after vanthu.
    let v1 = sign_to(
        dir.path(),
        "v1.pdf",
        std::fs::read(&fields).unwrap(),
        "leader",
        SignOptions {
            field_name: Some("LanhDao1".into()),
            ..Default::default()
        },
    );
    let v2 = dir.path().join("v2.pdf");
    pyhanko_addsig("clerk", "ToChuc", &v1, &v2, &[]);
    assert_vanthu_valid(&v2, 2);
    assert_pyhanko_valid(&v2, 2);
}

/// A signature *inside* a linearized file, as Acrobat writes when it signs a document with a
/// full save and Fast Web View: the original has two cross-reference sections — the main one
/// at the end of the file, first in the chain, and the first-page one near the start, after it
/// in the chain — and the signature covers both. Made here: qpdf linearizes a file whose
/// signature dictionary holds a placeholder, then `openssl cms` signs its ByteRange. vanthu
/// reads the signed revision as both sections (it used to take the main one alone, so that a
/// later countersignature showed as a forbidden change of the catalog and the page); vanthu's
/// and pyHanko's countersignatures leave both signatures valid for both validators.
#[test]
fn a_signature_inside_a_linearized_file_covers_both_of_its_sections() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "BT /F1 14 Tf 72 760 Td (Linearized and signed) Tj ET";
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Annots [5 0 R] \
         /Resources << /Font << /F1 7 0 R >> >> >>"
            .into(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /FT /Sig /T (Sig1) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /F 132 \
         /P 3 0 R >>"
            .into(),
        format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange [0 \
             1111111111 2222222222 3333333333] /Contents <{}> /M (D:20261205000000Z) >>",
            "0".repeat(16384)
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
    ];
    let mut orig = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(orig.len());
        orig.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = orig.len();
    orig.extend_from_slice(b"xref\n0 8\n0000000000 65535 f \n");
    for o in offs {
        orig.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    orig.extend_from_slice(
        format!("trailer\n<< /Size 8 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    std::fs::write(d.join("orig.pdf"), &orig).unwrap();
    tool(
        std::process::Command::new("qpdf")
            .args(["--linearize", "--object-streams=disable"])
            .arg(d.join("orig.pdf"))
            .arg(d.join("lin.pdf")),
    );
    let mut data = std::fs::read(d.join("lin.pdf")).unwrap();
    let doc = vanthu_pdf::doc::Doc::parse(data.clone()).unwrap();
    assert_eq!(doc.sections.len(), 2, "linearized: two sections");
    assert!(doc.sections[0].offset > doc.sections[1].offset);
    // The ByteRange around the placeholder, then the CMS over it.
    let lt = data.windows(11).position(|w| w == b"/Contents <").unwrap() + 10;
    let gt = lt + data[lt..].iter().position(|&c| c == b'>').unwrap();
    let (b, c) = (lt, gt + 1);
    let br_at = data.windows(12).position(|w| w == b"1111111111 2").unwrap();
    let br = format!("{b:010} {c:010} {:010}", data.len() - c);
    data[br_at..br_at + br.len()].copy_from_slice(br.as_bytes());
    let mut content = data[..b].to_vec();
    content.extend_from_slice(&data[c..]);
    std::fs::write(d.join("content.bin"), &content).unwrap();
    openssl(
        d,
        "cms -sign -binary -md sha256 -in {d}/content.bin -signer {k}/leader.pem \
         -inkey {k}/leader.key.pem -certfile {k}/inter.pem -outform DER -out {d}/cms.der",
    );
    let hex: String = std::fs::read(d.join("cms.der"))
        .unwrap()
        .iter()
        .map(|x| format!("{x:02X}"))
        .collect();
    data[lt + 1..lt + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    let signed = d.join("signed.pdf");
    std::fs::write(&signed, &data).unwrap();
    let rep = assert_vanthu_valid(&signed, 1);
    assert_eq!(
        (rep.signatures[0].revision, rep.signatures[0].revisions),
        (2, 2),
        "the signature covers both sections"
    );
    assert_pyhanko_valid(&signed, 1);
    // Countersigned by vanthu (a new field: the catalog's form and the page change), then by
    // pyHanko.
    let two = sign_to(d, "two.pdf", data, "clerk", SignOptions::default());
    let rep = assert_vanthu_valid(&two, 2);
    assert!(rep.signatures[0].modifications_allowed, "{rep:#?}");
    assert_pyhanko_valid(&two, 2);
    let three = d.join("three.pdf");
    pyhanko_addsig("clerk", "PySig", &two, &three, &[]);
    assert_vanthu_valid(&three, 3);
    assert_pyhanko_valid(&three, 3);
}

#[test]
fn linearized_input_signs_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.pdf");
    let lin = dir.path().join("lin.pdf");
    std::fs::write(&a, sample_pdf(3, "Tuyen tap")).unwrap();
    let st = std::process::Command::new("qpdf")
        .arg("--linearize")
        .arg(&a)
        .arg(&lin)
        .status()
        .expect("qpdf is installed");
    assert!(st.success());
    let f = sign_to(
        dir.path(),
        "lin-signed.pdf",
        std::fs::read(&lin).unwrap(),
        "clerk",
        SignOptions::default(),
    );
    assert_vanthu_valid(&f, 1);
    assert_pyhanko_valid(&f, 1);
}

/// Runs an outside tool, asserts that it succeeded, returns its standard output.
fn tool(c: &mut std::process::Command) -> String {
    let o = c.output().expect(
        "the tool is installed (scripts/setup.sh: poppler-utils, libnss3-tools, LibreOffice)",
    );
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A new NSS database in `dir` (as pdfsig and LibreOffice use) trusting the test root and
/// holding the keys of the PKCS#12 files `keys` (test PKI stems): its `sql:` path.
fn nss_db(dir: &std::path::Path, keys: &[&str]) -> String {
    let nss = dir.join("nssdb");
    std::fs::create_dir(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    tool(std::process::Command::new("certutil").args(["-N", "-d", &db, "--empty-password"]));
    tool(
        std::process::Command::new("certutil")
            .args([
                "-A",
                "-d",
                &db,
                "-n",
                "vanthu test root",
                "-t",
                "CT,C,C",
                "-i",
            ])
            .arg(pki().join("root.pem")),
    );
    for k in keys {
        tool(
            std::process::Command::new("pk12util")
                .args(["-d", &db, "-W", "1234", "-i"])
                .arg(pki().join(format!("{k}.p12"))),
        );
    }
    db
}

/// vanthu countersigns `signed` (as the clerk) into `dir/both.pdf`; vanthu and pdfsig (with
/// the NSS database `db`) both find the two signatures valid.
fn countersign_for_pdfsig(dir: &std::path::Path, signed: Vec<u8>, db: &str) -> std::path::PathBuf {
    let both = sign_to(dir, "both.pdf", signed, "clerk", SignOptions::default());
    let rep = assert_vanthu_valid(&both, 2);
    assert!(rep.signatures[1].covers_final_revision);
    let out = tool(
        std::process::Command::new("pdfsig")
            .arg("-nssdir")
            .arg(db)
            .arg(&both),
    );
    assert_eq!(
        out.matches("Signature is Valid.").count(),
        2,
        "pdfsig: {out}"
    );
    both
}

#[test]
fn pdfsig_trusts_vanthu_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let db = nss_db(dir.path(), &[]);
    let f1 = sign_to(
        dir.path(),
        "one.pdf",
        sample_pdf(1, "pdfsig"),
        "leader",
        SignOptions {
            tsa_url: Some(start_tsa()),
            ..Default::default()
        },
    );
    let f2 = sign_to(
        dir.path(),
        "two.pdf",
        std::fs::read(&f1).unwrap(),
        "clerk",
        SignOptions::default(),
    );
    let out = tool(
        std::process::Command::new("pdfsig")
            .arg("-nssdir")
            .arg(&db)
            .arg(&f2),
    );
    assert_eq!(
        out.matches("Signature is Valid.").count(),
        2,
        "pdfsig: {out}"
    );
    assert_eq!(
        out.matches("Certificate is Trusted.").count(),
        2,
        "pdfsig: {out}"
    );
    assert!(out.contains("Total document signed"), "pdfsig: {out}");
}

/// poppler's `pdfsig` signs with NSS, whose CMS is BER (indefinite lengths) and lists the
/// signer's certificate twice: vanthu validates it, countersigns, and pdfsig and pyHanko
/// accept both signatures.
#[test]
fn pdfsig_signs_with_nss_vanthu_validates_and_countersigns() {
    let dir = tempfile::tempdir().unwrap();
    let db = nss_db(dir.path(), &["leader"]);
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(2, "Quyet dinh ky bang pdfsig")).unwrap();
    let by_pdfsig = dir.path().join("pdfsig.pdf");
    tool(
        std::process::Command::new("pdfsig")
            .args(["-nssdir", &db, "-add-signature", "-nick", "leader"])
            .args([
                "-new-signature-field-name",
                "PdfSig",
                "-reason",
                "Phê duyệt",
            ])
            .arg(&input)
            .arg(&by_pdfsig),
    );
    // What this test is about: the CMS in /Contents is BER.
    let bytes = std::fs::read(&by_pdfsig).unwrap();
    let at = bytes
        .windows(11)
        .rposition(|w| w == b"/Contents <")
        .unwrap()
        + 11;
    assert_eq!(&bytes[at..at + 4], b"3080", "NSS writes indefinite lengths");
    let rep = assert_vanthu_valid(&by_pdfsig, 1);
    assert_eq!(rep.signatures[0].signer, "Nguyễn Văn An");
    assert_eq!(rep.signatures[0].subfilter, "adbe.pkcs7.detached");
    let both = countersign_for_pdfsig(dir.path(), bytes, &db);
    // pdfsig writes an object with generation 1 that pyHanko's strict parser refuses.
    let (ok, out) = pyhanko_validate(&both, &["--no-strict-syntax"]);
    assert!(ok, "pyHanko: {out}");
    assert_eq!(out.matches(":VALID").count(), 2, "pyHanko: {out}");
}

/// LibreOffice signs while it exports (`SignPDF`, the key in an NSS database as on a
/// desktop): BER CMS, the signature in the document's only revision, a `/M` with a stray
/// apostrophe. vanthu validates it and countersigns; pdfsig accepts both signatures.
#[test]
fn libreoffice_signs_on_export_vanthu_validates_and_countersigns() {
    let dir = tempfile::tempdir().unwrap();
    let db = nss_db(dir.path(), &["leader"]);
    let txt = dir.path().join("quyet-dinh.txt");
    std::fs::write(&txt, "QUYẾT ĐỊNH\nVề việc phê duyệt kế hoạch năm 2027\n").unwrap();
    let filter = r#"pdf:writer_pdf_Export:{"SignPDF":{"type":"boolean","value":"true"},"SignCertificateSubjectName":{"type":"string","value":"CN=Nguyễn Văn An,O=So Noi vu tinh Hoa Binh,C=VN"}}"#;
    tool(
        std::process::Command::new("soffice")
            .args(["--headless", "--convert-to", filter, "--outdir"])
            .arg(dir.path())
            .arg(&txt)
            .env("HOME", dir.path())
            .env("MOZILLA_CERTIFICATE_FOLDER", &db),
    );
    let signed = dir.path().join("quyet-dinh.pdf");
    let bytes = std::fs::read(&signed).expect("LibreOffice wrote the signed PDF");
    assert!(bytes.windows(10).any(|w| w == b"/ByteRange"), "not signed");
    let rep = assert_vanthu_valid(&signed, 1);
    assert_eq!(rep.signatures[0].signer, "Nguyễn Văn An");
    assert_eq!(rep.revisions, 1, "signed in the exported revision");
    countersign_for_pdfsig(dir.path(), bytes, &db);
    // Exported encrypted as well (RC4-128 with a permissions password only): still read and
    // validated; vanthu does not sign into it.
    let filter = filter.replace(
        "}}",
        r#"},"EncryptFile":{"type":"boolean","value":"true"},"RestrictPermissions":{"type":"boolean","value":"true"},"PermissionPassword":{"type":"string","value":"chu-so-huu"}}"#,
    );
    let sub = dir.path().join("protected");
    tool(
        std::process::Command::new("soffice")
            .args(["--headless", "--convert-to", &filter, "--outdir"])
            .arg(&sub)
            .arg(&txt)
            .env("HOME", dir.path())
            .env("MOZILLA_CERTIFICATE_FOLDER", &db),
    );
    let protected = sub.join("quyet-dinh.pdf");
    assert!(vanthu_pdf::doc::Doc::open(&protected).unwrap().encrypted());
    assert_vanthu_valid(&protected, 1);
    let e = vanthu_pdf::sign_file(
        &protected,
        &sub.join("x.pdf"),
        &p12("clerk"),
        &Default::default(),
    )
    .unwrap_err();
    assert!(matches!(e, vanthu_pdf::PdfError::Encrypted), "{e}");
}

#[test]
fn visible_signature_after_certification_needs_a_precreated_field() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Chung nhan")).unwrap();
    let fields = dir.path().join("fields.pdf");
    let st = pyhanko()
        .args(["sign", "addfields", "--field", "1/320,60,520,120/ToChuc"])
        .arg(&src)
        .arg(&fields)
        .status()
        .unwrap();
    assert!(st.success());
    let certified = sign_bytes(
        std::fs::read(&fields).unwrap(),
        &p12("leader"),
        &SignOptions {
            certify: true,
            field_name: Some("LanhDao1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let vis = |name: &str| SignOptions {
        field_name: Some(name.into()),
        visible: Some(vanthu_pdf::sign::Visible {
            page: 1,
            rect: [320.0, 60.0, 200.0, 60.0],
            image_png: None,
            text: Vec::new(),
            font: None,
        }),
        ..Default::default()
    };
    // A new visible field would be refused (and flagged by both validators).
    let e = sign_bytes(certified.clone(), &p12("clerk"), &vis("Moi")).unwrap_err();
    assert!(e.to_string().contains("pre-created"), "{e}");
    // Filling the pre-created field is fine for vanthu and pyHanko.
    let f = sign_to(dir.path(), "ok.pdf", certified, "clerk", vis("ToChuc"));
    assert_vanthu_valid(&f, 2);
    assert_pyhanko_valid(&f, 2);
}

#[test]
fn pyhanko_pss_and_sha512_signatures_validate_in_vanthu() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Thuat toan")).unwrap();
    let k = pki();
    // RSASSA-PSS through the CLI.
    let pss = dir.path().join("pss.pdf");
    let o = pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "--use-pades",
            "--prefer-pss",
            "pemder",
            "--no-pass",
        ])
        .arg("--key")
        .arg(k.join("leader.key.pem"))
        .arg("--cert")
        .arg(k.join("leader.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(&src)
        .arg(&pss)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_vanthu_valid(&pss, 1);
    // SHA-512 (RSA) and SHA-384 (ECDSA P-256) through pyHanko's Python API.
    for (key, md) in [("leader", "sha512"), ("clerk", "sha384")] {
        let out = dir.path().join(format!("{md}.pdf"));
        pyhanko_api_sign(
            key,
            &src,
            &out,
            &format!("field_name='Sig1', md_algorithm={md:?}, subfilter=SigSeedSubFilter.PADES"),
            "",
        );
        assert_vanthu_valid(&out, 1);
    }
}

#[test]
fn ecdsa_p384_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let f = sign_to(
        dir.path(),
        "v384.pdf",
        sample_pdf(1, "P-384"),
        "clerk384",
        SignOptions::default(),
    );
    assert_vanthu_valid(&f, 1);
    assert_pyhanko_valid(&f, 1);
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "P-384")).unwrap();
    let out = dir.path().join("py384.pdf");
    let k = pki();
    let o = pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "--use-pades",
            "pemder",
            "--no-pass",
        ])
        .arg("--key")
        .arg(k.join("clerk384.key.pem"))
        .arg("--cert")
        .arg(k.join("clerk384.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(&src)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_vanthu_valid(&out, 1);
}

#[test]
fn legacy_rc2_pkcs12_loads() {
    let der = std::fs::read(pki().join("leader-legacy.p12")).unwrap();
    let key = vanthu_pdf::keys::load_p12(&der, "1234").unwrap();
    let out = sign_bytes(sample_pdf(1, "RC2"), &key, &SignOptions::default()).unwrap();
    assert!(verify_bytes(out, &opts()).unwrap().all_valid);
    let e = vanthu_pdf::keys::load_p12(&der, "sai").err().unwrap();
    assert!(matches!(e, vanthu_pdf::PdfError::WrongPin), "{e}");
}

/// A Vietnamese password reaches the program precomposed (NFC) or with combining marks (NFD),
/// as the keyboard is set; OpenSSL made the files (AES-256 and legacy 3DES/RC2) with one form,
/// and the other form opens them too; a wrong password is still named as such.
#[test]
fn pkcs12_vietnamese_password_in_either_unicode_form() {
    use unicode_normalization::UnicodeNormalization;
    let dir = tempfile::tempdir().unwrap();
    let k = pki();
    let typed = "Mật khẩu số 1";
    let (nfc, nfd): (String, String) = (typed.nfc().collect(), typed.nfd().collect());
    assert_ne!(nfc, nfd);
    for (made, given) in [(&nfc, &nfd), (&nfd, &nfc)] {
        for legacy in [false, true] {
            let f = dir.path().join("k.p12");
            let mut c = std::process::Command::new("openssl");
            c.args(["pkcs12", "-export"]);
            if legacy {
                c.arg("-legacy");
            }
            let o = c
                .arg("-inkey")
                .arg(k.join("leader.key.pem"))
                .arg("-in")
                .arg(k.join("leader.pem"))
                .arg("-out")
                .arg(&f)
                .arg("-passout")
                .arg(format!("pass:{made}"))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let der = std::fs::read(&f).unwrap();
            let key = vanthu_pdf::keys::load_p12(&der, given)
                .unwrap_or_else(|e| panic!("legacy={legacy}: {e}"));
            assert_eq!(vanthu_pdf::Signer::chain(&key).len(), 1);
            let e = vanthu_pdf::keys::load_p12(&der, "Mat khau so 1")
                .err()
                .unwrap();
            assert!(matches!(e, vanthu_pdf::PdfError::WrongPin), "{e}");
        }
    }
}

#[test]
fn an_intermediate_can_be_the_trust_anchor() {
    let out = sign_bytes(
        sample_pdf(1, "Anchor"),
        &p12("leader"),
        &SignOptions::default(),
    )
    .unwrap();
    let inter = openssl::x509::X509::from_pem(&std::fs::read(pki().join("inter.pem")).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    let o = vanthu_pdf::verify::VerifyOptions {
        trust: vec![inter],
        ..opts()
    };
    assert!(verify_bytes(out.clone(), &o).unwrap().all_valid);
    // …but the look-alike root is still not trusted for a chain under the real root.
    let evil = openssl::x509::X509::from_pem(&std::fs::read(pki().join("evil-root.pem")).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    let o = vanthu_pdf::verify::VerifyOptions {
        trust: vec![evil],
        ..opts()
    };
    assert!(!verify_bytes(out, &o).unwrap().all_valid);
}

/// A PDF of about `mb` MiB: `sample_pdf`'s page plus an unused incompressible stream, so the
/// streamed passes cross many chunk boundaries.
fn padded_pdf(mb: usize) -> Vec<u8> {
    let base = sample_pdf(1, "Tep lon");
    let doc = vanthu_pdf::doc::Doc::parse(base.clone()).unwrap();
    let n = doc.size();
    let mut blob = Vec::with_capacity(mb << 20);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    while blob.len() < mb << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        blob.extend_from_slice(&x.to_le_bytes());
    }
    // Plant a "/ByteRange" across the 1 MiB chunk boundary of the streamed scan (an orphan
    // signature-like token inside unused data, which the validator must count).
    let at = (1 << 20) - base.len() - 40;
    blob[at..at + 10].copy_from_slice(b"/ByteRange");
    let body = format!("<< /Length {} >>\nstream\n", blob.len());
    let mut obj = body.into_bytes();
    obj.extend_from_slice(&blob);
    obj.extend_from_slice(b"\nendstream");
    // Written as bytes (the blob is not UTF-8), then the trailer's /Size fixed to cover it.
    let mut out = base.clone();
    let prev = doc.sections.last().unwrap().offset;
    let off = out.len();
    out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
    out.extend_from_slice(&obj);
    out.extend_from_slice(b"\nendobj\n");
    let x = out.len();
    out.extend_from_slice(
        format!(
            "xref\n{n} 1\n{off:010} 00000 n\r\ntrailer\n<< /Size {} /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n",
            n + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn sign_file_streams_and_keeps_the_original_prefix() {
    let dir = tempfile::tempdir().unwrap();
    for (name, input) in [
        ("classic", padded_pdf(3)),
        ("xref-stream", xref_stream_pdf(dir.path(), 1, "Luong xref")),
    ] {
        let i = dir.path().join(format!("{name}.pdf"));
        let o = dir.path().join(format!("{name}-signed.pdf"));
        std::fs::write(&i, &input).unwrap();
        vanthu_pdf::sign_file(&i, &o, &p12("leader"), &SignOptions::default()).unwrap();
        let out = std::fs::read(&o).unwrap();
        assert_eq!(
            &out[..input.len()],
            &input[..],
            "{name}: original bytes kept"
        );
        let rep = vanthu_pdf::verify::verify_file(&o, &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        let mem = verify_bytes(out, &opts()).unwrap();
        assert_eq!(rep.verdict, mem.verdict);
        assert_eq!(
            rep.warnings, mem.warnings,
            "{name}: streamed scan = in-memory scan"
        );
        assert_pyhanko_valid(&o, 1);
        // Signing the signed file again: a second revision, both signatures valid.
        let o2 = dir.path().join(format!("{name}-signed2.pdf"));
        vanthu_pdf::sign_file(
            &o,
            &o2,
            &p12("clerk"),
            &SignOptions {
                field_name: Some("ToChuc".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let rep = vanthu_pdf::verify::verify_file(&o2, &opts()).unwrap();
        assert_eq!(rep.signatures.len(), 2);
        assert!(rep.all_valid, "{name}: {rep:#?}");
    }
    // The planted token across the chunk boundary is found by the streamed scan too.
    let rep =
        vanthu_pdf::verify::verify_file(&dir.path().join("classic-signed.pdf"), &opts()).unwrap();
    assert!(
        rep.warnings.iter().any(|w| w.contains("orphan")),
        "{rep:#?}"
    );
    // In place (output = input): the original is read through before the rename.
    let inplace = dir.path().join("inplace.pdf");
    let original = sample_pdf(1, "Tai cho");
    std::fs::write(&inplace, &original).unwrap();
    vanthu_pdf::sign_file(&inplace, &inplace, &p12("leader"), &SignOptions::default()).unwrap();
    let out = std::fs::read(&inplace).unwrap();
    assert_eq!(&out[..original.len()], &original[..]);
    assert!(
        vanthu_pdf::verify::verify_file(&inplace, &opts())
            .unwrap()
            .all_valid
    );
    // B-T without a TSA fails before anything is written.
    let i = dir.path().join("classic.pdf");
    let never = dir.path().join("never.pdf");
    let e = vanthu_pdf::sign_file(
        &i,
        &never,
        &p12("leader"),
        &SignOptions {
            level: vanthu_pdf::sign::Level::BT,
            ..Default::default()
        },
    );
    assert!(e.is_err());
    assert!(!never.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file left");
}

/// A key whose token fails at the moment of signing (pulled out, locked): everything before
/// works, so the copy into the temporary file is done or under way when the failure comes.
struct PulledToken(vanthu_pdf::keys::SoftKey);

impl vanthu_pdf::Signer for PulledToken {
    fn chain(&self) -> &[x509_cert::Certificate] {
        self.0.chain()
    }
    fn algorithm(&self) -> vanthu_pdf::KeyAlg {
        self.0.algorithm()
    }
    fn sign(&self, _tbs: &[u8]) -> Result<Vec<u8>, vanthu_pdf::PdfError> {
        Err(vanthu_pdf::PdfError::Key("token removed".into()))
    }
}

fn temporary_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// `sign_file` copies and flushes on one thread while it parses, hashes and signs on the other:
/// whichever side fails, the error is the real cause (not the other side stopping), no output
/// appears, no temporary file is left and an existing output is untouched.
#[test]
fn sign_file_failures_name_the_cause_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lon.pdf");
    std::fs::write(&input, padded_pdf(8)).unwrap();
    let out = dir.path().join("ky.pdf");
    let so = SignOptions::default();
    // The key fails after the hash: its own error.
    let e = vanthu_pdf::sign_file(&input, &out, &PulledToken(p12("leader")), &so).unwrap_err();
    assert!(e.to_string().contains("token removed"), "{e}");
    assert!(!out.exists());
    // The input is not a PDF, found while the copy runs: the parse error.
    let junk = dir.path().join("junk.pdf");
    std::fs::write(&junk, vec![b'x'; 8 << 20]).unwrap();
    let e = vanthu_pdf::sign_file(&junk, &out, &p12("leader"), &so).unwrap_err();
    assert!(
        matches!(
            e,
            vanthu_pdf::PdfError::NotPdf | vanthu_pdf::PdfError::Damaged(_)
        ),
        "{e}"
    );
    assert!(!out.exists());
    // No such folder for the output: the file error names the folder, not a temporary file.
    let nowhere = dir.path().join("khong-co").join("ky.pdf");
    let e = vanthu_pdf::sign_file(&input, &nowhere, &p12("leader"), &so).unwrap_err();
    match &e {
        vanthu_pdf::PdfError::Io { path, .. } => assert_eq!(path, &dir.path().join("khong-co")),
        other => panic!("{other}"),
    }
    assert!(
        e.to_string().contains("output folder does not exist"),
        "{e}"
    );
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    // A folder given for the input or the output file: named as such.
    for (i, o) in [(dir.path(), out.as_path()), (input.as_path(), dir.path())] {
        let e = vanthu_pdf::sign_file(i, o, &p12("leader"), &so).unwrap_err();
        assert!(e.to_string().contains("a folder, not a file"), "{e}");
    }
    let e = vanthu_pdf::verify::verify_file(dir.path(), &opts()).unwrap_err();
    assert!(e.to_string().contains("a folder, not a file"), "{e}");
    assert!(!out.exists());
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    // An existing output survives a failed signature byte for byte.
    std::fs::write(&out, b"earlier output").unwrap();
    vanthu_pdf::sign_file(&input, &out, &PulledToken(p12("leader")), &so).unwrap_err();
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier output");
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    // And then a good signature over it, valid for both validators.
    vanthu_pdf::sign_file(&input, &out, &p12("leader"), &so).unwrap();
    assert!(
        vanthu_pdf::verify::verify_file(&out, &opts())
            .unwrap()
            .all_valid
    );
    assert_pyhanko_valid(&out, 1);
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
}

/// A token whose private key is not the one its certificate names (a renewed certificate
/// beside the old key, the wrong one of two keys on a token): it signs, but the signature does
/// not verify with the certificate.
struct WrongKey {
    cert_of: vanthu_pdf::keys::SoftKey,
    key: vanthu_pdf::keys::SoftKey,
}

impl vanthu_pdf::Signer for WrongKey {
    fn chain(&self) -> &[x509_cert::Certificate] {
        self.cert_of.chain()
    }
    fn algorithm(&self) -> vanthu_pdf::KeyAlg {
        self.key.algorithm()
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, vanthu_pdf::PdfError> {
        self.key.sign(tbs)
    }
}

/// Both signing paths check the signature value against the certificate before anything is
/// handed over: with a key that does not match its certificate, `sign_file` and
/// `sign_document` say so, no output appears (an existing one is untouched) and nothing is
/// left behind, on an unsigned and on a signed document. The same calls with the right key
/// succeed.
#[test]
fn a_key_that_does_not_match_its_certificate_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("vb.pdf");
    let original = sample_pdf(1, "Khóa không khớp");
    std::fs::write(&input, &original).unwrap();
    let out = dir.path().join("ky.pdf");
    let so = SignOptions::default();
    let wrong = || WrongKey {
        cert_of: p12("leader"),
        key: p12("ocspok"),
    };
    let mismatch = |e: vanthu_pdf::PdfError| {
        assert!(
            matches!(e, vanthu_pdf::PdfError::Sign(_))
                && e.to_string()
                    .contains("signature does not match the certificate key"),
            "{e}"
        )
    };
    mismatch(vanthu_pdf::sign_file(&input, &out, &wrong(), &so).unwrap_err());
    assert!(!out.exists());
    std::fs::write(&out, b"earlier output").unwrap();
    mismatch(vanthu_pdf::sign_file(&input, &out, &wrong(), &so).unwrap_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier output");
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    assert_eq!(std::fs::read(&input).unwrap(), original);
    // In memory: on an unsigned and on a signed document.
    let data = vanthu_pdf::sign::read_for_signing(&input).unwrap();
    assert_eq!(data, original);
    mismatch(vanthu_pdf::sign_document(data, &wrong(), &so).unwrap_err());
    // With the room `read_for_signing` leaves, the signed document is the caller's buffer.
    let data = vanthu_pdf::sign::read_for_signing(&input).unwrap();
    let at = data.as_ptr();
    let (once, _) = vanthu_pdf::sign_document(data, &p12("leader"), &so).unwrap();
    assert_eq!(once.as_ptr(), at, "signed in place");
    mismatch(vanthu_pdf::sign_document(once.clone(), &wrong(), &so).unwrap_err());
    let (twice, _) = vanthu_pdf::sign_document(once.clone(), &p12("clerk"), &so).unwrap();
    assert!(twice.starts_with(&once));
    // What the in-memory path hands over, the outside validator accepts.
    let mem = dir.path().join("trong-bo-nho.pdf");
    std::fs::write(&mem, &twice).unwrap();
    assert_pyhanko_valid(&mem, 2);
    let rep = verify_bytes(twice, &opts()).unwrap();
    assert_eq!(rep.signatures.len(), 2);
    assert!(rep.all_valid, "{rep:?}");
    vanthu_pdf::sign_file(&input, &out, &p12("leader"), &so).unwrap();
    assert!(
        vanthu_pdf::verify::verify_file(&out, &opts())
            .unwrap()
            .all_valid
    );
}

/// pyHanko signs a page whose MediaBox holds LibreOffice's 15-digit reals (A4 in points); vanthu
/// then adds its own signature field, which rewrites the page to extend `/Annots`. Every other
/// value of the page must come back exactly, or pyHanko's first signature reads as illegally
/// modified (found with LibreOffice-made PDFs: the MediaBox used to be written back rounded).
#[test]
fn countersigning_keeps_a_precise_mediabox_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let a4 = b"/MediaBox [0 0 595.303937007874 841.889763779528]";
    let mut src = sample_pdf(1, "Khổ A4");
    let at = src
        .windows(23)
        .position(|w| w == b"/MediaBox [0 0 595 842]")
        .unwrap();
    src.splice(at..at + 23, a4.iter().copied());
    let broken = dir.path().join("broken.pdf");
    let input = dir.path().join("a4.pdf");
    std::fs::write(&broken, &src).unwrap();
    // qpdf writes it again with a correct cross-reference table (exit 3: repaired, warnings).
    let st = std::process::Command::new("qpdf")
        .arg(&broken)
        .arg(&input)
        .status()
        .expect("qpdf is installed");
    assert!(matches!(st.code(), Some(0 | 3)), "{st:?}");
    let by_py = dir.path().join("py.pdf");
    pyhanko_addsig("clerk", "Sig1", &input, &by_py, &[]);
    let f = sign_to(
        dir.path(),
        "both.pdf",
        std::fs::read(&by_py).unwrap(),
        "leader",
        SignOptions::default(),
    );
    let both = std::fs::read(&f).unwrap();
    let tail = String::from_utf8_lossy(&both[std::fs::metadata(&by_py).unwrap().len() as usize..]);
    assert!(
        tail.contains("595.303937007874 841.889763779528"),
        "the rewritten page keeps the MediaBox: {tail}"
    );
    assert_vanthu_valid(&f, 2);
    assert_pyhanko_valid(&f, 2);
}

/// The signer's certificate as other CAdES tools identify it: ESSCertIDv2 with SHA-512 written
/// out, or only the older SigningCertificate (ESSCertID, SHA-1). Both are valid in vanthu and
/// pyHanko; an identifier of another certificate makes the signature fail in both.
#[test]
fn ess_signing_certificate_variants_from_other_tools() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "ESS")).unwrap();
    let k = pki();
    let sign = |variant: &str| -> std::path::PathBuf {
        let out = dir.path().join(format!("{variant}.pdf"));
        let prelude = format!(
            r#"
from pyhanko.sign import attributes, general
variant = {variant:?}
async def build(self, dry_run=False):
    cert = self.signing_cert
    if variant == 'wrong':
        from pyhanko.keys import load_cert_from_pemder
        cert = load_cert_from_pemder({root:?})
    if variant == 'v1':
        return general.as_signing_certificate(cert)
    if variant == 'none':
        return None
    return general.as_signing_certificate_v2(cert, 'sha512')
if variant == 'v1':
    attributes.SigningCertificateV2Provider.attribute_type = 'signing_certificate'
attributes.SigningCertificateV2Provider.build_attr_value = build
"#,
            root = k.join("root.pem").display().to_string(),
        );
        pyhanko_api_sign(
            "leader",
            &src,
            &out,
            "field_name='Sig1', subfilter=SigSeedSubFilter.PADES",
            &prelude,
        );
        out
    };
    for variant in ["v2-sha512", "v1"] {
        let f = sign(variant);
        let rep = assert_vanthu_valid(&f, 1);
        if variant == "v1" {
            assert!(
                rep.signatures[0]
                    .warnings
                    .iter()
                    .any(|w| w.contains("ESS v1")),
                "{rep:#?}"
            );
        }
        assert_pyhanko_valid(&f, 1);
    }
    let f = sign("wrong");
    let rep = verify_bytes(std::fs::read(&f).unwrap(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!s.intact && s.verdict != VALID, "{s:#?}");
    assert!(
        s.errors.iter().any(|e| e.contains("ESS hash mismatch")),
        "{s:#?}"
    );
    let (ok, out) = pyhanko_validate(&f, &[]);
    assert!(!ok || !out.contains(":VALID"), "pyHanko: {out}");
    // No ESS attribute at all (PDFBox-based signers that set ETSI.CAdES.detached write such
    // signatures): the content is intact, but the certificate is not bound, so the verdict is
    // CHƯA XÁC ĐỊNH (EN 319 102-1: NO_SIGNING_CERTIFICATE_FOUND, as EU DSS says), never HỢP LỆ,
    // and not KHÔNG HỢP LỆ either (it used to say "not intact").
    let f = sign("none");
    let rep = verify_bytes(std::fs::read(&f).unwrap(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(s.intact && s.verdict == UNDETERMINED, "{s:#?}");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("no ESS signing certificate")),
        "{s:#?}"
    );
    // pyHanko, which does not require the attribute, finds it valid.
    let (ok, out) = pyhanko_validate(&f, &[]);
    assert!(ok && out.contains(":VALID"), "pyHanko: {out}");
    // Changed after signing, it is KHÔNG HỢP LỆ as any other.
    let mut bad = std::fs::read(&f).unwrap();
    let at = bad.windows(3).position(|w| w == b"ESS").unwrap();
    bad[at] = b'X';
    let rep = verify_bytes(bad, &opts()).unwrap();
    assert!(!rep.signatures[0].intact && rep.signatures[0].verdict == INVALID);
}

/// A document that pyHanko certified with DocMDP P=1 (no changes) is refused for another
/// signature — writing one would void the certification — with nothing written; a document
/// timestamp (PAdES: allowed at every P) still goes on, and pyHanko still accepts the file.
#[test]
fn a_p1_certified_document_is_not_signed_again() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Chung nhan")).unwrap();
    let p1 = dir.path().join("p1.pdf");
    pyhanko_api_sign(
        "clerk",
        &src,
        &p1,
        "field_name='Sig1', certify=True, docmdp_permissions=MDPPerm.NO_CHANGES, \
         subfilter=SigSeedSubFilter.PADES",
        "",
    );
    let out = dir.path().join("again.pdf");
    let e = vanthu_pdf::sign_file(&p1, &out, &p12("leader"), &SignOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("P=1"), "{e}");
    assert!(!out.exists());
    let e = sign_bytes(
        std::fs::read(&p1).unwrap(),
        &p12("leader"),
        &SignOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("P=1"), "{e}");
    let ts =
        vanthu_pdf::sign::add_doc_timestamp(std::fs::read(&p1).unwrap(), &start_tsa()).unwrap();
    let f = dir.path().join("ts.pdf");
    std::fs::write(&f, ts).unwrap();
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    let rep = verify_bytes(std::fs::read(&f).unwrap(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    // An approval signature forced onto the P=1 file (pyHanko's own refusal patched out):
    // the certification is broken, in vanthu as in pyHanko.
    let forced = dir.path().join("forced.pdf");
    pyhanko_api_sign(
        "leader",
        &p1,
        &forced,
        "field_name='Sig2'",
        "import pyhanko.sign.validation as v\nv.read_certification_data = lambda r: None",
    );
    let rep = verify_bytes(std::fs::read(&forced).unwrap(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, vanthu_pdf::verify::INVALID, "{s:#?}");
    assert!(
        s.modifications
            .iter()
            .any(|m| m.what.contains("P=1") && m.class == ChangeClass::Forbidden),
        "{s:#?}"
    );
    let (ok, txt) = pyhanko_validate(&forced, &[]);
    assert!(
        !ok && txt.contains("Sig1:") && txt.contains(":INVALID"),
        "pyHanko: {txt}"
    );
}

/// Legacy SubFilters (SHA-1 in the CMS, bare PKCS#1) cannot be checked by vanthu: the report
/// says so and the verdict is CHƯA XÁC ĐỊNH — never HỢP LỆ, and not a claim that the document
/// was tampered with. An unknown SubFilter stays KHÔNG HỢP LỆ.
#[test]
fn legacy_subfilters_are_undetermined() {
    let signed = sign_bytes(sample_pdf(1, "Cu"), &p12("leader"), &SignOptions::default()).unwrap();
    let from = b"/SubFilter /ETSI.CAdES.detached";
    let at = signed
        .windows(from.len())
        .position(|w| w == from)
        .expect("PAdES SubFilter");
    for (name, verdict) in [
        ("adbe.pkcs7.sha1", vanthu_pdf::verify::UNDETERMINED),
        ("adbe.x509.rsa_sha1", vanthu_pdf::verify::UNDETERMINED),
        ("vendor.custom", vanthu_pdf::verify::INVALID),
    ] {
        let mut f = signed.clone();
        let to = format!("/SubFilter /{name:<19}");
        f.splice(at..at + from.len(), to.bytes());
        let rep = verify_bytes(f, &opts()).unwrap();
        let s = &rep.signatures[0];
        assert_eq!(s.verdict, verdict, "{name}: {s:#?}");
        assert!(!rep.all_valid);
        assert!(s.errors.iter().any(|e| e.contains(name)), "{s:#?}");
    }
}

/// Files whose cross-reference no longer matches their bytes, as viewers open them without a
/// word: offsets shifted by an inserted line, bytes before the header (a mail gateway), line
/// endings converted, a wrong `startxref` in a file with object streams. Unsigned, they are
/// repaired (one complete cross-reference section appended, nothing before it changed but what
/// preceded the header) when the caller asks for it, signed, and pass vanthu, pyHanko (strict)
/// and qpdf; the result says so. Not asked for, they are refused as damaged. A signed file is
/// refused (a repair would break its signatures); a file with nothing to rebuild from keeps
/// its first error; neither leaves a file behind.
#[test]
fn damaged_unsigned_files_are_repaired_then_signed() {
    let dir = tempfile::tempdir().unwrap();
    let good = sample_pdf(2, "Sửa bảng tham chiếu");
    let header_end = good.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut shifted = good[..header_end].to_vec();
    shifted.extend_from_slice(b"%inserted by an editor\n");
    shifted.extend_from_slice(&good[header_end..]);
    let junk = b"X-Scanned-By: gateway\r\n\r\n".to_vec();
    let mut prefixed = junk.clone();
    prefixed.extend_from_slice(&good);
    let crlf: Vec<u8> = good
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .join(&b"\r\n"[..]);
    let mut objstm = xref_stream_pdf(dir.path(), 1, "Luồng đối tượng");
    let sx = objstm.windows(9).rposition(|w| w == b"startxref").unwrap();
    let end = sx + objstm[sx..].windows(5).position(|w| w == b"%%EOF").unwrap();
    objstm.splice(sx..end, b"startxref\n123\n".iter().copied());
    let so = SignOptions {
        repair: true,
        ..Default::default()
    };
    for (name, bytes, dropped, qpdf_clean) in [
        ("shifted", shifted, 0, true),
        ("prefixed", prefixed, junk.len(), true),
        // The conversion also lengthened the content streams: qpdf warns about the input's
        // own /Length values, which no repair of the cross-reference changes.
        ("crlf", crlf, 0, false),
        ("objstm", objstm, 0, true),
    ] {
        let input = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&input, &bytes).unwrap();
        assert!(
            vanthu_pdf::doc::Doc::open(&input).is_err(),
            "{name}: the input is damaged"
        );
        let out = dir.path().join(format!("{name}-signed.pdf"));
        // Not asked for: bad input, refused.
        let e = vanthu_pdf::sign_file(&input, &out, &p12("leader"), &SignOptions::default())
            .unwrap_err();
        assert!(matches!(e, vanthu_pdf::PdfError::Damaged(_)), "{name}: {e}");
        assert!(!out.exists());
        let done = vanthu_pdf::sign_file(&input, &out, &p12("leader"), &so)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = done
            .repaired
            .unwrap_or_else(|| panic!("{name}: not reported"));
        assert_eq!(r.dropped, dropped, "{name}");
        assert!(r.objects >= 7, "{name}: {r:?}");
        let signed = std::fs::read(&out).unwrap();
        assert_eq!(
            &signed[..bytes.len() - dropped],
            &bytes[dropped..],
            "{name}: bytes kept"
        );
        let rep = vanthu_pdf::verify::verify_file(&out, &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        let (ok, text) = pyhanko_validate(&out, &[]);
        assert!(
            ok && text.matches(":VALID").count() == 1,
            "{name}: pyHanko: {text}"
        );
        let (ok, text) = qpdf_check(&out);
        assert!(
            ok || (!qpdf_clean && text.contains("WARNING") && !text.contains("ERROR")),
            "{name}: qpdf: {text}"
        );
        // In memory (the app's path: its documents never reach disk in plaintext), alike.
        let e = vanthu_pdf::sign_document(bytes.clone(), &p12("leader"), &SignOptions::default())
            .unwrap_err();
        assert!(matches!(e, vanthu_pdf::PdfError::Damaged(_)), "{name}: {e}");
        let (mem, done) = vanthu_pdf::sign_document(bytes.clone(), &p12("leader"), &so)
            .unwrap_or_else(|e| panic!("{name}: in memory: {e}"));
        assert_eq!(done.repaired.map(|r| r.dropped), Some(dropped), "{name}");
        assert_eq!(&mem[..bytes.len() - dropped], &bytes[dropped..], "{name}");
        assert!(verify_bytes(mem, &opts()).unwrap().all_valid, "{name}");
        // The signed result is an ordinary file now: a second signature needs no repair.
        let out2 = dir.path().join(format!("{name}-signed2.pdf"));
        let again = vanthu_pdf::sign_file(&out, &out2, &p12("clerk"), &so).unwrap();
        assert_eq!(again.repaired, None, "{name}");
        assert!(
            vanthu_pdf::verify::verify_file(&out2, &opts())
                .unwrap()
                .all_valid
        );
    }
    // Signed, then damaged the same way: refused, and why.
    let signed = sign_bytes(good.clone(), &p12("leader"), &so).unwrap();
    let mut broken = signed[..header_end].to_vec();
    broken.extend_from_slice(b"%inserted\n");
    broken.extend_from_slice(&signed[header_end..]);
    let input = dir.path().join("signed-broken.pdf");
    std::fs::write(&input, &broken).unwrap();
    let out = dir.path().join("never.pdf");
    let e = vanthu_pdf::sign_file(&input, &out, &p12("clerk"), &so).unwrap_err();
    assert!(e.to_string().contains("signatures"), "{e}");
    assert!(!out.exists());
    let e = vanthu_pdf::sign_document(broken, &p12("clerk"), &so).unwrap_err();
    assert!(e.to_string().contains("signatures"), "{e}");
    // Nothing to rebuild from: the first error stays.
    let input = dir.path().join("cut.pdf");
    std::fs::write(&input, &good[..good.len() / 3]).unwrap();
    let e = vanthu_pdf::sign_file(&input, &out, &p12("clerk"), &so).unwrap_err();
    assert!(e.to_string().contains("startxref"), "{e}");
    assert!(!out.exists());
    let e =
        vanthu_pdf::sign_document(good[..good.len() / 3].to_vec(), &p12("clerk"), &so).unwrap_err();
    assert!(e.to_string().contains("startxref"), "{e}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// Older signing tools (and many archived Vietnamese documents) signed with SHA-1 in an
/// adbe.pkcs7.detached CMS. vanthu checks such a signature fully — the document is reported
/// intact, as pyHanko does — but SHA-1 is no longer collision resistant, so the verdict is
/// CHƯA XÁC ĐỊNH, never HỢP LỆ; a changed byte still makes it KHÔNG HỢP LỆ.
#[test]
fn sha1_signatures_are_checked_but_never_valid() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Van ban cu")).unwrap();
    let out = dir.path().join("sha1.pdf");
    pyhanko_api_sign(
        "leader",
        &src,
        &out,
        "field_name='Sig1', md_algorithm='sha1', subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED",
        "",
    );
    // pyHanko: intact, and not valid (SHA-1 is a disallowed algorithm there too).
    let o = pyhanko()
        .args(["sign", "validate", "--no-revocation-check", "--trust"])
        .arg(pki().join("root.pem"))
        .arg("--trust-replace")
        .arg(&out)
        .output()
        .unwrap();
    let txt = String::from_utf8_lossy(&o.stdout);
    assert!(
        !o.status.success() && txt.contains(":INTACT:"),
        "pyHanko: {txt}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let rep = verify_bytes(bytes.clone(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(s.intact, "{s:#?}");
    assert_eq!(s.signer, "Nguyễn Văn An");
    assert_eq!(s.verdict, vanthu_pdf::verify::UNDETERMINED, "{s:#?}");
    assert!(s.warnings.iter().any(|w| w.contains("SHA-1")), "{s:#?}");
    assert!(!rep.all_valid);
    // A changed byte of the signed content: not intact, invalid.
    let mut bad = bytes;
    let at = bad.windows(8).position(|w| w == b"Van ban ").unwrap();
    bad[at] = b'W';
    let rep = verify_bytes(bad, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(!s.intact, "{s:#?}");
    assert_eq!(s.verdict, vanthu_pdf::verify::INVALID, "{s:#?}");
}

/// Timestamps whose message imprint is not SHA-256 (pyHanko uses the signature's digest
/// algorithm): a SHA-384 token is checked against the SHA-384 of the signature and gives B-T;
/// a SHA-1 one is checked too, but neither the SHA-1 signature nor its token is trusted.
#[test]
fn timestamps_are_checked_with_their_own_imprint_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Dau thoi gian")).unwrap();
    let ts = format!(
        "from pyhanko.sign.timestamps import HTTPTimeStamper\nts = HTTPTimeStamper({:?})",
        start_tsa()
    );
    for (md, level, verdict) in [
        ("sha384", "B-T", vanthu_pdf::verify::VALID),
        ("sha1", "CMS", vanthu_pdf::verify::UNDETERMINED),
    ] {
        let out = dir.path().join(format!("{md}.pdf"));
        pyhanko_api_sign(
            "leader",
            &src,
            &out,
            &format!(
                "field_name='Sig1', md_algorithm='{md}', subfilter=SigSeedSubFilter.{}",
                if md == "sha1" {
                    "ADOBE_PKCS7_DETACHED"
                } else {
                    "PADES"
                }
            ),
            &ts,
        );
        let rep = verify_bytes(std::fs::read(&out).unwrap(), &opts()).unwrap();
        let s = &rep.signatures[0];
        assert!(s.intact, "{md}: {s:#?}");
        assert_eq!(s.verdict, verdict, "{md}: {s:#?}");
        let t = s.timestamp.as_ref().expect("timestamp read");
        assert!(t.intact, "{md}: {t:#?}");
        if md == "sha1" {
            assert!(!t.trusted && s.time_source != "timestamp", "{md}: {s:#?}");
        } else {
            assert_eq!(s.level, level, "{md}: {s:#?}");
            assert_eq!(s.time_source, "timestamp", "{md}: {s:#?}");
        }
    }
}

/// A signature made with an algorithm vanthu does not implement (here the CMS rewritten to
/// claim SHA3-256, or SHA-224 with RSA) cannot be checked: CHƯA XÁC ĐỊNH with the algorithm
/// named — never HỢP LỆ, and not a claim that the document was changed.
#[test]
fn unsupported_algorithms_are_undetermined_not_invalid() {
    let signed = sign_bytes(
        sample_pdf(1, "Thuat toan"),
        &p12("leader"),
        &SignOptions::default(),
    )
    .unwrap();
    // The CMS is hex in /Contents, outside the signed ranges.
    let sha256 = b"0609608648016503040201";
    let rsa_sha256 = b"06092A864886F70D01010B";
    for (name, from, to, all) in [
        ("digest", &sha256[..], &b"0609608648016503040208"[..], true),
        (
            "signature",
            &rsa_sha256[..],
            &b"06092A864886F70D01010E"[..],
            false,
        ),
    ] {
        let mut f = signed.clone();
        let hits: Vec<usize> = f
            .windows(from.len())
            .enumerate()
            .filter(|(_, w)| *w == from)
            .map(|(i, _)| i)
            .collect();
        assert!(!hits.is_empty(), "{name}");
        // The SignerInfo's signature algorithm is the last one (after the certificates).
        let targets = if all {
            hits
        } else {
            vec![*hits.last().unwrap()]
        };
        for at in targets {
            f[at..at + to.len()].copy_from_slice(to);
        }
        let rep = verify_bytes(f.clone(), &opts()).unwrap();
        let s = &rep.signatures[0];
        assert_eq!(
            s.verdict,
            vanthu_pdf::verify::UNDETERMINED,
            "{name}: {s:#?}"
        );
        assert!(
            s.errors.iter().any(|e| e.contains("chưa hỗ trợ")),
            "{name}: {s:#?}"
        );
        // Not a claim that the signature is invalid either.
        assert!(
            !s.errors
                .iter()
                .any(|e| e.contains("signature value invalid")),
            "{name}: {s:#?}"
        );
        assert!(!rep.all_valid);
        // Not signed over: the refusal says the signature cannot be checked, not that it is
        // broken.
        let dir = tempfile::tempdir().unwrap();
        let (i, o) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
        std::fs::write(&i, f).unwrap();
        let e = vanthu_pdf::sign_file(&i, &o, &p12("clerk"), &SignOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("cannot be checked by vanthu"),
            "{name}: {e}"
        );
        assert!(!o.exists());
    }
}

/// A TSA whose certificate has the timeStamping EKU but not marked critical (RFC 3161 says it
/// must be; pyHanko and Acrobat accept it): the timestamp counts, with a warning. A TSA
/// certificate without the EKU at all: the timestamp does not count. (pyHanko's in-process
/// TSA also writes genTime with microseconds, as RFC 3161 allows: read, not dropped.)
#[test]
fn tsa_eku_must_be_there_critical_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "TSA")).unwrap();
    let k = pki();
    for (tsa, counts) in [("tsanc", true), ("leader", false)] {
        let ts = format!(
            "from pyhanko.sign.timestamps import DummyTimeStamper\n\
             from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder\n\
             ts = DummyTimeStamper(tsa_cert=load_cert_from_pemder({cert:?}), \
             tsa_key=load_private_key_from_pemder({key:?}, None), \
             certs_to_embed=[load_cert_from_pemder({inter:?})])",
            cert = k.join(format!("{tsa}.pem")).display().to_string(),
            key = k.join(format!("{tsa}.key.pem")).display().to_string(),
            inter = k.join("inter.pem").display().to_string(),
        );
        let out = dir.path().join(format!("{tsa}.pdf"));
        pyhanko_api_sign(
            "leader",
            &src,
            &out,
            "field_name='Sig1', subfilter=SigSeedSubFilter.PADES",
            &ts,
        );
        let rep = verify_bytes(std::fs::read(&out).unwrap(), &opts()).unwrap();
        let s = &rep.signatures[0];
        assert!(s.intact, "{tsa}: {s:#?}");
        let t = s.timestamp.as_ref().expect("timestamp read");
        if counts {
            assert_eq!(s.level, "B-T", "{tsa}: {s:#?}");
            assert!(
                t.warnings.iter().any(|w| w.contains("critical")),
                "{tsa}: {t:#?}"
            );
        } else {
            assert!(!t.trusted, "{tsa}: {t:#?}");
            assert_ne!(s.time_source, "timestamp", "{tsa}: {s:#?}");
            assert!(t.errors.iter().any(|e| e.contains("EKU")), "{tsa}: {t:#?}");
        }
    }
}

/// pdfunite (poppler) writes a trailer `/Size` below its highest object number. Viewers and
/// vanthu read such a file, but pyHanko's strict reader refuses it — and so refused vanthu's
/// signature on it. Unsigned, it is now rebuilt (one complete cross-reference section, no
/// `/Prev`) without being asked and reported; strict pyHanko and qpdf accept the result. A
/// signed file with the same defect is signed as it is (a rebuild would hide its history).
#[test]
fn an_inconsistent_size_is_rebuilt_so_strict_readers_accept_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let good = sample_pdf(2, "pdfunite");
    let shrink = |data: &[u8]| {
        let at = data.windows(6).rposition(|w| w == b"/Size ").unwrap() + 6;
        let end = at + data[at..].iter().position(|c| !c.is_ascii_digit()).unwrap();
        let mut v = data[..at].to_vec();
        v.extend_from_slice(format!("{:<1$}", 3, end - at).as_bytes());
        v.extend_from_slice(&data[end..]);
        v
    };
    let input = dir.path().join("unite.pdf");
    let bad = shrink(&good);
    std::fs::write(&input, &bad).unwrap();
    assert!(vanthu_pdf::doc::Doc::open(&input).unwrap().size_mismatch());
    let out = dir.path().join("ky.pdf");
    let done =
        vanthu_pdf::sign_file(&input, &out, &p12("leader"), &SignOptions::default()).unwrap();
    assert!(done.repaired.is_some());
    assert!(std::fs::read(&out).unwrap().starts_with(&bad));
    assert_pyhanko_valid(&out, 1);
    assert!(
        vanthu_pdf::verify::verify_file(&out, &opts())
            .unwrap()
            .all_valid
    );
    // Already signed over the defect (the in-memory signer does not rebuild): signed as it is.
    let signed = dir.path().join("signed.pdf");
    std::fs::write(
        &signed,
        sign_bytes(bad.clone(), &p12("leader"), &SignOptions::default()).unwrap(),
    )
    .unwrap();
    assert!(vanthu_pdf::doc::Doc::open(&signed).unwrap().size_mismatch());
    let out2 = dir.path().join("ky2.pdf");
    let done =
        vanthu_pdf::sign_file(&signed, &out2, &p12("clerk"), &SignOptions::default()).unwrap();
    assert_eq!(done.repaired, None);
}

/// Hybrid-reference files (a table plus `/XRefStm`, as Word writes them): vanthu signs one
/// twice and validates it, and says the file is hybrid; pdfsig and qpdf accept the result;
/// pyHanko refuses hybrid files in its default strict mode (by policy, whoever signed them), and
/// with `--no-strict-syntax` finds both of vanthu's signatures valid and adds its own, which
/// vanthu validates beside them.
#[test]
fn hybrid_reference_files_sign_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let f = sign_to(
        dir.path(),
        "one.pdf",
        hybrid_pdf("Hybrid"),
        "leader",
        SignOptions {
            visible: Some(vanthu_pdf::sign::Visible {
                page: 1,
                rect: [300.0, 100.0, 200.0, 60.0],
                image_png: None,
                text: Vec::new(),
                font: None,
            }),
            ..Default::default()
        },
    );
    let f = sign_to(
        dir.path(),
        "two.pdf",
        std::fs::read(&f).unwrap(),
        "clerk",
        SignOptions::default(),
    );
    let rep = assert_vanthu_valid(&f, 2);
    assert!(
        rep.warnings.iter().any(|w| w.contains("hybrid-reference")),
        "{rep:#?}"
    );
    let (ok, out) = qpdf_check(&f);
    assert!(ok, "qpdf: {out}");
    let pdfsig = tool(std::process::Command::new("pdfsig").arg(&f));
    assert_eq!(pdfsig.matches("Signature is Valid").count(), 2, "{pdfsig}");
    let (strict, out) = pyhanko_validate(&f, &[]);
    eprintln!("pyHanko, strict (refuses hybrid files by policy): ok={strict}: {out}");
    let (ok, out) = pyhanko_validate(&f, &["--no-strict-syntax"]);
    assert!(ok && out.matches(":VALID").count() == 2, "pyHanko: {out}");
    let py = dir.path().join("three.pdf");
    pyhanko_addsig("leader", "PySig", &f, &py, &["--no-strict-syntax"]);
    assert_vanthu_valid(&py, 3);
}

/// `sign_file` (the CLI's path) on an *unsigned* hybrid-reference file first appends one
/// complete cross-reference section without `/Prev`, the original bytes kept, as for an
/// inconsistent `/Size`: then pyHanko's strict mode, which refuses any hybrid file, validates
/// the signature, qpdf and pdfsig agree, the page still reads the same (each object resolves
/// as it did: the section is built from the file's own cross-reference), and the report no
/// longer calls the file hybrid. A file signed over a hybrid section is signed as it is.
#[test]
fn sign_file_hides_a_hybrid_reference_from_strict_readers() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("word.pdf");
    let word = hybrid_pdf("Van ban Word");
    std::fs::write(&input, &word).unwrap();
    let out = dir.path().join("ky.pdf");
    let done =
        vanthu_pdf::sign_file(&input, &out, &p12("leader"), &SignOptions::default()).unwrap();
    let why = done
        .repaired
        .and_then(|r| r.inconsistent)
        .unwrap_or_default();
    assert!(why.contains("hybrid-reference"), "{why}");
    assert!(std::fs::read(&out).unwrap().starts_with(&word));
    assert_pyhanko_valid(&out, 1);
    let rep = vanthu_pdf::verify::verify_file(&out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert!(
        !rep.warnings.iter().any(|w| w.contains("hybrid")),
        "{rep:#?}"
    );
    let pdfsig = tool(std::process::Command::new("pdfsig").arg(&out));
    assert_eq!(pdfsig.matches("Signature is Valid").count(), 1, "{pdfsig}");
    let text = tool(std::process::Command::new("pdftotext").arg(&out).arg("-"));
    assert!(text.contains("Van ban Word"), "{text}");
    // Every object the signature did not touch resolves as before: the page tree (in the
    // object stream), the content stream, the font.
    let (a, b) = (
        vanthu_pdf::doc::Doc::parse(word.clone()).unwrap(),
        vanthu_pdf::doc::Doc::open(&out).unwrap(),
    );
    for n in [2, 3, 5, 6] {
        assert_eq!(a.get(n).unwrap(), b.get(n).unwrap(), "object {n}");
    }
    // Signed over the hybrid section already: nothing rebuilt.
    let signed = dir.path().join("signed.pdf");
    std::fs::write(
        &signed,
        sign_bytes(word, &p12("leader"), &SignOptions::default()).unwrap(),
    )
    .unwrap();
    let done =
        vanthu_pdf::sign_file(&signed, &out, &p12("clerk"), &SignOptions::default()).unwrap();
    assert_eq!(done.repaired, None);
}

/// A signer whose certificate the test intermediate issues now, with the extensions written in
/// `{d}/ext`: `newkey` as `openssl req -newkey` takes it, the intermediate in the PKCS#12 file
/// or not (`with_chain`).
fn signer_from_inter(
    d: &std::path::Path,
    newkey: &str,
    serial: &str,
    with_chain: bool,
) -> vanthu_pdf::keys::SoftKey {
    openssl(
        d,
        &format!(
            "req -newkey {newkey} -nodes -keyout {{d}}/s.key -out {{d}}/s.csr -subj /C=VN/CN=Ky"
        ),
    );
    openssl(
        d,
        &format!(
            "x509 -req -in {{d}}/s.csr -CA {{k}}/inter.pem -CAkey {{k}}/inter.key.pem \
             -set_serial {serial} -days 30 -extfile {{d}}/ext -out {{d}}/s.pem"
        ),
    );
    let chain = if with_chain {
        "-certfile {k}/inter.pem"
    } else {
        ""
    };
    openssl(
        d,
        &format!("pkcs12 -export -inkey {{d}}/s.key -in {{d}}/s.pem {chain} -out {{d}}/s.p12 -passout pass:1234"),
    );
    vanthu_pdf::keys::load_p12(&std::fs::read(d.join("s.p12")).unwrap(), "1234").unwrap()
}

/// A certificate whose key usage is digitalSignature without nonRepudiation, and whose extended
/// key usage is clientAuth only (a TLS client certificate; made here from the test
/// intermediate): PAdES accepts it and vanthu signs and validates, but tells the signer that
/// some validators refuse it (pyHanko's default policy does: logged) and that Acrobat may not
/// take the purpose; the report warns too. The leader's usual certificate gets no such note.
#[test]
fn a_signing_certificate_without_non_repudiation_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ext = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    std::fs::write(d.join("ext"), ext).unwrap();
    let key = signer_from_inter(d, "rsa:2048", "4242", true);
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(1, "Ky so")).unwrap();
    let out = dir.path().join("out.pdf");
    let done = vanthu_pdf::sign_file(&input, &out, &key, &SignOptions::default()).unwrap();
    assert_eq!(done.notes.len(), 2, "{:?}", done.notes);
    assert!(
        done.notes[0].contains("lacks nonRepudiation"),
        "{:?}",
        done.notes
    );
    assert!(
        done.notes[1].contains("no document-signing purpose"),
        "{:?}",
        done.notes
    );
    let rep = vanthu_pdf::verify::verify_file(
        &out,
        &vanthu_pdf::verify::VerifyOptions {
            soft_revocation: true,
            ..opts()
        },
    )
    .unwrap();
    assert!(
        rep.signatures[0].intact && rep.signatures[0].trusted,
        "{rep:#?}"
    );
    let w = &rep.signatures[0].warnings;
    assert!(
        w.iter().any(|w| w.contains("no document-signing purpose")),
        "{w:?}"
    );
    let (ok, txt) = pyhanko_validate(&out, &[]);
    eprintln!("pyHanko (its default key usage policy wants nonRepudiation): ok={ok}: {txt}");
    let done =
        vanthu_pdf::sign_file(&input, &out, &p12("leader"), &SignOptions::default()).unwrap();
    assert!(done.notes.is_empty(), "{:?}", done.notes);
}

/// A USB token or a PKCS#12 file often holds only the signer's certificate. Its Authority
/// Information Access names where the CA's certificate is published ("CA Issuers"): vanthu
/// fetches it from there — past an address that answers 404, as a DER file or a PKCS#7 bundle —
/// and embeds it, so the signature reaches the root for vanthu and pyHanko alike.
#[test]
fn the_missing_ca_certificate_is_fetched_from_the_ca_issuers_address() {
    let dir = tempfile::tempdir().unwrap();
    let (k, d) = (pki(), dir.path());
    let inter = std::fs::read(k.join("inter.pem")).unwrap();
    let inter_der = openssl::x509::X509::from_pem(&inter)
        .unwrap()
        .to_der()
        .unwrap();
    let o = std::process::Command::new("openssl")
        .args(["crl2pkcs7", "-nocrl", "-outform", "DER", "-certfile"])
        .arg(k.join("inter.pem"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let p7c = o.stdout;
    for (file, body) in [("/ca.cer", inter_der), ("/ca.p7c", p7c)] {
        let (url, asked) = loopback_http(4, move |head| {
            let path = head.split(' ').nth(1).unwrap_or("");
            if path == file {
                http_reply("200 OK", &body)
            } else {
                http_reply("404 Not Found", b"")
            }
        });
        let ext = format!(
            "keyUsage=critical,digitalSignature,nonRepudiation\n\
             authorityInfoAccess=caIssuers;URI:{url}/khong-co.cer,caIssuers;URI:{url}{file}\n"
        );
        std::fs::write(d.join("ext"), ext).unwrap();
        let key = signer_from_inter(d, "ec -pkeyopt ec_paramgen_curve:P-256", "4343", false);
        let chain = vanthu_pdf::Signer::chain(&key).to_vec();
        assert_eq!(chain.len(), 1);
        assert!(vanthu_pdf::keys::missing_issuer(&chain, &[]).is_some());
        let fetched = vanthu_pdf::keys::fetch_issuers(&chain[0]);
        assert_eq!(fetched.len(), 1, "{file}");
        assert!(fetched[0].1.ends_with(file), "{:?}", fetched[0].1);
        // Signed with the signer's certificate alone, then validated: online, the CA's
        // certificate is fetched the same way (and said so); offline, the path stops short.
        let bare = sign_bytes(sample_pdf(1, "Bare"), &key, &SignOptions::default()).unwrap();
        let soft = vanthu_pdf::verify::VerifyOptions {
            soft_revocation: true,
            ..opts()
        };
        let rep = verify_bytes(bare.clone(), &soft).unwrap();
        assert!(rep.signatures[0].trusted, "{rep:#?}");
        assert!(
            rep.signatures[0]
                .warnings
                .iter()
                .any(|w| w.contains("CA Issuers address")),
            "{rep:#?}"
        );
        let offline = vanthu_pdf::verify::VerifyOptions {
            online: false,
            ..soft.clone()
        };
        assert!(!verify_bytes(bare, &offline).unwrap().signatures[0].trusted);
        let paths: Vec<String> = asked
            .join()
            .unwrap()
            .iter()
            .map(|h| h.split(' ').nth(1).unwrap().to_string())
            .collect();
        assert_eq!(paths, ["/khong-co.cer", file, "/khong-co.cer", file]);
        let ders: Vec<Vec<u8>> = fetched.into_iter().map(|(d, _)| d).collect();
        let signer = vanthu_pdf::keys::WithChain::new(Box::new(key), &ders).unwrap();
        assert_eq!(vanthu_pdf::Signer::chain(&signer).len(), 2);
        let out = sign_bytes(sample_pdf(1, "Token"), &signer, &SignOptions::default()).unwrap();
        let f = d.join("signed.pdf");
        std::fs::write(&f, &out).unwrap();
        let rep = verify_bytes(out, &soft).unwrap();
        assert!(
            rep.signatures[0].intact && rep.signatures[0].trusted,
            "{rep:#?}"
        );
        assert_eq!(rep.signatures[0].chain.len(), 3, "{rep:#?}");
        let (ok, txt) = pyhanko_validate(&f, &[]);
        assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    }
}

/// Cross-references that lenient readers (and vanthu) read but pyHanko's strict mode refuses
/// whole, so that it would validate no signature in the file, whoever made it: Pillow's
/// `0 65536 f`, a space-padded table entry, an object freed with next generation 0 in an
/// update (as Acrobat does), `/Size` shrinking in an update, a freed object used again with a
/// lower generation, an update that reuses a cross-reference stream's object number. The in-memory signer signs such a file as
/// it is (pyHanko's strict mode then refuses it: the oracle agrees the defect is real);
/// `sign_file`, and in memory `sign_document`, first append a complete section without
/// `/Prev` (the original bytes kept), and pyHanko's strict mode, qpdf and vanthu all validate
/// the signature. Clean files from
/// several producers raise no objection.
#[test]
fn cross_references_strict_readers_refuse_are_hidden_before_signing() {
    use vanthu_pdf::doc::Doc;
    let dir = tempfile::tempdir().unwrap();
    let base = sample_pdf(2, "Strict");
    let offset_of = |data: &[u8], n: u32| {
        let head = format!("\n{n} 0 obj");
        data.windows(head.len())
            .position(|w| w == head.as_bytes())
            .unwrap()
            + 1
    };
    // An update holding only a table (`rows`, subsection headers included).
    let update = |data: &[u8], rows: String, size: usize| {
        let prev = Doc::parse(data.to_vec())
            .unwrap()
            .sections
            .last()
            .unwrap()
            .offset;
        let mut out = data.to_vec();
        let x = out.len();
        out.extend_from_slice(
            format!(
                "xref\n{rows}trailer\n<< /Size {size} /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n"
            )
            .as_bytes(),
        );
        out
    };
    let objstm = xref_stream_pdf(dir.path(), 2, "Strict");
    for clean in [base.clone(), objstm.clone(), sample_pdf(1, "Other")] {
        assert_eq!(Doc::parse(clean).unwrap().strict_objection(), None);
    }
    let freed = update(&base, "7 1\n0000000000 00001 f \n".into(), 8);
    let xs = Doc::parse(objstm.clone())
        .unwrap()
        .sections
        .last()
        .unwrap()
        .offset;
    let xs_num: u32 = String::from_utf8_lossy(&objstm[xs..xs + 12])
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let cases = [
        (
            "Pillow",
            patch_same_len(&base, b"0000000000 65535 f", b"0000000000 65536 f"),
            "above 65535",
        ),
        (
            "padded",
            {
                let o = offset_of(&base, 1);
                patch_same_len(
                    &base,
                    format!("{o:010} 00000 n").as_bytes(),
                    format!("{o:>10} 00000 n").as_bytes(),
                )
            },
            "20-byte form",
        ),
        (
            "dead",
            update(&base, "8 1\n0000000000 00000 f \n".into(), 9),
            "next generation 0",
        ),
        (
            "shrink",
            update(
                &base,
                format!("1 1\n{:010} 00000 n \n", offset_of(&base, 1)),
                2,
            ),
            "/Size shrinks",
        ),
        (
            "reuse",
            update(
                &freed,
                format!("7 1\n{:010} 00000 n \n", offset_of(&base, 7)),
                8,
            ),
            "used again with generation 0",
        ),
        (
            "clobber",
            append_revision(&objstm, &[(xs_num, "<< /Note (x) >>".into())], "table"),
            "cross-reference stream's object number",
        ),
    ];
    for (name, input, why) in cases {
        let objection = Doc::parse(input.clone()).unwrap().strict_objection();
        assert!(
            objection.as_deref().unwrap_or_default().contains(why),
            "{name}: {objection:?}"
        );
        let as_is = sign_to(
            dir.path(),
            &format!("{name}-as-is.pdf"),
            input.clone(),
            "leader",
            SignOptions::default(),
        );
        let (ok, out) = pyhanko_validate(&as_is, &[]);
        assert!(!ok && out.contains("strict"), "{name}: pyHanko: {out}");
        let rep = vanthu_pdf::verify::verify_file(&as_is, &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        assert!(
            rep.warnings
                .iter()
                .any(|w| w.contains("strict validators") && w.contains(why)),
            "{name}: {:?}",
            rep.warnings
        );
        let src = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&src, &input).unwrap();
        let out = dir.path().join(format!("{name}-signed.pdf"));
        let done =
            vanthu_pdf::sign_file(&src, &out, &p12("leader"), &SignOptions::default()).unwrap();
        let said = done
            .repaired
            .and_then(|r| r.inconsistent)
            .unwrap_or_default();
        assert!(said.contains(why), "{name}: {said}");
        assert!(std::fs::read(&out).unwrap().starts_with(&input), "{name}");
        assert_pyhanko_valid(&out, 1);
        let rep = vanthu_pdf::verify::verify_file(&out, &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        assert!(
            !rep.warnings.iter().any(|w| w.contains("strict")),
            "{name}: {:?}",
            rep.warnings
        );
        // In memory (the app's path), the same section, the same result for pyHanko.
        let (mem, done) =
            vanthu_pdf::sign_document(input.clone(), &p12("leader"), &SignOptions::default())
                .unwrap();
        let said = done
            .repaired
            .and_then(|r| r.inconsistent)
            .unwrap_or_default();
        assert!(said.contains(why), "{name}: in memory: {said}");
        assert!(mem.starts_with(&input), "{name}");
        let mem_file = dir.path().join(format!("{name}-memory.pdf"));
        std::fs::write(&mem_file, mem).unwrap();
        assert_pyhanko_valid(&mem_file, 1);
        let text = tool(std::process::Command::new("pdftotext").arg(&out).arg("-"));
        assert!(text.contains("Strict - page 1"), "{name}: {text}");
    }
}

/// Two kinds of signature that pyHanko validates and that vanthu used to call "not intact":
/// a plain PKCS#7 (adbe.pkcs7.detached) whose CMS has no signed attributes — the content's
/// digest is signed directly (RFC 5652 §5.4; made here by `openssl cms -sign -noattr` over the
/// ByteRange of a pyHanko signature) — and an Ed25519 signature (RFC 8419; pyHanko signs with
/// an Ed25519 key that the test intermediate certifies). vanthu finds each intact and valid
/// with the test root, as pyHanko does; a changed byte makes each KHÔNG HỢP LỆ.
#[test]
fn signatures_without_signed_attributes_and_ed25519_validate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Ky truc tiep")).unwrap();
    let tampered = |data: &[u8]| {
        let mut bad = data.to_vec();
        let at = bad.windows(8).position(|w| w == b"Ky truc ").unwrap();
        bad[at] = b'X';
        verify_bytes(bad, &opts()).unwrap()
    };
    // No signed attributes: pyHanko's CMS replaced by openssl's over the same ByteRange.
    let py = d.join("py.pdf");
    pyhanko_api_sign(
        "leader",
        &src,
        &py,
        "field_name='Sig1', subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED",
        "",
    );
    let mut data = std::fs::read(&py).unwrap();
    let p = data.windows(12).position(|w| w == b"/ByteRange [").unwrap() + 12;
    let e = p + data[p..].iter().position(|&c| c == b']').unwrap();
    let br: Vec<usize> = std::str::from_utf8(&data[p..e])
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let mut content = data[br[0]..br[0] + br[1]].to_vec();
    content.extend_from_slice(&data[br[2]..br[2] + br[3]]);
    std::fs::write(d.join("content.bin"), &content).unwrap();
    openssl(
        d,
        "cms -sign -binary -noattr -md sha256 -in {d}/content.bin -signer {k}/leader.pem \
         -inkey {k}/leader.key.pem -certfile {k}/inter.pem -outform DER -out {d}/cms.der",
    );
    let hex: String = std::fs::read(d.join("cms.der"))
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let (gap_start, gap_end) = (br[0] + br[1] + 1, br[2] - 1);
    assert!(hex.len() <= gap_end - gap_start);
    data[gap_start..gap_end].fill(b'0');
    data[gap_start..gap_start + hex.len()].copy_from_slice(hex.as_bytes());
    let noattr = d.join("noattr.pdf");
    std::fs::write(&noattr, &data).unwrap();
    let rep = verify_bytes(data.clone(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(s.intact && s.verdict == VALID, "{s:#?}");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("no signed attributes")),
        "{s:#?}"
    );
    let (ok, out) = pyhanko_validate(&noattr, &[]);
    assert!(ok && out.contains(":VALID"), "pyHanko: {out}");
    let rep = tampered(&data);
    assert!(!rep.signatures[0].intact && rep.signatures[0].verdict == INVALID);
    // Ed25519, signed by pyHanko.
    std::fs::write(
        d.join("ext"),
        format!(
            "keyUsage=critical,digitalSignature,nonRepudiation\n\
             crlDistributionPoints=URI:{}/inter.crl\n",
            pki_url()
        ),
    )
    .unwrap();
    openssl(
        d,
        "req -newkey ed25519 -nodes -keyout {d}/ed.key -out {d}/ed.csr -subj /C=VN/CN=Ed25519",
    );
    openssl(
        d,
        "x509 -req -in {d}/ed.csr -CA {k}/inter.pem -CAkey {k}/inter.key.pem -set_serial 25519 \
         -days 30 -extfile {d}/ext -out {d}/ed.pem",
    );
    let ed = d.join("ed.pdf");
    let o = pyhanko()
        .args(["sign", "addsig", "--field", "Sig1", "--use-pades"])
        .args(["pemder", "--no-pass", "--key"])
        .arg(d.join("ed.key"))
        .arg("--cert")
        .arg(d.join("ed.pem"))
        .arg("--chain")
        .arg(pki().join("chain.pem"))
        .arg(&src)
        .arg(&ed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (ok, out) = pyhanko_validate(&ed, &[]);
    assert!(ok && out.contains(":VALID"), "pyHanko: {out}");
    let data = std::fs::read(&ed).unwrap();
    let rep = verify_bytes(data.clone(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(s.intact && s.verdict == VALID, "{s:#?}");
    let rep = tampered(&data);
    assert!(!rep.signatures[0].intact && rep.signatures[0].verdict == INVALID);
}

/// The last signature's Contents gap `[start, end)` (from its `/ByteRange`) and the last
/// trailer's `/ID` array `[start, end)`.
fn gap_and_id(data: &[u8]) -> ((usize, usize), (usize, usize)) {
    let at = data.windows(11).rposition(|w| w == b"/ByteRange ").unwrap();
    let open = at + data[at..].iter().position(|&b| b == b'[').unwrap() + 1;
    let close = open + data[open..].iter().position(|&b| b == b']').unwrap();
    let n: Vec<usize> = std::str::from_utf8(&data[open..close])
        .unwrap()
        .split_ascii_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let id = data.windows(3).rposition(|w| w == b"/ID").unwrap();
    let id_end = id + data[id..].iter().position(|&b| b == b']').unwrap() + 1;
    ((n[1], n[2]), (id, id_end))
}

/// `sign_document` (the app's path, in memory, with its lighter self-check for a first
/// signature) and `sign_file` (the CLI's path, streamed, checked against pyHanko and qpdf
/// throughout this suite) make the same file from the same input: same length, and the only
/// bytes that differ are the new trailer's random `/ID` and, since the digest covers it, the
/// signature in the gap. Inputs: a classic table with a visible signature (font subset), an
/// object-stream file, a linearized one, a hybrid one and one with a wrong `/Size` (both
/// rebuilt first), a damaged one repaired on request, a signed one (countersignature: checked
/// by full validation in memory).
#[test]
fn signing_in_memory_and_to_a_file_make_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    // One signing time for both paths (the test certificates start when the PKI is made).
    let t = time::OffsetDateTime::now_utc();
    let plain = SignOptions {
        signing_time: Some(t),
        ..Default::default()
    };
    let visible = SignOptions {
        visible: Some(vanthu_pdf::sign::Visible {
            page: 1,
            rect: [300.0, 100.0, 220.0, 60.0],
            image_png: None,
            text: vec!["Nguyễn Văn Ánh".into(), "Giám đốc Sở".into()],
            font: None,
        }),
        ..plain.clone()
    };
    let repair = SignOptions {
        repair: true,
        ..plain.clone()
    };
    let classic = sample_pdf(2, "Hai trang");
    let lin_in = dir.path().join("lin-in.pdf");
    let lin = dir.path().join("lin.pdf");
    std::fs::write(&lin_in, sample_pdf(3, "Tuyen tap")).unwrap();
    tool(
        std::process::Command::new("qpdf")
            .arg("--linearize")
            .arg(&lin_in)
            .arg(&lin),
    );
    let size = {
        let at = classic.windows(6).rposition(|w| w == b"/Size ").unwrap() + 6;
        let end = at
            + classic[at..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap();
        let mut v = classic[..at].to_vec();
        v.extend_from_slice(format!("{:<1$}", 3, end - at).as_bytes());
        v.extend_from_slice(&classic[end..]);
        v
    };
    let header_end = classic.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut shifted = classic[..header_end].to_vec();
    shifted.extend_from_slice(b"%inserted by an editor\n");
    shifted.extend_from_slice(&classic[header_end..]);
    let signed = sign_bytes(classic.clone(), &p12("clerk"), &plain).unwrap();
    let cases: Vec<(&str, Vec<u8>, &SignOptions, bool)> = vec![
        ("classic, visible", classic.clone(), &visible, false),
        (
            "object streams",
            xref_stream_pdf(dir.path(), 2, "Luồng"),
            &plain,
            false,
        ),
        ("linearized", std::fs::read(&lin).unwrap(), &plain, false),
        ("hybrid", hybrid_pdf("Lai"), &plain, true),
        ("wrong /Size", size, &plain, true),
        ("damaged", shifted, &repair, true),
        ("signed", signed, &plain, false),
    ];
    for (name, input, so, rebuilt) in cases {
        let path = dir.path().join("in.pdf");
        let out = dir.path().join("out.pdf");
        std::fs::write(&path, &input).unwrap();
        let done = vanthu_pdf::sign_file(&path, &out, &p12("leader"), so)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let file = std::fs::read(&out).unwrap();
        let (mem, mem_done) = vanthu_pdf::sign_document(input, &p12("leader"), so)
            .unwrap_or_else(|e| panic!("{name}: in memory: {e}"));
        assert_eq!(done.repaired.is_some(), rebuilt, "{name}");
        assert_eq!(done.repaired, mem_done.repaired, "{name}");
        assert_eq!(file.len(), mem.len(), "{name}: same length");
        let ((gs, ge), (is, ie)) = gap_and_id(&file);
        assert_eq!(
            gap_and_id(&mem),
            ((gs, ge), (is, ie)),
            "{name}: same layout"
        );
        let stray: Vec<usize> = (0..file.len())
            .filter(|&i| file[i] != mem[i] && !(gs..ge).contains(&i) && !(is..ie).contains(&i))
            .collect();
        assert!(
            stray.is_empty(),
            "{name}: bytes differ outside the /ID and the gap at {:?}",
            &stray[..stray.len().min(8)]
        );
        let rep = verify_bytes(mem, &opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
    }
}
