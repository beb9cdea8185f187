//! No plaintext of any document text, metadata or file on disk — while open and after close.

use crate::*;

const MARKERS: &[&str] = &[
    "ZQXMARKERSUBJECT",
    "Quyết định phê duyệt đề án chuyển đổi số ZQX",
    "ZQXFILECONTENT",
    "Sở Thông tin và Truyền thông ZQX",
];

fn assert_clean(dir: &std::path::Path) {
    let files = all_files(dir);
    assert!(!files.is_empty());
    for (p, bytes) in &files {
        for m in MARKERS {
            assert!(
                !contains(bytes, m.as_bytes()),
                "{m:?} found in {}",
                p.display()
            );
        }
        if p.file_name().unwrap() == "vanthu.db" {
            assert!(
                !bytes.starts_with(b"SQLite format 3\0"),
                "database header is plain"
            );
        }
    }
}

#[test]
fn nothing_readable_in_the_data_folder() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    let content = format!("{} {}", MARKERS[2], "nội dung tệp đính kèm").repeat(5000);
    let blob = s.blobs().put(&mut content.as_bytes()).unwrap();
    s.write("clerk", |tx| {
        let mut r = row("m1", 1, MARKERS[0]);
        r.ghi_chu = Some(MARKERS[1].into());
        r.tac_gia = MARKERS[3].into();
        tx.insert_incoming(&r)?;
        tx.attach_file("m1", "ZQXMARKERSUBJECT.pdf", None, &blob)
    })
    .unwrap();
    // while open: db, -wal and -shm all present
    assert!(d.path().join("vanthu.db-wal").exists());
    assert_clean(d.path());
    drop(s);
    assert_clean(d.path());
    // and the data really is there
    let s = open_store(d.path());
    assert_eq!(s.get_incoming("m1").unwrap().trich_yeu, MARKERS[0]);
}
