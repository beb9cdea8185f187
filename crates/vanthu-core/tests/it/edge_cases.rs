//! §9 "Test edge cases" that belong to the domain model.

use crate::support::{number, ymd, Outgoing};
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use vanthu_core::doctype::{by_abbr, lookup, ADMIN_TYPES, COPY_TYPES};
use vanthu_core::duplicate::{duplicate_key, DuplicateProbe};
use vanthu_core::level::{DoKhan, DoMat};
use vanthu_core::notation::{format_number, IncomingNotation, OwnNotation};
use vanthu_core::series::{
    incoming_register, numbering_year, outgoing_register, NumberingConfig, NumberingPlan, Register,
    Series, SeriesBook, SeriesError,
};

// 1. Padding; 5/UBND-VP duplicates 05/UBND-VP.

#[test]
fn e1_padding() {
    assert_eq!(format_number(1), "01");
    assert_eq!(format_number(9), "09");
    assert_eq!(format_number(10), "10");
}

#[test]
fn e1_unpadded_incoming_duplicates_padded() {
    let issuer = "UBND huyện Lạc Sơn";
    assert_eq!(
        duplicate_key("5/UBND-VP", issuer),
        duplicate_key("05/UBND-VP", issuer)
    );
    let a = DuplicateProbe::new("5/UBND-VP", issuer, ymd(2026, 5, 4));
    let b = DuplicateProbe::new("05/UBND-VP", issuer, ymd(2026, 5, 4));
    assert!(a.alerts_with(&b));
}

// 2. Year boundary in +07:00; signed 31/12, numbered 02/01 → new year.

#[test]
fn e2_half_past_midnight_vietnam_is_next_year() {
    let at = datetime!(2027-01-01 00:30 +7);
    assert_eq!(at, datetime!(2026-12-31 17:30 UTC));
    assert_eq!(numbering_year(at), 2027);
    assert_eq!(numbering_year(datetime!(2026-12-31 17:30 UTC)), 2027);

    let mut s = Series::new(2026);
    for _ in 0..3 {
        s.allocate(datetime!(2026-12-31 23:00 +7)).unwrap();
    }
    assert_eq!(s.allocate(datetime!(2026-12-31 17:30 UTC)), Ok(1));
    assert_eq!(s.year(), 2027);
}

#[test]
fn e2_signed_in_december_numbered_in_january() {
    // The numbering date decides, not the signing date: the signing date is
    // not even an input of allocation.
    let _signed = datetime!(2026-12-31 16:00 +7);
    let numbered = datetime!(2027-01-02 08:00 +7);
    let mut s = Series::resume(2026, 1200);
    assert_eq!(s.allocate(numbered), Ok(1));
    assert_eq!(numbering_year(numbered), 2027);
}

// 3. Concurrent numbering; voided numbers never reused; mid-year change refused.

