//! Số đến across the year end, through the whole use-case path (domain + store).

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use vanthu_app::IncomingInput;

use crate::*;

static NOW: AtomicI64 = AtomicI64::new(0);

fn clock() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW.load(Ordering::SeqCst)).unwrap()
}

fn at(rfc3339: &str) {
    let t = OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap();
    NOW.store(t.unix_timestamp(), Ordering::SeqCst);
}

fn input(n: u32, secrecy: &str) -> IncomingInput {
    IncomingInput {
        so_ky_hieu: Some(format!("{n}/UBND-VP")),
        tac_gia: Some("Ủy ban nhân dân tỉnh Hòa Bình".into()),
        ngay_van_ban: Some("2026-12-30".into()),
        trich_yeu: Some(format!("Văn bản số {n}")),
        do_mat: Some(secrecy.into()),
        ..Default::default()
    }
}

#[test]
fn numbers_restart_on_1_january_in_vietnam_time() {
    let d = tempfile::tempdir().unwrap();
    let mut app = new_app(d.path());
    app.store_mut().set_clock(clock);

    at("2026-12-31T16:59:00Z"); // 23:59 on 31/12 in Hà Nội
    let a = app.register_incoming(&input(1, "thuong"), None).unwrap();
    let b = app.register_incoming(&input(2, "thuong"), None).unwrap();
    let m = app.register_incoming(&input(3, "mat"), None).unwrap();
    assert_eq!((a.year, a.so_den, b.so_den), (2026, 1, 2));
    assert_eq!((m.register.as_str(), m.so_den), ("den-mat", 1));

    at("2026-12-31T17:30:00Z"); // 00:30 on 1/1/2027 in Hà Nội, still 2026 in UTC
    let c = app.register_incoming(&input(4, "thuong"), None).unwrap();
    assert_eq!((c.year, c.so_den, c.so_den_text.as_str()), (2027, 1, "01"));
    let m2 = app.register_incoming(&input(5, "toi-mat"), None).unwrap();
    assert_eq!((m2.year, m2.so_den), (2027, 1));
    assert_eq!(c.ngay_den, "2027-01-01T00:30:00+07:00");

    assert_eq!(app.list_incoming(Some(2026)).unwrap().len(), 3);
    assert_eq!(app.list_incoming(Some(2027)).unwrap().len(), 2);
    assert!(app.verify_audit().unwrap().ok());
}
