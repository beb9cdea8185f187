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

fn make_input(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut s = String::new();
    for i in 1..=n {
        let files = if i % 7 == 0 {
            let name = format!("scan-{i}.pdf");
            let body: Vec<u8> = (0..(40_000 + i * 13))
                .map(|k| ((k * 7 + i) % 253) as u8)
                .collect();
            std::fs::write(dir.join(&name), body).unwrap();
            format!(r#","files":["{name}"]"#)
        } else {
            String::new()
        };
        s.push_str(&format!(
            r#"{{"so_ky_hieu":"{i}/QĐ-UBND","tac_gia":"Ủy ban nhân dân tỉnh Hòa Bình","ngay_van_ban":"2026-11-20","trich_yeu":"Quyết định số {i} về việc kiện toàn Ban chỉ đạo chuyển đổi số","loai":"QĐ"{files}}}"#
        ));
        s.push('\n');
    }
    let p = dir.join("bulk.jsonl");
    std::fs::write(&p, s).unwrap();
    p
}

/// Runs one import; kills it after `kill_after` if given. Returns the acknowledged lines.
fn run_import(data: &Path, input: &Path, kill_after: Option<Duration>) -> Vec<(usize, Ack)> {
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
            }
        }
        acks
    });
    if let Some(d) = kill_after {
        std::thread::sleep(d);
        let _ = child.kill(); // SIGKILL on Unix, TerminateProcess on Windows
    }
    let _ = child.wait();
    reader.join().unwrap()
}

fn open(data: &Path) -> App {
    App::open(data, &Passphrase::new(PASS)).expect("store opens after a crash")
}

fn check_acked(app: &App, acked: &BTreeMap<usize, Ack>) {
    for (line, a) in acked {
        let row = app
            .store()
            .get_incoming(&a.id)
            .unwrap_or_else(|e| panic!("acknowledged line {line} lost: {e}"));
        assert_eq!(row.so_den, a.so_den, "line {line}");
        assert_eq!(
            row.so_ky_hieu.as_deref(),
            Some(format!("{line}/QĐ-UBND").as_str())
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
    let records = 2500;
    let input = make_input(d.path(), records);

    let mut acked: BTreeMap<usize, Ack> = BTreeMap::new();
    let mut kills_with_progress = 0;
    for it in 0..iterations {
        let delay = Duration::from_millis(rng.gen_range(0..160));
        let got = run_import(&data, &input, Some(delay));
        if !got.is_empty() {
            kills_with_progress += 1;
        }
        for (line, a) in got {
            let prev = acked.insert(line, a);
            assert!(prev.is_none(), "line {line} acknowledged twice");
        }
        // After every kill: the store opens and every acknowledged document is there.
        let app = open(&data);
        if it % 40 == 39 {
            check_acked(&app, &acked);
            check_full(&app);
        }
    }
    eprintln!(
        "crash test: {} of {records} records acknowledged across {kills_with_progress} interrupted imports",
        acked.len()
    );
    assert!(
        kills_with_progress > iterations / 10,
        "kills landed mid-import ({kills_with_progress})"
    );

    // Finish the import without interruption: it registers only what was never acknowledged.
    let rest = run_import(&data, &input, None);
    for (line, a) in rest {
        assert!(acked.insert(line, a).is_none(), "line acknowledged twice");
    }
    let app = open(&data);
    check_acked(&app, &acked);
    check_full(&app);
    let rows = app.list_incoming(None).unwrap();
    assert_eq!(rows.len(), records, "every record registered exactly once");
    assert_eq!(acked.len(), records);

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
