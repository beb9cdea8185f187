use vanthu_store::{KdfParams, Passphrase, Store, StoreError};

use crate::*;

#[test]
fn init_then_open_keeps_agency_and_rows() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    s.write("clerk", |tx| {
        tx.insert_incoming(&row("a1", 1, "Về việc triển khai"))
    })
    .unwrap();
    drop(s);
    let s = open_store(d.path());
    assert_eq!(s.agency().unwrap(), agency());
    let rows = s.list_incoming(Some(2026)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].trich_yeu, "Về việc triển khai");
    assert!(s.list_incoming(Some(2025)).unwrap().is_empty());
}

#[test]
fn sqlcipher_is_linked_and_pages_check_out() {
    let d = tempfile::tempdir().unwrap();
    let s = new_store(d.path());
    let v: String = s
        .raw_connection()
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .unwrap();
    assert!(v.starts_with('4'), "cipher_version {v}");
    assert!(s.integrity_check().unwrap().is_empty());
}

#[test]
fn init_refuses_existing_store() {
    let d = tempfile::tempdir().unwrap();
    drop(new_store(d.path()));
    let e = Store::init(d.path(), &Passphrase::new("x"), &agency(), fast_kdf())
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::AlreadyExists(_)), "{e}");
    // and the original still opens
    open_store(d.path());
}

#[test]
fn wrong_passphrase_fails_cleanly_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    s.write("clerk", |tx| {
        tx.insert_incoming(&row("a1", 1, "Kế hoạch năm"))
    })
    .unwrap();
    drop(s);
    let before = all_files(d.path());
    let e = Store::open(d.path(), &Passphrase::new("sai"))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::WrongPassphrase), "{e}");
    assert!(e.to_string().contains("Sai mật khẩu"));
    let after = all_files(d.path());
    assert_eq!(before, after);
}

#[test]
fn missing_store_and_corrupt_database_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let e = Store::open(d.path(), &Passphrase::new("x")).err().unwrap();
    assert!(matches!(e, StoreError::NoStore(_)), "{e}");

    drop(new_store(d.path()));
    let db = d.path().join("vanthu.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(4096).skip(16) {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let _ = std::fs::remove_file(d.path().join("vanthu.db-wal"));
    let e = Store::open(d.path(), &Passphrase::new("mật khẩu đúng"))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::CorruptDatabase(_)), "{e}");

    std::fs::write(d.path().join("vanthu.keys"), b"{not json").unwrap();
    let e = Store::open(d.path(), &Passphrase::new("mật khẩu đúng"))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::CorruptKeyFile(_)), "{e}");
}

#[test]
fn passphrase_change_rewraps_without_touching_data() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    let blob = s.blobs().put(&mut &b"noi dung tep"[..]).unwrap();
    s.write("clerk", |tx| {
        tx.insert_incoming(&row("a1", 1, "Báo cáo"))?;
        tx.attach_file("a1", "bc.pdf", Some("application/pdf"), &blob)
    })
    .unwrap();
    drop(s);
    let data_before: Vec<_> = all_files(d.path())
        .into_iter()
        .filter(|(p, _)| p.extension().map(|e| e == "vtb").unwrap_or(false))
        .collect();
    Store::change_passphrase(
        d.path(),
        &Passphrase::new("mật khẩu đúng"),
        &Passphrase::new("mật khẩu mới"),
        KdfParams::default(),
    )
    .unwrap();
    assert!(matches!(
        Store::open(d.path(), &Passphrase::new("mật khẩu đúng"))
            .err()
            .unwrap(),
        StoreError::WrongPassphrase
    ));
    let s = Store::open(d.path(), &Passphrase::new("mật khẩu mới")).unwrap();
    assert_eq!(s.list_incoming(None).unwrap().len(), 1);
    let data_after: Vec<_> = all_files(d.path())
        .into_iter()
        .filter(|(p, _)| p.extension().map(|e| e == "vtb").unwrap_or(false))
        .collect();
    assert_eq!(data_before, data_after, "blobs must not be re-encrypted");
    // wrong old passphrase: refused, key file unchanged
    let kf = std::fs::read(d.path().join("vanthu.keys")).unwrap();
    assert!(Store::change_passphrase(
        d.path(),
        &Passphrase::new("đoán bừa"),
        &Passphrase::new("x"),
        fast_kdf()
    )
    .is_err());
    assert_eq!(kf, std::fs::read(d.path().join("vanthu.keys")).unwrap());
}

