//! Document types (§3): the 29 administrative types of Decree 30/2020/NĐ-CP
//! Appendix III and the 3 copy types (Art. 25–27).
//!
//! Abbreviations are **case-sensitive** (`TTr`, `QyĐ`, `CTr`, `TrS`) and `Đ`
//! is never folded to `D`: `ĐA` ≠ `DA`, `HĐ` ≠ `HD`, `QĐ` ≠ `QyĐ`.

use crate::text::{collapse_whitespace, fold_case, nfc_fixed};
use serde::Serialize;

/// One document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DocType {
    /// Exact Vietnamese UI label (`Tên loại`), e.g. `Quyết định (cá biệt)`.
    pub name: &'static str,
    /// Case-sensitive abbreviation used in notations (`QĐ`, `TTr`); `None`
    /// for `Công văn` and `Thư công`.
    pub abbr: Option<&'static str>,
    /// `typeName` code of Circular 05/2025/TT-BNV (two digits, to verify).
    /// Copies have no code of their own there and use `32` (`Khác`).
    pub tt05: &'static str,
    /// Whether this is a copy type (`SY`, `SL`, `TrS`).
    pub copy: bool,
}

/// Suffix of the two types whose full name carries `(cá biệt)`.
const CA_BIET: &str = "(cá biệt)";

impl DocType {
    /// The name without the ` (cá biệt)` suffix: `Quyết định`.
    pub fn short_name(&self) -> &'static str {
        self.name
            .strip_suffix(CA_BIET)
            .map(str::trim_end)
            .unwrap_or(self.name)
    }

    /// Whether documents of this type are numbered `<số>/<agency>-<unit>`
    /// without a type abbreviation (`Công văn`, `Thư công`).
    pub fn is_untyped(&self) -> bool {
        self.abbr.is_none()
    }

    /// The copy label stamped on copies (§3.2): `SAO Y`, `SAO LỤC`,
    /// `TRÍCH SAO`; `None` for non-copies.
    pub fn copy_label(&self) -> Option<&'static str> {
        match self.abbr {
            Some("SY") if self.copy => Some("SAO Y"),
            Some("SL") if self.copy => Some("SAO LỤC"),
            Some("TrS") if self.copy => Some("TRÍCH SAO"),
            _ => None,
        }
    }
}

const fn t(name: &'static str, abbr: &'static str, tt05: &'static str) -> DocType {
    DocType {
        name,
        abbr: Some(abbr),
        tt05,
        copy: false,
    }
}

const fn untyped(name: &'static str, tt05: &'static str) -> DocType {
    DocType {
        name,
        abbr: None,
        tt05,
        copy: false,
    }
}

const fn c(name: &'static str, abbr: &'static str) -> DocType {
    DocType {
        name,
        abbr: Some(abbr),
        tt05: "32",
        copy: true,
    }
}

/// The 29 administrative document types of §3.1, in Decree 30 order.
pub static ADMIN_TYPES: [DocType; 29] = [
    t("Nghị quyết (cá biệt)", "NQ", "01"),
    t("Quyết định (cá biệt)", "QĐ", "02"),
    t("Chỉ thị", "CT", "03"),
    t("Quy chế", "QC", "04"),
    t("Quy định", "QyĐ", "05"),
    t("Thông cáo", "TC", "06"),
    t("Thông báo", "TB", "07"),
    t("Hướng dẫn", "HD", "08"),
    t("Chương trình", "CTr", "09"),
    t("Kế hoạch", "KH", "10"),
    t("Phương án", "PA", "11"),
    t("Đề án", "ĐA", "12"),
    t("Dự án", "DA", "13"),
    t("Báo cáo", "BC", "14"),
    t("Biên bản", "BB", "20"),
    t("Tờ trình", "TTr", "15"),
    t("Hợp đồng", "HĐ", "21"),
    untyped("Công văn", "22"),
    t("Công điện", "CĐ", "23"),
    t("Bản ghi nhớ", "BGN", "24"),
    t("Bản thỏa thuận", "BTT", "25"),
    t("Giấy ủy quyền", "GUQ", "16"),
    t("Giấy mời", "GM", "26"),
    t("Giấy giới thiệu", "GGT", "27"),
    t("Giấy nghỉ phép", "GNP", "28"),
    t("Phiếu gửi", "PG", "17"),
    t("Phiếu chuyển", "PC", "18"),
    t("Phiếu báo", "PB", "19"),
    untyped("Thư công", "29"),
];

