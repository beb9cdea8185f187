//! Sign (to a file, durably, and in memory as the app does) and verify 1 MB and 100 MB PDFs;
//! times as a ratio to SHA-256 of the same file in the same run, beside pyHanko's times; peak memory (VmHWM) of a child process that only signs.
//!
//! `cargo run -p vanthu-pdf --example pdf_bench [-- 1 100]` (sizes in MB). Needs bash + openssl (the
//! test PKI) and pyHanko in $VANTHU_PYTHON's venv (scripts/setup.sh).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

fn big_pdf(path: &Path, mb: usize) {
    let n = mb * 1024 * 1024;
    let mut data = Vec::with_capacity(n);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while data.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(n);
    let content = b"BT /F1 12 Tf 72 760 Td (Benchmark) Tj ET";
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    let obj = |out: &mut Vec<u8>, offs: &mut Vec<usize>, body: &[u8]| {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offs.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, &mut offs, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut out,
        &mut offs,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    );
    obj(
        &mut out,
        &mut offs,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> /XObject << /Blob 5 0 R >> >> >>",
    );
    let mut c = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    c.extend_from_slice(content);
    c.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offs, &c);
    let mut b = format!(
        "<< /Type /XObject /Subtype /Image /Width 1024 /Height {} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
        n / 1024,
        n
    )
    .into_bytes();
    b.extend_from_slice(&data);
    b.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offs, &b);
    obj(
        &mut out,
        &mut offs,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    );
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offs.len() + 1).as_bytes());
    for o in &offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n",
            offs.len() + 1
        )
        .as_bytes(),
    );
    std::fs::write(path, out).unwrap();
}

fn secs<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

/// Repetitions for files up to 10 MB (a 1 MB file hashes in about a millisecond: one run is
/// noise).
const REPS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn vm_hwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn child_sign(input: &str, output: &str, p12: &str) {
    let key = vanthu_pdf::keys::load_p12(&std::fs::read(p12).unwrap(), "1234").unwrap();
    vanthu_pdf::sign_file(
        Path::new(input),
        Path::new(output),
        &key,
        &vanthu_pdf::SignOptions::default(),
    )
    .unwrap();
    println!("{:.1}", vm_hwm_mb());
}

