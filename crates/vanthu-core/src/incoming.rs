//! The row input of the `Sổ đăng ký văn bản đến` (§5.1) and its validation.

use crate::diag::{FieldError, ValidationErrors, Warning};
use crate::doctype::{lookup, DocType};
use crate::duplicate::DuplicateProbe;
use crate::level::{parse_labelled, DoKhan, DoMat, ParseLevelError};
use crate::notation::{IncomingNotation, NotationError};
use crate::series::{incoming_register, Register, VN_OFFSET};
use crate::text::{char_len, nfc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Date, OffsetDateTime};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Register column names (Vietnamese, as shown in the UI) used as
/// [`FieldError::field`] / [`Warning::field`].
pub mod field {
    /// `Ngày đến`.
    pub const NGAY_DEN: &str = "Ngày đến";
    /// `Tác giả` (issuing agency).
    pub const TAC_GIA: &str = "Tác giả";
    /// The issuing agency's `Mã định danh` (OrganId).
    pub const TAC_GIA_MA: &str = "Mã định danh cơ quan ban hành";
    /// `Số, ký hiệu văn bản`.
    pub const SO_KY_HIEU: &str = "Số, ký hiệu văn bản";
    /// `Ngày tháng văn bản`.
    pub const NGAY_VAN_BAN: &str = "Ngày tháng văn bản";
    /// `Tên loại` (document type).
    pub const LOAI: &str = "Tên loại văn bản";
    /// `Trích yếu nội dung`.
    pub const TRICH_YEU: &str = "Trích yếu nội dung";
    /// `Người ký`.
    pub const NGUOI_KY: &str = "Người ký";
    /// `Chức vụ người ký`.
    pub const CHUC_VU: &str = "Chức vụ người ký";
    /// `Số trang`.
    pub const SO_TRANG: &str = "Số trang";
    /// `Hạn giải quyết`.
    pub const HAN_GIAI_QUYET: &str = "Hạn giải quyết";
    /// `Ghi chú`.
    pub const GHI_CHU: &str = "Ghi chú";
    /// `Kênh tiếp nhận`.
    pub const KENH: &str = "Kênh tiếp nhận";

    pub(crate) fn english(field: &str) -> &'static str {
        match field {
            NGAY_DEN => "Arrival date",
            TAC_GIA => "Issuing agency",
            TAC_GIA_MA => "Issuing agency identifier",
            SO_KY_HIEU => "Number and notation",
            NGAY_VAN_BAN => "Document date",
            LOAI => "Document type",
            TRICH_YEU => "Subject",
            NGUOI_KY => "Signer",
            CHUC_VU => "Signer position",
            SO_TRANG => "Number of pages",
            HAN_GIAI_QUYET => "Handling deadline",
            GHI_CHU => "Note",
            KENH => "Channel",
            _ => "Field",
        }
    }
}

/// Length limits (characters) of §5.1 / Appendix VI.
pub mod limits {
    /// `Tác giả`.
    pub const TAC_GIA: usize = 200;
    /// `OrganId`.
    pub const TAC_GIA_MA: usize = 13;
    /// `Trích yếu nội dung`.
    pub const TRICH_YEU: usize = 500;
    /// `Người ký` (name).
    pub const NGUOI_KY: usize = 50;
    /// Signer position.
    pub const CHUC_VU: usize = 100;
    /// `Số trang` (3 digits).
    pub const SO_TRANG: u32 = 999;
    /// `Ghi chú`.
    pub const GHI_CHU: usize = 500;
}

/// Receiving channel (§2.2 step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kenh {
    /// `Trục liên thông` (national document axis, via the LGSP).
    TrucLienThong,
    /// `Bưu chính` (post).
    BuuChinh,
    /// `Trực tiếp` (by hand).
    TrucTiep,
    /// `Thư điện tử` (e-mail).
    ThuDienTu,
    /// `Fax`.
    Fax,
}

