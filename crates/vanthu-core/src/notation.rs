//! `Số, ký hiệu` — number and notation (§4.1).
//!
//! * Own (outgoing) notations are produced by vanthu: [`OwnNotation`].
//! * Incoming notations are kept raw: [`IncomingNotation`].

use crate::diag::Warning;
use crate::doctype::by_abbr;
use crate::text::{char_len, nfc_fixed};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Register column name used in warnings about notations.
pub const FIELD: &str = "Số, ký hiệu văn bản";

/// Maximum length (characters) of the number part of an incoming notation.
pub const MAX_INCOMING_NUMBER: usize = 11;
/// Maximum length (characters) of the *ký hiệu* part of an incoming notation.
pub const MAX_INCOMING_KY_HIEU: usize = 30;

/// Formats a document number: zero-padded below 10 (`01`–`09`), as is from
/// 10 on.
///
/// ```
/// use vanthu_core::notation::format_number;
/// assert_eq!(format_number(1), "01");
/// assert_eq!(format_number(10), "10");
/// assert_eq!(format_number(1872), "1872");
/// ```
pub fn format_number(n: u64) -> String {
    format!("{n:02}")
}

/// Why a notation could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotationError {
    /// Nothing but whitespace.
    #[error("số, ký hiệu trống")]
    Empty,
    /// No `/` between number and notation.
    #[error("thiếu dấu \"/\" giữa số và ký hiệu")]
    MissingSlash,
    /// The number part is not a decimal number.
    #[error("số \"{0}\" không hợp lệ (chỉ gồm chữ số)")]
    InvalidNumber(String),
    /// Number 0 (numbers start at 01).
    #[error("số phải từ 01 trở lên")]
    ZeroNumber,
    /// Whitespace inside an own notation (the format has no spaces).
    #[error("số, ký hiệu không được chứa khoảng trắng")]
    Whitespace,
    /// Two dashes in a row, or a dash at either end.
    #[error("ký hiệu có phần trống giữa các dấu \"-\"")]
    EmptySegment,
    /// A character that is neither a letter nor a digit inside a segment.
    #[error("ký tự \"{0}\" không hợp lệ trong ký hiệu")]
    InvalidChar(char),
    /// A type abbreviation without the agency abbreviation (`12/QĐ`).
    #[error("thiếu chữ viết tắt tên cơ quan sau tên loại")]
    MissingAgency,
    /// The number part is too long.
    #[error("số dài {len} ký tự, tối đa {max}")]
    NumberTooLong {
        /// Actual length in characters.
        len: usize,
        /// Maximum allowed.
        max: usize,
    },
    /// The ký hiệu part is too long.
    #[error("ký hiệu dài {len} ký tự, tối đa {max}")]
    KyHieuTooLong {
        /// Actual length in characters.
        len: usize,
        /// Maximum allowed.
        max: usize,
    },
}

impl NotationError {
    /// Stable ASCII code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::MissingSlash => "missing_slash",
            Self::InvalidNumber(_) => "invalid_number",
            Self::ZeroNumber => "zero_number",
            Self::Whitespace => "whitespace",
            Self::EmptySegment => "empty_segment",
            Self::InvalidChar(_) => "invalid_char",
            Self::MissingAgency => "missing_agency",
            Self::NumberTooLong { .. } => "number_too_long",
            Self::KyHieuTooLong { .. } => "too_long",
        }
    }

    /// The message in English.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "number and notation are empty".into(),
            Self::MissingSlash => "missing \"/\" between number and notation".into(),
            Self::InvalidNumber(n) => format!("number \"{n}\" is invalid (digits only)"),
            Self::ZeroNumber => "numbers start at 01".into(),
            Self::Whitespace => "number and notation must not contain spaces".into(),
            Self::EmptySegment => "notation has an empty part between dashes".into(),
            Self::InvalidChar(c) => format!("character \"{c}\" is not allowed in a notation"),
            Self::MissingAgency => "agency abbreviation missing after the type".into(),
            Self::NumberTooLong { len, max } => {
                format!("number is {len} characters long, at most {max}")
            }
            Self::KyHieuTooLong { len, max } => {
                format!("notation is {len} characters long, at most {max}")
            }
        }
    }
}

