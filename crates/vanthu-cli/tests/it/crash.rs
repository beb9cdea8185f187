//! Crash safety: the import is killed with SIGKILL at random points, hundreds of times.
//! Afterwards the store opens, every acknowledged document is intact with the number it was
//! acknowledged with, numbering has no duplicates and no gaps, every file decrypts to its
//! recorded hash and the audit chain verifies. A final clean run then registers exactly the
//! records that were never acknowledged: nothing is lost and nothing is registered twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use vanthu_app::App;
use vanthu_store::Passphrase;

use crate::*;

struct Ack {
    id: String,
    so_den: u64,
}

/// Writes chunk `c` of the workload: `n` records with notations unique to the chunk; every 7th
/// record carries one of a few scan files (shared, so the test's own disk use stays small).
fn make_chunk(dir: &Path, c: usize, n: usize) -> std::path::PathBuf {
    for k in 0..3 {
        let name = dir.join(format!("scan-{k}.pdf"));
        if !name.exists() {
            let body: Vec<u8> = (0..(60_000 + k * 7_000))
                .map(|i| ((i * 7 + k) % 253) as u8)
                .collect();
            std::fs::write(name, body).unwrap();
        }
    }
    let mut s = String::new();
    for i in 1..=n {
        let files = if i % 7 == 0 {
            format!(r#","files":["scan-{}.pdf"]"#, i % 3)
        } else {
            String::new()
        };
        s.push_str(&format!(
            r#"{{"so_ky_hieu":"{c}.{i}/QĐ-UBND","tac_gia":"Ủy ban nhân dân tỉnh Hòa Bình","ngay_van_ban":"2026-11-20","trich_yeu":"Quyết định số {c}.{i} về việc kiện toàn Ban chỉ đạo chuyển đổi số","loai":"QĐ"{files}}}"#
        ));
        s.push('\n');
    }
    let p = dir.join(format!("chunk-{c}.jsonl"));
    std::fs::write(&p, s).unwrap();
    p
}

/// Runs one import; kills it after `kill_after` if given. Returns the acknowledged lines and
/// when the last of them came (the import goes on after it, updating the search index).
fn run_import(
    data: &Path,
    input: &Path,
    kill_after: Option<Duration>,
) -> (Vec<(usize, Ack)>, Option<Duration>) {
    let started = std::time::Instant::now();
    let mut child = vanthu(data)
        .args(["--json", "incoming", "import", "--batch", "16", "--jsonl"])
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut last = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // A line cut short by the kill is not an acknowledgement.
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["ok"] == true {
                acks.push((
                    v["line"].as_u64().unwrap() as usize,
                    Ack {
                        id: v["id"].as_str().unwrap().to_string(),
                        so_den: v["so_den"].as_u64().unwrap(),
                    },
                ));
                last = Some(started.elapsed());
            }
        }
        (acks, last)
    });
    if let Some(d) = kill_after {
        let deadline = started + d;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                let _ = child.kill(); // SIGKILL on Unix, TerminateProcess on Windows
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
        }
    }
    let _ = child.wait();
    reader.join().unwrap()
}

fn open(data: &Path) -> App {
    App::open(data, &Passphrase::new(PASS)).expect("store opens after a crash")
}

fn check_acked(app: &App, acked: &BTreeMap<(usize, usize), Ack>) {
    for ((chunk, line), a) in acked {
        let row = app
            .store()
            .get_incoming(&a.id)
            .unwrap_or_else(|e| panic!("acknowledged record {chunk}.{line} lost: {e}"));
        assert_eq!(row.so_den, a.so_den, "record {chunk}.{line}");
        assert_eq!(
            row.so_ky_hieu.as_deref(),
            Some(format!("{chunk}.{line}/QĐ-UBND").as_str())
        );
    }
}

fn check_full(app: &App) {
    let rows = app.list_incoming(None).unwrap();
    let nums: Vec<u64> = rows.iter().map(|r| r.so_den).collect();
    assert_eq!(
        nums,
        (1..=rows.len() as u64).collect::<Vec<_>>(),
        "numbers unique, no gaps"
    );
    let notations: HashSet<_> = rows.iter().map(|r| r.so_ky_hieu.clone()).collect();
    assert_eq!(notations.len(), rows.len(), "no document registered twice");
    for r in &rows {
        for f in app.store().files_of(&r.id).unwrap() {
            let mut rd = app.store().blobs().open_blob(&f.blob_id).unwrap();
            let mut v = Vec::new();
            rd.read_to_end(&mut v).unwrap();
            assert_eq!(v.len() as u64, f.size);
            use sha2::Digest;
            assert_eq!(hex::encode(sha2::Sha256::digest(&v)), f.sha256);
        }
    }
    let rep = app.verify_audit().unwrap();
    assert!(rep.ok(), "audit chain: {rep:?}");
}