/// The 3 copy types of §3.2; they share one numbering series.
pub static COPY_TYPES: [DocType; 3] = [
    c("Bản sao y", "SY"),
    c("Bản sao lục", "SL"),
    c("Bản trích sao", "TrS"),
];

/// Every known type: [`ADMIN_TYPES`] then [`COPY_TYPES`].
pub fn all() -> impl Iterator<Item = &'static DocType> {
    ADMIN_TYPES.iter().chain(COPY_TYPES.iter())
}

/// `Công văn`, the type without abbreviation used for most correspondence.
pub fn cong_van() -> &'static DocType {
    &ADMIN_TYPES[17]
}

/// Finds a type by abbreviation: **case-sensitive** exact match after NFC,
/// `Ð` (U+00D0) → `Đ` and trimming surrounding whitespace.
///
/// ```
/// use vanthu_core::doctype::by_abbr;
/// assert_eq!(by_abbr("QĐ").unwrap().name, "Quyết định (cá biệt)");
/// assert!(by_abbr("qđ").is_none());
/// assert!(by_abbr("TTR").is_none());
/// assert_ne!(by_abbr("HD"), by_abbr("HĐ"));
/// ```
pub fn by_abbr(s: &str) -> Option<&'static DocType> {
    let key = nfc_fixed(s.trim());
    if key.is_empty() {
        return None;
    }
    all().find(|d| d.abbr == Some(key.as_str()))
}

/// Finds a type by abbreviation (case-sensitive, as [`by_abbr`]) or by full
/// name (case-insensitive, NFC, whitespace collapsed), also accepting names
/// without the `(cá biệt)` suffix (`Quyết định`).
///
/// ```
/// use vanthu_core::doctype::lookup;
/// assert_eq!(lookup("quyết định").unwrap().abbr, Some("QĐ"));
/// assert_eq!(lookup("CÔNG VĂN").unwrap().abbr, None);
/// assert_eq!(lookup("TTr").unwrap().name, "Tờ trình");
/// ```
pub fn lookup(s: &str) -> Option<&'static DocType> {
    if let Some(d) = by_abbr(s) {
        return Some(d);
    }
    let key = collapse_whitespace(&fold_case(s));
    if key.is_empty() {
        return None;
    }
    all().find(|d| fold_case(d.name) == key || fold_case(d.short_name()) == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn abbreviations_and_codes_are_unique() {
        let abbrs: Vec<_> = all().filter_map(|d| d.abbr).collect();
        assert_eq!(abbrs.len(), 30);
        assert_eq!(abbrs.iter().collect::<HashSet<_>>().len(), 30);
        let codes: HashSet<_> = ADMIN_TYPES.iter().map(|d| d.tt05).collect();
        assert_eq!(codes.len(), 29);
        let names: HashSet<_> = all().map(|d| d.name).collect();
        assert_eq!(names.len(), 32);
    }

    #[test]
    fn abbreviations_are_nfc() {
        for d in all() {
            assert_eq!(crate::text::nfc(d.name), d.name);
            if let Some(a) = d.abbr {
                assert_eq!(crate::text::nfc(a), a);
            }
        }
    }

    #[test]
    fn only_cong_van_and_thu_cong_lack_abbreviation() {
        let untyped: Vec<_> = all().filter(|d| d.is_untyped()).map(|d| d.name).collect();
        assert_eq!(untyped, ["Công văn", "Thư công"]);
        assert_eq!(cong_van().name, "Công văn");
    }

    #[test]
    fn copies_are_flagged_and_labelled() {
        assert!(COPY_TYPES.iter().all(|d| d.copy));
        assert!(ADMIN_TYPES
            .iter()
            .all(|d| !d.copy && d.copy_label().is_none()));
        assert_eq!(by_abbr("SL").unwrap().copy_label(), Some("SAO LỤC"));
    }

    #[test]
    fn eth_is_read_as_d_bar() {
        assert_eq!(by_abbr("Q\u{00D0}"), by_abbr("QĐ"));
        assert_eq!(by_abbr("Qy\u{00D0}").unwrap().name, "Quy định");
    }

    #[test]
    fn decomposed_input_is_normalised() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "Đề án".nfd().collect();
        assert_eq!(lookup(&nfd).unwrap().abbr, Some("ĐA"));
    }

    #[test]
    fn short_names() {
        assert_eq!(by_abbr("NQ").unwrap().short_name(), "Nghị quyết");
        assert_eq!(by_abbr("CT").unwrap().short_name(), "Chỉ thị");
    }
}