#[test]
fn e3_concurrent_numbering_has_no_gap_nor_duplicate() {
    let book = Arc::new(Mutex::new(SeriesBook::new()));
    let reg = Register::Outgoing("chung".into());
    let at = datetime!(2026-06-01 09:00 +7);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let book = Arc::clone(&book);
            let reg = reg.clone();
            std::thread::spawn(move || {
                (0..250)
                    .map(|_| book.lock().unwrap().allocate(&reg, at).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=1000).collect::<Vec<_>>());
}

#[test]
fn e3_voided_number_is_not_reused() {
    let mut s = Series::new(2026);
    let at = datetime!(2026-06-01 09:00 +7);
    let first = s.allocate(at).unwrap();
    let voided = s.allocate(at).unwrap();
    let next = s.allocate(at).unwrap();
    assert!(first < voided && voided < next);
    assert_eq!(next, voided + 1);
}

#[test]
fn e3_numbering_into_a_closed_year_is_refused() {
    let mut s = Series::new(2027);
    let err = s.allocate(datetime!(2026-12-31 16:59 UTC)).unwrap_err();
    assert_eq!(
        err,
        SeriesError::ClosedYear {
            requested: 2026,
            current: 2027
        }
    );
    assert_eq!(s.last(), 0, "a refused allocation consumes nothing");
}

#[test]
fn e3_mid_year_series_change_is_refused() {
    let mut plan = NumberingPlan::new(NumberingConfig::shared(), 2026);
    let now = datetime!(2026-07-01 09:00 +7);
    let err = plan
        .schedule(NumberingConfig::per_type(), 2026, now)
        .unwrap_err();
    assert!(matches!(err, SeriesError::MidYearChange { .. }));
    assert!(err.to_string().contains("01/01"));
    assert_eq!(plan.config_for(2026), &NumberingConfig::shared());
    plan.schedule(NumberingConfig::per_type(), 2027, now)
        .unwrap();
    assert_eq!(plan.config_for(2027), &NumberingConfig::per_type());
}

// 4. Case-sensitive abbreviations; ĐA ≠ DA, HĐ ≠ HD; U+00D0 → Đ.

#[test]
fn e4_abbreviations_keep_their_case() {
    for (abbr, name) in [
        ("TTr", "Tờ trình"),
        ("QyĐ", "Quy định"),
        ("CTr", "Chương trình"),
        ("TrS", "Bản trích sao"),
    ] {
        let t = by_abbr(abbr).unwrap();
        assert_eq!(t.name, name);
        assert_eq!(t.abbr, Some(abbr));
        assert!(
            by_abbr(&abbr.to_uppercase()).is_none(),
            "{abbr} upper-cased"
        );
        assert!(
            by_abbr(&abbr.to_lowercase()).is_none(),
            "{abbr} lower-cased"
        );
        let n = OwnNotation::parse(&format!("07/{abbr}-UBND")).unwrap();
        assert_eq!(n.format(), format!("07/{abbr}-UBND"));
    }
    assert!(by_abbr("qđ").is_none());
    assert!(by_abbr("TTR").is_none());
}

#[test]
fn e4_d_bar_pairs_are_distinct() {
    assert_eq!(by_abbr("ĐA").unwrap().name, "Đề án");
    assert_eq!(by_abbr("DA").unwrap().name, "Dự án");
    assert_eq!(by_abbr("HĐ").unwrap().name, "Hợp đồng");
    assert_eq!(by_abbr("HD").unwrap().name, "Hướng dẫn");
    assert_ne!(by_abbr("CT"), by_abbr("CTr"));
    assert_ne!(by_abbr("QĐ"), by_abbr("QyĐ"));
    assert_ne!(
        duplicate_key("05/ĐA-UBND", "x"),
        duplicate_key("05/DA-UBND", "x")
    );
}

#[test]
fn e4_eth_reads_as_d_bar() {
    assert_eq!(by_abbr("\u{00D0}A"), by_abbr("ĐA"));
    assert_eq!(by_abbr("H\u{00D0}"), by_abbr("HĐ"));
    assert_eq!(lookup("Q\u{00D0}").unwrap().name, "Quyết định (cá biệt)");
    let n = OwnNotation::parse("12/Q\u{00D0}-UBND").unwrap();
    assert_eq!(n.type_abbr.as_deref(), Some("QĐ"));
    assert_eq!(
        duplicate_key("12/Q\u{00D0}-UBND", "x"),
        duplicate_key("12/QĐ-UBND", "x")
    );
    let inc = IncomingNotation::parse_raw("30/2020/N\u{00D0}-CP").unwrap();
    assert_eq!(inc.ky_hieu, "2020/NĐ-CP");
}

#[test]
fn e4_catalogue_sizes() {
    assert_eq!(ADMIN_TYPES.len(), 29);
    assert_eq!(COPY_TYPES.len(), 3);
    assert_eq!(lookup("Quyết định").unwrap().abbr, Some("QĐ"));
    assert_eq!(lookup("nghị quyết (cá biệt)").unwrap().abbr, Some("NQ"));
}

// 5. Sub-unit warning; QPPL incoming accepted; no number needs Không số.

#[test]
fn e5_sub_unit_form_warns_but_parses() {
    let (n, warnings) = OwnNotation::parse_checked("15/QĐ-UBND-VX").unwrap();
    assert_eq!(n.number, 15);
    assert_eq!(n.type_abbr.as_deref(), Some("QĐ"));
    assert_eq!(n.agency, "UBND");
    assert_eq!(n.unit.as_deref(), Some("VX"));
    assert!(!warnings.is_empty());
    assert!(warnings.iter().all(|w| w.field == "Số, ký hiệu văn bản"));
    assert_eq!(n.format(), "15/QĐ-UBND-VX");
}

#[test]
fn e5_qppl_incoming_accepted() {
    let n = IncomingNotation::parse_raw("30/2020/NĐ-CP").unwrap();
    assert_eq!(n.number.as_deref(), Some("30"));
    assert_eq!(n.ky_hieu, "2020/NĐ-CP");
    assert_eq!(n.raw(), "30/2020/NĐ-CP");
    let n = IncomingNotation::parse_raw("74fass22").unwrap();
    assert_eq!(n.raw(), "74fass22");
}

#[test]
fn e5_no_number_needs_khong_so() {
    let mut d = crate::incoming::draft();
    d.so_ky_hieu = None;
    d.khong_so = false;
    let e = d.validate(crate::incoming::NOW).unwrap_err();
    assert!(e.has("Số, ký hiệu văn bản", "required"));
    assert!(e.to_string().contains("Không số"));
    d.khong_so = true;
    assert!(d.validate(crate::incoming::NOW).is_ok());
}

// 7. Same triple, another year → no alert.

#[test]
fn e7_same_triple_other_year_no_alert() {
    let a = DuplicateProbe::new("12/UBND-VP", "000.00.00.H29", ymd(2025, 12, 30));
    let b = DuplicateProbe::new("12/UBND-VP", "000.00.00.H29", ymd(2026, 1, 2));
    assert_eq!(a.key, b.key);
    assert!(!a.alerts_with(&b));
}

// 9. Secret → own series.

#[test]
fn e9_secret_documents_have_their_own_series() {
    let cfg = NumberingConfig::shared();
    let qd = by_abbr("QĐ").unwrap();
    let normal = outgoing_register(&cfg, qd, DoMat::Thuong);
    for level in [DoMat::Mat, DoMat::ToiMat, DoMat::TuyetMat] {
        let secret = outgoing_register(&cfg, qd, level);
        assert_ne!(secret, normal);
        assert!(secret.is_secret());
        assert_ne!(incoming_register(level), incoming_register(DoMat::Thuong));
    }
    // Numbering: secret and normal documents do not consume each other's numbers.
    let mut book = SeriesBook::new();
    let at = datetime!(2026-03-01 09:00 +7);
    let doc = Outgoing {
        abbr: Some("QĐ"),
        agency: "UBND",
        unit: None,
    };
    assert_eq!(
        number(&mut book, &cfg, &doc, DoMat::Thuong, at),
        "01/QĐ-UBND"
    );
    assert_eq!(number(&mut book, &cfg, &doc, DoMat::Mat, at), "01/QĐ-UBND");
    assert_eq!(
        number(&mut book, &cfg, &doc, DoMat::Thuong, at),
        "02/QĐ-UBND"
    );
    assert_eq!(
        number(&mut book, &cfg, &doc, DoMat::TuyetMat, at),
        "02/QĐ-UBND"
    );
}

#[test]
fn copies_share_one_series() {
    let cfg = NumberingConfig::per_type();
    let regs: Vec<_> = COPY_TYPES
        .iter()
        .map(|t| outgoing_register(&cfg, t, DoMat::Thuong))
        .collect();
    assert!(regs.iter().all(|r| *r == Register::Copies));
    assert_eq!(regs[0].key(), "sao");
}

// 10. Priority=4 → Hỏa tốc.

#[test]
fn e10_priority_four_is_hoa_toc() {
    let k = DoKhan::from_edxml_priority(4).unwrap();
    assert_eq!(k.display_label(), "Hỏa tốc");
    assert_eq!(k.stamp(), Some("HỎA TỐC"));
    assert_eq!(k.edxml_priority(), 4);
    assert!(k.is_urgent());
}