#[test]
fn sigkill_during_bulk_registration_loses_nothing_acknowledged() {
    let iterations: usize = std::env::var("VANTHU_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("VANTHU_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test: {iterations} kills, VANTHU_CRASH_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    const CHUNK: usize = 150;

    // Calibrate: how long does one uninterrupted import of a chunk take on this machine now?
    // Kills are then spread over that span, so they land at every stage of the work
    // (start-up, key unwrap, parsing, blob writes, inside transactions, at commits).
    let mut acked: BTreeMap<(usize, usize), Ack> = BTreeMap::new();
    let calib = make_chunk(d.path(), 0, CHUNK);
    let (got, took) = run_import(&data, &calib, None);
    for (line, a) in got {
        acked.insert((0, line), a);
    }
    // The span adapts: the machine may be busier during calibration than later (other tests
    // run beside this one), so an import that acknowledges everything before its kill
    // shortens the span to the time its last acknowledgement took.
    let mut span = took.unwrap().as_millis().max(20) as u64;
    eprintln!("crash test: an uninterrupted import of {CHUNK} records takes {span} ms");
    assert_eq!(acked.len(), CHUNK);

    let mut with_progress = 0;
    let mut interrupted = 0;
    let mut chunks = vec![calib];
    for it in 1..=iterations {
        let input = make_chunk(d.path(), it, CHUNK);
        chunks.push(input.clone());
        let delay = Duration::from_millis(rng.gen_range(0..=span));
        let (got, last_ack) = run_import(&data, &input, Some(delay));
        if let (CHUNK, Some(took)) = (got.len(), last_ack) {
            span = (took.as_millis() as u64).clamp(20, span);
        }
        if !got.is_empty() {
            with_progress += 1;
        }
        if got.len() < CHUNK {
            interrupted += 1;
        }
        for (line, a) in got {
            let prev = acked.insert((it, line), a);
            assert!(prev.is_none(), "record {it}.{line} acknowledged twice");
        }
        // After every kill: the store opens.
        let app = open(&data);
        if it % 40 == 0 {
            check_acked(&app, &acked);
            check_full(&app);
        }
    }
    eprintln!(
        "crash test: {} records acknowledged; {interrupted} of {iterations} imports interrupted, {with_progress} after some progress",
        acked.len()
    );
    assert!(
        interrupted >= iterations / 2,
        "most kills must interrupt work ({interrupted})"
    );
    assert!(
        with_progress >= iterations / 10,
        "kills must land mid-import ({with_progress})"
    );

    // Finish every chunk without interruption: only what was never acknowledged is registered
    // now (the rest is recognised as already registered), so each record ends up exactly once.
    for (c, input) in chunks.iter().enumerate() {
        for (line, a) in run_import(&data, input, None).0 {
            assert!(
                acked.insert((c, line), a).is_none(),
                "record {c}.{line} registered twice"
            );
        }
    }
    let app = open(&data);
    check_acked(&app, &acked);
    check_full(&app);
    let rows = app.list_incoming(None).unwrap();
    let total = (iterations + 1) * CHUNK;
    assert_eq!(rows.len(), total, "every record registered exactly once");
    // A record may have committed just before the kill, its acknowledgement never printed: it
    // is then recognised as already registered by the final run, not registered again.
    assert!(acked.len() <= total);
    let expected: HashSet<String> = (0..=iterations)
        .flat_map(|c| (1..=CHUNK).map(move |i| format!("{c}.{i}/QĐ-UBND")))
        .collect();
    let have: HashSet<String> = rows.iter().filter_map(|r| r.so_ky_hieu.clone()).collect();
    assert_eq!(have, expected);

    // The search index, interrupted by the same kills, catches up and holds every document
    // exactly once (no stale lock, no lost or doubled entry).
    let mut app = app;
    let q = vanthu_search::SearchQuery {
        text: "kiện toàn ban chỉ đạo".into(),
        limit: total + 10,
        ..Default::default()
    };
    let hits = app.search(&q).unwrap();
    assert_eq!(hits.len(), total, "search index after the kills");
    let distinct: HashSet<_> = hits.iter().map(|h| h.id.clone()).collect();
    assert_eq!(distinct.len(), total);

    // Orphan blobs of killed writes are collected without touching a referenced one.
    let referenced: HashMap<String, ()> = rows
        .iter()
        .flat_map(|r| app.store().files_of(&r.id).unwrap())
        .map(|f| (f.blob_id, ()))
        .collect();
    app.store().collect_garbage(Duration::ZERO).unwrap();
    let left = app.store().blobs().list().unwrap();
    assert_eq!(left.len(), referenced.len());
    check_full(&app);
}