impl Kenh {
    /// All channels, in UI order.
    pub const ALL: [Kenh; 5] = [
        Kenh::TrucLienThong,
        Kenh::BuuChinh,
        Kenh::TrucTiep,
        Kenh::ThuDienTu,
        Kenh::Fax,
    ];

    /// Exact Vietnamese UI label.
    pub fn label(self) -> &'static str {
        match self {
            Kenh::TrucLienThong => "Trục liên thông",
            Kenh::BuuChinh => "Bưu chính",
            Kenh::TrucTiep => "Trực tiếp",
            Kenh::ThuDienTu => "Thư điện tử",
            Kenh::Fax => "Fax",
        }
    }

    /// Stable ASCII code (`truc-lien-thong`, `buu-chinh`, `truc-tiep`,
    /// `thu-dien-tu`, `fax`).
    pub fn code(self) -> &'static str {
        match self {
            Kenh::TrucLienThong => "truc-lien-thong",
            Kenh::BuuChinh => "buu-chinh",
            Kenh::TrucTiep => "truc-tiep",
            Kenh::ThuDienTu => "thu-dien-tu",
            Kenh::Fax => "fax",
        }
    }

    /// Whether the channel is electronic (the axis or e-mail): forbidden for
    /// secret documents (§6.2).
    pub fn is_network(self) -> bool {
        matches!(self, Kenh::TrucLienThong | Kenh::ThuDienTu)
    }
}

impl fmt::Display for Kenh {
    /// The Vietnamese label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Kenh {
    type Err = ParseLevelError;
    /// Accepts the code, the label (case-insensitive) or the accent-free
    /// label.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_labelled("kênh tiếp nhận", s, &Self::ALL, Self::code, Self::label)
    }
}

/// The input of one `Sổ đăng ký văn bản đến` row, as filled by the văn thư
/// (the `Số đến` is allocated afterwards, see [`crate::series`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingDraft {
    /// `Ngày đến` (arrival time, normally in +07:00). RFC 3339 in serde.
    #[serde(with = "time::serde::rfc3339")]
    pub ngay_den: OffsetDateTime,
    /// `Tác giả` / `Cơ quan ban hành`, ≤ 200, required.
    pub tac_gia: String,
    /// The issuer's `OrganId`, ≤ 13.
    pub tac_gia_ma: Option<String>,
    /// Raw `Số, ký hiệu` (≤ 11 + ≤ 30); `None` with [`khong_so`](Self::khong_so).
    pub so_ky_hieu: Option<String>,
    /// Flag `Không số`: the document has no number (then `so_ky_hieu` is
    /// `None`).
    pub khong_so: bool,
    /// `Ngày tháng văn bản`. `YYYY-MM-DD` in serde.
    #[serde(with = "iso_date")]
    pub ngay_van_ban: Date,
    /// Type abbreviation or name ([`lookup`]); an unknown type is kept and
    /// warned about.
    pub loai: Option<String>,
    /// `Trích yếu nội dung`, ≤ 500, required.
    pub trich_yeu: String,
    /// `Độ mật`.
    pub do_mat: DoMat,
    /// `Độ khẩn`.
    pub do_khan: DoKhan,
    /// `Người ký` (name), ≤ 50.
    pub nguoi_ky: Option<String>,
    /// Signer position, ≤ 100.
    pub chuc_vu: Option<String>,
    /// Number of pages, 1–999.
    pub so_trang: Option<u32>,
    /// `Hạn giải quyết`, not before the arrival date. `YYYY-MM-DD` in serde.
    #[serde(with = "iso_date::option")]
    pub han_giai_quyet: Option<Date>,
    /// `Ghi chú`, ≤ 500.
    pub ghi_chu: Option<String>,
    /// Receiving channel.
    pub kenh: Kenh,
}

fn norm(s: &mut String) {
    *s = nfc(s.trim());
}

fn norm_opt(s: &mut Option<String>) {
    if let Some(v) = s.as_mut() {
        norm(v);
    }
    if s.as_deref().is_some_and(str::is_empty) {
        *s = None;
    }
}

