//! Duplicate detection (§4.4).
//!
//! The văn thư is *alerted*, not blocked, when (số, ký hiệu, cơ quan ban
//! hành) repeats within the same `IssuedDate` year. This module computes the
//! comparison key (step 1) and the same-year rule (steps 2–3); matching by
//! edXML `DocumentId` is done by the caller.

use crate::text::fold_key;
use serde::{Deserialize, Serialize};

/// Separator between the notation and issuer parts of a key. Whitespace is
/// stripped from both parts, so a space cannot occur inside either.
const SEP: char = ' ';

/// Folds a notation: [`fold_key`], then leading zeros dropped from the
/// number (the digits before the first `/`; one `0` is kept for `0`).
pub fn fold_notation(notation_raw: &str) -> String {
    let folded = fold_key(notation_raw);
    match folded.split_once('/') {
        Some((num, rest)) if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
            let trimmed = num.trim_start_matches('0');
            let num = if trimmed.is_empty() { "0" } else { trimmed };
            format!("{num}/{rest}")
        }
        _ if !folded.is_empty() && folded.bytes().all(|b| b.is_ascii_digit()) => {
            let trimmed = folded.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }.to_owned()
        }
        _ => folded,
    }
}

/// The duplicate key of §4.4 step 1 for a raw `Số, ký hiệu` and an issuer
/// (its `OrganId` if known, else its name): NFC; whitespace stripped; dash
/// variants → `-`; `Ð` (U+00D0) → `Đ`; case-folded keeping diacritics;
/// leading zeros of the number dropped. The issuer is folded the same way.
///
/// ```
/// use vanthu_core::duplicate::duplicate_key;
/// assert_eq!(
///     duplicate_key("5/UBND-VP", "UBND tỉnh Hòa Bình"),
///     duplicate_key(" 05 / ubnd–vp", "UBND  TỈNH HÒA BÌNH"),
/// );
/// ```
pub fn duplicate_key(notation_raw: &str, issuer: &str) -> String {
    let mut key = fold_notation(notation_raw);
    key.push(SEP);
    key.push_str(&fold_key(issuer));
    key
}

/// A registered (or candidate) document as seen by duplicate detection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DuplicateProbe {
    /// [`duplicate_key`] of the document.
    pub key: String,
    /// Year of its `IssuedDate` (`Ngày tháng văn bản`).
    pub issued_year: i32,
}

impl DuplicateProbe {
    /// Builds the probe of a document.
    pub fn new(notation_raw: &str, issuer: &str, issued: time::Date) -> Self {
        DuplicateProbe {
            key: duplicate_key(notation_raw, issuer),
            issued_year: issued.year(),
        }
    }

    /// Whether `self` and `other` trigger the alert `Văn bản có thể đã được
    /// vào sổ`: same key and same issue year (another year → no alert).
    pub fn alerts_with(&self, other: &DuplicateProbe) -> bool {
        self.key == other.key && self.issued_year == other.issued_year
    }
}

/// The Vietnamese alert shown on a probable duplicate.
pub const ALERT_VI: &str = "Văn bản có thể đã được vào sổ";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn leading_zeros_dropped() {
        assert_eq!(
            duplicate_key("5/UBND-VP", "UBND"),
            duplicate_key("05/UBND-VP", "UBND")
        );
        assert_eq!(fold_notation("000/x"), "0/x");
        assert_eq!(fold_notation("007"), "7");
        assert_eq!(fold_notation("074fass22"), "074fass22");
    }

    #[test]
    fn distinct_notations_or_issuers_differ() {
        assert_ne!(
            duplicate_key("5/UBND-VP", "A"),
            duplicate_key("50/UBND-VP", "A")
        );
        assert_ne!(
            duplicate_key("5/UBND-VP", "A"),
            duplicate_key("5/UBND-VP", "B")
        );
        assert_ne!(
            duplicate_key("5/ĐA-UBND", "A"),
            duplicate_key("5/DA-UBND", "A")
        );
        assert_eq!(
            duplicate_key("5/\u{00D0}A-UBND", "A"),
            duplicate_key("5/ĐA-UBND", "A")
        );
    }

    #[test]
    fn separator_cannot_be_forged() {
        // Whitespace is stripped from both parts, so moving text across the
        // boundary changes the key.
        assert_ne!(duplicate_key("5/A B", "C"), duplicate_key("5/A", "B C"));
    }

    #[test]
    fn same_year_alerts_other_year_does_not() {
        let a = DuplicateProbe::new("05/UBND-VP", "000.00.00.H29", date!(2026 - 03 - 05));
        let b = DuplicateProbe::new("5/UBND-VP", "000.00.00.H29", date!(2026 - 11 - 20));
        let c = DuplicateProbe::new("05/UBND-VP", "000.00.00.H29", date!(2025 - 03 - 05));
        assert!(a.alerts_with(&b));
        assert!(!a.alerts_with(&c));
    }
}