/// An own (outgoing) number and notation: `123/QĐ-UBND`, `45/UBND-VP`,
/// `08/SY-UBND`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnNotation {
    /// The ordinal within the numbering year (≥ 1).
    pub number: u64,
    /// Case-sensitive type abbreviation (`QĐ`, `TTr`, `SY`); `None` for
    /// `Công văn` / `Thư công`.
    pub type_abbr: Option<String>,
    /// Agency abbreviation (`UBND`, `BCĐ`).
    pub agency: String,
    /// Unit or field abbreviation (`VP`, `KT`); may itself contain `-` for
    /// sub-unit forms (`UBND-VX`).
    pub unit: Option<String>,
}

impl OwnNotation {
    /// Formats as `<số>/<loại>-<cơ quan>[-<đơn vị>]`, or
    /// `<số>/<cơ quan>[-<đơn vị>]` without a type; no spaces.
    ///
    /// ```
    /// use vanthu_core::notation::OwnNotation;
    /// let n = OwnNotation { number: 45, type_abbr: None, agency: "UBND".into(), unit: Some("VP".into()) };
    /// assert_eq!(n.format(), "45/UBND-VP");
    /// ```
    pub fn format(&self) -> String {
        let mut out = format_number(self.number);
        out.push('/');
        if let Some(t) = &self.type_abbr {
            out.push_str(t);
            out.push('-');
        }
        out.push_str(&self.agency);
        if let Some(u) = &self.unit {
            out.push('-');
            out.push_str(u);
        }
        out
    }