/// `dd/mm/yyyy`, as Vietnamese forms write dates.
fn vn_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

#[derive(Default)]
struct Report {
    errors: Vec<FieldError>,
    warnings: Vec<Warning>,
}

impl Report {
    fn error(&mut self, field: &'static str, code: &'static str, vi: String, en: String) {
        self.errors.push(FieldError {
            field,
            code,
            message_vi: vi,
            message_en: en,
        });
    }

    fn warn(&mut self, field: &'static str, code: &'static str, vi: String, en: String) {
        self.warnings.push(Warning {
            field,
            code,
            message_vi: vi,
            message_en: en,
        });
    }

    fn required(&mut self, field: &'static str) {
        self.error(
            field,
            "required",
            format!("{field} không được để trống"),
            format!("{} is required", field::english(field)),
        );
    }

    fn max_len(&mut self, field: &'static str, value: &str, max: usize) {
        let len = char_len(value);
        if len > max {
            self.error(
                field,
                "too_long",
                format!("{field} dài {len} ký tự, tối đa {max}"),
                format!(
                    "{} is {len} characters long, at most {max}",
                    field::english(field)
                ),
            );
        }
    }

    fn required_text(&mut self, field: &'static str, value: &str, max: usize) {
        if value.is_empty() {
            self.required(field);
        } else {
            self.max_len(field, value, max);
        }
    }

    fn optional_text(&mut self, field: &'static str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.max_len(field, v, max);
        }
    }
}

/// NFC + trim, for validating a draft that was not [`normalize`](IncomingDraft::normalize)d.
fn clean(s: &str) -> String {
    nfc(s.trim())
}

fn clean_opt(s: Option<&String>) -> Option<String> {
    s.map(|v| clean(v)).filter(|v| !v.is_empty())
}

impl IncomingDraft {
    /// NFC-normalises and trims every text field; optional text fields left
    /// empty become `None`.
    pub fn normalize(&mut self) {
        norm(&mut self.tac_gia);
        norm_opt(&mut self.tac_gia_ma);
        norm_opt(&mut self.so_ky_hieu);
        norm_opt(&mut self.loai);
        norm(&mut self.trich_yeu);
        norm_opt(&mut self.nguoi_ky);
        norm_opt(&mut self.chuc_vu);
        norm_opt(&mut self.ghi_chu);
    }

    /// The arrival date in Vietnam time.
    pub fn arrival_date(&self) -> Date {
        self.ngay_den.to_offset(VN_OFFSET).date()
    }

