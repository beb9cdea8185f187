//! PDFs encrypted without a password to open them (an owner password only, as many producers
//! do to restrict editing): qpdf encrypts them every way the standard allows, pyHanko signs
//! them (it signs encrypted files as they are), vanthu must read them, validate those
//! signatures, flag what was changed after signing, refuse to sign or extend them itself, and
//! name a file that needs a password.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use vanthu_pdf::doc::Doc;
use vanthu_pdf::verify::{verify_file, ChangeClass, VALID};
use vanthu_pdf::PdfError;

/// The encryptions qpdf makes (qpdf's arguments after `--encrypt USER OWNER`).
const VARIANTS: &[(&str, &[&str])] = &[
    ("rc4-40 (R2)", &["40"]),
    ("rc4-128 (R3)", &["128", "--use-aes=n"]),
    ("aes-128 (R4)", &["128", "--use-aes=y"]),
    (
        "aes-128, metadata in clear (R4)",
        &["128", "--use-aes=y", "--cleartext-metadata"],
    ),
    ("aes-256 (R5, deprecated)", &["256", "--force-R5"]),
    ("aes-256 (R6)", &["256"]),
];

fn plain_input(dir: &Path) -> PathBuf {
    let f = dir.join("plain.pdf");
    std::fs::write(&f, sample_pdf(2, "Quyết định số 12 về việc phê duyệt")).unwrap();
    f
}

/// Decoded content of every page, in order.
fn page_contents(doc: &Doc) -> Vec<Vec<u8>> {
    doc.pages()
        .unwrap()
        .into_iter()
        .map(|(n, _)| {
            let page = doc.get(n).unwrap();
            let c = page.as_dict().unwrap().get("Contents").unwrap().clone();
            let parts = match doc.resolve(&c).unwrap() {
                vanthu_pdf::object::Obj::Arr(a) => a,
                _ => vec![c],
            };
            parts
                .iter()
                .flat_map(|p| doc.stream_data(&doc.resolve(p).unwrap()).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn every_standard_encryption_reads_as_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    let want = page_contents(&Doc::open(&plain).unwrap());
    for (name, args) in VARIANTS {
        for extra in [&[][..], &["--object-streams=generate"][..]] {
            let f = dir.path().join("enc.pdf");
            qpdf_encrypt(&plain, &f, "", args, extra);
            let doc = Doc::open(&f).unwrap_or_else(|e| panic!("{name} {extra:?}: {e}"));
            assert!(doc.encrypted(), "{name}");
            assert_eq!(page_contents(&doc), want, "{name} {extra:?}");
        }
    }
    // AES-128 whose /Encrypt leaves out /Length (the key is then 128 bits, not 40).
    let f = dir.path().join("enc.pdf");
    qpdf_encrypt(&plain, &f, "", &["128", "--use-aes=y"], &[]);
    let data = std::fs::read(&f).unwrap();
    let at = data
        .windows(17)
        .position(|w| w == b"/Filter /Standard")
        .unwrap();
    let len = at
        + data[at..]
            .windows(11)
            .position(|w| w == b"/Length 128")
            .unwrap();
    let mut cut = data.clone();
    cut[len..len + 11].fill(b' ');
    let doc = Doc::parse(cut).unwrap();
    assert_eq!(page_contents(&doc), want, "AES-128 without /Length");
}

#[test]
fn pyhanko_signatures_on_encrypted_files_validate() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    // pyHanko does not write R5 (deprecated): every other variant.
    for (name, args) in VARIANTS.iter().filter(|(n, _)| !n.contains("R5")) {
        let enc = dir.path().join("enc.pdf");
        let signed = dir.path().join("signed.pdf");
        qpdf_encrypt(&plain, &enc, "", args, &[]);
        pyhanko_sign_encrypted(&enc, &signed);
        let rep = verify_file(&signed, &opts()).unwrap();
        assert_eq!(rep.signatures.len(), 1, "{name}: {rep:#?}");
        let s = &rep.signatures[0];
        assert!(s.intact, "{name}: {rep:#?}");
        assert_eq!(s.verdict, VALID, "{name}: {rep:#?}");
        // Strings of the signature dictionary and field, decrypted.
        assert_eq!(s.field, "Sig1", "{name}");
        assert_eq!(s.signer, "Nguyễn Văn An", "{name}");
        assert!(s.covers_final_revision, "{name}");
        assert!(
            rep.warnings.iter().any(|w| w.contains("encrypted PDF")),
            "{name}: {:?}",
            rep.warnings
        );
    }
}

/// B-LTA by pyHanko on encrypted files: the DSS (certificates, CRLs, OCSP answers) and the
/// document timestamp are encrypted streams and strings; vanthu finds them offline.
#[test]
fn pyhanko_b_lta_on_encrypted_files_validates_offline() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    let root = pki().join("root.pem");
    let root = root.to_str().unwrap();
    for (name, args) in [VARIANTS[1], VARIANTS[5]] {
        let (enc, signed) = (dir.path().join("enc.pdf"), dir.path().join("lta.pdf"));
        qpdf_encrypt(&plain, &enc, "", args, &[]);
        pyhanko_sign_locked_with(
            &enc,
            &signed,
            "",
            &[
                "--timestamp-url",
                &tsa,
                "--use-pades-lta",
                "--with-validation-info",
                "--trust",
                root,
                "--trust-replace",
            ],
        );
        let rep = verify_file(&signed, &offline_opts()).unwrap();
        assert!(rep.all_valid, "{name}: {rep:#?}");
        let s = &rep.signatures[0];
        assert_eq!(s.level, "B-LTA", "{name}");
        assert_eq!(s.time_source, "timestamp", "{name}");
        assert!(rep
            .signatures
            .iter()
            .any(|s| s.kind == "document_timestamp" && s.intact && s.trusted));
    }
}

#[test]
fn a_change_after_signing_an_encrypted_file_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    let (enc, signed, tampered) = (
        dir.path().join("enc.pdf"),
        dir.path().join("signed.pdf"),
        dir.path().join("tampered.pdf"),
    );
    qpdf_encrypt(&plain, &enc, "", &["256"], &[]);
    pyhanko_sign_encrypted(&enc, &signed);
    // An overlay drawn on page 1 in a later revision, written (encrypted) by pyHanko's writer.
    let script = r#"
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
with open(sys.argv[1], 'rb') as f:
    w = IncrementalPdfFileWriter(f)
    w.encrypt("")
    stm = generic.StreamObject(stream_data=b'q 1 1 1 rg 0 0 600 800 re f Q BT (DA DUYET) Tj ET')
    w.add_stream_to_page(0, w.add_object(stm), prepend=False)
    with open(sys.argv[2], 'wb') as out:
        w.write(out)
"#;
    let o = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&signed)
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rep = verify_file(&tampered, &opts()).unwrap();
    let s = &rep.signatures[0];
    assert!(
        s.intact,
        "the signed revision itself is untouched: {rep:#?}"
    );
    assert!(!s.covers_final_revision);
    assert!(
        s.modifications
            .iter()
            .any(|m| m.class == ChangeClass::Forbidden),
        "{rep:#?}"
    );
    assert_ne!(s.verdict, VALID);
    assert!(!rep.all_valid);
}

