//! Large files are streamed: registering and exporting a 300 MB scan keeps the process's peak
//! memory far below the file size. (Peak RSS of the child, from getrusage; Linux only.)

#![cfg(target_os = "linux")]

use std::io::Write;

use crate::*;

fn children_max_rss_mib() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss as u64 / 1024 // KiB on Linux
}

fn sha256_of(p: &std::path::Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(p).unwrap(), &mut h).unwrap();
    hex::encode(h.finalize())
}

#[test]
fn a_300_mb_scan_is_never_held_in_memory() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let scan = d.path().join("scan-lon.pdf");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&scan).unwrap());
        let mut block: Vec<u8> = (0..1u32 << 20)
            .map(|k| k.wrapping_mul(2654435761).to_le_bytes()[3])
            .collect();
        for i in 0..300u32 {
            block[..4].copy_from_slice(&i.to_le_bytes());
            f.write_all(&block).unwrap();
        }
    }
    let v = json(vanthu(&data).args(["incoming", "add"]).arg(&scan).args([
        "--from",
        "Sở Xây dựng",
        "--notation",
        "88/BC-SXD",
        "--date",
        "2026-11-20",
        "--subject",
        "Hồ sơ bản vẽ quét khổ lớn",
    ]));
    let id = v["id"].as_str().unwrap().to_string();
    let out = d.path().join("ra.pdf");
    ok(vanthu(&data).args(["export", &id]).arg(&out));
    let peak = children_max_rss_mib();
    assert!(
        peak < 64,
        "peak RSS of vanthu was {peak} MiB for a 300 MB file"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 300 << 20);
    // same bytes back
    assert_eq!(sha256_of(&scan), sha256_of(&out));
    assert_eq!(sha256_of(&scan), v["files"][0]["sha256"].as_str().unwrap());
}