    /// Parses an own notation (the inverse of [`format`](Self::format) for
    /// well-formed notations).
    ///
    /// The input is trimmed, NFC-normalised and `Ð` (U+00D0) is read as `Đ`.
    /// The first segment after `/` is taken as the type abbreviation when it
    /// is a known one ([`by_abbr`], case-sensitive); otherwise the notation
    /// is read as a *công văn* (`<agency>-<unit>`). Segments after the agency
    /// form the unit, joined with `-`.
    pub fn parse(s: &str) -> Result<OwnNotation, NotationError> {
        let s = nfc_fixed(s.trim());
        if s.is_empty() {
            return Err(NotationError::Empty);
        }
        if s.chars().any(crate::text::is_strippable_space) {
            return Err(NotationError::Whitespace);
        }
        let (num, rest) = s.split_once('/').ok_or(NotationError::MissingSlash)?;
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotationError::InvalidNumber(num.to_owned()));
        }
        let number: u64 = num
            .parse()
            .map_err(|_| NotationError::InvalidNumber(num.to_owned()))?;
        if number == 0 {
            return Err(NotationError::ZeroNumber);
        }
        let segments: Vec<&str> = rest.split('-').collect();
        if segments.iter().any(|seg| seg.is_empty()) {
            return Err(NotationError::EmptySegment);
        }
        if let Some(bad) = rest.chars().find(|&c| c != '-' && !c.is_alphanumeric()) {
            return Err(NotationError::InvalidChar(bad));
        }
        let join = |segs: &[&str]| (!segs.is_empty()).then(|| segs.join("-"));
        match segments.as_slice() {
            [first, agency, unit @ ..] if by_abbr(first).is_some() => Ok(OwnNotation {
                number,
                type_abbr: Some((*first).to_owned()),
                agency: (*agency).to_owned(),
                unit: join(unit),
            }),
            [first] if by_abbr(first).is_some() => Err(NotationError::MissingAgency),
            [agency, unit @ ..] => Ok(OwnNotation {
                number,
                type_abbr: None,
                agency: (*agency).to_owned(),
                unit: join(unit),
            }),
            [] => Err(NotationError::EmptySegment),
        }
    }

    /// [`parse`](Self::parse) plus the non-blocking format checks of §4.1:
    ///
    /// * `notation_pattern` — the text does not match
    ///   `^\d{2,}/[A-Za-zĐđ]+(-[A-Za-zĐđ0-9]+)+$` (see [`matches_pattern`]);
    /// * `notation_sub_unit` — more than two segments after `/`, i.e. a
    ///   sub-unit form such as `15/QĐ-UBND-VX` or `45/UBND-VP-TH` instead of
    ///   the standard `<loại>-<cơ quan>` / `<cơ quan>-<đơn vị>`;
    /// * `notation_no_unit` — a *công văn* notation without unit or field
    ///   (`45/UBND`).
    ///
    /// ```
    /// use vanthu_core::notation::OwnNotation;
    /// let (n, w) = OwnNotation::parse_checked("15/QĐ-UBND-VX").unwrap();
    /// assert_eq!(n.unit.as_deref(), Some("VX"));
    /// assert_eq!(w[0].code, "notation_sub_unit");
    /// ```
    pub fn parse_checked(s: &str) -> Result<(OwnNotation, Vec<Warning>), NotationError> {
        let parsed = Self::parse(s)?;
        let text = nfc_fixed(s.trim());
        let warnings = parsed.shape_warnings(&text);
        Ok((parsed, warnings))
    }

    /// The non-blocking checks of [`parse_checked`](Self::parse_checked)
    /// applied to this value's [`format`](Self::format)ted text.
    pub fn warnings(&self) -> Vec<Warning> {
        self.shape_warnings(&self.format())
    }

    fn shape_warnings(&self, text: &str) -> Vec<Warning> {
        let mut out = Vec::new();
        if !matches_pattern(text) {
            out.push(Warning {
                field: FIELD,
                code: "notation_pattern",
                message_vi: format!(
                    "Số, ký hiệu \"{text}\" không đúng dạng chuẩn <số>/<chữ viết tắt>-<chữ viết tắt> \
                     (số có ít nhất 2 chữ số, chỉ gồm chữ cái, chữ số và dấu \"-\")"
                ),
                message_en: format!(
                    "number and notation \"{text}\" do not match the standard form \
                     <number>/<abbr>-<abbr> (at least 2 digits; letters, digits and \"-\" only)"
                ),
            });
        }
        let sub_unit = self
            .unit
            .as_deref()
            .is_some_and(|u| self.type_abbr.is_some() || u.contains('-'));
        if sub_unit {
            out.push(Warning {
                field: FIELD,
                code: "notation_sub_unit",
                message_vi: format!(
                    "Ký hiệu \"{text}\" có thêm đơn vị con, khác dạng chuẩn \
                     <số>/<tên loại>-<cơ quan> hoặc <số>/<cơ quan>-<đơn vị>"
                ),
                message_en: format!(
                    "notation \"{text}\" carries a sub-unit, unlike the standard forms \
                     <number>/<type>-<agency> or <number>/<agency>-<unit>"
                ),
            });
        }
        if self.type_abbr.is_none() && self.unit.is_none() {
            out.push(Warning {
                field: FIELD,
                code: "notation_no_unit",
                message_vi: format!(
                    "Ký hiệu công văn \"{text}\" thiếu chữ viết tắt đơn vị soạn thảo hoặc lĩnh vực"
                ),
                message_en: format!(
                    "công văn notation \"{text}\" lacks the drafting unit or field abbreviation"
                ),
            });
        }
        out
    }
}

impl std::fmt::Display for OwnNotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

impl std::str::FromStr for OwnNotation {
    type Err = NotationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whether `s` matches the product check of §4.1,
/// `^\d{2,}/[A-Za-zĐđ]+(-[A-Za-zĐđ0-9]+)+$` (ASCII digits; no regex engine
/// needed). Note that sub-unit forms such as `15/QĐ-UBND-VX` *do* match this
/// pattern; [`OwnNotation::parse_checked`] reports them separately.
pub fn matches_pattern(s: &str) -> bool {
    fn letter(c: char) -> bool {
        c.is_ascii_alphabetic() || c == 'Đ' || c == 'đ'
    }
    let Some((num, rest)) = s.split_once('/') else {
        return false;
    };
    if num.len() < 2 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut segs = rest.split('-');
    let first_ok = segs
        .next()
        .is_some_and(|f| !f.is_empty() && f.chars().all(letter));
    let mut others = 0usize;
    let others_ok = segs.all(|seg| {
        others += 1;
        !seg.is_empty() && seg.chars().all(|c| letter(c) || c.is_ascii_digit())
    });
    first_ok && others_ok && others >= 1
}

/// An incoming document's `Số, ký hiệu`, kept raw (§4.1 **\[D\]**): the text
/// before the first `/` is the number, the rest the ký hiệu. QPPL forms are
/// not split further: `30/2020/NĐ-CP` → number `30`, ký hiệu `2020/NĐ-CP`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncomingNotation {
    /// The number as written (≤ 11 characters), if there is one.
    pub number: Option<String>,
    /// The ký hiệu as written (≤ 30 characters), possibly empty when the
    /// document carries only a number.
    pub ky_hieu: String,
}