#[test]
fn numbering_is_unique_across_concurrent_handles() {
    let d = tempfile::tempdir().unwrap();
    drop(new_store(d.path()));
    let path = d.path().to_path_buf();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = open_store(&path);
                let mut got = Vec::new();
                for i in 0..50 {
                    let n = s
                        .write("clerk", |tx| {
                            let n = tx.allocate("den", 2026)?;
                            tx.insert_incoming(&row(&format!("t{t}-{i}"), n, "song song"))?;
                            Ok::<_, StoreError>(n)
                        })
                        .unwrap();
                    got.push(n);
                }
                got
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, (1..=200).collect::<Vec<_>>());
    assert!(open_store(&path).verify_audit().unwrap().ok());
}

#[test]
fn failed_transaction_leaves_no_trace_and_no_gap() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    let r: Result<(), StoreError> = s.write("clerk", |tx| {
        tx.allocate("den", 2026)?;
        Err(StoreError::NotFound("giả lập lỗi".into()))
    });
    assert!(r.is_err());
    let n = s.write("clerk", |tx| tx.allocate("den", 2026)).unwrap();
    assert_eq!(n, 1, "a rolled-back allocation is not consumed");
    assert!(s.verify_audit().unwrap().ok());
}

#[test]
fn garbage_collection_removes_orphan_blobs_only() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    let kept = s.blobs().put(&mut &b"giu lai"[..]).unwrap();
    let orphan = s.blobs().put(&mut &b"mo coi"[..]).unwrap();
    s.write("clerk", |tx| {
        tx.insert_incoming(&row("a1", 1, "x"))?;
        tx.attach_file("a1", "a.txt", None, &kept)
    })
    .unwrap();
    assert_eq!(s.collect_garbage(std::time::Duration::ZERO).unwrap(), 1);
    assert!(s.blobs().open_blob(&kept.id).is_ok());
    assert!(s.blobs().open_blob(&orphan.id).is_err());
}

/// The same Vietnamese passphrase typed precomposed (NFC) or with combining marks (NFD), as
/// keyboards differ (Unikey's two Unicode settings): either form opens a store set up with the
/// other, and changing the passphrase keeps that true; a different passphrase still fails.
#[test]
fn passphrase_opens_in_either_unicode_form() {
    use unicode_normalization::UnicodeNormalization;
    let typed = "mật khẩu của văn thư";
    let (nfc, nfd): (String, String) = (typed.nfc().collect(), typed.nfd().collect());
    assert_ne!(nfc, nfd);
    let d = tempfile::tempdir().unwrap();
    drop(
        Store::init(
            d.path(),
            &Passphrase::new(nfd.clone()),
            &agency(),
            fast_kdf(),
        )
        .unwrap(),
    );
    drop(Store::open(d.path(), &Passphrase::new(nfc.clone())).unwrap());
    drop(Store::open(d.path(), &Passphrase::new(nfd.clone())).unwrap());
    Store::change_passphrase(
        d.path(),
        &Passphrase::new(nfc.clone()),
        &Passphrase::new("khóa mới".nfd().collect::<String>()),
        fast_kdf(),
    )
    .unwrap();
    drop(
        Store::open(
            d.path(),
            &Passphrase::new("khóa mới".nfc().collect::<String>()),
        )
        .unwrap(),
    );
    let e = Store::open(d.path(), &Passphrase::new(nfc)).err().unwrap();
    assert!(matches!(e, StoreError::WrongPassphrase), "{e}");
}

/// Files attached in one transaction share its time; they come back in the order they were
/// attached (a file's position is what `--file N` picks), whatever their random ids.
#[test]
fn files_come_back_in_the_order_they_were_attached() {
    let d = tempfile::tempdir().unwrap();
    let mut s = new_store(d.path());
    let names: Vec<String> = (1..=12).map(|i| format!("tệp {i:02}.pdf")).collect();
    let blobs: Vec<_> = names
        .iter()
        .map(|n| s.blobs().put(&mut n.as_bytes()).unwrap())
        .collect();
    s.write("clerk", |tx| {
        tx.insert_incoming(&row("a1", 1, "Nhiều tệp"))?;
        // Reverse alphabetical order, so neither the name nor the time sorts them.
        for (n, b) in names.iter().zip(&blobs).rev() {
            tx.attach_file("a1", n, None, b)?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let got: Vec<String> = s
        .files_of("a1")
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    let want: Vec<String> = names.iter().rev().cloned().collect();
    assert_eq!(got, want);
}
