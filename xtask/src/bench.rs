//! `cargo xtask bench`: the encrypted store against a plain baseline, in the same process.
//!
//! Each figure is a ratio against the same work done on an unencrypted baseline in the same
//! run, so that the machine's speed cancels out. For blobs the baseline is a *plain store*: the
//! same file written to and read from disk with the SHA-256 that the register records and that
//! export verifies; a raw copy without hashing is reported beside it for context. Nothing here asserts on time: a missed target
//! prints `MISS`, and the process still succeeds; only a functional failure (a record refused,
//! a blob that does not round-trip) is an error.

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;
use vanthu_app::{App, IncomingInput};
use vanthu_store::{Agency, KdfParams, KeyFile, KeyProvider, Passphrase, Store};

use crate::gen::{self, Checksum, NoiseReader};

type Res<T> = Result<T, Box<dyn Error>>;

/// Records per `register_batch` call (one transaction each).
pub const BATCH: usize = 500;
/// Read/write buffer of the blob runs, the product's chunk size.
const BUF: usize = 64 * 1024;
const PASSPHRASE: &str = "Văn thư Hòa Bình — kho lưu trữ 2026!";
const TARGET_RATIO: f64 = 1.6;
const TARGET_RATE: f64 = 5000.0;
const TARGET_OPEN_MS: f64 = 150.0;

/// Benchmark parameters.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Records registered per store per round.
    pub records: usize,
    /// Blob size in MiB.
    pub blob_mib: u64,
    /// Rounds (each runs encrypted and baseline, order alternating).
    pub rounds: usize,
    /// Store opens timed.
    pub opens: usize,
    /// Set by `--quick` (only changes the defaults and the heading).
    pub quick: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            records: 20_000,
            blob_mib: 200,
            rounds: 3,
            opens: 10,
            quick: false,
        }
    }
}