/// After signing, the encryption is dropped from the trailer, moved to a new dictionary, or
/// its dictionary rewritten: each is a forbidden change (the signed objects would no longer
/// be read with the key they were signed under).
#[test]
fn changing_the_encryption_after_signing_is_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    let (enc, signed) = (dir.path().join("enc.pdf"), dir.path().join("signed.pdf"));
    qpdf_encrypt(&plain, &enc, "", &["256"], &[]);
    pyhanko_sign_encrypted(&enc, &signed);
    let data = std::fs::read(&signed).unwrap();
    let doc = Doc::parse(data.clone()).unwrap();
    let trailer = doc.trailer().clone();
    let (enc_num, _) = trailer.get("Encrypt").and_then(|o| o.as_ref()).unwrap();
    // The dictionary's text as written, and the trailer's /ID as written.
    let text = String::from_utf8_lossy(&data).into_owned();
    let head = format!("\n{enc_num} 0 obj");
    let start = text.find(&head).unwrap() + head.len();
    let body = text[start..start + text[start..].find("endobj").unwrap()]
        .trim()
        .to_string();
    let id_at = text.rfind("/ID").unwrap();
    let id = text[id_at..id_at + text[id_at..].find(']').unwrap() + 1].to_string();
    let fresh = doc.size();
    let attacks = [
        ("dropped", append_revision_with(&data, &[], "table", &id)),
        (
            "moved",
            append_revision_with(
                &data,
                &[(fresh, body.clone())],
                "table",
                &format!("/Encrypt {fresh} 0 R {id}"),
            ),
        ),
        (
            "rewritten",
            append_revision_with(
                &data,
                &[(enc_num, body.clone())],
                "table",
                &format!("/Encrypt {enc_num} 0 R {id}"),
            ),
        ),
    ];
    for (name, bytes) in attacks {
        let rep = vanthu_pdf::verify_bytes(bytes, &opts()).unwrap();
        let s = &rep.signatures[0];
        assert!(s.intact, "{name}");
        assert!(
            s.modifications
                .iter()
                .any(|m| m.class == ChangeClass::Forbidden
                    && m.what.contains("encryption dictionary changed")),
            "{name}: {rep:#?}"
        );
        assert_ne!(s.verdict, VALID, "{name}");
    }
    // A revision that keeps the trailer's /Encrypt as it was is not flagged for it.
    let kept = append_revision_with(&data, &[], "table", &format!("/Encrypt {enc_num} 0 R {id}"));
    let rep = vanthu_pdf::verify_bytes(kept, &opts()).unwrap();
    assert!(
        !rep.signatures[0]
            .modifications
            .iter()
            .any(|m| m.what.contains("encryption")),
        "{rep:#?}"
    );
}

