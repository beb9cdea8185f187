use std::io::Read;

use proptest::prelude::*;
use vanthu_store::blob::DEFAULT_CHUNK;
use vanthu_store::StoreError;

use crate::*;

fn read_all(s: &vanthu_store::Store, id: &str) -> std::io::Result<Vec<u8>> {
    let mut r = s.blobs().open_blob(id).map_err(std::io::Error::other)?;
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn round_trip_at_chunk_edges() {
    let d = tempfile::tempdir().unwrap();
    let s = new_store(d.path());
    for n in [
        0,
        1,
        DEFAULT_CHUNK - 1,
        DEFAULT_CHUNK,
        DEFAULT_CHUNK + 1,
        3 * DEFAULT_CHUNK,
    ] {
        let data = pattern(n);
        let info = s.blobs().put(&mut &data[..]).unwrap();
        assert_eq!(info.size, n as u64);
        assert_eq!(read_all(&s, &info.id).unwrap(), data, "size {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn round_trip_any_content(data in proptest::collection::vec(any::<u8>(), 0..200_000)) {
        let d = tempfile::tempdir().unwrap();
        let s = new_store(d.path());
        let info = s.blobs().put(&mut &data[..]).unwrap();
        prop_assert_eq!(read_all(&s, &info.id).unwrap(), data);
    }
}

fn blob_path(dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    dir.join("blobs").join(&id[..2]).join(format!("{id}.vtb"))
}

#[test]
fn tampering_is_detected_never_returned() {
    let d = tempfile::tempdir().unwrap();
    let s = new_store(d.path());
    let data = pattern(2 * DEFAULT_CHUNK + 100);
    let info = s.blobs().put(&mut &data[..]).unwrap();
    let p = blob_path(d.path(), &info.id);
    let orig = std::fs::read(&p).unwrap();

    // a flipped byte in each chunk
    for off in [40, DEFAULT_CHUNK + 100, orig.len() - 5] {
        let mut b = orig.clone();
        b[off] ^= 1;
        std::fs::write(&p, &b).unwrap();
        let e = read_all(&s, &info.id).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "offset {off}");
    }
    // truncation exactly at a chunk boundary (drops the final chunk)
    let cut = 28 + 2 * (DEFAULT_CHUNK + 16);
    std::fs::write(&p, &orig[..cut]).unwrap();
    assert!(read_all(&s, &info.id).is_err());
    // appended garbage
    let mut b = orig.clone();
    b.extend_from_slice(b"extra");
    std::fs::write(&p, &b).unwrap();
    assert!(read_all(&s, &info.id).is_err());
    // restored file reads again
    std::fs::write(&p, &orig).unwrap();
    assert_eq!(read_all(&s, &info.id).unwrap(), data);
}

#[test]
fn swapping_blob_files_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let s = new_store(d.path());
    let a = s.blobs().put(&mut &b"van ban A"[..]).unwrap();
    let b = s.blobs().put(&mut &b"van ban B"[..]).unwrap();
    let pa = blob_path(d.path(), &a.id);
    let pb = blob_path(d.path(), &b.id);
    let ba = std::fs::read(&pa).unwrap();
    std::fs::write(&pa, std::fs::read(&pb).unwrap()).unwrap();
    std::fs::write(&pb, ba).unwrap();
    assert!(read_all(&s, &a.id).is_err());
    assert!(read_all(&s, &b.id).is_err());
}

#[test]
fn a_blob_from_another_store_does_not_open() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let s1 = new_store(d1.path());
    let s2 = new_store(d2.path());
    let a = s1.blobs().put(&mut &b"bi mat"[..]).unwrap();
    let dest = blob_path(d2.path(), &a.id);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(blob_path(d1.path(), &a.id), &dest).unwrap();
    assert!(read_all(&s2, &a.id).is_err());
}

#[test]
fn unfinished_writes_leave_nothing_under_a_real_name() {
    let d = tempfile::tempdir().unwrap();
    let s = new_store(d.path());
    {
        let mut w = s.blobs().create().unwrap();
        std::io::Write::write_all(&mut w, &pattern(100_000)).unwrap();
        // dropped without finish
    }
    assert!(s.blobs().list().unwrap().is_empty());
    assert!(matches!(
        s.blobs()
            .open_blob("00000000000000000000000000000000")
            .err()
            .unwrap(),
        StoreError::BlobMissing(_)
    ));
}
