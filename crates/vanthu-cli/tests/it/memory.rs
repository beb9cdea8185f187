//! Large files are streamed: registering and exporting a 300 MB scan keeps the process's peak
//! memory far below the file size. (Peak RSS of the child, from getrusage; Linux only.)

#![cfg(target_os = "linux")]

use std::io::Write;

use crate::*;

/// Runs `c` to its end and returns its stdout and its own peak RSS in MiB (with that of any
/// helper process it waited for), from wait4(2) on that one child: other tests' children,
/// which run in parallel in this process, are not counted.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std cannot see
fn run_measured(c: &mut std::process::Command) -> (String, u64) {
    use std::io::Read;
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vanthu runs");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).unwrap();
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 reaps our own child (std's Child is never waited on afterwards) and fills
    // the structs we own.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let stderr = err_reader.join().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "command failed: {c:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, ru.ru_maxrss as u64 / 1024) // KiB on Linux
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
    let (added, peak_add) = run_measured(
        vanthu(&data)
            .args(["--json", "incoming", "add"])
            .arg(&scan)
            .args([
                "--from",
                "Sở Xây dựng",
                "--notation",
                "88/BC-SXD",
                "--date",
                "2026-11-20",
                "--subject",
                "Hồ sơ bản vẽ quét khổ lớn",
            ]),
    );
    let v: serde_json::Value = serde_json::from_str(&added).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let out = d.path().join("ra.pdf");
    let (_, peak_export) = run_measured(vanthu(&data).args(["export", &id]).arg(&out));
    for (what, peak) in [("add", peak_add), ("export", peak_export)] {
        assert!(
            peak < 64,
            "peak RSS of vanthu {what} was {peak} MiB for a 300 MB file"
        );
    }
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 300 << 20);
    // same bytes back
    assert_eq!(sha256_of(&scan), sha256_of(&out));
    assert_eq!(sha256_of(&scan), v["files"][0]["sha256"].as_str().unwrap());
}
