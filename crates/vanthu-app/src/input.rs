//! Boundary input for registering incoming documents: the JSON shape of one record of
//! `vanthu incoming import --jsonl` and of the desktop form. Field names are those of the
//! register (`so_ky_hieu`, `trich_yeu`, …); short English aliases are accepted for scripts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use vanthu_core::incoming::{IncomingDraft, Kenh};
use vanthu_core::level::{DoKhan, DoMat};

use crate::error::AppError;
use crate::VN;

/// One incoming document as typed by a clerk or a script.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingInput {
    /// Số, ký hiệu văn bản (`12/QĐ-UBND`).
    #[serde(default, alias = "notation")]
    pub so_ky_hieu: Option<String>,
    /// Không số: the document carries no number.
    #[serde(default)]
    pub khong_so: bool,
    /// Tác giả: the issuing agency.
    #[serde(default, alias = "from")]
    pub tac_gia: Option<String>,
    /// The issuing agency's code (`OrganId`).
    #[serde(default, alias = "from_code")]
    pub tac_gia_ma: Option<String>,
    /// Ngày tháng văn bản, `YYYY-MM-DD` (or `DD/MM/YYYY`).
    #[serde(default, alias = "date")]
    pub ngay_van_ban: Option<String>,
    /// Ngày đến; defaults to now. RFC 3339, `YYYY-MM-DD HH:MM` (+07:00) or a date.
    #[serde(default, alias = "received")]
    pub ngay_den: Option<String>,
    /// Tên loại: abbreviation (`QĐ`) or name.
    #[serde(default, alias = "type")]
    pub loai: Option<String>,
    /// Trích yếu nội dung.
    #[serde(default, alias = "subject")]
    pub trich_yeu: Option<String>,
    /// Độ mật (`thuong`, `mat`, `toi-mat`, `tuyet-mat` or the Vietnamese label).
    #[serde(default, alias = "secrecy")]
    pub do_mat: Option<String>,
    /// Độ khẩn (`thuong`, `khan`, `thuong-khan`, `hoa-toc` or the label).
    #[serde(default, alias = "urgency")]
    pub do_khan: Option<String>,
    /// Người ký.
    #[serde(default, alias = "signer")]
    pub nguoi_ky: Option<String>,
    /// Chức vụ người ký.
    #[serde(default, alias = "position")]
    pub chuc_vu: Option<String>,
    /// Số trang.
    #[serde(default, alias = "pages")]
    pub so_trang: Option<u32>,
    /// Hạn giải quyết, a date.
    #[serde(default, alias = "deadline")]
    pub han_giai_quyet: Option<String>,
    /// Ghi chú.
    #[serde(default, alias = "note")]
    pub ghi_chu: Option<String>,
    /// Kênh tiếp nhận (`truc-lien-thong`, `buu-chinh`, `truc-tiep`, `thu-dien-tu`, `fax`).
    #[serde(default, alias = "channel")]
    pub kenh: Option<String>,
    /// Files to attach (paths; relative ones are resolved against the import file's folder).
    #[serde(default, alias = "file")]
    pub files: Vec<PathBuf>,
    /// Register even though it looks like a duplicate, with this reason (logged).
    #[serde(default)]
    pub duplicate_reason: Option<String>,
}

fn bad(field: &str, value: &str, what: &str) -> AppError {
    AppError::BadInput(format!(
        "{field}: giá trị {value:?} không hợp lệ — {what} (invalid value)"
    ))
}

/// Parses a date typed as `YYYY-MM-DD` or `DD/MM/YYYY`.
pub fn parse_date(field: &str, s: &str) -> Result<Date, AppError> {
    let s = s.trim();
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .or_else(|_| {
            Date::parse(
                s,
                format_description!("[day padding:none]/[month padding:none]/[year]"),
            )
        })
        .map_err(|_| bad(field, s, "cần dạng YYYY-MM-DD hoặc DD/MM/YYYY"))
}

/// Parses a date-time: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` in +07:00, or a date (midnight +07:00).
pub fn parse_datetime(field: &str, s: &str) -> Result<OffsetDateTime, AppError> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.to_offset(VN));
    }
    for fmt in [
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ] {
        if let Ok(p) = PrimitiveDateTime::parse(s, fmt) {
            return Ok(p.assume_offset(VN));
        }
    }
    parse_date(field, s)
        .map(|d| d.midnight().assume_offset(VN))
        .map_err(|_| bad(field, s, "cần dạng YYYY-MM-DD HH:MM hoặc RFC 3339"))
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl IncomingInput {
    /// Builds the domain draft. Missing required fields are left empty so that validation
    /// reports all of them at once, in the register's words.
    pub fn to_draft(&self, now: OffsetDateTime) -> Result<IncomingDraft, AppError> {
        let ngay_den = match opt(&self.ngay_den) {
            Some(s) => parse_datetime("ngay_den", &s)?,
            None => now,
        };
        let ngay_van_ban = match opt(&self.ngay_van_ban) {
            Some(s) => parse_date("ngay_van_ban", &s)?,
            None => {
                return Err(AppError::BadInput(
                    "Thiếu ngày tháng văn bản (ngay_van_ban / --date) (document date missing)"
                        .into(),
                ))
            }
        };
        let do_mat = match opt(&self.do_mat) {
            Some(s) => s
                .parse::<DoMat>()
                .map_err(|_| bad("do_mat", &s, "thuong, mat, toi-mat hoặc tuyet-mat"))?,
            None => DoMat::Thuong,
        };
        let do_khan = match opt(&self.do_khan) {
            Some(s) => s
                .parse::<DoKhan>()
                .map_err(|_| bad("do_khan", &s, "thuong, khan, thuong-khan hoặc hoa-toc"))?,
            None => DoKhan::Thuong,
        };
        let kenh = match opt(&self.kenh) {
            Some(s) => s.parse::<Kenh>().map_err(|_| {
                bad(
                    "kenh",
                    &s,
                    "truc-lien-thong, buu-chinh, truc-tiep, thu-dien-tu hoặc fax",
                )
            })?,
            None => Kenh::TrucTiep,
        };
        let han = match opt(&self.han_giai_quyet) {
            Some(s) => Some(parse_date("han_giai_quyet", &s)?),
            None => None,
        };
        let mut d = IncomingDraft {
            ngay_den,
            tac_gia: opt(&self.tac_gia).unwrap_or_default(),
            tac_gia_ma: opt(&self.tac_gia_ma),
            so_ky_hieu: opt(&self.so_ky_hieu),
            khong_so: self.khong_so,
            ngay_van_ban,
            loai: opt(&self.loai),
            trich_yeu: opt(&self.trich_yeu).unwrap_or_default(),
            do_mat,
            do_khan,
            nguoi_ky: opt(&self.nguoi_ky),
            chuc_vu: opt(&self.chuc_vu),
            so_trang: self.so_trang,
            han_giai_quyet: han,
            ghi_chu: opt(&self.ghi_chu),
            kenh,
        };
        d.normalize();
        Ok(d)
    }
}
