//! End-to-end tests of the `vanthu` binary (one test binary; modules per concern).

mod axis;
mod cli;
mod crash;
mod edxml;
mod extract;
mod memory;
mod pdf;
mod pdf_remote;

use std::path::Path;
use std::process::{Command, Output};

pub const PASS: &str = "mật-khẩu-thử-nghiệm";

pub fn vanthu(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vanthu"));
    c.arg("--data")
        .arg(data)
        .env("VANTHU_PASSPHRASE", PASS)
        .env_remove("VANTHU_DATA")
        .env("VANTHU_USER", "test-clerk");
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().expect("vanthu runs")
}

pub fn ok(c: &mut Command) -> String {
    let o = run(c);
    assert!(
        o.status.success(),
        "command failed: {:?}\nstdout: {}\nstderr: {}",
        c,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

pub fn json(c: &mut Command) -> serde_json::Value {
    serde_json::from_str(&ok(c.arg("--json"))).unwrap()
}

pub fn init(data: &Path) {
    ok(vanthu(data).args([
        "init",
        "--agency-name",
        "Ủy ban nhân dân huyện Lạc Sơn",
        "--agency-code",
        "000.00.31.H29",
    ]));
}

/// Every file under `dir`, recursively, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
