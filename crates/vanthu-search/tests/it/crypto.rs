//! Encryption at rest: marker scans, tampering, wrong key, reopen.

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use vanthu_search::{Clearance, Error, SearchIndex, SearchQuery, Viewer};

use crate::common::{doc, seed_docs, KEY};

/// A unique word with diacritics, and its lower-case and folded forms.
const MARKER: &str = "Zqxvjwkpđặcbiệtmarker";
const MARKER_LOWER: &str = "zqxvjwkpđặcbiệtmarker";
const MARKER_FOLDED: &str = "zqxvjwkpdacbietmarker";
/// A prefix found in no other text, so LZ4 must store it literally in a plain index.
const MARKER_HEAD: &str = "Zqxvjwkp";

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| contains(&std::fs::read(p).unwrap(), needle))
        .collect()
}

fn marker_docs() -> Vec<vanthu_search::IndexDoc> {
    let mut docs = seed_docs();
    let mut m = doc(
        "marker",
        &format!("Văn bản {MARKER}"),
        &format!("Nội dung có từ {MARKER} ở giữa."),
    );
    m.notation = Some(format!("{MARKER}/UBND"));
    m.issuer_name = Some(format!("Sở {MARKER}"));
    m.secrecy = "toi-mat".into();
    docs.push(m);
    docs
}

fn search_all(idx: &SearchIndex, text: &str) -> vanthu_search::Result<Vec<vanthu_search::Hit>> {
    idx.search(&SearchQuery {
        viewer: Viewer {
            clearance: Clearance::TuyetMat,
        },
        limit: 1000,
        ..SearchQuery::text(text)
    })
}

#[test]
fn marker_never_reaches_disk_encrypted() {
    let dir = TempDir::new().unwrap();
    let mut idx = SearchIndex::open(dir.path(), KEY).unwrap();
    idx.index_documents(marker_docs()).unwrap();
    idx.commit().unwrap();
    assert_eq!(search_all(&idx, MARKER_FOLDED).unwrap().len(), 1);
    for needle in [
        MARKER,
        MARKER_LOWER,
        MARKER_FOLDED,
        MARKER_HEAD,
        "zqxvjwkp",
        "chính quyền",
    ] {
        assert_eq!(
            files_containing(dir.path(), needle),
            Vec::<PathBuf>::new(),
            "{needle}"
        );
    }
    drop(idx);
    for needle in [MARKER, MARKER_LOWER, MARKER_FOLDED] {
        assert!(
            files_containing(dir.path(), needle).is_empty(),
            "{needle} after close"
        );
    }
}

#[test]
fn marker_scan_detects_plain_index() {
    // Positive control: the same scan does find the marker in an unencrypted index.
    let dir = TempDir::new().unwrap();
    let mut idx = SearchIndex::open_plain(dir.path()).unwrap();
    idx.index_documents(marker_docs()).unwrap();
    idx.commit().unwrap();
    drop(idx);
    // The stored text carries the original word; the term dictionary (an FST) does not hold
    // terms as contiguous bytes, so the stored field is what this control can see.
    // (LZ4 back-references the parts of the word found elsewhere, so scan the unique head.)
    assert!(!files_containing(dir.path(), MARKER_HEAD).is_empty());
}

fn build_encrypted() -> TempDir {
    let dir = TempDir::new().unwrap();
    let mut idx = SearchIndex::open(dir.path(), KEY).unwrap();
    idx.index_documents(seed_docs()).unwrap();
    idx.commit().unwrap();
    drop(idx);
    dir
}

#[test]
fn reopen_after_commit_finds_documents() {
    let dir = build_encrypted();
    let idx = SearchIndex::open(dir.path(), KEY).unwrap();
    assert!(idx.num_docs() > 20);
    assert!(!search_all(&idx, "chuyen doi so").unwrap().is_empty());

    let plain = TempDir::new().unwrap();
    let mut p = SearchIndex::open_plain(plain.path()).unwrap();
    p.index_documents(seed_docs()).unwrap();
    p.commit().unwrap();
    drop(p);
    let p = SearchIndex::open_plain(plain.path()).unwrap();
    assert!(!search_all(&p, "chuyển đổi số").unwrap().is_empty());
}

