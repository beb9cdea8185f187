//! Robustness of the PDF reader, verifier and signer on damaged input: mutated, truncated and
//! spliced signed files never panic, and no change to a signed byte ever validates.

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::verify::{verify_bytes, VerifyOptions};

/// Signed seeds: a classic cross-reference table (RSA), an xref-stream / object-stream file
/// rewritten by qpdf and signed twice (ECDSA then RSA), and two encrypted files signed by
/// pyHanko.
fn seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let classic = sign_bytes(
            sample_pdf(2, "Quyet dinh"),
            &p12("leader"),
            &SignOptions::default(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pdf");
        let b = dir.path().join("b.pdf");
        std::fs::write(&a, sample_pdf(1, "Cong van")).unwrap();
        let st = std::process::Command::new("qpdf")
            .args(["--object-streams=generate"])
            .arg(&a)
            .arg(&b)
            .status()
            .expect("qpdf is installed");
        assert!(st.success());
        let once = sign_bytes(
            std::fs::read(&b).unwrap(),
            &p12("clerk"),
            &SignOptions::default(),
        )
        .unwrap();
        let twice = sign_bytes(once, &p12("leader"), &SignOptions::default()).unwrap();
        // Encrypted with an empty user password (AES-256 and RC4-128), signed by pyHanko:
        // every string and stream goes through decryption.
        // A hybrid-reference file (table + /XRefStm), signed.
        let hybrid = sign_bytes(
            hybrid_pdf("Cong van"),
            &p12("leader"),
            &SignOptions::default(),
        )
        .unwrap();
        let mut seeds = vec![classic, twice, hybrid];
        for args in [&["256"][..], &["128", "--use-aes=n"][..]] {
            let (e, s) = (dir.path().join("e.pdf"), dir.path().join("s.pdf"));
            qpdf_encrypt(&a, &e, "", args, &[]);
            pyhanko_sign_encrypted(&e, &s);
            seeds.push(std::fs::read(&s).unwrap());
        }
        seeds
    })
}

/// Unsigned seeds: a classic table, an object-stream file and a hybrid-reference file.
fn unsigned_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        vec![
            sample_pdf(2, "Chua ky"),
            xref_stream_pdf(dir.path(), 1, "Chua ky"),
            hybrid_pdf("Chua ky"),
        ]
    })
}

fn offline() -> &'static VerifyOptions {
    static O: OnceLock<VerifyOptions> = OnceLock::new();
    O.get_or_init(|| VerifyOptions {
        soft_revocation: true,
        ..offline_opts()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"endobj".to_vec(),
        b"endstream".to_vec(),
        b"stream\n".to_vec(),
        b"xref\n0 1\n0000000000 65535 f \n".to_vec(),
        b"trailer\n<< /Size 3 /Root 1 0 R >>\n".to_vec(),
        b"startxref\n0\n%%EOF\n".to_vec(),
        b"/ByteRange [0 10 20 30]".to_vec(),
        b"/Contents <3082>".to_vec(),
        b"<<".to_vec(),
        b">>".to_vec(),
        b"[[[[[[[[[[[[[[[[".to_vec(),
        b"9999999999 0 R".to_vec(),
        b"/Length 999999999".to_vec(),
        b"/Prev 0".to_vec(),
        b"/Type /ObjStm /N 99 /First 0".to_vec(),
        b"(\\".to_vec(),
        b"\xff\xfe\x00".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut v: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if v.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(i, b) => {
                let i = i % v.len();
                v[i] = *b;
            }
            Mutation::Insert(i, t) => {
                let i = i % (v.len() + 1);
                v.splice(i..i, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = i % v.len();
                let e = (i + n).min(v.len());
                v.drain(i..e);
            }
            Mutation::Truncate(i) => {
                let i = i % v.len();
                v.truncate(i);
            }
        }
    }
    v
}