impl IncomingNotation {
    /// Parses raw text, keeping it as written apart from trimming, NFC and
    /// `Ð` → `Đ`.
    ///
    /// * `a/b…` with a non-empty `a` (≤ 11 characters) → number `a`,
    ///   ký hiệu `b…` (≤ 30 characters);
    /// * text without `/` made of digits only → a number alone;
    /// * anything else (`74fass22`, `/ABC`) → ký hiệu only.
    ///
    /// Errors: empty input, number or ký hiệu too long.
    ///
    /// ```
    /// use vanthu_core::notation::IncomingNotation;
    /// let n = IncomingNotation::parse_raw("30/2020/NĐ-CP").unwrap();
    /// assert_eq!(n.number.as_deref(), Some("30"));
    /// assert_eq!(n.ky_hieu, "2020/NĐ-CP");
    /// assert_eq!(n.raw(), "30/2020/NĐ-CP");
    /// ```
    pub fn parse_raw(s: &str) -> Result<IncomingNotation, NotationError> {
        let s = nfc_fixed(s.trim());
        if s.is_empty() {
            return Err(NotationError::Empty);
        }
        let (number, ky_hieu) = match s.split_once('/') {
            Some((num, rest)) if !num.trim().is_empty() => {
                (Some(num.trim().to_owned()), rest.trim().to_owned())
            }
            None if s.chars().all(|c| c.is_ascii_digit()) => (Some(s.clone()), String::new()),
            _ => (None, s.clone()),
        };
        if let Some(n) = &number {
            let len = char_len(n);
            if len > MAX_INCOMING_NUMBER {
                return Err(NotationError::NumberTooLong {
                    len,
                    max: MAX_INCOMING_NUMBER,
                });
            }
        }
        let len = char_len(&ky_hieu);
        if len > MAX_INCOMING_KY_HIEU {
            return Err(NotationError::KyHieuTooLong {
                len,
                max: MAX_INCOMING_KY_HIEU,
            });
        }
        Ok(IncomingNotation { number, ky_hieu })
    }

    /// The text as kept: `number/ky_hieu`, or whichever part is present.
    pub fn raw(&self) -> String {
        match (&self.number, self.ky_hieu.is_empty()) {
            (Some(n), false) => format!("{n}/{}", self.ky_hieu),
            (Some(n), true) => n.clone(),
            (None, _) => self.ky_hieu.clone(),
        }
    }
}