    /// The catalogue type of [`loai`](Self::loai), if known.
    pub fn doc_type(&self) -> Option<&'static DocType> {
        self.loai.as_deref().and_then(lookup)
    }

    /// The parsed `Số, ký hiệu`, if one was entered.
    pub fn notation(&self) -> Option<Result<IncomingNotation, NotationError>> {
        clean_opt(self.so_ky_hieu.as_ref()).map(|s| IncomingNotation::parse_raw(&s))
    }

    /// The register this document is numbered in (secret ones apart).
    pub fn register(&self) -> Register {
        incoming_register(self.do_mat)
    }

    /// The duplicate-detection probe (§4.4): issuer = `OrganId` if given,
    /// else `Tác giả`. `None` for documents without a number.
    pub fn duplicate_probe(&self) -> Option<DuplicateProbe> {
        let notation = clean_opt(self.so_ky_hieu.as_ref())?;
        let issuer = clean_opt(self.tac_gia_ma.as_ref()).unwrap_or_else(|| clean(&self.tac_gia));
        Some(DuplicateProbe::new(&notation, &issuer, self.ngay_van_ban))
    }

    /// Validates the row (§5.1) at instant `now` (passed in: this crate
    /// reads no clock). Text is judged after NFC and trimming, and lengths
    /// count characters, not bytes.
    ///
    /// # Errors
    /// Every blocking problem at once, as [`ValidationErrors`]. On success,
    /// the non-blocking [`Warning`]s.
    pub fn validate(&self, now: OffsetDateTime) -> Result<Vec<Warning>, ValidationErrors> {
        use field::*;
        let mut r = Report::default();

        if self.ngay_den > now {
            r.error(
                NGAY_DEN,
                "in_future",
                "Ngày đến không được sau thời điểm hiện tại".into(),
                "Arrival date must not be in the future".into(),
            );
        }

        r.required_text(TAC_GIA, &clean(&self.tac_gia), limits::TAC_GIA);
        r.optional_text(
            TAC_GIA_MA,
            clean_opt(self.tac_gia_ma.as_ref()).as_deref(),
            limits::TAC_GIA_MA,
        );

        match (self.notation(), self.khong_so) {
            (None, false) => r.error(
                SO_KY_HIEU,
                "required",
                "Số, ký hiệu văn bản không được để trống; nếu văn bản không có số, \
                 hãy chọn \u{201C}Không số\u{201D}"
                    .into(),
                "Number and notation are required; if the document has no number, \
                 tick \u{201C}Không số\u{201D}"
                    .into(),
            ),
            (Some(_), true) => r.error(
                SO_KY_HIEU,
                "khong_so_conflict",
                "Đã chọn \u{201C}Không số\u{201D} thì không được nhập số, ký hiệu văn bản".into(),
                "\u{201C}Không số\u{201D} is ticked, so number and notation must be empty".into(),
            ),
            (Some(Err(e)), false) => r.error(
                SO_KY_HIEU,
                e.code(),
                format!("{SO_KY_HIEU}: {e}"),
                format!("{}: {}", english(SO_KY_HIEU), e.message_en()),
            ),
            (Some(Ok(_)), false) | (None, true) => {}
        }

        let arrival = self.arrival_date();
        if self.ngay_van_ban > arrival {
            r.warn(
                NGAY_VAN_BAN,
                "after_arrival",
                format!(
                    "Ngày tháng văn bản ({}) sau ngày đến ({})",
                    vn_date(self.ngay_van_ban),
                    vn_date(arrival)
                ),
                format!(
                    "Document date ({}) is after the arrival date ({})",
                    vn_date(self.ngay_van_ban),
                    vn_date(arrival)
                ),
            );
        }

        if let Some(loai) = clean_opt(self.loai.as_ref()) {
            if lookup(&loai).is_none() {
                r.warn(
                    LOAI,
                    "unknown_type",
                    format!(
                        "Tên loại \u{201C}{loai}\u{201D} không có trong danh mục; \
                         vẫn được lưu như đã nhập"
                    ),
                    format!(
                        "Document type \u{201C}{loai}\u{201D} is not in the catalogue; \
                         it is kept as entered"
                    ),
                );
            }
        }

        r.required_text(TRICH_YEU, &clean(&self.trich_yeu), limits::TRICH_YEU);
        r.optional_text(
            NGUOI_KY,
            clean_opt(self.nguoi_ky.as_ref()).as_deref(),
            limits::NGUOI_KY,
        );
        r.optional_text(
            CHUC_VU,
            clean_opt(self.chuc_vu.as_ref()).as_deref(),
            limits::CHUC_VU,
        );

        if let Some(p) = self.so_trang {
            if p == 0 || p > limits::SO_TRANG {
                r.error(
                    SO_TRANG,
                    "out_of_range",
                    format!("Số trang phải từ 1 đến {}, đã nhập {p}", limits::SO_TRANG),
                    format!("Number of pages must be 1 to {}, got {p}", limits::SO_TRANG),
                );
            }
        }

        if let Some(han) = self.han_giai_quyet {
            if han < arrival {
                r.error(
                    HAN_GIAI_QUYET,
                    "before_arrival",
                    format!(
                        "Hạn giải quyết ({}) không được trước ngày đến ({})",
                        vn_date(han),
                        vn_date(arrival)
                    ),
                    format!(
                        "Handling deadline ({}) must not be before the arrival date ({})",
                        vn_date(han),
                        vn_date(arrival)
                    ),
                );
            }
        }

        r.optional_text(
            GHI_CHU,
            clean_opt(self.ghi_chu.as_ref()).as_deref(),
            limits::GHI_CHU,
        );

        if self.do_mat.is_secret() && self.kenh.is_network() {
            r.warn(
                KENH,
                "secret_over_network",
                format!(
                    "Văn bản {} được nhận qua {}: văn bản mật không được truyền qua \
                     trục liên thông hoặc thư điện tử",
                    self.do_mat.label().to_lowercase(),
                    self.kenh.label().to_lowercase()
                ),
                format!(
                    "A {} document arrived by {}: secret documents must not travel \
                     over the axis or e-mail",
                    self.do_mat.code(),
                    self.kenh.code()
                ),
            );
        }

        if r.errors.is_empty() {
            Ok(r.warnings)
        } else {
            Err(ValidationErrors(r.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn draft() -> IncomingDraft {
        IncomingDraft {
            ngay_den: datetime!(2026-03-05 09:00 +7),
            tac_gia: "UBND tỉnh Hòa Bình".into(),
            tac_gia_ma: Some("000.00.00.H29".into()),
            so_ky_hieu: Some("12/UBND-VP".into()),
            khong_so: false,
            ngay_van_ban: date!(2026 - 03 - 04),
            loai: Some("Công văn".into()),
            trich_yeu: "V/v triển khai phần mềm".into(),
            do_mat: DoMat::Thuong,
            do_khan: DoKhan::Thuong,
            nguoi_ky: Some("Nguyễn Văn A".into()),
            chuc_vu: Some("Chủ tịch".into()),
            so_trang: Some(2),
            han_giai_quyet: Some(date!(2026 - 03 - 20)),
            ghi_chu: None,
            kenh: Kenh::TrucLienThong,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-03-05 10:00 +7);

    #[test]
    fn valid_draft_has_no_warning() {
        assert_eq!(draft().validate(NOW), Ok(vec![]));
    }

    #[test]
    fn trich_yeu_messages() {
        let mut d = draft();
        d.trich_yeu = "   ".into();
        let e = d.validate(NOW).unwrap_err();
        assert_eq!(e.0[0].message_vi, "Trích yếu nội dung không được để trống");
        d.trich_yeu = "ạ".repeat(612);
        let e = d.validate(NOW).unwrap_err();
        assert_eq!(
            e.0[0].message_vi,
            "Trích yếu nội dung dài 612 ký tự, tối đa 500"
        );
        assert_eq!(e.0[0].code, "too_long");
        assert_eq!(e.0[0].field, "Trích yếu nội dung");
    }

    #[test]
    fn normalize_trims_and_empties() {
        let mut d = draft();
        d.tac_gia = "  UBND  ".into();
        d.ghi_chu = Some("   ".into());
        d.normalize();
        assert_eq!(d.tac_gia, "UBND");
        assert_eq!(d.ghi_chu, None);
    }

    #[test]
    fn kenh_codes_labels() {
        for k in Kenh::ALL {
            assert_eq!(k.code().parse::<Kenh>(), Ok(k));
            assert_eq!(k.label().parse::<Kenh>(), Ok(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        assert_eq!("buu chinh".parse::<Kenh>(), Ok(Kenh::BuuChinh));
    }

    #[test]
    fn serde_round_trip() {
        let d = draft();
        let j = serde_json::to_value(&d).unwrap();
        assert_eq!(j["ngay_den"], "2026-03-05T09:00:00+07:00");
        assert_eq!(j["ngay_van_ban"], "2026-03-04");
        assert_eq!(j["do_mat"], "thuong");
        assert_eq!(j["kenh"], "truc-lien-thong");
        let back: IncomingDraft = serde_json::from_value(j).unwrap();
        assert_eq!(back, d);
    }
}
