//! Project tasks: `cargo xtask <task>`.
//!
//! * `bench [--quick] [--records N] [--blob-mb M] [--rounds R] [--opens K]` — the encrypted
//!   store against a plain SQLite/file baseline in the same process (see `BENCHMARKS.md`).
//! * `bench-ocr [--pages N]` — OCR seconds per A4 page at 300 dpi through the isolated
//!   extraction worker, against Tesseract run directly (see `BENCHMARKS.md`).
//! * `bench-pdf`, `bench-edxml`, `bench-search`, `bench-axis` `[ARGS…]` — the benchmarks that
//!   live as examples of their crates, run with the profile `BENCHMARKS.md` gives for them
//!   (ARGS go to the example).

mod bench;
mod gen;
mod ocr;

use std::process::ExitCode;

const USAGE: &str =
    "usage: cargo xtask bench [--quick] [--records N] [--blob-mb M] [--rounds R] [--opens K]

  --quick       smoke run (1000 records, 8 MiB, 2 rounds, 3 opens): proves the benchmark works
  --records N   records registered per store per round (default 20000)
  --blob-mb M   blob size in MiB (default 200)
  --rounds R    rounds; encrypted and baseline alternate order each round (default 3)
  --opens K     store opens timed (default 10)
       cargo xtask bench-ocr [--pages N]   (default 5 pages)
       cargo xtask bench-pdf [SIZE_MB…]    (PDF signing and validation, default 1 100)
       cargo xtask bench-edxml [--size-mb A,B]
       cargo xtask bench-search [--docs N]
       cargo xtask bench-axis [N KIB]";

/// The benchmarks kept as examples: (task, package, example, release build).
const EXAMPLES: &[(&str, &str, &str, bool)] = &[
    ("bench-pdf", "vanthu-pdf", "pdf_bench", false),
    ("bench-edxml", "vanthu-edxml", "edxml_bench", true),
    ("bench-search", "vanthu-search", "bench", true),
    ("bench-axis", "vanthu-app", "axis_bench", true),
];

/// Runs the example benchmark of `task` with `args`, its output passed through.
fn run_example(task: &str, args: &[String]) -> ExitCode {
    let Some(&(_, package, example, release)) = EXAMPLES.iter().find(|e| e.0 == task) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = std::process::Command::new(cargo);
    c.args(["run", "--quiet", "-p", package, "--example", example]);
    if release {
        c.arg("--release");
    }
    match c.arg("--").args(args).status() {
        Ok(st) if st.success() => ExitCode::SUCCESS,
        Ok(st) => ExitCode::from(st.code().unwrap_or(1).clamp(1, 255) as u8),
        Err(e) => {
            eprintln!("xtask {task}: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_bench(args: &[String]) -> Result<bench::Opts, String> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = if quick {
        bench::Opts::quick()
    } else {
        bench::Opts::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        if flag == "--quick" {
            continue;
        }
        let mut value = |name: &str| -> Result<u64, String> {
            let v = inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))?;
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        match flag {
            "--records" => o.records = value(flag)? as usize,
            "--blob-mb" => o.blob_mib = value(flag)?,
            "--rounds" => o.rounds = value(flag)? as usize,
            "--opens" => o.opens = value(flag)? as usize,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown option {a:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // the extraction worker that `bench-ocr` starts (the same code as `vanthu __extract`)
        Some("__extract") => {
            ExitCode::from(vanthu_app::extraction::worker_main(&args[1..]).clamp(0, 255) as u8)
        }
        Some("bench-ocr") => {
            let pages = match args.get(1).map(String::as_str) {
                None => 5,
                Some("--pages") => match args.get(2).and_then(|v| v.parse().ok()) {
                    Some(n) if n > 0 => n,
                    _ => {
                        eprintln!("{USAGE}");
                        return ExitCode::from(2);
                    }
                },
                Some(_) => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            };
            match ocr::run(&ocr::Opts { pages }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("xtask bench-ocr: error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(task) if EXAMPLES.iter().any(|e| e.0 == task) => run_example(task, &args[1..]),
        Some("bench") => match parse_bench(&args[1..]) {
            Ok(o) => match bench::run(&o) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("xtask bench: error: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                if !e.is_empty() {
                    eprintln!("xtask bench: {e}");
                }
                eprintln!("{USAGE}");
                if e.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                }
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_benchmark_exists_and_is_in_the_usage() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (task, package, example, _) in EXAMPLES {
            let f = root.join(format!("crates/{package}/examples/{example}.rs"));
            assert!(f.exists(), "{task}: {} missing", f.display());
            assert!(USAGE.contains(task), "{task} not in the usage");
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_flags() {
        let o = parse_bench(&s(&["--records", "1_000", "--blob-mb=4", "--rounds", "5"])).unwrap();
        assert_eq!((o.records, o.blob_mib, o.rounds), (1000, 4, 5));
        let q = parse_bench(&s(&["--quick", "--records", "50"])).unwrap();
        assert!(q.quick);
        assert_eq!(q.records, 50);
        assert!(parse_bench(&s(&["--nope"])).is_err());
    }
}
