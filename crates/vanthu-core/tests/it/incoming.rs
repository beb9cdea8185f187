//! §5.1 register-row validation.

use crate::support::ymd;
use time::macros::datetime;
use time::OffsetDateTime;
use vanthu_core::incoming::{IncomingDraft, Kenh};
use vanthu_core::level::{DoKhan, DoMat};
use vanthu_core::series::Register;

pub const NOW: OffsetDateTime = datetime!(2026-03-05 10:00 +7);

pub fn draft() -> IncomingDraft {
    IncomingDraft {
        ngay_den: datetime!(2026-03-05 08:15 +7),
        tac_gia: "Bộ Nội vụ".into(),
        tac_gia_ma: Some("000.00.00.G12".into()),
        so_ky_hieu: Some("30/2020/NĐ-CP".into()),
        khong_so: false,
        ngay_van_ban: ymd(2020, 3, 5),
        loai: Some("Nghị định".into()),
        trich_yeu: "Về công tác văn thư".into(),
        do_mat: DoMat::Thuong,
        do_khan: DoKhan::Khan,
        nguoi_ky: Some("Nguyễn Xuân Phúc".into()),
        chuc_vu: Some("Thủ tướng".into()),
        so_trang: Some(105),
        han_giai_quyet: None,
        ghi_chu: None,
        kenh: Kenh::BuuChinh,
    }
}

fn codes(w: &[vanthu_core::Warning]) -> Vec<&'static str> {
    w.iter().map(|w| w.code).collect()
}

#[test]
fn qppl_notation_accepted_unknown_type_warned() {
    // `Nghị định` is not an administrative type: kept, with a warning.
    let w = draft().validate(NOW).unwrap();
    assert_eq!(codes(&w), ["unknown_type"]);
    assert!(w[0].message_vi.contains("Nghị định"));
}

#[test]
fn known_type_by_abbreviation_or_name() {
    for loai in ["QĐ", "Quyết định", "quyết định (cá biệt)", "Công văn"] {
        let mut d = draft();
        d.loai = Some(loai.into());
        assert_eq!(d.validate(NOW), Ok(vec![]), "{loai}");
        assert!(d.doc_type().is_some());
    }
    let mut d = draft();
    d.loai = Some("qđ".into());
    assert_eq!(codes(&d.validate(NOW).unwrap()), ["unknown_type"]);
}

#[test]
fn required_fields() {
    let mut d = draft();
    d.tac_gia = " ".into();
    d.trich_yeu = String::new();
    let e = d.validate(NOW).unwrap_err();
    assert!(e.has("Tác giả", "required"));
    assert!(e.has("Trích yếu nội dung", "required"));
    assert_eq!(
        e.to_string(),
        "Tác giả không được để trống; Trích yếu nội dung không được để trống"
    );
}

#[test]
fn lengths_count_characters() {
    let mut d = draft();
    d.trich_yeu = "ệ".repeat(500); // 1500 bytes, 500 characters
    d.tac_gia = "Ủ".repeat(200);
    d.nguoi_ky = Some("ư".repeat(50));
    d.chuc_vu = Some("ợ".repeat(100));
    d.ghi_chu = Some("đ".repeat(500));
    d.tac_gia_ma = Some("0".repeat(13));
    assert!(d.validate(NOW).is_ok());

    d.trich_yeu = "ệ".repeat(612);
    d.tac_gia = "Ủ".repeat(201);
    d.nguoi_ky = Some("ư".repeat(51));
    d.chuc_vu = Some("ợ".repeat(101));
    d.ghi_chu = Some("đ".repeat(501));
    d.tac_gia_ma = Some("0".repeat(14));
    let e = d.validate(NOW).unwrap_err();
    for field in [
        "Trích yếu nội dung",
        "Tác giả",
        "Người ký",
        "Chức vụ người ký",
        "Ghi chú",
        "Mã định danh cơ quan ban hành",
    ] {
        assert!(e.has(field, "too_long"), "{field}");
    }
    let msg =
        &e.0.iter()
            .find(|e| e.field == "Trích yếu nội dung")
            .unwrap();
    assert_eq!(
        msg.message_vi,
        "Trích yếu nội dung dài 612 ký tự, tối đa 500"
    );
    assert_eq!(
        msg.message_en,
        "Subject is 612 characters long, at most 500"
    );
}

#[test]
fn decomposed_text_is_counted_after_nfc() {
    use unicode_normalization::UnicodeNormalization;
    let mut d = draft();
    // 500 precomposed characters, far more scalars in NFD.
    d.trich_yeu = "ệ".repeat(500).nfd().collect();
    assert!(d.trich_yeu.chars().count() > 500);
    assert!(d.validate(NOW).is_ok());
    d.normalize();
    assert_eq!(d.trich_yeu.chars().count(), 500);
}