#[test]
fn vanthu_does_not_sign_or_extend_an_encrypted_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    let (enc, signed) = (dir.path().join("enc.pdf"), dir.path().join("signed.pdf"));
    qpdf_encrypt(&plain, &enc, "", &["256"], &[]);
    let out = dir.path().join("out.pdf");
    let e = vanthu_pdf::sign_file(&enc, &out, &p12("leader"), &Default::default()).unwrap_err();
    assert!(matches!(e, PdfError::Encrypted), "{e}");
    assert!(e.to_string().contains("mã hóa"), "{e}");
    pyhanko_sign_encrypted(&enc, &signed);
    let e = vanthu_pdf::sign_file(&signed, &out, &p12("clerk"), &Default::default()).unwrap_err();
    assert!(matches!(e, PdfError::Encrypted), "{e}");
    let e = vanthu_pdf::sign::extend_file(&signed, &out, vanthu_pdf::sign::Level::BLT, None, &[])
        .unwrap_err();
    assert!(matches!(e, PdfError::Encrypted), "{e}");
    // Nor after a repair of its cross-reference (a rebuilt trailer would drop /Encrypt and
    // present the ciphertext as the document).
    let mut broken = std::fs::read(&enc).unwrap();
    let at = broken.windows(9).rposition(|w| w == b"startxref").unwrap();
    for b in &mut broken[at + 9..] {
        if b.is_ascii_digit() {
            *b = b'1';
        }
    }
    let damaged = dir.path().join("damaged.pdf");
    std::fs::write(&damaged, &broken).unwrap();
    let repair = vanthu_pdf::SignOptions {
        repair: true,
        ..Default::default()
    };
    let e = vanthu_pdf::sign_file(&damaged, &out, &p12("leader"), &repair).unwrap_err();
    assert!(matches!(e, PdfError::Encrypted), "{e}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n == "out.pdf")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_password_protected_file_opens_with_its_user_or_owner_password() {
    use vanthu_pdf::verify::verify_file_with_password;
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_input(dir.path());
    for (name, args) in VARIANTS.iter().filter(|(n, _)| !n.contains("R5")) {
        // Revisions 2-4 keep passwords in PDFDocEncoding: ASCII there; UTF-8 for AES-256.
        let (user, owner) = if args[0] == "256" {
            ("Mật khẩu 2026", "Chủ sở hữu")
        } else {
            ("mat-khau", "chu-so-huu")
        };
        let (locked, signed) = (dir.path().join("locked.pdf"), dir.path().join("signed.pdf"));
        let st = std::process::Command::new("qpdf")
            .arg("--allow-weak-crypto")
            .args(["--encrypt", user, owner])
            .args(*args)
            .arg("--")
            .arg(&plain)
            .arg(&locked)
            .status()
            .unwrap();
        assert!(st.success(), "{name}");
        pyhanko_sign_locked(&locked, &signed, user);
        for wrong in ["", "mat-khau-sai", "Mat khau 2026"] {
            let e = verify_file_with_password(&signed, &opts(), wrong).unwrap_err();
            assert!(matches!(e, PdfError::Protected), "{name} {wrong:?}: {e}");
            assert!(e.to_string().contains("mật khẩu"), "{e}");
        }
        for pw in [user, owner] {
            let rep = verify_file_with_password(&signed, &opts(), pw)
                .unwrap_or_else(|e| panic!("{name} {pw:?}: {e}"));
            assert_eq!(rep.signatures.len(), 1, "{name}");
            assert_eq!(rep.signatures[0].verdict, VALID, "{name} {pw:?}: {rep:#?}");
        }
        if args[0] == "256" {
            // The same password typed with combining marks (NFD) opens it too.
            use unicode_normalization::UnicodeNormalization;
            let nfd: String = user.nfd().collect();
            assert_ne!(nfd, user);
            assert!(verify_file_with_password(&signed, &opts(), &nfd).is_ok());
        }
    }
}