fn pyhanko() -> PathBuf {
    let py = std::env::var("VANTHU_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/vanthu/venv/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    PathBuf::from(py).parent().unwrap().join("pyhanko")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child-sign") {
        child_sign(&args[1], &args[2], &args[3]);
        return;
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![1, 100]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(Command::new("bash")
        .arg(repo.join("certs/test-pki.sh"))
        .arg(&pki)
        .status()
        .unwrap()
        .success());
    let p12 = pki.join("leader.p12");
    let key = vanthu_pdf::keys::load_p12(&std::fs::read(&p12).unwrap(), "1234").unwrap();
    let trust = vec![std::fs::read(pki.join("root.der")).unwrap()];
    // Costs that do not depend on the file's size and bound the ratio of a small file from
    // below: one private-key operation, and a durable (fsynced) write of a small file.
    use vanthu_pdf::Signer as _;
    let key_op = median(
        (0..9)
            .map(|_| secs(|| key.sign(b"signed attributes").unwrap()).0)
            .collect(),
    );
    let fsync = median(
        (0..9)
            .map(|i| {
                let f = dir.path().join(format!("sync-{i}"));
                secs(|| {
                    let mut h = std::fs::File::create(&f).unwrap();
                    std::io::Write::write_all(&mut h, &[0u8; 16 * 1024]).unwrap();
                    h.sync_all().unwrap();
                })
                .0
            })
            .collect(),
    );
    println!(
        "fixed costs (median of 9): RSA-2048 signature {:.1} ms, 16 KiB write + fsync {:.1} ms",
        key_op * 1e3,
        fsync * 1e3
    );
    println!("medians of {REPS} runs for files up to 10 MB, of 1 run above");
    println!(
        "signing writes a new file; \"replacing\" signs again over the output just written (the \
         file system then also frees the old file)"
    );
    println!(
        "floor: what any durable RSA-2048 signature must do one after the other (hash the file, \
         one private-key operation, one flush), as a ratio to SHA-256"
    );
    println!(
        "durable copy: copying the file into a new file and flushing it, as a ratio to SHA-256 \
         (the I/O any signer that writes its output durably does, without hashing or signing)"
    );
    println!(
        "in memory: `sign_document` on the file read into memory (`read_for_signing`), the app's \
         path (its documents never reach disk in plaintext; storing the result is the encrypted \
         store's work), with the same self-check; \"vanthu sign\" is `sign_file`, which writes \
         the output durably (flushed, then renamed over the target)"
    );
    println!("| size | SHA-256 | vanthu sign | ratio | in memory | ratio | floor | durable copy | replacing | ratio | vanthu verify | ratio | pyHanko sign | pyHanko verify | vanthu sign peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for mb in sizes {
        let input = dir.path().join(format!("in-{mb}.pdf"));
        big_pdf(&input, mb);
        let out = dir.path().join(format!("out-{mb}.pdf"));
        let reps = if mb <= 10 { REPS } else { 1 };
        let (mut shas, mut signs, mut replaces, mut vers, mut copies, mut mems) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for _ in 0..reps {
            let (t_sha, _) = secs(|| Sha256::digest(std::fs::read(&input).unwrap()));
            // As the app signs: the document in memory (read with room for the revision, as
            // `sign_document` advises), the signed document returned in memory; storing it is
            // the encrypted store's work.
            let (t_mem, r) = secs(|| {
                let data = vanthu_pdf::sign::read_for_signing(&input).unwrap();
                vanthu_pdf::sign_document(data, &key, &Default::default())
            });
            r.unwrap();
            mems.push(t_mem);
            // The least I/O of any signer that writes its output durably: a copy of the file,
            // flushed (no hashing, no signature).
            let copy = dir.path().join(format!("copy-{mb}.pdf"));
            let _ = std::fs::remove_file(&copy);
            let (t_copy, _) = secs(|| {
                let mut src = std::fs::File::open(&input).unwrap();
                let mut dst = std::fs::File::create(&copy).unwrap();
                std::io::copy(&mut src, &mut dst).unwrap();
                dst.sync_data().unwrap();
            });
            copies.push(t_copy);
            let _ = std::fs::remove_file(&out);
            let sign = || vanthu_pdf::sign_file(&input, &out, &key, &Default::default());
            let (t_sign, r) = secs(sign);
            r.unwrap();
            let (t_replace, r) = secs(sign);
            r.unwrap();
            replaces.push(t_replace);

            let (t_ver, rep) = secs(|| {
                vanthu_pdf::verify::verify_file(
                    &out,
                    &vanthu_pdf::verify::VerifyOptions {
                        trust: trust.clone(),
                        at: None,
                        online: false,
                        intermediates: Vec::new(),
                        // The bench PKI publishes no CRL: revocation is not what is measured.
                        soft_revocation: true,
                    },
                )
                .unwrap()
            });
            assert!(rep.all_valid);
            shas.push(t_sha);
            signs.push(t_sign);
            vers.push(t_ver);
        }
        let (t_sha, t_sign, t_replace, t_ver, t_copy) = (
            median(shas),
            median(signs),
            median(replaces),
            median(vers),
            median(copies),
        );
        let t_mem = median(mems);
        let py_out = dir.path().join(format!("py-{mb}.pdf"));
        let (t_pys, st) = secs(|| {
            Command::new(pyhanko())
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
                .arg(pki.join("leader.key.pem"))
                .arg("--cert")
                .arg(pki.join("leader.pem"))
                .arg("--chain")
                .arg(pki.join("chain.pem"))
                .arg(&input)
                .arg(&py_out)
                .output()
                .unwrap()
        });
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let (t_pyv, st) = secs(|| {
            Command::new(pyhanko())
                .args(["sign", "validate", "--no-revocation-check", "--trust"])
                .arg(pki.join("root.pem"))
                .arg("--trust-replace")
                .arg(&out)
                .output()
                .unwrap()
        });
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stdout)
        );
        let child = Command::new(std::env::current_exe().unwrap())
            .arg("--child-sign")
            .arg(&input)
            .arg(dir.path().join(format!("child-{mb}.pdf")))
            .arg(&p12)
            .output()
            .unwrap();
        let peak = String::from_utf8_lossy(&child.stdout).trim().to_string();
        println!(
            "| {mb} MB | {:.4} s | {:.4} s | {:.1}× | {:.4} s | {:.2}× | {:.1}× | {:.1}× | {:.4} s | {:.1}× | {:.4} s | {:.1}× | {:.3} s | {:.3} s | {peak} MB |",
            t_sha,
            t_sign,
            t_sign / t_sha,
            t_mem,
            t_mem / t_sha,
            (t_sha + key_op + fsync) / t_sha,
            t_copy / t_sha,
            t_replace,
            t_replace / t_sha,
            t_ver,
            t_ver / t_sha,
            t_pys,
            t_pyv
        );
    }
}