#[test]
fn wrong_key_is_an_error() {
    let dir = build_encrypted();
    let mut other = KEY;
    other[0] ^= 1;
    match SearchIndex::open(dir.path(), other) {
        Err(Error::Decrypt { file }) => assert!(!file.as_os_str().is_empty()),
        other => panic!("expected Decrypt, got {other:?}"),
    }
    // The message is Vietnamese first.
    let msg = SearchIndex::open(dir.path(), other)
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("Không giải mã được"), "{msg}");
    // The right key still works afterwards.
    assert!(SearchIndex::open(dir.path(), KEY).is_ok());
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn flipped_byte_in_any_file_is_an_error() {
    let dir = build_encrypted();
    let names: Vec<PathBuf> = files(dir.path())
        .into_iter()
        .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    assert!(
        names.len() >= 5,
        "meta, managed and segment files: {names:?}"
    );
    for original in names {
        let name = original.file_name().unwrap().to_owned();
        for pos in [0usize, 10, 40, usize::MAX] {
            let copy = TempDir::new().unwrap();
            copy_dir(dir.path(), copy.path());
            let target = copy.path().join(&name);
            let mut bytes = std::fs::read(&target).unwrap();
            let i = pos.min(bytes.len() - 1);
            bytes[i] ^= 0x20;
            std::fs::write(&target, &bytes).unwrap();
            let outcome = std::panic::catch_unwind(|| {
                SearchIndex::open(copy.path(), KEY).and_then(|idx| search_all(&idx, "điện tử"))
            });
            match outcome {
                Ok(Err(Error::Decrypt { file })) => {
                    assert_eq!(
                        file.as_os_str(),
                        name.as_os_str(),
                        "the damaged file is named"
                    )
                }
                Ok(Err(e)) => panic!("{name:?}@{i}: not reported as Decrypt: {e}"),
                Ok(Ok(h)) => panic!("{name:?}@{i}: tampering undetected ({} hits)", h.len()),
                Err(_) => panic!("{name:?}@{i}: panicked"),
            }
        }
    }
}

#[test]
fn truncated_and_swapped_files_are_errors() {
    let dir = build_encrypted();
    let mut segs: Vec<PathBuf> = files(dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "idx" || e == "term"))
        .collect();
    segs.sort();
    assert!(segs.len() >= 2);
    // Swap two files: the AAD (file name) no longer matches.
    let (a, b) = (
        std::fs::read(&segs[0]).unwrap(),
        std::fs::read(&segs[1]).unwrap(),
    );
    std::fs::write(&segs[0], &b).unwrap();
    std::fs::write(&segs[1], &a).unwrap();
    assert!(SearchIndex::open(dir.path(), KEY)
        .and_then(|i| search_all(&i, "x"))
        .is_err());
    // Truncate one.
    std::fs::write(&segs[0], &a[..10]).unwrap();
    assert!(SearchIndex::open(dir.path(), KEY)
        .and_then(|i| search_all(&i, "x"))
        .is_err());
}

fn dir_bytes(dir: &Path) -> u64 {
    files(dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn reindexing_keeps_folder_bounded() {
    let dir = TempDir::new().unwrap();
    let mut idx = SearchIndex::open(dir.path(), KEY).unwrap();
    idx.index_documents(seed_docs()).unwrap();
    idx.commit().unwrap();
    let first = dir_bytes(dir.path());
    for _ in 0..20 {
        idx.index_documents(seed_docs()).unwrap();
        idx.commit().unwrap();
    }
    idx.garbage_collect().unwrap();
    let n = seed_docs().len() as u64;
    assert_eq!(idx.num_docs(), n);
    drop(idx);
    let after = dir_bytes(dir.path());
    assert!(
        after < first * 6,
        "index folder grew from {first} to {after} bytes"
    );
    let idx = SearchIndex::open(dir.path(), KEY).unwrap();
    assert_eq!(idx.num_docs(), n);
}

#[test]
fn a_lock_file_left_by_a_killed_writer_does_not_block_the_next_one() {
    let dir = build_encrypted();
    // What a process killed while holding the writer lock leaves behind: the lock files.
    for name in [".tantivy-writer.lock", ".tantivy-meta.lock"] {
        std::fs::write(dir.path().join(name), b"").unwrap();
    }
    let mut idx = SearchIndex::open(dir.path(), KEY).unwrap();
    idx.index_documents(vec![doc(
        "sau-su-co",
        "Báo cáo sau sự cố mất điện",
        "Tình hình khắc phục sự cố mất điện",
    )])
    .unwrap();
    idx.commit().unwrap();
    let hits = search_all(&idx, "su co mat dien").unwrap();
    assert!(hits.iter().any(|h| h.id == "sau-su-co"));
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let dir = build_encrypted();
    let _first = SearchIndex::open(dir.path(), KEY).unwrap();
    match SearchIndex::open(dir.path(), KEY) {
        Err(_) => {}
        Ok(mut second) => {
            // if opening is lazy, the write must be refused instead
            let r = second
                .index_documents(vec![doc("x", "y", "z")])
                .and_then(|_| second.commit());
            assert!(r.is_err(), "two writers on one index");
        }
    }
}
