use vanthu_store::StoreError;

use crate::*;

fn populated(dir: &std::path::Path) -> vanthu_store::Store {
    let mut s = new_store(dir);
    for i in 1..=5 {
        s.write("clerk", |tx| {
            let n = tx.allocate("den", 2026)?;
            tx.insert_incoming(&row(&format!("d{i}"), n, &format!("Văn bản số {i}")))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
    s
}

#[test]
fn clean_chain_verifies() {
    let d = tempfile::tempdir().unwrap();
    let s = populated(d.path());
    let r = s.verify_audit().unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.entries, 6); // init + 5 registrations
}

#[test]
fn edited_register_row_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let s = populated(d.path());
    s.raw_connection()
        .execute(
            "UPDATE incoming SET trich_yeu = 'sửa lén' WHERE id = 'd3'",
            [],
        )
        .unwrap();
    let r = s.verify_audit().unwrap();
    assert!(!r.ok());
    assert!(r.first_broken.is_none());
    assert_eq!(r.row_problems.len(), 1);
    assert_eq!(r.row_problems[0].entity, "d3");
}

#[test]
fn edited_entry_reports_first_broken_link() {
    let d = tempfile::tempdir().unwrap();
    let s = populated(d.path());
    s.raw_connection()
        .execute("UPDATE audit SET actor = 'kẻ gian' WHERE seq = 3", [])
        .unwrap();
    let r = s.verify_audit().unwrap();
    assert_eq!(r.first_broken.as_ref().unwrap().seq, 3, "{r:?}");
}

#[test]
fn deleted_entry_reports_the_gap() {
    let d = tempfile::tempdir().unwrap();
    let s = populated(d.path());
    s.raw_connection()
        .execute("DELETE FROM audit WHERE seq = 4", [])
        .unwrap();
    let r = s.verify_audit().unwrap();
    assert_eq!(r.first_broken.as_ref().unwrap().seq, 5, "{r:?}");
    // the row whose entry vanished is reported too
    assert!(r.row_problems.iter().any(|p| p.entity == "d3"));
}

#[test]
fn rehashed_forgery_still_breaks_row_link() {
    // An attacker who edits a row and also recomputes that row's stored hash is still caught:
    // the audit entry recorded the original hash.
    let d = tempfile::tempdir().unwrap();
    let s = populated(d.path());
    let c = s.raw_connection();
    c.execute(
        "UPDATE incoming SET tac_gia = 'Cơ quan giả' WHERE id = 'd2'",
        [],
    )
    .unwrap();
    let r2 = s.get_incoming("d2").unwrap();
    c.execute(
        "UPDATE incoming SET row_hash = ?1 WHERE id = 'd2'",
        [vanthu_store::audit::row_hash(&r2)],
    )
    .unwrap();
    let r = s.verify_audit().unwrap();
    assert!(r.row_problems.iter().any(|p| p.entity == "d2"));
}