#[test]
fn arrival_not_in_future() {
    let mut d = draft();
    d.ngay_den = NOW + time::Duration::minutes(1);
    let e = d.validate(NOW).unwrap_err();
    assert!(e.has("Ngày đến", "in_future"));
    d.ngay_den = NOW;
    assert!(d.validate(NOW).is_ok());
}

#[test]
fn notation_and_khong_so_are_exclusive() {
    let mut d = draft();
    d.khong_so = true;
    assert!(d
        .validate(NOW)
        .unwrap_err()
        .has("Số, ký hiệu văn bản", "khong_so_conflict"));
    d.so_ky_hieu = Some("   ".into());
    assert!(d.validate(NOW).is_ok(), "blank counts as no notation");
}

#[test]
fn notation_too_long() {
    let mut d = draft();
    d.so_ky_hieu = Some(format!("12/{}", "A".repeat(31)));
    let e = d.validate(NOW).unwrap_err();
    assert!(e.has("Số, ký hiệu văn bản", "too_long"));
    d.so_ky_hieu = Some(format!("{}/A", "1".repeat(12)));
    let e = d.validate(NOW).unwrap_err();
    assert!(e.has("Số, ký hiệu văn bản", "number_too_long"));
}

#[test]
fn document_date_after_arrival_warns() {
    let mut d = draft();
    d.loai = Some("Công văn".into());
    d.ngay_van_ban = ymd(2026, 3, 6);
    let w = d.validate(NOW).unwrap();
    assert_eq!(codes(&w), ["after_arrival"]);
    assert!(w[0].message_vi.contains("06/03/2026"));
    d.ngay_van_ban = ymd(2026, 3, 5);
    assert_eq!(d.validate(NOW), Ok(vec![]));
}

#[test]
fn arrival_date_is_taken_in_vietnam_time() {
    // 4/3 20:00 UTC is already 5/3 03:00 in Vietnam: a document dated 5/3
    // is not "after" its arrival.
    let mut d = draft();
    d.loai = None;
    d.ngay_den = datetime!(2026-03-04 20:00 UTC);
    d.ngay_van_ban = ymd(2026, 3, 5);
    assert_eq!(d.validate(NOW), Ok(vec![]));
}

#[test]
fn deadline_not_before_arrival() {
    let mut d = draft();
    d.loai = None;
    d.han_giai_quyet = Some(ymd(2026, 3, 4));
    assert!(d
        .validate(NOW)
        .unwrap_err()
        .has("Hạn giải quyết", "before_arrival"));
    d.han_giai_quyet = Some(ymd(2026, 3, 5));
    assert!(d.validate(NOW).is_ok());
}

#[test]
fn pages_range() {
    let mut d = draft();
    d.loai = None;
    for bad in [0, 1000] {
        d.so_trang = Some(bad);
        assert!(d.validate(NOW).unwrap_err().has("Số trang", "out_of_range"));
    }
    d.so_trang = Some(999);
    assert!(d.validate(NOW).is_ok());
}

#[test]
fn secret_over_network_warns_and_registers_apart() {
    let mut d = draft();
    d.loai = None;
    d.do_mat = DoMat::ToiMat;
    d.kenh = Kenh::ThuDienTu;
    assert_eq!(codes(&d.validate(NOW).unwrap()), ["secret_over_network"]);
    assert_eq!(d.register(), Register::IncomingSecret);
    d.kenh = Kenh::BuuChinh;
    assert_eq!(d.validate(NOW), Ok(vec![]));
}

#[test]
fn all_errors_reported_at_once() {
    let mut d = draft();
    d.tac_gia.clear();
    d.trich_yeu.clear();
    d.so_ky_hieu = None;
    d.so_trang = Some(0);
    assert_eq!(d.validate(NOW).unwrap_err().0.len(), 4);
}

#[test]
fn duplicate_probe_uses_organ_id_then_name() {
    let a = draft();
    let mut b = draft();
    b.tac_gia = "BỘ NỘI VỤ (bản giấy)".into();
    b.so_ky_hieu = Some(" 030 / 2020 / NĐ–CP ".into());
    assert!(a
        .duplicate_probe()
        .unwrap()
        .alerts_with(&b.duplicate_probe().unwrap()));
    b.tac_gia_ma = None;
    assert!(!a
        .duplicate_probe()
        .unwrap()
        .alerts_with(&b.duplicate_probe().unwrap()));
    let mut c = draft();
    c.so_ky_hieu = None;
    c.khong_so = true;
    assert!(c.duplicate_probe().is_none());
}