/// The byte ranges the last signature covers (its `/ByteRange`, the last one in the file).
fn covered(data: &[u8]) -> Vec<(usize, usize)> {
    let at = data
        .windows(10)
        .rposition(|w| w == b"/ByteRange")
        .expect("a signed seed");
    let text = String::from_utf8_lossy(&data[at..at + 80]);
    let inner = &text[text.find('[').unwrap() + 1..text.find(']').unwrap()];
    let br: Vec<usize> = inner
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    vec![(br[0], br[0] + br[1]), (br[2], br[2] + br[3])]
}

proptest! {
    // 96 cases in CI; PROPTEST_CASES=N for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    /// Damaged files give a report or an error, never a panic; signing them gives a signed
    /// file or an error, never a panic.
    #[test]
    fn damaged_signed_files_never_panic(
        seed in 0usize..5,
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = apply(seeds()[seed].clone(), &muts);
        if let Ok(rep) = verify_bytes(bytes.clone(), offline()) {
            let _ = serde_json::to_string(&rep).unwrap();
        }
        let _ = sign_bytes(bytes.clone(), &p12("leader"), &SignOptions::default());
        // The streamed signer: an error leaves no output; a success keeps the input as the
        // output's prefix, byte for byte (after what preceded the header, for a repair; a file
        // with signature marks is never repaired).
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
        std::fs::write(&input, &bytes).unwrap();
        match vanthu_pdf::sign_file(&input, &output, &p12("leader"), &SignOptions::default()) {
            Ok(done) => {
                let out = std::fs::read(&output).unwrap();
                let kept = &bytes[done.repaired.as_ref().map_or(0, |r| r.dropped)..];
                prop_assert!(out.len() > kept.len() && out[..kept.len()] == kept[..]);
                prop_assert!(done.repaired.is_none() || !vanthu_pdf::repair::has_signature_marks(&bytes));
            }
            Err(_) => prop_assert!(!output.exists()),
        }
        prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), if output.exists() { 2 } else { 1 });
    }

    /// Damaged *unsigned* files (the ones a repair may rebuild): signing gives an error and no
    /// file, or a file whose new signature is intact and that keeps the input (from its header
    /// on) as its prefix; the repair's scan never panics on anything.
    #[test]
    fn damaged_unsigned_files_sign_soundly_or_not_at_all(
        seed in 0usize..3,
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = apply(unsigned_seeds()[seed].clone(), &muts);
        let _ = vanthu_pdf::repair::plan(&bytes);
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
        std::fs::write(&input, &bytes).unwrap();
        let repair = SignOptions { repair: true, ..Default::default() };
        match vanthu_pdf::sign_file(&input, &output, &p12("leader"), &repair) {
            Ok(done) => {
                let out = std::fs::read(&output).unwrap();
                let kept = &bytes[done.repaired.as_ref().map_or(0, |r| r.dropped)..];
                prop_assert!(out.len() > kept.len() && out[..kept.len()] == kept[..]);
                let rep = verify_bytes(out, offline()).unwrap();
                let last = rep.signatures.last().unwrap();
                prop_assert!(last.intact, "{rep:#?}");
            }
            Err(_) => prop_assert!(!output.exists()),
        }
        prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), if output.exists() { 2 } else { 1 });
    }

    /// Any change of one byte that a signature covers makes the file not valid.
    #[test]
    fn no_change_to_a_signed_byte_validates(
        seed in 0usize..5,
        at in any::<usize>(),
        to in any::<u8>(),
    ) {
        let data = seeds()[seed].clone();
        let ranges = covered(&data);
        let len: usize = ranges.iter().map(|(a, b)| b - a).sum();
        let mut k = at % len;
        let mut pos = 0;
        for (a, b) in &ranges {
            if k < b - a {
                pos = a + k;
                break;
            }
            k -= b - a;
        }
        prop_assume!(data[pos] != to);
        let mut bad = data;
        bad[pos] = to;
        if let Ok(rep) = verify_bytes(bad, offline()) {
            prop_assert!(!rep.all_valid, "byte {pos} changed, still valid: {rep:#?}");
        }
    }
}