impl Opts {
    /// The `--quick` setting: a few seconds, same code paths, same table.
    pub fn quick() -> Self {
        Opts {
            records: 1_000,
            blob_mib: 8,
            rounds: 2,
            opens: 3,
            quick: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Encrypted,
    Baseline,
}

impl Kind {
    /// A B, B A, A B, … so that neither side always runs on a warmer (or fuller) machine.
    fn order(round: usize) -> [Kind; 2] {
        if round.is_multiple_of(2) {
            [Kind::Encrypted, Kind::Baseline]
        } else {
            [Kind::Baseline, Kind::Encrypted]
        }
    }
}

fn agency() -> Agency {
    Agency {
        name: "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình".into(),
        code: "000.01.00.H29".into(),
    }
}

fn tempdir() -> Res<TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("vanthu-bench-")
        .tempdir_in(std::env::temp_dir())?)
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// Registration

struct RegRun {
    secs: f64,
    _tmp: TempDir,
    dir: PathBuf,
}

fn register_run(kind: Kind, inputs: &[(usize, IncomingInput)]) -> Res<RegRun> {
    let tmp = tempdir()?;
    let dir = tmp.path().join("store");
    let pass = Passphrase::new(PASSPHRASE);
    // Creating the store (and its Argon2id wrap) is not part of the timed work.
    let mut app = match kind {
        Kind::Encrypted => App::init(&dir, &pass, &agency(), KdfParams::default())?,
        Kind::Baseline => App::from_store(Store::init_unencrypted_baseline(&dir, &agency())?),
    };
    let t = Instant::now();
    for chunk in inputs.chunks(BATCH) {
        let out = app.register_batch(chunk, None)?;
        if let Some(bad) = out.iter().find(|o| o.result.is_err()) {
            return Err(format!(
                "{kind:?}: record {} refused: {:?}",
                bad.line,
                bad.result.as_ref().err()
            )
            .into());
        }
    }
    let secs = secs(t.elapsed());
    let n: i64 =
        app.store()
            .raw_connection()
            .query_row("SELECT count(*) FROM incoming", [], |r| r.get(0))?;
    if n as usize != inputs.len() {
        return Err(format!("{kind:?}: {n} rows registered, expected {}", inputs.len()).into());
    }
    drop(app);
    Ok(RegRun {
        secs,
        _tmp: tmp,
        dir,
    })
}

struct RegResult {
    enc: Vec<f64>,
    base: Vec<f64>,
    /// Stores of the last round, kept for the open benchmark.
    last_enc: RegRun,
    last_base: RegRun,
}

fn bench_registration(o: &Opts, inputs: &[(usize, IncomingInput)]) -> Res<RegResult> {
    let mut enc = Vec::new();
    let mut base = Vec::new();
    let mut last = (None, None);
    for round in 0..o.rounds {
        for kind in Kind::order(round) {
            let run = register_run(kind, inputs)?;
            eprintln!(
                "  registration round {} {:<9} {:>8.3} s  {:>8.0} records/s",
                round + 1,
                format!("{kind:?}").to_lowercase(),
                run.secs,
                inputs.len() as f64 / run.secs
            );
            match kind {
                Kind::Encrypted => {
                    enc.push(run.secs);
                    last.0 = Some(run);
                }
                Kind::Baseline => {
                    base.push(run.secs);
                    last.1 = Some(run);
                }
            }
        }
    }
    Ok(RegResult {
        enc,
        base,
        last_enc: last.0.ok_or("no rounds")?,
        last_base: last.1.ok_or("no rounds")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Store open

/// The baseline open: what `Store::open` does to the database, without key file, KDF or key.
fn open_plain(dir: &Path) -> Res<Connection> {
    let conn = Connection::open_with_flags(
        dir.join(vanthu_store::store::DB_NAME),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;",
    )?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let _v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let _name: String = conn.query_row("SELECT name FROM agency WHERE id = 1", [], |r| r.get(0))?;
    Ok(conn)
}

struct OpenResult {
    enc_ms: Vec<f64>,
    kdf_ms: Vec<f64>,
    base_ms: Vec<f64>,
}

fn bench_open(o: &Opts, enc_dir: &Path, base_dir: &Path) -> Res<OpenResult> {
    let pass = Passphrase::new(PASSPHRASE);
    let mut r = OpenResult {
        enc_ms: Vec::new(),
        kdf_ms: Vec::new(),
        base_ms: Vec::new(),
    };
    for i in 0..o.opens {
        for kind in Kind::order(i) {
            match kind {
                Kind::Encrypted => {
                    // Everything a user waits for: key file, Argon2id, unwrap, SQLCipher key,
                    // page-1 HMAC check, migrations check, and the first real query.
                    let t = Instant::now();
                    let app = App::open(enc_dir, &pass)?;
                    let _ = app.agency()?;
                    r.enc_ms.push(secs(t.elapsed()) * 1e3);
                    drop(app);
                    // The KDF + unwrap alone, for the breakdown.
                    let t = Instant::now();
                    let kf = KeyFile::load(enc_dir)?;
                    let _key = pass.unlock(&kf)?;
                    r.kdf_ms.push(secs(t.elapsed()) * 1e3);
                }
                Kind::Baseline => {
                    let t = Instant::now();
                    let conn = open_plain(base_dir)?;
                    r.base_ms.push(secs(t.elapsed()) * 1e3);
                    drop(conn);
                }
            }
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Blobs

struct BlobResult {
    enc_w: Vec<f64>,
    enc_r: Vec<f64>,
    base_w: Vec<f64>,
    base_r: Vec<f64>,
    /// Reads after the file was evicted from the page cache (empty when eviction failed).
    enc_rc: Vec<f64>,
    base_rc: Vec<f64>,
    /// Peak RSS during the blob runs (kB) and whether it was reset before them.
    peak_kb: Option<u64>,
    peak_reset: bool,
    rss_before_kb: Option<u64>,
    /// In-memory floor per round: AEAD, SHA-256, copy (MiB/s).
    floor: Vec<(f64, f64, f64)>,
    /// Raw copy without hashing (informational): write and page-cache read times.
    raw_w: Vec<f64>,
    raw_r: Vec<f64>,
}

/// Reads everything; with `sha`, also computes SHA-256 as the product's export does to verify
/// a file against the hash recorded at registration (the same work on both sides).
fn read_all_checksum(r: &mut impl std::io::Read, sha: bool) -> Res<Checksum> {
    use sha2::{Digest, Sha256};
    let mut buf = vec![0u8; BUF];
    let mut c = Checksum::default();
    let mut h = Sha256::new();
    loop {
        let n = gen::read_full(r, &mut buf)?;
        if n == 0 {
            break;
        }
        if sha {
            h.update(&buf[..n]);
        }
        c.update(&buf[..n]);
    }
    std::hint::black_box(h.finalize());
    Ok(c)
}

/// Writes a plain file; with `sha`, also hashes it as a plain store must to record the file's
/// SHA-256 in the register (what the encrypted store's blob writer does too).
fn plain_write(path: &Path, src: &mut NoiseReader, sha: bool) -> Res<u64> {
    use sha2::{Digest, Sha256};
    let f = File::create(path)?;
    let mut w = BufWriter::with_capacity(BUF, f);
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    let mut h = Sha256::new();
    loop {
        let n = gen::read_full(src, &mut buf)?;
        if n == 0 {
            break;
        }
        if sha {
            h.update(&buf[..n]);
        }
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
    std::hint::black_box(h.finalize());
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(total)
}

fn bench_blobs(o: &Opts) -> Res<BlobResult> {
    let len = o.blob_mib * 1024 * 1024;
    let tmp = tempdir()?;
    let pass = Passphrase::new(PASSPHRASE);
    let app = App::init(
        &tmp.path().join("store"),
        &pass,
        &agency(),
        KdfParams::default(),
    )?;
    let plain_dir = tmp.path().join("plain");
    fs::create_dir_all(&plain_dir)?;

    let rss_before_kb = proc_status_kb("VmRSS");
    let peak_reset = reset_peak_rss();
    let mut r = BlobResult {
        enc_w: Vec::new(),
        enc_r: Vec::new(),
        base_w: Vec::new(),
        base_r: Vec::new(),
        enc_rc: Vec::new(),
        base_rc: Vec::new(),
        peak_kb: None,
        peak_reset,
        rss_before_kb,
        floor: Vec::new(),
        raw_w: Vec::new(),
        raw_r: Vec::new(),
    };
    for round in 0..o.rounds {
        let seed = 0x7661_6e74_6875 + round as u64;
        let expected = NoiseReader::expected(seed, len);
        for kind in Kind::order(round) {
            let (w, rd, cold) = match kind {
                Kind::Encrypted => {
                    let blobs = app.store().blobs();
                    let mut src = NoiseReader::new(seed, len);
                    let t = Instant::now();
                    let info = blobs.put(&mut src)?;
                    let w = secs(t.elapsed());
                    if info.size != len {
                        return Err(format!("blob size {} != {len}", info.size).into());
                    }
                    let t = Instant::now();
                    let mut rd = blobs.open_blob(&info.id)?;
                    let c = read_all_checksum(&mut rd, true)?;
                    let rd = secs(t.elapsed());
                    if c != expected {
                        return Err("encrypted blob did not round-trip".into());
                    }
                    // Layout documented in vanthu_store::lib: blobs/<2 hex>/<id>.vtb
                    let path = app
                        .store()
                        .dir()
                        .join(vanthu_store::store::BLOB_DIR)
                        .join(&info.id[..2])
                        .join(format!("{}.vtb", info.id));
                    let cold = if evict(&path) {
                        let t = Instant::now();
                        let mut rd = blobs.open_blob(&info.id)?;
                        let c = read_all_checksum(&mut rd, true)?;
                        let s = secs(t.elapsed());
                        if c != expected {
                            return Err("encrypted blob did not round-trip (cold)".into());
                        }
                        Some(s)
                    } else {
                        None
                    };
                    blobs.remove(&info.id)?;
                    (w, rd, cold)
                }
                Kind::Baseline => {
                    let path = plain_dir.join(format!("round-{round}.bin"));
                    let mut src = NoiseReader::new(seed, len);
                    let t = Instant::now();
                    let n = plain_write(&path, &mut src, true)?;
                    let w = secs(t.elapsed());
                    if n != len {
                        return Err(format!("plain size {n} != {len}").into());
                    }
                    let t = Instant::now();
                    let mut f = File::open(&path)?;
                    let c = read_all_checksum(&mut f, true)?;
                    let rd = secs(t.elapsed());
                    if c != expected {
                        return Err("plain file did not round-trip".into());
                    }
                    let cold = if evict(&path) {
                        let t = Instant::now();
                        let mut f = File::open(&path)?;
                        let c = read_all_checksum(&mut f, true)?;
                        let s = secs(t.elapsed());
                        if c != expected {
                            return Err("plain file did not round-trip (cold)".into());
                        }
                        Some(s)
                    } else {
                        None
                    };
                    fs::remove_file(&path)?;
                    // Informational: a raw copy with no hashing at all.
                    let mut src = NoiseReader::new(seed, len);
                    let t = Instant::now();
                    plain_write(&path, &mut src, false)?;
                    r.raw_w.push(secs(t.elapsed()));
                    let t = Instant::now();
                    read_all_checksum(&mut File::open(&path)?, false)?;
                    r.raw_r.push(secs(t.elapsed()));
                    fs::remove_file(&path)?;
                    (w, rd, cold)
                }
            };
            let mib = o.blob_mib as f64;
            eprintln!(
                "  blob round {} {:<9} write {:>7.1} MiB/s  read {:>7.1} MiB/s  cold read {}",
                round + 1,
                format!("{kind:?}").to_lowercase(),
                mib / w,
                mib / rd,
                cold.map(|c| format!("{:>7.1} MiB/s", mib / c))
                    .unwrap_or_else(|| "n/a".into())
            );
            match kind {
                Kind::Encrypted => {
                    r.enc_w.push(w);
                    r.enc_r.push(rd);
                    r.enc_rc.extend(cold);
                }
                Kind::Baseline => {
                    r.base_w.push(w);
                    r.base_r.push(rd);
                    r.base_rc.extend(cold);
                }
            }
        }
    }
    r.peak_kb = proc_status_kb("VmHWM");
    for _ in 0..o.rounds {
        r.floor.push(crypto_floor(o.blob_mib.min(64)));
    }
    Ok(r)
}

/// Drops one (synced) file's pages from the page cache, so that the next read comes from the
/// disk. Per file, unprivileged, harmless to the rest of the machine. Linux only.
fn evict(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        let Ok(f) = File::open(path) else {
            return false;
        };
        if f.sync_all().is_err() {
            return false;
        }
        // SAFETY: a valid open descriptor; offset 0, length 0 = the whole file.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// In-memory throughput (MiB/s) of the store's primitives over `mib` MiB in 64 KiB chunks:
/// XChaCha20-Poly1305 seal, SHA-256, and a plain copy. The floor any encrypted blob path pays.
fn crypto_floor(mib: u64) -> (f64, f64, f64) {
    use chacha20poly1305::aead::{AeadInPlace, KeyInit};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    use sha2::{Digest, Sha256};
    use std::hint::black_box;

    let chunks = (mib * 16).max(16);
    let total = chunks as f64 / 16.0;
    let mut src = vec![0u8; BUF];
    gen::read_full(&mut NoiseReader::new(1, BUF as u64), &mut src).expect("noise");
    let cipher = XChaCha20Poly1305::new(&[7u8; 32].into());
    let mut buf = Vec::with_capacity(BUF + 16);
    let t = Instant::now();
    for i in 0..chunks {
        buf.clear();
        buf.extend_from_slice(&src);
        let mut n = [0u8; 24];
        n[16..24].copy_from_slice(&i.to_be_bytes());
        cipher
            .encrypt_in_place(XNonce::from_slice(&n), b"aad", &mut buf)
            .expect("seal");
        black_box(&buf);
    }
    let aead = total / secs(t.elapsed());
    let t = Instant::now();
    let mut h = Sha256::new();
    for _ in 0..chunks {
        h.update(black_box(&src));
    }
    black_box(h.finalize());
    let sha = total / secs(t.elapsed());
    let mut dst = vec![0u8; BUF];
    let t = Instant::now();
    for _ in 0..chunks {
        dst.copy_from_slice(black_box(&src));
        black_box(&dst);
    }
    let copy = total / secs(t.elapsed());
    (aead, sha, copy)
}

// ---------------------------------------------------------------------------------------------
// Machine

fn proc_status_kb(field: &str) -> Option<u64> {
    let s = fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the blob peak is the blob runs' own.
fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// 1-minute load average, "n/a" off Linux.
fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "n/a".into())
}

/// Machine description: (label, value) lines.
pub fn machine() -> Vec<(&'static str, String)> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into());
    let os_name = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!(", kernel {}", s.trim()))
        .unwrap_or_default();
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "n/a".into());
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    vec![
        ("date", date),
        ("cpus (available)", cpus),
        ("cpu model", cpu),
        ("memory", mem),
        (
            "os",
            format!("{os_name}{kernel} ({})", std::env::consts::ARCH),
        ),
        ("temp dir", std::env::temp_dir().display().to_string()),
        (
            "build",
            if cfg!(debug_assertions) {
                "debug (figures not representative)".into()
            } else {
                "release".into()
            },
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Report

struct Row {
    what: String,
    target: String,
    measured: String,
    pass: Option<bool>,
}

fn verdict(p: Option<bool>) -> &'static str {
    match p {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "info",
    }
}

fn print_table(rows: &[Row]) {
    let w0 = rows
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let w1 = rows
        .iter()
        .map(|r| r.target.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let w2 = rows
        .iter()
        .map(|r| r.measured.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    println!(
        "| {:<w0$} | {:<w1$} | {:<w2$} | result |",
        "figure", "target", "measured"
    );
    println!(
        "|{}|{}|{}|--------|",
        "-".repeat(w0 + 2),
        "-".repeat(w1 + 2),
        "-".repeat(w2 + 2)
    );
    for r in rows {
        println!(
            "| {:<w0$} | {:<w1$} | {:<w2$} | {:<6} |",
            r.what,
            r.target,
            r.measured,
            verdict(r.pass)
        );
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn list(xs: &[f64], f: impl Fn(f64) -> String) -> String {
    xs.iter().map(|&x| f(x)).collect::<Vec<_>>().join(", ")
}

/// Runs the benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(o: &Opts) -> Res<()> {
    if o.records == 0 || o.rounds == 0 || o.opens == 0 || o.blob_mib == 0 {
        return Err("--records, --blob-mb, --rounds and --opens must be at least 1".into());
    }
    let started = Instant::now();
    let load_before = loadavg();
    let kdf = KdfParams::default();
    eprintln!(
        "vanthu store benchmark{}: {} records (batches of {BATCH}), {} MiB blob, {} rounds, {} opens",
        if o.quick { " (quick)" } else { "" },
        o.records,
        o.blob_mib,
        o.rounds,
        o.opens
    );
    let inputs = gen::records(o.records, 0x5641_4e54_4855, gen::today_vn());
    let avg_subject = inputs
        .iter()
        .map(|(_, i)| i.trich_yeu.as_deref().unwrap_or("").chars().count())
        .sum::<usize>() as f64
        / inputs.len() as f64;

    let reg = bench_registration(o, &inputs)?;
    let open = bench_open(o, &reg.last_enc.dir, &reg.last_base.dir)?;
    drop(reg.last_enc);
    drop(reg.last_base);
    drop(inputs);
    let blob = bench_blobs(o)?;
    let floor_aead = median(&blob.floor.iter().map(|f| f.0).collect::<Vec<_>>());
    let floor_sha = median(&blob.floor.iter().map(|f| f.1).collect::<Vec<_>>());
    let floor_copy = median(&blob.floor.iter().map(|f| f.2).collect::<Vec<_>>());

    // -- figures
    let n = o.records as f64;
    let reg_enc = median(&reg.enc);
    let reg_base = median(&reg.base);
    let reg_ratio = reg_enc / reg_base;
    let rate_enc = n / reg_enc;
    let rate_base = n / reg_base;
    let mib = o.blob_mib as f64;
    let (bw_enc, bw_base) = (median(&blob.enc_w), median(&blob.base_w));
    let (br_enc, br_base) = (median(&blob.enc_r), median(&blob.base_r));
    let cold = !blob.enc_rc.is_empty() && !blob.base_rc.is_empty();
    let (brc_enc, brc_base) = (median(&blob.enc_rc), median(&blob.base_rc));
    let open_enc = median(&open.enc_ms);
    let open_kdf = median(&open.kdf_ms);
    let open_base = median(&open.base_ms);

    let rows = vec![
        Row {
            what: "registration time, encrypted / baseline".into(),
            target: format!("≤ {TARGET_RATIO:.2}×"),
            measured: format!("{reg_ratio:.2}×"),
            pass: Some(reg_ratio <= TARGET_RATIO),
        },
        Row {
            what: "registration throughput, encrypted".into(),
            target: format!("≥ {} records/s", thousands(TARGET_RATE)),
            measured: format!("{} records/s", thousands(rate_enc)),
            pass: Some(rate_enc >= TARGET_RATE),
        },
        Row {
            what: "blob write time, encrypted / plain store".into(),
            target: format!("≤ {TARGET_RATIO:.2}×"),
            measured: format!("{:.2}×", bw_enc / bw_base),
            pass: Some(bw_enc / bw_base <= TARGET_RATIO),
        },
        Row {
            what: "blob read time, encrypted / plain store (page cache)".into(),
            target: format!("≤ {TARGET_RATIO:.2}×"),
            measured: format!("{:.2}×", br_enc / br_base),
            pass: Some(br_enc / br_base <= TARGET_RATIO),
        },
        Row {
            what: "blob read time, encrypted / plain store (from disk)".into(),
            target: format!("≤ {TARGET_RATIO:.2}×"),
            measured: if cold {
                format!("{:.2}×", brc_enc / brc_base)
            } else {
                "n/a (no page-cache eviction)".into()
            },
            pass: cold.then(|| brc_enc / brc_base <= TARGET_RATIO),
        },
        Row {
            what: "store open (Argon2id + SQLCipher + 1st query)".into(),
            target: format!("≤ {TARGET_OPEN_MS:.0} ms"),
            measured: format!("{open_enc:.1} ms"),
            pass: Some(open_enc <= TARGET_OPEN_MS),
        },
        Row {
            what: "registration throughput, baseline".into(),
            target: "—".into(),
            measured: format!("{} records/s", thousands(rate_base)),
            pass: None,
        },
        Row {
            what: "blob write, encrypted vs baseline".into(),
            target: "—".into(),
            measured: format!("{:.0} vs {:.0} MiB/s", mib / bw_enc, mib / bw_base),
            pass: None,
        },
        Row {
            what: "blob read (page cache), encrypted vs baseline".into(),
            target: "—".into(),
            measured: format!("{:.0} vs {:.0} MiB/s", mib / br_enc, mib / br_base),
            pass: None,
        },
        Row {
            what: "blob read (from disk), encrypted vs baseline".into(),
            target: "—".into(),
            measured: if cold {
                format!("{:.0} vs {:.0} MiB/s", mib / brc_enc, mib / brc_base)
            } else {
                "n/a".into()
            },
            pass: None,
        },
        Row {
            what: "blob write / read vs raw copy without hashing".into(),
            target: "—".into(),
            measured: format!(
                "{:.2}× / {:.2}×",
                bw_enc / median(&blob.raw_w),
                br_enc / median(&blob.raw_r)
            ),
            pass: None,
        },
        Row {
            what: "in-memory floor: XChaCha20-Poly1305 / SHA-256 / copy".into(),
            target: "—".into(),
            measured: format!("{floor_aead:.0} / {floor_sha:.0} / {floor_copy:.0} MiB/s"),
            pass: None,
        },
        Row {
            what: "store open: of which Argon2id unwrap".into(),
            target: "—".into(),
            measured: format!("{open_kdf:.1} ms"),
            pass: None,
        },
        Row {
            what: "store open, baseline (no key, no KDF)".into(),
            target: "—".into(),
            measured: format!("{open_base:.1} ms"),
            pass: None,
        },
        Row {
            what: format!(
                "peak RSS {} ({} MiB blobs)",
                if blob.peak_reset {
                    "during blob runs"
                } else {
                    "of the process"
                },
                o.blob_mib
            ),
            target: "streaming".into(),
            measured: match (blob.peak_kb, blob.rss_before_kb) {
                (Some(kb), Some(before)) => format!(
                    "{:.1} MiB, +{:.1} MiB over RSS before",
                    kb as f64 / 1024.0,
                    kb.saturating_sub(before) as f64 / 1024.0
                ),
                (Some(kb), None) => format!("{:.1} MiB", kb as f64 / 1024.0),
                _ => "n/a".into(),
            },
            pass: None,
        },
    ];

    println!();
    println!(
        "vanthu encrypted store benchmark{}",
        if o.quick {
            " — QUICK (smoke run, figures not meaningful)"
        } else {
            ""
        }
    );
    println!();
    for (k, v) in machine() {
        println!("  {k:<17} {v}");
    }
    println!(
        "  {:<17} {} at start, {} at end (other work on the machine skews the figures)",
        "load average",
        load_before,
        loadavg()
    );
    println!(
        "  {:<17} {} records/round in batches of {BATCH} ({:.0}-char subjects on average), \
         {} MiB blob, {} rounds (order alternating), median of each; {} opens",
        "workload", o.records, avg_subject, o.blob_mib, o.rounds, o.opens
    );
    println!(
        "  {:<17} Argon2id m={} KiB t={} p={}; SQLCipher raw key, WAL, synchronous=FULL; \
         blob chunks 64 KiB XChaCha20-Poly1305 + SHA-256",
        "settings", kdf.m_kib, kdf.t, kdf.p
    );
    println!();
    print_table(&rows);
    println!();
    println!("per round (seconds):");
    println!(
        "  registration encrypted: {}",
        list(&reg.enc, |x| format!("{x:.3}"))
    );
    println!(
        "  registration baseline:  {}",
        list(&reg.base, |x| format!("{x:.3}"))
    );
    println!(
        "  blob write encrypted:   {}",
        list(&blob.enc_w, |x| format!("{x:.3}"))
    );
    println!(
        "  blob write baseline:    {}",
        list(&blob.base_w, |x| format!("{x:.3}"))
    );
    println!(
        "  blob read encrypted:    {}",
        list(&blob.enc_r, |x| format!("{x:.3}"))
    );
    println!(
        "  blob read baseline:     {}",
        list(&blob.base_r, |x| format!("{x:.3}"))
    );
    println!(
        "  blob read enc. (disk):  {}",
        list(&blob.enc_rc, |x| format!("{x:.3}"))
    );
    println!(
        "  blob read base. (disk): {}",
        list(&blob.base_rc, |x| format!("{x:.3}"))
    );
    println!(
        "  store open encrypted (ms): {}",
        list(&open.enc_ms, |x| format!("{x:.1}"))
    );
    println!(
        "  store open baseline (ms):  {}",
        list(&open.base_ms, |x| format!("{x:.1}"))
    );
    println!();
    println!(
        "total {:.1} s. Ratios are medians of encrypted time over medians of baseline time \
         (lower is better); MISS never fails the run.",
        secs(started.elapsed())
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_order() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(Kind::order(0), [Kind::Encrypted, Kind::Baseline]);
        assert_eq!(Kind::order(1), [Kind::Baseline, Kind::Encrypted]);
        assert_eq!(thousands(1234567.0), "1,234,567");
    }

    /// The whole benchmark on a tiny workload: proves it still runs end to end (records all
    /// accepted, blobs round-trip). No assertion on any time, by project rule.
    #[test]
    fn tiny_run_works() {
        run(&Opts {
            records: BATCH + 10,
            blob_mib: 1,
            rounds: 2,
            opens: 1,
            quick: true,
        })
        .unwrap();
    }
}