impl std::fmt::Display for IncomingNotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(n: u64, t: Option<&str>, a: &str, u: Option<&str>) -> OwnNotation {
        OwnNotation {
            number: n,
            type_abbr: t.map(Into::into),
            agency: a.into(),
            unit: u.map(Into::into),
        }
    }

    #[test]
    fn padding_edge_cases() {
        assert_eq!(format_number(1), "01");
        assert_eq!(format_number(9), "09");
        assert_eq!(format_number(10), "10");
        assert_eq!(format_number(123), "123");
    }

    #[test]
    fn formats_spec_examples() {
        assert_eq!(own(123, Some("QĐ"), "UBND", None).format(), "123/QĐ-UBND");
        assert_eq!(own(45, None, "UBND", Some("VP")).format(), "45/UBND-VP");
        assert_eq!(own(8, Some("SY"), "UBND", None).format(), "08/SY-UBND");
        assert_eq!(own(5, Some("QĐ"), "BCĐ", None).to_string(), "05/QĐ-BCĐ");
    }

    #[test]
    fn parses_typed_and_untyped() {
        assert_eq!(
            OwnNotation::parse("123/QĐ-UBND").unwrap(),
            own(123, Some("QĐ"), "UBND", None)
        );
        assert_eq!(
            OwnNotation::parse("45/UBND-VP").unwrap(),
            own(45, None, "UBND", Some("VP"))
        );
        assert_eq!(
            OwnNotation::parse(" 07/TTr-UBND ").unwrap(),
            own(7, Some("TTr"), "UBND", None)
        );
    }

    #[test]
    fn wrong_case_abbreviation_is_not_a_type() {
        // `TTR` is not `TTr`: read as công văn of agency TTR.
        let n = OwnNotation::parse("07/TTR-UBND").unwrap();
        assert_eq!(n.type_abbr, None);
        assert_eq!(n.agency, "TTR");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(OwnNotation::parse("  "), Err(NotationError::Empty));
        assert_eq!(
            OwnNotation::parse("12QĐ-UBND"),
            Err(NotationError::MissingSlash)
        );
        assert_eq!(
            OwnNotation::parse("a1/QĐ-UBND"),
            Err(NotationError::InvalidNumber("a1".into()))
        );
        assert_eq!(
            OwnNotation::parse("00/QĐ-UBND"),
            Err(NotationError::ZeroNumber)
        );
        assert_eq!(
            OwnNotation::parse("12 /QĐ-UBND"),
            Err(NotationError::Whitespace)
        );
        assert_eq!(
            OwnNotation::parse("12/QĐ--UBND"),
            Err(NotationError::EmptySegment)
        );
        assert_eq!(
            OwnNotation::parse("12/QĐ-UBND-"),
            Err(NotationError::EmptySegment)
        );
        assert_eq!(
            OwnNotation::parse("12/QĐ"),
            Err(NotationError::MissingAgency)
        );
        assert_eq!(
            OwnNotation::parse("12/2020/QĐ-UBND"),
            Err(NotationError::InvalidChar('/'))
        );
    }

    #[test]
    fn pattern_check() {
        assert!(matches_pattern("123/QĐ-UBND"));
        assert!(matches_pattern("45/UBND-VP"));
        assert!(!matches_pattern("5/UBND-VP"));
        assert!(!matches_pattern("45/UBND"));
        assert!(!matches_pattern("45/ỦBND-VP"));
        assert!(!matches_pattern("45/UB1-VP"));
        assert!(matches_pattern("45/UB-V1"));
    }

    #[test]
    fn well_formed_has_no_warning() {
        for s in ["123/QĐ-UBND", "45/UBND-VP", "08/SY-UBND", "03/QyĐ-UBND"] {
            let (_, w) = OwnNotation::parse_checked(s).unwrap();
            assert!(w.is_empty(), "{s}: {w:?}");
        }
    }

    #[test]
    fn unpadded_number_warns_pattern() {
        let (n, w) = OwnNotation::parse_checked("5/UBND-VP").unwrap();
        assert_eq!(n.number, 5);
        assert_eq!(
            w.iter().map(|w| w.code).collect::<Vec<_>>(),
            ["notation_pattern"]
        );
    }

    #[test]
    fn incoming_forms() {
        let n = IncomingNotation::parse_raw("74fass22").unwrap();
        assert_eq!((n.number, n.ky_hieu.as_str()), (None, "74fass22"));
        let n = IncomingNotation::parse_raw("125").unwrap();
        assert_eq!((n.number.as_deref(), n.ky_hieu.as_str()), (Some("125"), ""));
        assert_eq!(n.raw(), "125");
        let n = IncomingNotation::parse_raw("12/UBND-VP").unwrap();
        assert_eq!(n.raw(), "12/UBND-VP");
        assert_eq!(IncomingNotation::parse_raw(" "), Err(NotationError::Empty));
        assert!(matches!(
            IncomingNotation::parse_raw("123456789012/ABC"),
            Err(NotationError::NumberTooLong { len: 12, max: 11 })
        ));
        assert!(matches!(
            IncomingNotation::parse_raw(&format!("1/{}", "Đ".repeat(31))),
            Err(NotationError::KyHieuTooLong { len: 31, max: 30 })
        ));
        // 30 two-byte characters fit: the limit counts characters.
        assert!(IncomingNotation::parse_raw(&format!("1/{}", "Đ".repeat(30))).is_ok());
    }
}
