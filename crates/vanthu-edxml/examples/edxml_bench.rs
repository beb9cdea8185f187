//! edXML attachment-path benchmark.
//!
//! ```text
//! cargo run --release -p vanthu-edxml --example edxml_bench -- [--size-mb 10,300] [--keep]
//! ```
//!
//! For each size: writes a message with one attachment of that size to a temp file
//! (write throughput), parses it with a hashing sink (parse throughput, peak memory above
//! the pre-parse baseline from `/proc/self/status`), then times lxml parsing the same
//! file in a subprocess (`$VANTHU_PYTHON`, else the project venv, else `python3`).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::process::Command;
use std::time::Instant;

use vanthu_edxml::*;

/// Deterministic pseudo-random bytes (xorshift), so the data does not compress.
struct Gen {
    left: u64,
    state: u64,
}

impl Read for Gen {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let b = self.state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Resets the peak-RSS counter (Linux ≥ 4.0); returns false elsewhere.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn fmt_mem(kb: Option<u64>) -> String {
    kb.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

fn python() -> Option<String> {
    let mut c = Vec::new();
    if let Ok(p) = std::env::var("VANTHU_PYTHON") {
        c.push(p);
    }
    if let Some(h) = std::env::var_os("HOME") {
        c.push(format!(
            "{}/.cache/vanthu/venv/bin/python",
            h.to_string_lossy()
        ));
    }
    c.push("/root/.cache/vanthu/venv/bin/python".into());
    c.push("python3".into());
    c.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import lxml"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut sizes = vec![10u64, 300];
    let mut keep = false;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--size-mb" => {
                i += 1;
                sizes = args[i]
                    .split(',')
                    .map(|s| s.trim().parse().expect("size in MB"))
                    .collect();
            }
            "--keep" => keep = true,
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let py = python();
    println!("| size | write MB/s | parse MB/s (attachment) | parse MB/s (file) | peak mem above baseline | lxml parse s | lxml ÷ ours |");
    println!("|---|---|---|---|---|---|---|");
    for mb in sizes {
        let size = mb * 1_000_000;
        let tmp = tempfile::Builder::new()
            .suffix(".edxml")
            .tempfile()
            .expect("temp file");
        let path = tmp.path().to_path_buf();
        // Write.
        let req = PackRequest {
            from: Organization::new("000.00.00.H41", "UBND tỉnh Nghệ An"),
            to: vec![Organization::new("000.00.00.G22", "Văn phòng Chính phủ")],
            code_number: "1".into(),
            code_notation: "BENCH".into(),
            subject: "Benchmark".into(),
            date: "2026/01/05".into(),
            ..PackRequest::default()
        };
        let t = Instant::now();
        let out = BufWriter::with_capacity(256 * 1024, File::create(&path).unwrap());
        let rep = pack(
            &req,
            vec![(
                "big.pdf".to_string(),
                "application/pdf".to_string(),
                Gen {
                    left: size,
                    state: 0x9E37_79B9_7F4A_7C15,
                },
            )],
            out,
        )
        .expect("pack");
        let wsec = t.elapsed().as_secs_f64();
        let file_len = rep.write.bytes;

        // Parse.
        let hwm_ok = reset_hwm();
        let base = status_kb("VmRSS:");
        let t = Instant::now();
        let f = BufReader::with_capacity(64 * 1024, File::open(&path).unwrap());
        let opts = ReadOptions {
            limits: Limits::unlimited_sizes(),
        };
        let m = read_message(f, HashOnlySink, &opts).expect("parse");
        let psec = t.elapsed().as_secs_f64();
        let peak = if hwm_ok { status_kb("VmHWM:") } else { None };
        let above = match (peak, base) {
            (Some(p), Some(b)) => Some(p.saturating_sub(b)),
            _ => None,
        };
        assert_eq!(m.attachments[0].size, size);
        assert_eq!(
            m.attachments[0].sha256.as_deref(),
            Some(rep.write.attachments[0].sha256.as_str())
        );

        // lxml.
        let (lx, ratio) = match &py {
            Some(py) => {
                let script = "import sys,time\nfrom lxml import etree\nt=time.perf_counter()\netree.parse(sys.argv[1], etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))\nprint(time.perf_counter()-t)";
                let o = Command::new(py)
                    .args(["-c", script])
                    .arg(&path)
                    .output()
                    .expect("python");
                if o.status.success() {
                    let s: f64 = String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse()
                        .unwrap_or(f64::NAN);
                    (format!("{s:.2}"), format!("{:.2}×", s / psec))
                } else {
                    (
                        format!(
                            "failed: {}",
                            String::from_utf8_lossy(&o.stderr)
                                .lines()
                                .last()
                                .unwrap_or("")
                        ),
                        "n/a".into(),
                    )
                }
            }
            None => ("n/a (no lxml)".into(), "n/a".into()),
        };
        println!(
            "| {mb} MB | {:.0} | {:.0} | {:.0} | {} | {lx} | {ratio} |",
            size as f64 / 1e6 / wsec,
            size as f64 / 1e6 / psec,
            file_len as f64 / 1e6 / psec,
            fmt_mem(above),
        );
        eprintln!(
            "{mb} MB: file {file_len} bytes; VmRSS before parse {}, VmHWM during parse {}",
            fmt_mem(base),
            fmt_mem(peak)
        );
        if keep {
            let (_, p) = tmp.keep().unwrap();
            eprintln!("kept {}", p.display());
        }
    }
}
